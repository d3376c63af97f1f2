package io.emperor.loop;

import io.emperor.vassal.State;
import io.emperor.vassal.Vassal;
import java.util.Collection;

/**
 * How many vassals run, back off and have failed: what the loop reports to its host (and the
 * host to systemd as {@code STATUS=}) after a turn that changed them. A reloading uWSGI vassal
 * still runs (same pid), so it counts as running; starting and stopping vassals count in none.
 */
public record Counts(int running, int backoff, int failed) {

    public static Counts of(Collection<Vassal> vassals) {
        int running = 0;
        int backoff = 0;
        int failed = 0;
        for (Vassal v : vassals) {
            State s = v.state();
            if (s == State.RUNNING || s == State.RELOADING) {
                running++;
            } else if (s == State.BACKOFF) {
                backoff++;
            } else if (s == State.FAILED) {
                failed++;
            }
        }
        return new Counts(running, backoff, failed);
    }
}
