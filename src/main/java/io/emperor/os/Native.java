package io.emperor.os;

import jnr.ffi.Platform;
import jnr.ffi.Runtime;

/** Loads libc once and holds the Linux constants the emperor needs. */
public final class Native {
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int EAGAIN = 11;
    public static final int EINTR = 4;
    public static final int ESRCH = 3;
    public static final int ECHILD = 10;

    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOL_SOCKET = 1;
    public static final int SCM_RIGHTS = 1;
    public static final short POLLIN = 0x1;
    public static final int SOCK_CLOEXEC = O_CLOEXEC;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int EPIPE = 32;
    public static final int SOCK_NONBLOCK = O_NONBLOCK;
    public static final int F_SETFD = 2;
    public static final int MFD_CLOEXEC = 1;
    public static final int FD_CLOEXEC = 1;
    public static final int ENOMEM = 12;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOBUFS = 105;

    public static final int EPOLL_CLOEXEC = O_CLOEXEC;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x1;
    public static final int EPOLLOUT = 0x4;
    /** {@link #epollEventSize()} and {@link #epollDataOffset()}, for epoll users outside this package. */
    public static final int EPOLL_EVENT_SIZE = epollEventSize();
    public static final int EPOLL_DATA_OFFSET = epollDataOffset();
    public static final int EPOLLERR = 0x8;
    public static final int EPOLLHUP = 0x10;
    public static final int EFD_CLOEXEC = O_CLOEXEC;
    public static final int EFD_NONBLOCK = O_NONBLOCK;

    public static final int P_PIDFD = 3;
    public static final int P_ALL = 0;
    /** waitid: leave the child waitable (look without reaping). */
    public static final int WNOWAIT = 0x01000000;
    public static final int PR_SET_CHILD_SUBREAPER = 36;
    public static final int WEXITED = 4;
    public static final int WNOHANG = 1;
    public static final int CLD_EXITED = 1;
    public static final int CLD_KILLED = 2;
    public static final int CLD_DUMPED = 3;

    /** The generic syscall table number (x86_64 and aarch64 agree since Linux 5.3). */
    public static final long SYS_PIDFD_OPEN = 434;

    private static final LibC LIBC = Jnr.load(LibC.class, "c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private Native() {}

    public static LibC libc() {
        return LIBC;
    }

    public static Runtime runtime() {
        return RUNTIME;
    }

    /** errno of the last call on this thread. */
    public static int errno() {
        return RUNTIME.getLastError();
    }

    /** The text of an errno, as strerror gives it ("No such file or directory"). */
    public static String strerror(int errno) {
        return LIBC.strerror(errno);
    }

    /** The size of struct epoll_event: packed (12 bytes) on x86_64 only. */
    static int epollEventSize() {
        return Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64 ? 12 : 16;
    }

    static int epollDataOffset() {
        return Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64 ? 4 : 8;
    }
}
