package io.emperor.vassal;

import java.time.Duration;

/**
 * The respawn policy shared by every vassal: a process that ran at least {@code minUptime} is
 * respawned at once; one that exits sooner waits 1 s, 2 s, 4 s ... at most {@code maxBackoff}. A
 * uWSGI vassal that has sent one heartbeat must send the next within {@code requiredHeartbeat}.
 */
public record Policy(Duration minUptime, Duration maxBackoff, Duration requiredHeartbeat) {
    private static final long FIRST_DELAY = Duration.ofSeconds(1).toNanos();

    /** With the default required heartbeat (30 s). */
    public Policy(Duration minUptime, Duration maxBackoff) {
        this(minUptime, maxBackoff, io.emperor.config.EmperorConfig.DEFAULT_REQUIRED_HEARTBEAT);
    }

    /** The wait after the {@code failures}-th quick exit in a row (failures >= 1), in nanos. */
    public long backoffNanos(int failures) {
        int shift = Math.min(Math.max(failures, 1) - 1, 32); // 1 s << 32 still fits in a long
        long delay = FIRST_DELAY << shift;
        return Math.min(delay, maxBackoff.toNanos());
    }
}
