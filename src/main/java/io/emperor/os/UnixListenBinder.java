package io.emperor.os;

import io.emperor.config.Listen;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * Binds a vassal's unix socket as the vassal (docs/vassal.ini.5.md, "Sockets"): the exec helper in its bind
 * mode ({@code -B}), with the very identity options a spawn of the vassal gets ({@code -u -g [-U] -C -N}), binds
 * the path, listens, and sends the fd back over a socketpair (SCM_RIGHTS), then exits. So the path is never
 * opened with the emperor's privileges: every component is resolved with the vassal's rights, the file is
 * owned by the vassal's uid, and a tenant's path in a directory it may not write fails with EACCES, which is
 * the refusal. Started with posix_spawn (a bind is rare: at a vassal's first start and when its sockets
 * change).
 *
 * <p>Nobody waits for the child: it runs as the tenant, who may stop it (SIGSTOP) or hang it on a path of its
 * own (a FUSE mount), so {@link #start} returns at once with a {@link Child} whose answer fd the I/O thread
 * watches ({@link ListenSockets.Watcher}); {@link Child#receive} then reads what came without blocking. The
 * child is signalled through a pidfd only, so a kill can never reach another process that got its pid; it is
 * reaped with the emperor's other adopted children ({@link HelperLauncher#reapAdopted}). Loop thread only.
 */
public final class UnixListenBinder implements ListenSockets.UnixBinder {
    /** systemd's {@code SocketMode} default. */
    static final int DEFAULT_MODE = 0666;
    private static final int REPORT_FD = 3;
    private static final int SIGKILL = 9;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** The syscall numbers, the generic table's (x86_64 and aarch64 agree). */
    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final int DATA = 1024;
    private static final int CONTROL = 64;
    private static final int TEXT_LIMIT = 8192;

    private final Path helper;
    private final int emperorPid;
    private final boolean tyrant;
    private final int euid;
    private final int egid;
    private final LibC c = Native.libc();
    private final Spawner spawner = new Spawner();
    private final Pointer buf = Memory.allocateDirect(Native.runtime(), 80 + CONTROL + DATA);

    public UnixListenBinder(Path helper, int emperorPid, boolean tyrant) {
        this.helper = helper;
        this.emperorPid = emperorPid;
        this.tyrant = tyrant;
        this.euid = c.geteuid();
        this.egid = c.getegid();
    }

    /** The helper's words: the identity of a spawn of the vassal, then {@code -B -- PATH MODE BACKLOG}. */
    List<String> argv(Listen.Address.Unix unix, int mode, int backlog, int uid, int gid, String user) {
        int u = uid >= 0 ? uid : euid;
        int g = gid >= 0 ? gid : egid;
        List<String> a = new ArrayList<>(List.of(helper.toString(), "-R", Integer.toString(REPORT_FD),
                "-P", Integer.toString(emperorPid), "-s", Integer.toString(SIGKILL)));
        if (tyrant || u != euid || g != egid) {
            a.addAll(List.of("-u", Integer.toString(u), "-g", Integer.toString(g)));
            if (user != null) {
                a.addAll(List.of("-U", user));
            }
            if (tyrant) {
                a.add("-N");
            }
        }
        if (u != 0) {
            a.add("-C");
        }
        a.addAll(List.of("-B", "--", unix.path().toString(), Integer.toOctalString(mode < 0 ? DEFAULT_MODE : mode),
                Integer.toString(backlog)));
        return a;
    }

    @Override
    public ListenSockets.Binding start(Listen.Address.Unix unix, int mode, int backlog, int uid, int gid,
                                       String user) {
        if (tyrant && (uid <= 0 || gid <= 0)) {
            return ListenSockets.Binding.failed("tyrant mode: refusing to bind as uid " + uid + " gid " + gid);
        }
        int[] pair = new int[2];
        if (c.socketpair(Native.AF_UNIX, Native.SOCK_STREAM | Native.SOCK_CLOEXEC, 0, pair) != 0) {
            return ListenSockets.Binding.failed("socketpair: " + Native.strerror(Native.errno()));
        }
        long child = spawner.spawnp(helper.toString(), List.of(Spawner.Action.open("/dev/null", 0, 0, 0),
                        Spawner.Action.open("/dev/null", 1, 1, 0), Spawner.Action.open("/dev/null", 2, 1, 0),
                        Spawner.Action.dup(pair[1], REPORT_FD)),
                Spawner.SETSIGMASK, argv(unix, mode, backlog, uid, gid, user), List.of());
        c.close(pair[1]);
        if (child <= 0) {
            c.close(pair[0]);
            return ListenSockets.Binding.failed("posix_spawn " + helper + ": " + Native.strerror((int) -child));
        }
        // Only this thread reaps (reapAdopted), so the child cannot be gone before its pidfd is open.
        int pidfd = (int) c.syscall(Native.SYS_PIDFD_OPEN, child, 0, 0, 0);
        if (pidfd < 0) {
            String why = Native.strerror(Native.errno());
            c.kill((int) child, SIGKILL);
            c.close(pair[0]);
            return ListenSockets.Binding.failed("pidfd_open: " + why);
        }
        return new Child(pair[0], pidfd);
    }

    /** One bind child: the emperor's end of its socketpair, and its pidfd. */
    final class Child implements ListenSockets.Binding {
        private int fd;
        private int pidfd;
        private final StringBuilder text = new StringBuilder();

        Child(int fd, int pidfd) {
            this.fd = fd;
            this.pidfd = pidfd;
        }

        @Override
        public int fd() {
            return fd;
        }

        /** The fd the helper sent, or the line it wrote before it exited; empty while neither came yet. */
        @Override
        public Optional<ListenSockets.Bound> receive() {
            Pointer msg = buf;
            Pointer iov = buf.slice(64);
            Pointer control = buf.slice(80);
            Pointer data = buf.slice(80 + CONTROL);
            while (true) {
                msg.setMemory(0, 64, (byte) 0);
                control.setMemory(0, CONTROL, (byte) 0);
                iov.putAddress(0, data.address());
                iov.putLong(8, DATA);
                msg.putAddress(16, iov.address());
                msg.putLong(24, 1);
                msg.putAddress(32, control.address());
                msg.putLong(40, CONTROL);
                long n = c.recvmsg(fd, msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
                if (n < 0) {
                    int err = Native.errno();
                    if (err == Native.EINTR) {
                        continue;
                    }
                    return err == Native.EAGAIN ? Optional.empty()
                            : Optional.of(ListenSockets.Bound.failed("recvmsg: " + Native.strerror(err)));
                }
                long controlLength = Math.min(msg.getLong(40), CONTROL);
                if (controlLength >= 20 && control.getInt(8) == Native.SOL_SOCKET
                        && control.getInt(12) == Native.SCM_RIGHTS) {
                    return Optional.of(new ListenSockets.Bound(control.getInt(16), null));
                }
                if (n == 0) {
                    String line = text.toString().strip();
                    return Optional.of(ListenSockets.Bound.failed(
                            line.isEmpty() ? "the exec helper exited without a socket" : line));
                }
                byte[] bytes = new byte[(int) n];
                data.get(0, bytes, 0, bytes.length);
                if (text.length() < TEXT_LIMIT) {
                    text.append(new String(bytes, StandardCharsets.UTF_8));
                }
            }
        }

        /** SIGKILL to the child (through its pidfd: harmless once it has exited), then its fds closed. */
        @Override
        public void close() {
            kill();
            if (pidfd >= 0) {
                c.close(pidfd);
                pidfd = -1;
            }
        }

        /** SIGKILL to the child (through its pidfd: harmless once it has exited), and its answer fd closed. */
        @Override
        public void kill() {
            if (pidfd >= 0) {
                c.syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, SIGKILL, 0, 0);
            }
            if (fd >= 0) {
                c.close(fd);
                fd = -1;
            }
        }

        /** Whether the child has exited (its pidfd is readable), then its pidfd closed. */
        @Override
        public boolean gone() {
            if (pidfd < 0) {
                return true;
            }
            Pointer pollfd = buf;
            pollfd.putInt(0, pidfd);
            pollfd.putShort(4, Native.POLLIN);
            pollfd.putShort(6, (short) 0);
            if (c.poll(pollfd, 1, 0) <= 0) {
                return false;
            }
            c.close(pidfd);
            pidfd = -1;
            return true;
        }
    }
}
