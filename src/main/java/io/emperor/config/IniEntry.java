package io.emperor.config;

/**
 * One {@code key = value} line of an ini file, both sides trimmed, the value not yet expanded.
 *
 * @param key   the text before the first {@code =} (never empty)
 * @param value the text after it (may contain {@code =}; empty for a line without {@code =})
 * @param line  the 1-based line number in the file
 * @param assigned false for a line without {@code =} (uWSGI reads it as the key with an empty value;
 *                 a section with a fixed set of keys calls it "expected KEY = VALUE" unless it is one)
 */
public record IniEntry(String key, String value, int line, boolean assigned) {
    /** A {@code key = value} line. */
    public IniEntry(String key, String value, int line) {
        this(key, value, line, true);
    }
}
