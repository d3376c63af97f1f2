package io.emperor.control;

import java.util.HashMap;
import java.util.Map;

/**
 * The unsent answer bytes of every control connection, per uid and in all (docs/threads.md): a
 * connection takes from it before it queues an answer and gives back what was written or
 * dropped. Thread-safe: answers are queued from any thread. Pure, so the bounds are unit-tested
 * without sockets.
 */
final class OutputBudget {
    /** Why {@link #take} refused, for the log; null when it did not. */
    enum Refusal { USER, TOTAL }

    private final long perUser;
    private final long total;
    // Guarded by this.
    private final Map<Integer, Long> byUser = new HashMap<>();
    private long used;

    OutputBudget(long perUser, long total) {
        this.perUser = perUser;
        this.total = total;
    }

    /**
     * Takes {@code n} bytes for a connection of {@code uid}; {@code limited} is false for root and
     * the emperor's own uid, which only the total bounds. Null when taken, else what was in the way.
     */
    synchronized Refusal take(int uid, boolean limited, long n) {
        long mine = byUser.getOrDefault(uid, 0L);
        if (limited && mine + n > perUser) {
            return Refusal.USER;
        }
        if (used + n > total) {
            return Refusal.TOTAL;
        }
        byUser.put(uid, mine + n);
        used += n;
        return null;
    }

    /** Gives back {@code n} bytes of {@code uid}'s (written, or dropped with their connection). */
    synchronized void give(int uid, long n) {
        if (n == 0) {
            return;
        }
        long left = byUser.getOrDefault(uid, 0L) - n;
        if (left <= 0) {
            byUser.remove(uid);
        } else {
            byUser.put(uid, left);
        }
        used -= n;
    }

    synchronized long total() {
        return used;
    }

    synchronized long of(int uid) {
        return byUser.getOrDefault(uid, 0L);
    }

    long perUser() {
        return perUser;
    }

    long totalBound() {
        return total;
    }
}
