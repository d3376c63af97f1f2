package io.emperor.os;

import io.emperor.config.Readiness;
import io.emperor.loop.Clock;
import io.emperor.loop.LoopEvent;
import io.emperor.vassal.Event;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * Readiness probes ({@code ready = tcp:HOST:PORT | unix:PATH}) on the I/O thread, without a thread
 * of their own: each try is a non-blocking {@code connect}; a TCP connect in progress waits in the
 * I/O thread's epoll set for {@code EPOLLOUT}, then {@code SO_ERROR} says how it went. A failed try
 * is retried after 50 ms, 100 ms … at most 1 s; a connect still in progress after a second (a
 * listener whose queue is full, a host that drops SYNs) is a failed try. Success posts {@link Event.Ready} (the probe ends);
 * a failure whose reason differs from the last one posts {@link Event.NotReady} (the reason the
 * ready-timeout line gives). Nothing is sent on a connection: it is closed at once.
 *
 * <p>A unix socket of a run that runs as another user than the emperor (tyrant mode's tenants, a
 * {@code uid =} vassal) is probed only when the socket is that user's: the path is opened
 * {@code O_PATH|O_NOFOLLOW}, the socket it names must be owned by the run's uid, and the connect
 * goes to {@code /proc/self/fd/N}, that very inode (no second lookup a symlink could redirect).
 * Anything else (the emperor's control socket, another tenant's socket, a symlink, nothing there
 * yet) is one and the same failure, so that a tenant learns nothing about paths it cannot see
 * (docs/tyrant.md, "Readiness probes").
 *
 * <p>Threads: {@link #start} and {@link #cancel} on any thread (the loop's); everything else on
 * the I/O thread.
 */
final class ReadyProbes {
    static final long FIRST_DELAY_MILLIS = 50;
    static final long MAX_DELAY_MILLIS = 1000;
    /** A TCP connect still in progress after this long (a host that drops SYNs) is a failed try. */
    static final long CONNECT_TIMEOUT_MILLIS = 1000;
    /** Token bit of a probe's socket in the epoll set (run tokens are {@code runId << 2 | kind}). */
    static final long TOKEN_BIT = 1L << 62;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int EINPROGRESS = 115;
    private static final int SOL_SOCKET = 1;
    private static final int SO_ERROR = 4;
    /** O_NOFOLLOW, the generic value (also x86_64's and aarch64's). */
    private static final int O_NOFOLLOW = 0400000;
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    /** The I/O thread's epoll set. */
    interface Epoll {
        void addOut(int fd, long token);

        void remove(int fd);
    }

    private record Request(String name, long runId, Readiness how, int uid, boolean cancel) {}

    /** One run's probe (I/O thread only). */
    private static final class Probe {
        final String name;
        final long runId;
        final Readiness how;
        final int uid;
        int fd = -1;
        /** While a connect is in progress ({@code fd >= 0}): when it gives up; else the next try. */
        long nextAt;
        long delay = FIRST_DELAY_MILLIS;
        String lastProblem;

        Probe(String name, long runId, Readiness how, int uid) {
            this.name = name;
            this.runId = runId;
            this.how = how;
            this.uid = uid;
        }
    }

    private final LibC c = Native.libc();
    private final Epoll epoll;
    private final Clock clock;
    private final Consumer<LoopEvent> sink;
    private final int euid;
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    private final Map<Long, Probe> probes = new HashMap<>();
    /** {@code probes.size()} as the I/O thread last left it, for other threads (the metric emperor_io_probes). */
    private volatile int probing;
    private final Pointer addr = Memory.allocateDirect(Native.runtime(), 128);
    private final Pointer value = Memory.allocateDirect(Native.runtime(), 8);
    private final Pointer valueLength = Memory.allocateDirect(Native.runtime(), 4);
    /** The runs probed, as the loop sees them: a cancel of a run never probed costs nothing. */
    private final java.util.Set<Long> started = java.util.concurrent.ConcurrentHashMap.newKeySet();

    ReadyProbes(Epoll epoll, Clock clock, Consumer<LoopEvent> sink) {
        this.epoll = epoll;
        this.clock = clock;
        this.sink = sink;
        this.euid = c.geteuid();
    }

    /** Any thread: probe this run until it is ready or cancelled; the caller wakes the I/O thread. */
    void start(String name, long runId, Readiness how, int uid) {
        if (!(how instanceof Readiness.Tcp || how instanceof Readiness.Unix)) {
            throw new IllegalArgumentException("nothing to probe for ready = " + how.text());
        }
        started.add(runId);
        requests.add(new Request(name, runId, how, uid, false));
    }

    /**
     * Any thread: stop probing the run; true when there was a probe to stop (then the caller
     * wakes the I/O thread).
     */
    boolean cancel(long runId) {
        if (!started.remove(runId)) {
            return false;
        }
        requests.add(new Request(null, runId, null, -1, true));
        return true;
    }

    /** How many runs are probed now (any thread; the metric emperor_io_probes). */
    int probing() {
        return probing;
    }

    /** I/O thread: how long epoll may wait for the next try, -1 for no limit. */
    int waitMillis() {
        if (!requests.isEmpty()) {
            return 0;
        }
        long next = Long.MAX_VALUE;
        for (Probe p : probes.values()) {
            next = Math.min(next, p.nextAt);
        }
        if (next == Long.MAX_VALUE) {
            return -1;
        }
        return (int) Math.max(0, Math.min(next - millis(), MAX_DELAY_MILLIS));
    }

    /** I/O thread, after each wake-up: new requests, then every try that is due. */
    void runDue() {
        for (Request r; (r = requests.poll()) != null; ) {
            if (r.cancel()) {
                end(probes.get(r.runId()));
            } else if (!probes.containsKey(r.runId())) {
                Probe p = new Probe(r.name(), r.runId(), r.how(), r.uid());
                p.nextAt = millis();
                probes.put(r.runId(), p);
                probing = probes.size();
            }
        }
        if (probes.isEmpty()) {
            return;
        }
        long now = millis();
        for (Probe p : probes.values().toArray(new Probe[0])) {
            if (p.nextAt > now) {
                continue;
            }
            if (p.fd < 0) {
                attempt(p);
            } else {
                failed(p, "connect " + target(p.how) + ": no answer within " + CONNECT_TIMEOUT_MILLIS + " ms");
            }
        }
    }

    /** I/O thread: the epoll set says a connect in progress has finished. */
    void connected(long token) {
        Probe p = probes.get(token & ~TOKEN_BIT);
        if (p == null || p.fd < 0) {
            return;
        }
        value.putInt(0, 0);
        valueLength.putInt(0, 4);
        int error = c.getsockopt(p.fd, SOL_SOCKET, SO_ERROR, value, valueLength) == 0 ? value.getInt(0)
                : Native.errno();
        if (error == 0) {
            ready(p);
        } else {
            failed(p, "connect " + target(p.how) + ": " + Native.strerror(error));
        }
    }

    private void attempt(Probe p) {
        if (p.how instanceof Readiness.Tcp t) {
            attemptTcp(p, t);
        } else {
            attemptUnix(p, (Readiness.Unix) p.how);
        }
    }

    private void attemptTcp(Probe p, Readiness.Tcp t) {
        byte[] ip;
        try {
            ip = InetAddress.getByName(t.host()).getAddress(); // a literal (OrderSection): no lookup
        } catch (IOException e) {
            failed(p, "not an address: " + t.host());
            return;
        }
        int family = InetSockaddr.family(ip);
        int length = InetSockaddr.write(addr, ip, t.port());
        int error = connect(p, family, length);
        if (error < 0) {
            return;
        }
        if (error == 0) {
            ready(p);
            return;
        }
        if (error == EINPROGRESS) {
            epoll.addOut(p.fd, TOKEN_BIT | p.runId);
            p.nextAt = millis() + CONNECT_TIMEOUT_MILLIS;
            return;
        }
        failed(p, "connect " + target(t) + ": " + Native.strerror(error));
    }

    /**
     * A non-blocking stream socket of {@code family} (the probe's fd from now on) connected to the
     * first {@code length} bytes of {@code addr}: 0, or the connect's errno; -1 when no socket could
     * be made (the probe has failed with the reason).
     */
    private int connect(Probe p, int family, int length) {
        int fd = c.socket(family, SOCK_STREAM | Native.SOCK_NONBLOCK | Native.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            failed(p, "socket: " + Native.strerror(Native.errno()));
            return -1;
        }
        p.fd = fd;
        return c.connect(fd, addr, length) == 0 ? 0 : Native.errno();
    }

    private void attemptUnix(Probe p, Readiness.Unix u) {
        boolean asOther = p.uid >= 0 && p.uid != euid;
        int pathFd = -1;
        String path = u.path().toString();
        if (asOther) {
            pathFd = c.open(path, OpenedFile.O_PATH | Native.O_CLOEXEC | O_NOFOLLOW, 0);
            if (pathFd < 0 || !ownSocket(pathFd, p.uid)) {
                if (pathFd >= 0) {
                    c.close(pathFd);
                }
                failed(p, "connect " + target(u) + ": no socket of uid " + p.uid + " there (a vassal that runs"
                        + " as another user is probed only on a socket of its own)");
                return;
            }
            path = "/proc/self/fd/" + pathFd;
        }
        try {
            int length = sockaddrUn(path);
            // A unix stream connect does not go on in the background: it succeeds, or fails at once
            // (EAGAIN: the backlog is full, a try for later).
            int error = connect(p, AF_UNIX, length);
            if (error == 0) {
                ready(p);
            } else if (error > 0) {
                failed(p, "connect " + target(u) + ": " + Native.strerror(error));
            }
        } finally {
            if (pathFd >= 0) {
                c.close(pathFd);
            }
        }
    }

    /** Whether the inode behind an O_PATH descriptor is a socket owned by {@code uid}. */
    private static boolean ownSocket(int pathFd, int uid) {
        try {
            Map<String, Object> a = Files.readAttributes(Path.of("/proc/self/fd/" + pathFd), "unix:mode,uid");
            return ((Integer) a.get("mode") & S_IFMT) == S_IFSOCK && (Integer) a.get("uid") == uid;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }


    private int sockaddrUn(String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        addr.setMemory(0, 128, (byte) 0);
        addr.putShort(0, (short) AF_UNIX);
        addr.put(2, bytes, 0, Math.min(bytes.length, 107));
        return 2 + Math.min(bytes.length, 107) + 1;
    }

    private void ready(Probe p) {
        String how = target(p.how) + " accepts";
        end(p);
        started.remove(p.runId);
        sink.accept(new LoopEvent.ForVassal(p.name, new Event.Ready(p.runId, how)));
    }

    private void failed(Probe p, String problem) {
        closeSocket(p);
        p.nextAt = millis() + p.delay;
        p.delay = Math.min(p.delay * 2, MAX_DELAY_MILLIS);
        if (!problem.equals(p.lastProblem)) {
            p.lastProblem = problem;
            sink.accept(new LoopEvent.ForVassal(p.name, new Event.NotReady(p.runId, problem)));
        }
    }

    private void end(Probe p) {
        if (p != null) {
            closeSocket(p);
            probes.remove(p.runId);
            probing = probes.size();
        }
    }

    private void closeSocket(Probe p) {
        if (p.fd >= 0) {
            epoll.remove(p.fd);
            c.close(p.fd);
            p.fd = -1;
        }
    }

    /** I/O thread, at close: every socket closed. */
    void closeAll() {
        for (Probe p : probes.values()) {
            closeSocket(p);
        }
        probes.clear();
    }

    private static String target(Readiness how) {
        return how.text();
    }

    private long millis() {
        return clock.nanoTime() / 1_000_000;
    }
}
