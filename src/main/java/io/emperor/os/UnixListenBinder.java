package io.emperor.os;

import io.emperor.config.Listen;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * Binds a vassal's unix socket as the vassal (docs/vassal.ini.5.md, "Sockets"): the exec helper in its bind
 * mode ({@code -B}), with the very identity options a spawn of the vassal gets ({@code -u -g [-U] -C -N}), binds
 * the path, listens, and sends the fd back over a socketpair (SCM_RIGHTS), then exits. So the path is never
 * opened with the emperor's privileges: every component is resolved with the vassal's rights, the file is
 * owned by the vassal's uid, and a tenant's path in a directory it may not write fails with EACCES, which is
 * the refusal. Started with posix_spawn (a bind is rare: at a vassal's first start and when its sockets
 * change), waited for with a deadline. Loop thread only.
 */
public final class UnixListenBinder implements ListenSockets.UnixBinder {
    /** systemd's {@code SocketMode} default. */
    static final int DEFAULT_MODE = 0666;
    private static final int REPORT_FD = 3;
    private static final int SIGKILL = 9;
    private static final int POLLIN = 1;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /**
     * How long the loop waits for the bind child (it takes milliseconds). Short because the loop waits: a child
     * that runs as a tenant can be stopped by that tenant (SIGSTOP), or hang on a path of its own (a FUSE mount),
     * and every vassal waits with it (docs/threads.md).
     */
    private static final long DEADLINE_MILLIS = 5_000;
    private static final int DATA = 1024;
    private static final int CONTROL = 64;

    private final Path helper;
    private final int emperorPid;
    private final boolean tyrant;
    private final int euid;
    private final int egid;
    private final LibC c = Native.libc();
    private final Spawner spawner = new Spawner();
    private final Pointer buf = Memory.allocateDirect(Native.runtime(), 64 + 16 + CONTROL + DATA + 8);

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
    public ListenSockets.Bound bind(Listen.Address.Unix unix, int mode, int backlog, int uid, int gid, String user) {
        if (tyrant && (uid <= 0 || gid <= 0)) {
            return ListenSockets.Bound.failed("tyrant mode: refusing to bind as uid " + uid + " gid " + gid);
        }
        int[] pair = new int[2];
        if (c.socketpair(Native.AF_UNIX, Native.SOCK_STREAM | Native.SOCK_CLOEXEC, 0, pair) != 0) {
            return ListenSockets.Bound.failed("socketpair: " + Native.strerror(Native.errno()));
        }
        long child = spawner.spawnp(helper.toString(), List.of(Spawner.Action.open("/dev/null", 0, 0, 0),
                        Spawner.Action.open("/dev/null", 1, 1, 0), Spawner.Action.open("/dev/null", 2, 1, 0),
                        Spawner.Action.dup(pair[1], REPORT_FD)),
                Spawner.SETSIGMASK, argv(unix, mode, backlog, uid, gid, user), List.of());
        c.close(pair[1]);
        if (child <= 0) {
            c.close(pair[0]);
            return ListenSockets.Bound.failed("posix_spawn " + helper + ": " + Native.strerror((int) -child));
        }
        try {
            return receive(pair[0], (int) child);
        } finally {
            c.close(pair[0]);
            c.waitpid((int) child, null, 0); // it exits right after its answer (or was killed)
        }
    }

    /** The fd the helper sent, or the line it wrote before it exited. */
    private ListenSockets.Bound receive(int fd, int child) {
        Pointer msg = buf;
        Pointer iov = buf.slice(64);
        Pointer control = buf.slice(80);
        Pointer data = buf.slice(80 + CONTROL);
        Pointer pollfd = buf.slice(80 + CONTROL + DATA);
        StringBuilder text = new StringBuilder();
        long deadline = System.nanoTime() + DEADLINE_MILLIS * 1_000_000;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            pollfd.putInt(0, fd);
            pollfd.putShort(4, (short) POLLIN);
            pollfd.putShort(6, (short) 0);
            int ready = left <= 0 ? 0 : c.poll(pollfd, 1, (int) Math.min(left, Integer.MAX_VALUE));
            if (ready < 0 && Native.errno() == Native.EINTR) {
                continue;
            }
            if (ready <= 0) {
                c.kill(child, SIGKILL);
                return ListenSockets.Bound.failed("the exec helper did not answer within "
                        + DEADLINE_MILLIS / 1000 + " s");
            }
            msg.setMemory(0, 64, (byte) 0);
            control.setMemory(0, CONTROL, (byte) 0);
            iov.putAddress(0, data.address());
            iov.putLong(8, DATA);
            msg.putAddress(16, iov.address());
            msg.putLong(24, 1);
            msg.putAddress(32, control.address());
            msg.putLong(40, CONTROL);
            long n = c.recvmsg(fd, msg, MSG_CMSG_CLOEXEC);
            if (n < 0 && Native.errno() == Native.EINTR) {
                continue;
            }
            if (n < 0) {
                return ListenSockets.Bound.failed("recvmsg: " + Native.strerror(Native.errno()));
            }
            long controlLength = Math.min(msg.getLong(40), CONTROL);
            if (controlLength >= 20 && control.getInt(8) == Native.SOL_SOCKET
                    && control.getInt(12) == Native.SCM_RIGHTS) {
                return new ListenSockets.Bound(control.getInt(16), null);
            }
            if (n == 0) {
                String line = text.toString().strip();
                return ListenSockets.Bound.failed(line.isEmpty() ? "the exec helper exited without a socket" : line);
            }
            byte[] bytes = new byte[(int) n];
            data.get(0, bytes, 0, bytes.length);
            if (text.length() < 8192) {
                text.append(new String(bytes, StandardCharsets.UTF_8));
            }
        }
    }
}
