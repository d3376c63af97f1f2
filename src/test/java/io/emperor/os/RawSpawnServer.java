package io.emperor.os;

import java.nio.file.Path;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * An {@code emperor-exec --serve} of the test's own, started as {@link SpawnServer} starts one
 * (its socket on fd 3, /dev/null on 0 and 1), and spoken to byte for byte: what a bug in the
 * emperor's requests, or whoever held its socket, could send. The emperor's own side
 * ({@link SpawnServer}) only sends what it lays out itself, so the attacks go through here.
 */
final class RawSpawnServer implements AutoCloseable {
    private static final int SERVER_FD = 3;
    private static final long ANSWER_MILLIS = 60_000;
    private final LibC c = Native.libc();
    /** msghdr at 0, iovec at 64, pollfd at 80, the 8-byte answer at 88, the cmsg at 128 (up to 64 fds). */
    private final Pointer fixed = Memory.allocateDirect(Native.runtime(), 512);
    private final int sock;
    private final long pid;

    /** Starts the server and waits until it says it is ready (its first answer: {0, 0}). */
    RawSpawnServer(Path helper, long emperorPid) {
        int[] pair = new int[2];
        if (c.socketpair(Native.AF_UNIX, Native.SOCK_SEQPACKET | Native.SOCK_CLOEXEC, 0, pair) != 0) {
            throw new IllegalStateException("socketpair: " + Native.strerror(Native.errno()));
        }
        long child = new Spawner().spawnp(helper.toString(), List.of(
                Spawner.Action.open("/dev/null", 0, 0, 0),
                Spawner.Action.open("/dev/null", 1, 1, 0),
                Spawner.Action.dup(pair[1], SERVER_FD)), Spawner.SETSIGMASK,
                List.of(helper.toString(), "--serve", Integer.toString(SERVER_FD), Long.toString(emperorPid)), List.of());
        c.close(pair[1]);
        if (child <= 0) {
            c.close(pair[0]);
            throw new IllegalStateException("posix_spawn " + helper + ": " + Native.strerror((int) -child));
        }
        sock = pair[0];
        pid = child;
        int[] ready = answer();
        if (ready[0] != 0 || ready[1] != 0) {
            close();
            throw new IllegalStateException("the server's first answer is not {0, 0}: " + ready[0] + ", " + ready[1]);
        }
    }

    long pid() {
        return pid;
    }

    /** Sends {@code bytes} as they are with {@code fds} (SCM_RIGHTS), and returns the answer: {child pid, errno}. */
    int[] exchange(byte[] bytes, List<Integer> fds) {
        Pointer request = Memory.allocateDirect(Native.runtime(), Math.max(1, bytes.length));
        request.put(0, bytes, 0, bytes.length);
        long base = fixed.address();
        fixed.setMemory(0, 512, (byte) 0);
        fixed.putAddress(64, request.address()); // iovec
        fixed.putLong(64 + 8, bytes.length);
        fixed.putAddress(16, base + 64); // msg_iov, msg_iovlen
        fixed.putLong(24, 1);
        if (!fds.isEmpty()) {
            fixed.putLong(128, 16 + 4L * fds.size()); // CMSG_LEN
            fixed.putInt(128 + 8, Native.SOL_SOCKET);
            fixed.putInt(128 + 12, Native.SCM_RIGHTS);
            for (int i = 0; i < fds.size(); i++) {
                fixed.putInt(128 + 16 + 4L * i, fds.get(i));
            }
            fixed.putAddress(32, base + 128); // msg_control, msg_controllen (CMSG_SPACE)
            fixed.putLong(40, 16 + ((4L * fds.size() + 7) & ~7L));
        }
        long sent = c.sendmsg(sock, fixed, Native.MSG_NOSIGNAL);
        if (sent != bytes.length) {
            throw new IllegalStateException("sendmsg: " + (sent < 0 ? Native.strerror(Native.errno()) : "short"));
        }
        return answer();
    }

    /** The server's next 8-byte answer, waited for at most a minute. */
    private int[] answer() {
        fixed.putInt(80, sock);
        fixed.putShort(80 + 4, Native.POLLIN);
        fixed.putShort(80 + 6, (short) 0);
        if (c.poll(fixed.slice(80), 1, (int) ANSWER_MILLIS) != 1 || c.read(sock, fixed.slice(88), 8) != 8) {
            throw new IllegalStateException("no answer from the spawn server " + pid);
        }
        return new int[] {fixed.getInt(88), fixed.getInt(88 + 4)};
    }

    /** The socket closed (the server ends at EOF), SIGKILL in case, reaped. */
    @Override
    public void close() {
        c.close(sock);
        c.kill((int) pid, 9);
        c.waitpid((int) pid, fixed.slice(96), 0);
    }
}
