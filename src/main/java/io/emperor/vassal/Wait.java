package io.emperor.vassal;

import java.util.List;

/**
 * What a vassal waits for before it may start: the verdict of {@link Dependencies} on its
 * {@code requires} and {@code after}, handed to the lifecycle by {@link Event.Requirements}.
 *
 * @param reasons one per vassal it waits for, {@code NAME (what)}: {@code zeo (not ready)},
 *                {@code db (no such vassal)}, {@code cache (stopped)}; empty: it may start
 * @param stop    a requirement is gone (removed, stopped by an operator, refused): a running
 *                vassal is stopped, and starts again once it is back and ready. A requirement
 *                that only is not ready (a crash and respawn) leaves a running vassal alone.
 */
public record Wait(List<String> reasons, boolean stop) {
    public static final Wait NONE = new Wait(List.of(), false);

    public Wait {
        reasons = List.copyOf(reasons);
        if (reasons.isEmpty() && stop) {
            throw new IllegalArgumentException("a stop needs a reason");
        }
    }

    /** Nothing to wait for. */
    public boolean open() {
        return reasons.isEmpty();
    }

    /** {@code zeo (not ready), db (no such vassal)}. */
    public String text() {
        return String.join(", ", reasons);
    }

    /** The names waited for, without the reasons (a change of these is logged). */
    public List<String> names() {
        return reasons.stream().map(r -> {
            int space = r.indexOf(" (");
            return space < 0 ? r : r.substring(0, space);
        }).toList();
    }
}
