package io.emperor.config;

/**
 * One {@code key = value} line of an ini file, both sides trimmed, the value not yet expanded.
 *
 * @param key   the text before the first {@code =} (never empty)
 * @param value the text after it (may contain {@code =}; empty for a line without {@code =})
 * @param line  the 1-based line number in the file
 */
public record IniEntry(String key, String value, int line) {}
