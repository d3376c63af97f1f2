package io.emperor.vassal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The vassal watchdog ({@code watchdog = S} in a vassal file; docs/lifecycle.md, "The watchdog") as a pure
 * policy on the loop's monotonic clock: no thread, no timer of its own. A run with a watchdog is armed at its
 * spawn; each {@code WATCHDOG=1} (and {@code READY=1}) it sends restarts its clock; when {@code S} passes
 * without one, {@link #due} hands it out once, and the loop steps its vassal with {@link Event.WatchdogMissed}.
 * As systemd's {@code WatchdogSec=}, the clock runs from the spawn: a program that needs longer than {@code S}
 * to start pings while it starts, or gets a longer watchdog.
 *
 * <p>Loop thread only; {@link #deadline} goes into the loop's wait like every vassal deadline.
 */
public final class Watchdogs {
    /** One armed run: its vassal, its period and the time of its last sign of life (monotonic nanos). */
    public record Armed(String name, long runId, long periodNanos, long lastPing) {
        public long deadline() {
            return lastPing + periodNanos;
        }

        public Duration period() {
            return Duration.ofNanos(periodNanos);
        }
    }

    private final Map<Long, Armed> armed = new HashMap<>();

    /** A run with a watchdog was spawned at {@code now}. */
    public void arm(String name, long runId, Duration period, long now) {
        armed.put(runId, new Armed(name, runId, period.toNanos(), now));
    }

    /** The run showed it is alive (WATCHDOG=1, READY=1) at {@code now}; nothing for a run not armed. */
    public void ping(long runId, long now) {
        Armed a = armed.get(runId);
        if (a != null) {
            armed.put(runId, new Armed(a.name(), runId, a.periodNanos(), Math.max(a.lastPing(), now)));
        }
    }

    /** The run ended (reaped), or its vassal stops: no watchdog any more. */
    public void disarm(long runId) {
        armed.remove(runId);
    }

    /** The earliest deadline of an armed run (monotonic nanos), or {@link Vassal#NO_DEADLINE}. */
    public long deadline() {
        long min = Vassal.NO_DEADLINE;
        for (Armed a : armed.values()) {
            min = Math.min(min, a.deadline());
        }
        return min;
    }

    /** The runs whose watchdog expired at {@code now}, in run order; they are disarmed (each fires once). */
    public List<Armed> due(long now) {
        List<Armed> out = new ArrayList<>();
        for (Armed a : armed.values()) {
            if (a.deadline() <= now) {
                out.add(a);
            }
        }
        out.sort(java.util.Comparator.comparingLong(Armed::runId));
        for (Armed a : out) {
            armed.remove(a.runId());
        }
        return out;
    }

}
