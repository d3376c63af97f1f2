package io.emperor.os;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The emperor's libc, bound by jnr-ffi alone (beside the few calls PrivilegeDrop, SignalHandlers
 * and HeapTrim bind for themselves): only these functions get a stub, where jnr-posix generated
 * ~250 at start (docs/performance.md, "Weight"). Every call that can fail saves errno; read it with
 * {@link Native#errno()}. The {@code posix_spawn*} and {@code get*_r} calls return their error
 * number instead. {@link Spawner}, {@link PosixUserDb} and {@link OpenedFile} lay out the
 * structures behind their pointers.
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

    /** sendmsg(2): a request to the spawn server with its fds (SCM_RIGHTS); {@link SpawnServer} lays out the msghdr. */
    @SaveError
    long sendmsg(int fd, Pointer msg, int flags);

    /** poll(2): the spawn server's reply, with a deadline. */
    @SaveError
    int poll(Pointer fds, long nfds, int timeoutMillis);

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

    /** socket(2), connect(2), getsockopt(2): the readiness probes' non-blocking connects ({@link ReadyProbes}). */
    @SaveError
    int socket(int domain, int type, int protocol);

    @SaveError
    int connect(int fd, Pointer addr, int addrlen);

    @SaveError
    int getsockopt(int fd, int level, int option, Pointer value, Pointer length);

    int getpid();

    int geteuid();

    int getgid();

    int getegid();

    @SaveError
    int open(String path, int flags, int mode);

    @SaveError
    long read(int fd, @Out byte[] buf, long count);

    /** statx(2) (glibc 2.28+): a struct of the same layout on every architecture (256 bytes). */
    @SaveError
    int statx(int dirfd, String path, int flags, int mask, Pointer buf);

    /** fstatfs(2): {@code f_type} is the first field, a long on 64-bit Linux. */
    @SaveError
    int fstatfs(int fd, Pointer buf);

    /** The reentrant passwd and group lookups: 0, or an error number (ERANGE: a larger buffer). */
    int getpwnam_r(String name, Pointer pwd, Pointer buf, long buflen, Pointer result);

    int getpwuid_r(int uid, Pointer pwd, Pointer buf, long buflen, Pointer result);

    int getgrnam_r(String name, Pointer grp, Pointer buf, long buflen, Pointer result);

    int getgrgid_r(int gid, Pointer grp, Pointer buf, long buflen, Pointer result);

    /** posix_spawn(3) and its attribute objects: each returns 0 or an error number, not -1 and errno. */
    int posix_spawnp(Pointer pid, String file, Pointer fileActions, Pointer attr, Pointer argv, Pointer envp);

    int posix_spawn_file_actions_init(Pointer fileActions);

    int posix_spawn_file_actions_destroy(Pointer fileActions);

    int posix_spawn_file_actions_adddup2(Pointer fileActions, int fd, int newfd);

    int posix_spawn_file_actions_addopen(Pointer fileActions, int fd, Pointer path, int oflag, int mode);

    int posix_spawnattr_init(Pointer attr);

    int posix_spawnattr_destroy(Pointer attr);

    int posix_spawnattr_setflags(Pointer attr, short flags);

    /** bind(2), setsockopt(2) and recvmsg(2) (and socket above): the vassals' notify socket ({@link NotifySocket}). */
    @SaveError
    int bind(int fd, Pointer addr, int addrlen);

    @SaveError
    int setsockopt(int fd, int level, int name, Pointer value, int len);

    @SaveError
    long recvmsg(int fd, Pointer msghdr, int flags);

    /** listen(2): the sockets the emperor holds for vassals ({@link ListenSockets}). */
    @SaveError
    int listen(int fd, int backlog);
}
