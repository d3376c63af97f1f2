package io.emperor.os;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The few libc calls that jnr-posix does not offer: epoll, pipe2, socketpair and send, pidfds (through syscall),
 * waitid, memfd_create. Every call saves errno; read it with {@link Native#errno()}.
 */
public interface LibC {
    @SaveError
    int epoll_create1(int flags);

    @SaveError
    int epoll_ctl(int epfd, int op, int fd, Pointer event);

    @SaveError
    int epoll_wait(int epfd, Pointer events, int maxEvents, int timeoutMillis);

    @SaveError
    long read(int fd, Pointer buf, long count);

    @SaveError
    long write(int fd, Pointer buf, long count);

    @SaveError
    int close(int fd);

    @SaveError
    int pipe2(@Out int[] fds, int flags);

    @SaveError
    int socketpair(int domain, int type, int protocol, @Out int[] fds);

    @SaveError
    long send(int fd, Pointer buf, long count, int flags);

    @SaveError
    int fcntl(int fd, int cmd, int arg);

    @SaveError
    int eventfd(int initval, int flags);

    @SaveError
    long syscall(long number, long a1, long a2, long a3, long a4);

    @SaveError
    int waitid(int idtype, int id, Pointer infop, int options);

    @SaveError
    int kill(int pid, int sig);

    int getuid();

    /** prctl(2) with every argument passed: PR_SET_CHILD_SUBREAPER (a process attribute, set from any thread). */
    @SaveError
    int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    /** waitpid(2) of one pid: the status is not wanted (adopted orphans). */
    @SaveError
    int waitpid(int pid, Pointer status, int options);

    /** memfd_create(2) (glibc 2.27+): the file that carries a vassal's environment to the exec helper. */
    @SaveError
    int memfd_create(String name, int flags);

    String strerror(int errnum);

    /** accept4(2): the control socket takes its clients close-on-exec and non-blocking in one call. */
    @SaveError
    int accept4(int fd, Pointer addr, Pointer addrlen, int flags);
}
