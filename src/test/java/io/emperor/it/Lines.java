package io.emperor.it;

import java.util.regex.Pattern;

/**
 * Patterns for the emperor's log lines, which are an interface (docs/emperor.8.md):
 * {@code TIME [emperor] NAME: verb ...} for a vassal's lifecycle, {@code TIME [NAME] text} for
 * what a vassal printed, {@code TIME [emperor] text} for the emperor itself.
 */
final class Lines {
    private Lines() {}

    /** A lifecycle line of vassal {@code name}; {@code regex} starts at the verb. */
    static Pattern lifecycle(String name, String regex) {
        return Pattern.compile("^\\S+ \\[emperor\\] " + Pattern.quote(name) + ": " + regex);
    }

    /** {@code NAME: spawned pid=N uid=U gid=G}, with the pid as group 1. */
    static Pattern spawned(String name) {
        return lifecycle(name, "spawned pid=(\\d+) uid=(\\d+) gid=(\\d+)$");
    }

    /** Any vassal's spawned line; group 1 is the name, group 2 the pid. */
    static Pattern anySpawned() {
        return Pattern.compile("^\\S+ \\[emperor\\] (\\S+): spawned pid=(\\d+) uid=\\d+ gid=\\d+$");
    }

    /** A line vassal {@code name} printed; {@code regex} starts at its text. */
    static Pattern output(String name, String regex) {
        return Pattern.compile("^\\S+ \\[" + Pattern.quote(name) + "\\] " + regex);
    }

    /** A line about the emperor itself. */
    static Pattern emperor(String regex) {
        return Pattern.compile("^\\S+ \\[emperor\\] " + regex);
    }

    /** Text to match literally inside a pattern. */
    static String q(Object literal) {
        return Pattern.quote(String.valueOf(literal));
    }
}
