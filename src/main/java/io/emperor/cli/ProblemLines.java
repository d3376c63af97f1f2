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
            return name + ": " + escape(problem) + since;
        }
        if (vassal.get("problem") != null) {
            return name + ": " + escape(String.valueOf(vassal.get("problem")));
        }
        return null;
    }

    /**
     * A tenant chose part of a problem's text (the program's path, a line of its file): its control
     * characters (C0 but tab, DEL, C1) are printed as {@code \xNN}, as in the emperor's log, so that
     * {@code emperor status} sends no terminal escape of theirs to whoever reads it.
     */
    static String escape(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = c < 0x20 && c != '\t' || c >= 0x7f && c <= 0x9f;
            if (control && sb == null) {
                sb = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (sb != null) {
                if (control) {
                    // By hand, not String.format (its first call costs the client more than the table).
                    sb.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? text : sb.toString();
    }

    /** {@code 42s ago}, {@code 12m03s ago}; {@code just now} under a second (or a clock that went back). */
    static String ago(long millis) {
        if (millis < 1000) {
            return "just now";
        }
        return ControlCommands.duration(millis / 1000) + " ago";
    }
}
