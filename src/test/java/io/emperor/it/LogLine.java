package io.emperor.it;

import java.time.Instant;
import java.util.regex.Matcher;

/** One line of the emperor's log that matched a pattern: where it is, its text and its groups. */
record LogLine(int index, String text, Matcher match) {
    /** The line's timestamp (its first word, {@code 2026-11-29T13:00:00.123Z}). */
    Instant time() {
        int space = text.indexOf(' ');
        return Instant.parse(space < 0 ? text : text.substring(0, space));
    }

    String group(int n) {
        return match.group(n);
    }

    long longGroup(int n) {
        return Long.parseLong(match.group(n));
    }

    @Override
    public String toString() {
        return "line " + index + ": " + text;
    }
}
