package io.emperor.cli;

import java.util.Map;

/**
 * The lines under {@code emperor status}'s table that say why: one per vassal with a last problem
 * ({@code api: spawn failed: exec /usr/local/bin/myapp: No such file or directory (since 2m03s ago)}),
 * or, from an emperor without the {@code last_problem} field, the first error of a failed file.
 */
final class ProblemLines {
    private ProblemLines() {}

    /** The line for one vassal of a status answer, or null when nothing is wrong with it. */
    static String line(Map<?, ?> vassal, long nowMillis) {
        Object name = vassal.get("name");
        if (vassal.get("last_problem") instanceof String problem) {
            String since = vassal.get("last_problem_since") instanceof Number n
                    ? " (since " + ago(nowMillis - Math.round(n.doubleValue() * 1000)) + ")" : "";
            return name + ": " + problem + since;
        }
        if (vassal.get("problem") != null) {
            return name + ": " + vassal.get("problem");
        }
        return null;
    }

    /** {@code 42s ago}, {@code 12m03s ago}; {@code just now} under a second (or a clock that went back). */
    static String ago(long millis) {
        if (millis < 1000) {
            return "just now";
        }
        return ControlCommands.duration(millis / 1000) + " ago";
    }
}
