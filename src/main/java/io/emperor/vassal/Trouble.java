package io.emperor.vassal;

import java.time.Duration;

/**
 * A vassal's last problem, as {@code emperor status} shows it (docs/lifecycle.md, "The last
 * problem"): what went wrong most recently, and since when the vassal has been in trouble.
 *
 * <p>A {@link Kind#FILE} problem (its file was refused) clears when a version of the file is
 * accepted; a {@link Kind#RUN} problem (a spawn that failed, an exit nobody asked for, a missed
 * heartbeat, a stop that needed SIGKILL) clears once the vassal has been running for
 * {@code min-uptime} since then (and since its run started). Until it clears, a new problem replaces the text and keeps {@code since}.
 *
 * @param kind  what clears it
 * @param text  the problem, in the words of the log line that reported it
 *              ({@code spawn failed: exec /x: No such file or directory}, {@code exited status=1 after 0.06s})
 * @param since monotonic nanos of the first problem since the vassal was last fine
 * @param at    monotonic nanos of this problem
 */
public record Trouble(Kind kind, String text, long since, long at) {

    /** What clears a problem. */
    public enum Kind { FILE, RUN }

    /** The problem that follows {@code before} (null: the vassal was fine) at {@code now}. */
    static Trouble after(Trouble before, Kind kind, String text, long now) {
        return new Trouble(kind, text, before == null ? now : before.since(), now);
    }

    /**
     * The problem as it stands at {@code now}: a RUN problem is gone (null) once the vassal has
     * been running for {@code minUptime} both since its run started and since the problem (a
     * missed heartbeat happens during a run); else this one.
     *
     * @param v the vassal that holds it
     */
    Trouble standing(Vassal v, long now, Duration minUptime) {
        if (kind == Kind.RUN && v.state() == State.RUNNING && v.runId() != 0 && !v.execFailed()
                && now - Math.max(v.startedAt(), at) >= minUptime.toNanos()) {
            return null;
        }
        return this;
    }
}
