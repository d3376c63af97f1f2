package io.emperor.os;

import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * The spawn server (issue 13 §4, docs/performance.md "1000 vassals"): {@code emperor-exec --serve}
 * started once, from the loop thread, with one end of a {@code SOCK_SEQPACKET} socketpair. Per
 * spawn the emperor sends it the helper's argv and the fds to place (SCM_RIGHTS, each with its
 * target number); one of the server's threads clones with {@code CLONE_VM|CLONE_VFORK|CLONE_PARENT},
 * so the vassal is the emperor's own child, and the child answers its own pid, then runs the
 * helper's steps on that argv without an exec of the helper. This takes the helper's exec, the
 * JVM's clone of a ~2000-fd process and any page-table copy off every spawn.
 *
 * <p>It is started lazily by the first spawn on the spawning (loop) thread, which lives as long
 * as the emperor: its parent-death signal, and that of every vassal (CLONE_PARENT gives them the
 * same parent thread), fires when that thread exits. When it is not there (not started yet, died,
 * refused) {@link #spawn} says {@link Outcome.Unavailable} and the caller spawns through
 * posix_spawn as before; a dead server is logged once and a new one started at the next spawn, no
 * sooner than {@link #MIN_RESTART_NANOS} after the last start, doubling while they keep dying young
 * (up to {@link #MAX_RESTART_NANOS}). A reply is awaited for at most {@link #REPLY_MILLIS}: then
 * the server is killed and the spawn fails (it is retried as any failed spawn), never a second
 * process started for it. Loop thread only; not thread-safe.
 */
final class SpawnServer {
    /** The request's first word ("EMPS"), and its bounds: those of emperor-exec.c's server. */
    static final int MAGIC = 0x53504d45;
    static final int MAX_REQUEST = 128 * 1024; // below the default socket send buffer (208 KiB)
    static final int MAX_FDS = 8 + HelperLauncher.MAX_LISTEN;
    static final int MAX_ACTIONS = 8 + HelperLauncher.MAX_LISTEN;
    static final int MAX_ARGS = 4096;
    /** A placement's source: {@code /dev/null} opened for reading / writing by the child. */
    static final int NULL_IN = -1;
    static final int NULL_OUT = -2;
    static final long REPLY_MILLIS = 2000;
    static final long MIN_RESTART_NANOS = 1_000_000_000L;
    static final long MAX_RESTART_NANOS = 64_000_000_000L;
    /** A server that lived this long was not dying young: the restart interval starts over. */
    private static final long YOUNG_NANOS = 60_000_000_000L;
    private static final int SERVER_FD = 3;
    private static final int SIGKILL = 9;
    private static final int EINVAL = 22;
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;

    /** Put {@code fd} (or /dev/null: {@link #NULL_IN}, {@link #NULL_OUT}) on {@code target} in the child. */
    record Placement(int target, int fd) {}

    /** What a request came to. */
    sealed interface Outcome {
        /** The child exists: the emperor's child, running the helper's steps. */
        record Started(long pid) implements Outcome {}

        /** No answer or the server died on it: the spawn fails (no second process for it). */
        record Failed(String reason) implements Outcome {}

        /** Nothing was started: spawn through posix_spawn instead. */
        record Unavailable() implements Outcome {}

        /** The server answered with an errno and made no child: EINVAL, it refused the request. */
        record Refused(int errno) implements Outcome {}
    }

    private final Path helper;
    private final Spawner spawner;
    private final long emperorPid;
    private final LongSupplier nanos;
    private final Consumer<String> warn;
    private final LibC c = Native.libc();
    private final jnr.ffi.Runtime runtime = Native.runtime();
    /** msghdr (56) | iovec (16) | pollfd (8) | reply (8) | wait status (8) | cmsg (16 + 4 x up to 64 fds). */
    private static final int FIXED = 512;
    private final Pointer fixed = Memory.allocateDirect(runtime, FIXED);
    private static final int MSG = 0;
    private static final int IOV = 64;
    private static final int POLL = 80;
    private static final int REPLY = 88;
    private static final int STATUS = 96;
    private static final int CMSG = 128;
    private static final int MAX_SENT_FDS = 64;
    private static final int EMSGSIZE = 90;
    private Pointer request;

    private int sock = -1;
    private long pid = -1;
    /** The server said it is ready ({0, 0} after its set-up); until then spawns go through posix_spawn. */
    private boolean ready;
    private boolean disabled;
    private long lastStart;
    private boolean started;
    private long interval = MIN_RESTART_NANOS;

    SpawnServer(Path helper, Spawner spawner, long emperorPid, LongSupplier nanos, Consumer<String> warn) {
        this.helper = helper;
        this.spawner = spawner;
        this.emperorPid = emperorPid;
        this.nanos = nanos;
        this.warn = warn;
    }

    /** The server's pid, or -1 when there is none ({@link HelperLauncher#reapAdopted} tells its exit by it). */
    long pid() {
        return pid;
    }

    /** Never again: spawns go through posix_spawn (at the emperor's end; and after clone is refused). */
    void disable() {
        disabled = true;
        stop();
    }

    /**
     * Starts the server if there is none, and waits up to {@code millis} for it to say it is
     * ready; whether it is. The first spawn after a start waits {@link #READY_GRACE_MILLIS}, the
     * others not at all: a server whose set-up is slow is used once it is ready, never waited for.
     */
    boolean awaitReady(long millis) {
        if (disabled || !ensureRunning()) {
            return false;
        }
        if (ready) {
            return true;
        }
        fixed.putInt(POLL, sock);
        fixed.putShort(POLL + 4, Native.POLLIN);
        fixed.putShort(POLL + 6, (short) 0);
        int n;
        do {
            n = c.poll(fixed.slice(POLL), 1, (int) Math.min(millis, Integer.MAX_VALUE));
        } while (n < 0 && Native.errno() == Native.EINTR);
        if (n <= 0) {
            return false;
        }
        long got = c.read(sock, fixed.slice(REPLY), 8);
        if (got == 8 && fixed.getInt(REPLY) == 0 && fixed.getInt(REPLY + 4) == 0) {
            ready = true;
            return true;
        }
        lost("it ended before it was ready (" + (got < 0 ? Native.strerror(Native.errno()) : got == 0 ? "EOF"
                : "a wrong first message") + ")");
        return false;
    }

    /** How long the spawn that started the server waits for it to be ready (else: posix_spawn). */
    static final long READY_GRACE_MILLIS = 50;

    /** Starts a child for {@code argv} (the helper's, argv[0] included) with these fds placed. */
    Outcome spawn(List<Placement> placements, List<String> argv) {
        boolean fresh = sock < 0;
        if (!awaitReady(fresh ? READY_GRACE_MILLIS : 0)) {
            return new Outcome.Unavailable();
        }
        List<Integer> fds = new ArrayList<>();
        int[] source = new int[placements.size()];
        for (int i = 0; i < placements.size(); i++) {
            int fd = placements.get(i).fd();
            if (fd < 0) {
                source[i] = fd;
                continue;
            }
            int at = fds.indexOf(fd);
            if (at < 0) {
                at = fds.size();
                fds.add(fd);
            }
            source[i] = at;
        }
        Charset cs = Charset.defaultCharset();
        List<byte[]> strings = new ArrayList<>(argv.size());
        long size = 12 + 8L * placements.size() + 4;
        for (String s : argv) {
            if (s.indexOf('\0') >= 0) {
                return new Outcome.Unavailable(); // posix_spawn cuts it at the NUL, as it always did
            }
            byte[] b = s.getBytes(cs);
            strings.add(b);
            size += b.length + 1;
        }
        if (size > MAX_REQUEST || argv.size() > MAX_ARGS || fds.size() > MAX_FDS || placements.size() > MAX_ACTIONS) {
            return new Outcome.Unavailable(); // beyond the server's bounds: posix_spawn takes it as before
        }
        if (request == null || request.size() < size) {
            request = Memory.allocateDirect(runtime, (int) Math.max(4096, Long.highestOneBit(size) * 2));
        }
        long at = 0;
        request.putInt(at, MAGIC);
        request.putInt(at + 4, fds.size());
        request.putInt(at + 8, placements.size());
        at += 12;
        for (int i = 0; i < placements.size(); i++, at += 8) {
            request.putInt(at, placements.get(i).target());
            request.putInt(at + 4, source[i]);
        }
        request.putInt(at, argv.size());
        at += 4;
        for (byte[] b : strings) {
            request.put(at, b, 0, b.length);
            request.putByte(at + b.length, (byte) 0);
            at += b.length + 1;
        }
        Outcome o = exchange(size, fds);
        if (o instanceof Outcome.Refused r) {
            if (r.errno() == EINVAL) {
                warn.accept("spawn server: refused a request (a bug: " + Native.strerror(r.errno())
                        + "); spawning through posix_spawn from now on");
                disable();
            } else if (r.errno() != Native.EAGAIN && r.errno() != Native.ENOMEM) {
                warn.accept("spawn server: clone: " + Native.strerror(r.errno())
                        + "; spawning through posix_spawn from now on");
                disable();
            }
            return new Outcome.Unavailable(); // no child was made: posix_spawn tries, and says why if it fails too
        }
        return o;
    }

    /** One request of {@code size} bytes in {@link #request} with {@code fds}, and its answer. */
    private Outcome exchange(long size, List<Integer> fds) {
        if (fds.size() > MAX_SENT_FDS) {
            throw new IllegalArgumentException(fds.size() + " fds");
        }
        long base = fixed.address();
        fixed.setMemory(0, FIXED, (byte) 0);
        fixed.putAddress(IOV, request.address());
        fixed.putLong(IOV + 8, size);
        fixed.putAddress(MSG + 16, base + IOV);
        fixed.putLong(MSG + 24, 1);
        if (!fds.isEmpty()) {
            fixed.putLong(CMSG, 16 + 4L * fds.size()); // CMSG_LEN
            fixed.putInt(CMSG + 8, Native.SOL_SOCKET);
            fixed.putInt(CMSG + 12, Native.SCM_RIGHTS);
            for (int i = 0; i < fds.size(); i++) {
                fixed.putInt(CMSG + 16 + 4L * i, fds.get(i));
            }
            fixed.putAddress(MSG + 32, base + CMSG);
            fixed.putLong(MSG + 40, 16 + ((4L * fds.size() + 7) & ~7L)); // CMSG_SPACE
        }
        long sent;
        do {
            sent = c.sendmsg(sock, fixed.slice(MSG), Native.MSG_NOSIGNAL | Native.MSG_DONTWAIT);
        } while (sent < 0 && Native.errno() == Native.EINTR);
        if (sent < 0 && Native.errno() == EMSGSIZE) {
            return new Outcome.Unavailable(); // more than this socket's buffer: nothing was sent
        }
        if (sent != size) {
            // Nothing reached a live server (EPIPE, ECONNRESET: it is gone): no child can exist.
            String why = sent < 0 ? Native.strerror(Native.errno()) : "short send";
            lost("its socket refused a request (" + why + ")");
            return new Outcome.Unavailable();
        }
        long deadline = nanos.getAsLong() + REPLY_MILLIS * 1_000_000L;
        for (;;) {
            long left = (deadline - nanos.getAsLong()) / 1_000_000L;
            if (left <= 0) {
                // Killed and reaped first: after that the server sends nothing. A child it had
                // cloned answers its own pid before any step and keeps its copy of the server's
                // socket until then (emperor-exec.c, child_main), so reading until EOF sees the
                // answer of every child there is: none is left running that the emperor does not know.
                long was = pid;
                c.kill((int) pid, SIGKILL);
                reap();
                long late = lateAnswer();
                c.close(sock);
                sock = -1;
                warn.accept("spawn server (pid " + was + "): no answer within " + REPLY_MILLIS + " ms (killed);"
                        + " spawning through posix_spawn until a new one starts");
                if (late > 0) {
                    return new Outcome.Started(late);
                }
                return new Outcome.Failed("spawn server: no answer within " + REPLY_MILLIS + " ms");
            }
            fixed.putInt(POLL, sock);
            fixed.putShort(POLL + 4, Native.POLLIN);
            fixed.putShort(POLL + 6, (short) 0);
            int n = c.poll(fixed.slice(POLL), 1, (int) Math.min(left, Integer.MAX_VALUE));
            if (n < 0 && Native.errno() == Native.EINTR) {
                continue;
            }
            if (n == 0) {
                continue; // the deadline is checked above
            }
            long got = n > 0 ? c.read(sock, fixed.slice(REPLY), 8) : -1;
            if (got != 8) {
                String why = got < 0 ? Native.strerror(Native.errno()) : got == 0 ? "EOF" : "short reply";
                lost("it ended while answering (" + why + ")");
                return new Outcome.Failed("spawn server: ended while answering (" + why + ")");
            }
            int child = fixed.getInt(REPLY);
            int err = fixed.getInt(REPLY + 4);
            return err == 0 && child > 0 ? new Outcome.Started(child) : new Outcome.Refused(err == 0 ? EINVAL : err);
        }
    }

    /** How long {@link #lateAnswer} waits for EOF after the kill: the children answer within microseconds. */
    static final int LATE_MILLIS = 1000;

    /**
     * After the server was killed: the answers on its socket until EOF (every copy of the
     * server's end closed), at most {@link #LATE_MILLIS}; the pid of a child that answered, or -1.
     */
    private long lateAnswer() {
        long late = -1;
        for (int i = 0; i < LATE_MILLIS / 50; i++) {
            fixed.putInt(POLL, sock);
            fixed.putShort(POLL + 4, Native.POLLIN);
            fixed.putShort(POLL + 6, (short) 0);
            int n = c.poll(fixed.slice(POLL), 1, 50);
            if (n < 0 && Native.errno() == Native.EINTR || n == 0) {
                continue;
            }
            if (n < 0 || c.read(sock, fixed.slice(REPLY), 8) != 8) {
                break; // EOF: nobody holds the server's end any more
            }
            if (fixed.getInt(REPLY + 4) == 0 && fixed.getInt(REPLY) > 0) {
                late = fixed.getInt(REPLY);
            }
        }
        return late;
    }

    /** Starts a server if there is none and the restart interval has passed; true if one is there. */
    private boolean ensureRunning() {
        if (sock >= 0) {
            return true;
        }
        long now = nanos.getAsLong();
        if (started && now - lastStart < interval) {
            return false;
        }
        if (started) {
            interval = now - lastStart < YOUNG_NANOS ? Math.min(interval * 2, MAX_RESTART_NANOS) : MIN_RESTART_NANOS;
        }
        started = true;
        lastStart = now;
        int[] pair = new int[2];
        if (c.socketpair(Native.AF_UNIX, Native.SOCK_SEQPACKET | Native.SOCK_CLOEXEC, 0, pair) != 0) {
            warn.accept("spawn server: socketpair: " + Native.strerror(Native.errno()) + "; spawning through posix_spawn");
            return false;
        }
        List<Spawner.Action> actions = List.of(
                Spawner.Action.open("/dev/null", 0, O_RDONLY, 0),
                Spawner.Action.open("/dev/null", 1, O_WRONLY, 0),
                Spawner.Action.dup(pair[1], SERVER_FD));
        long child = spawner.spawnp(helper.toString(), actions, Spawner.SETSIGMASK,
                List.of(helper.toString(), "--serve", Integer.toString(SERVER_FD), Long.toString(emperorPid)), List.of());
        c.close(pair[1]);
        if (child <= 0) {
            c.close(pair[0]);
            warn.accept("spawn server: posix_spawn " + helper + ": " + Native.strerror((int) -child)
                    + "; spawning through posix_spawn");
            return false;
        }
        sock = pair[0];
        pid = child;
        ready = false;
        return true;
    }

    /**
     * The server is gone or useless: one log line, its socket closed, it killed (a no-op on a
     * zombie) and reaped; the next start waits for the restart interval.
     */
    private void lost(String what) {
        long was = pid;
        String status = stop(true);
        warn.accept("spawn server (pid " + was + "): " + what + (status.isEmpty() ? "" : ", " + status)
                + "; spawning through posix_spawn until a new one starts");
    }

    /** {@link HelperLauncher#reapAdopted} found the server's zombie: reap it and say so. */
    void exited() {
        if (pid > 0) {
            lost("exited");
        }
    }

    /** At the emperor's end: the server goes (EOF, and SIGKILL in case), reaped. */
    void stop() {
        stop(true);
    }

    private String stop(boolean kill) {
        String status = "";
        ready = false;
        if (sock >= 0) {
            c.close(sock);
            sock = -1;
        }
        if (pid > 0) {
            if (kill) {
                c.kill((int) pid, SIGKILL);
            }
            status = reap();
        }
        return status;
    }

    /** Waits for the server (it is gone or going: EOF and SIGKILL); how it ended, "" if that is not known. */
    private String reap() {
        if (pid <= 0) {
            return "";
        }
        String status = "";
        fixed.putInt(STATUS, 0);
        int r;
        do {
            r = c.waitpid((int) pid, fixed.slice(STATUS), 0);
        } while (r < 0 && Native.errno() == Native.EINTR);
        if (r == pid) {
            int s = fixed.getInt(STATUS);
            status = (s & 0x7f) == 0 ? "exit status " + ((s >> 8) & 0xff) : "killed by signal " + (s & 0x7f);
        }
        pid = -1;
        return status;
    }
}
