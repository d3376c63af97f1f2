package io.emperor.control;

import io.emperor.loop.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the two servers ({@link ControlServer}: jnr epoll on a unix socket; {@link StatsServer}: an
 * NIO selector) share of serving a socket, as one small core without I/O, on an injected
 * {@link Clock} (issue 16 §1): which connection is admitted (a total cap, and a cap per uid that
 * some uids are exempt from), when each must go (its deadline: an idle timeout the server re-arms,
 * or a fixed one from the accept, or none while a request is in progress), and the accept pause
 * after a failed accept (out of fds: the listener stays readable, so the server leaves it alone for
 * {@link #ACCEPT_PAUSE} rather than spin, and says so at most once a minute). The servers do the
 * I/O and ask the core; its limits are tested without sockets and without wall-clock waits
 * (ServerCoreTest). Not thread-safe: the server's own thread only.
 *
 * @param <C> the server's connection
 */
final class ServerCore<C> {
    /** After a failed accept, how long the listener is left alone: both servers, one value (docs/control.md, docs/stats.md). */
    static final Duration ACCEPT_PAUSE = Duration.ofMillis(250);
    /** A failed accept is logged at most this often. */
    static final Duration ACCEPT_WARNING_INTERVAL = Duration.ofMinutes(1);
    /** Clients accepted per wake-up, so that a connect storm cannot starve the clients already there (both servers). */
    static final int ACCEPTS_PER_WAKE = 32;
    /** No deadline (a connection whose request is in progress). */
    static final long NONE = Long.MAX_VALUE;

    /** Why a connection was not admitted. */
    enum Refusal { FULL, USER_FULL }

    private final Clock clock;
    private final int maxConnections;
    private final int maxPerUser;
    private final Set<Integer> unlimitedUids;
    /** Open connections and their deadlines (monotonic nanos, or {@link #NONE}), by identity. */
    private final Map<C, Long> deadlines = new IdentityHashMap<>();
    private final Map<C, Integer> uids = new IdentityHashMap<>();
    private final Map<Integer, Integer> perUser = new HashMap<>();
    private boolean acceptPaused;
    private long acceptPausedUntil;
    private long lastAcceptWarning;
    private boolean acceptWarned;

    /**
     * @param maxPerUser    connections one uid may hold (not counted for {@code unlimitedUids})
     * @param unlimitedUids uids the per-user cap does not count (root and the emperor's own)
     */
    ServerCore(Clock clock, int maxConnections, int maxPerUser, Set<Integer> unlimitedUids) {
        this.clock = clock;
        this.maxConnections = maxConnections;
        this.maxPerUser = maxPerUser;
        this.unlimitedUids = Set.copyOf(unlimitedUids);
    }

    /** With a total cap only (anonymous peers: TCP). */
    ServerCore(Clock clock, int maxConnections) {
        this(clock, maxConnections, Integer.MAX_VALUE, Set.of());
    }

    Clock clock() {
        return clock;
    }

    /** Why a new connection of {@code uid} (-1: unknown) would not be admitted now, or null. */
    Refusal refusal(int uid) {
        if (deadlines.size() >= maxConnections) {
            return Refusal.FULL;
        }
        if (!unlimitedUids.contains(uid) && perUser.getOrDefault(uid, 0) >= maxPerUser) {
            return Refusal.USER_FULL;
        }
        return null;
    }

    /** Admits {@code c} of {@code uid} (-1: unknown) with no deadline yet, or says why not (then the server closes it). */
    Refusal admit(C c, int uid) {
        Refusal r = refusal(uid);
        if (r != null) {
            return r;
        }
        boolean counted = !unlimitedUids.contains(uid);
        deadlines.put(c, NONE);
        uids.put(c, uid);
        if (counted) {
            perUser.merge(uid, 1, Integer::sum);
        }
        return null;
    }

    /** The connection is closed: its slot and its uid's are free again. False when it was not open. */
    boolean closed(C c) {
        if (deadlines.remove(c) == null) {
            return false;
        }
        int uid = uids.remove(c);
        perUser.computeIfPresent(uid, (u, n) -> n > 1 ? n - 1 : null);
        return true;
    }

    /** {@code c} must go at {@code at} (monotonic nanos) unless re-armed first. */
    void deadline(C c, long at) {
        deadlines.replace(c, at);
    }

    /** {@code c} must go {@code after} from now (an idle timeout, re-armed on each complete request). */
    void deadlineIn(C c, Duration after) {
        deadline(c, clock.nanoTime() + after.toNanos());
    }

    /** No deadline for {@code c} (its request is in progress: the answer may take a while). */
    void noDeadline(C c) {
        deadlines.replace(c, NONE);
    }

    long deadline(C c) {
        return deadlines.getOrDefault(c, NONE);
    }

    /** The connections whose deadline has come at {@code now}: the server closes them (and calls {@link #closed}). */
    List<C> expired(long now) {
        List<C> due = new ArrayList<>();
        for (Map.Entry<C, Long> e : deadlines.entrySet()) {
            if (e.getValue() != NONE && now - e.getValue() >= 0) {
                due.add(e.getKey());
            }
        }
        return due;
    }

    /** The earliest deadline or end of the accept pause (monotonic nanos), or {@link #NONE}. */
    long nextWake() {
        long next = acceptPaused ? acceptPausedUntil : NONE;
        for (long d : deadlines.values()) {
            next = Math.min(next, d);
        }
        return next;
    }

    /** Milliseconds from {@code now} until {@link #nextWake}, rounded up; -1 when there is nothing to wait for. */
    int millisUntilNextWake(long now) {
        long next = nextWake();
        if (next == NONE) {
            return -1;
        }
        long millis = Math.max(0, (next - now + 999_999) / 1_000_000);
        return (int) Math.min(millis, Integer.MAX_VALUE);
    }

    /**
     * An accept failed for want of resources: the server stops watching its listener until
     * {@link #resumeAccepting} says so. True when this failure is to be logged (the first, then at
     * most once every {@link #ACCEPT_WARNING_INTERVAL}).
     */
    boolean pauseAccepting(long now) {
        acceptPaused = true;
        acceptPausedUntil = now + ACCEPT_PAUSE.toNanos();
        if (!acceptWarned || now - lastAcceptWarning >= ACCEPT_WARNING_INTERVAL.toNanos()) {
            acceptWarned = true;
            lastAcceptWarning = now;
            return true;
        }
        return false;
    }

    /** True once, when the accept pause has ended at {@code now}: the server watches its listener again. */
    boolean resumeAccepting(long now) {
        if (acceptPaused && now - acceptPausedUntil >= 0) {
            acceptPaused = false;
            return true;
        }
        return false;
    }

    boolean acceptPaused() {
        return acceptPaused;
    }

    /** Open connections. */
    int size() {
        return deadlines.size();
    }

    /** Open connections of {@code uid} that count against its cap. */
    int ofUser(int uid) {
        return perUser.getOrDefault(uid, 0);
    }

    /** What was at a unix socket's path before binding ({@link #clearStale}). */
    enum SocketFile { ABSENT, NOT_A_SOCKET, IN_USE, STALE_REMOVED }

    /**
     * Stale-socket handling, the same for both servers: a socket nobody listens on (left by an
     * emperor that died, ECONNREFUSED) is removed; one that answers, or a file that is not a
     * socket, is left alone (the server refuses to start, in its own words).
     */
    static SocketFile clearStale(java.nio.file.Path path) throws java.io.IOException {
        if (!java.nio.file.Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return SocketFile.ABSENT;
        }
        int mode = (Integer) java.nio.file.Files.getAttribute(path, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if ((mode & 0170000) != 0140000) {
            return SocketFile.NOT_A_SOCKET;
        }
        try (java.nio.channels.SocketChannel probe =
                     java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            probe.connect(java.net.UnixDomainSocketAddress.of(path));
            return SocketFile.IN_USE;
        } catch (java.net.ConnectException stale) {
            java.nio.file.Files.deleteIfExists(path);
            return SocketFile.STALE_REMOVED;
        }
    }
}
