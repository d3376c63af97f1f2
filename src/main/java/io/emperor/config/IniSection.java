package io.emperor.config;

import java.util.List;
import java.util.Optional;

/**
 * A section of an ini file. Sections repeated under the same name are merged into one, in file
 * order, as uWSGI does.
 *
 * @param name    the name between the brackets, trimmed
 * @param line    the line of the first header with that name
 * @param entries every entry of the section in file order, repeated keys included
 */
public record IniSection(String name, int line, List<IniEntry> entries) {
    public IniSection {
        entries = List.copyOf(entries);
    }

    /** The first entry with this key, as uWSGI's {@code %(key)} sees it. */
    public Optional<IniEntry> first(String key) {
        return entries.stream().filter(e -> e.key().equals(key)).findFirst();
    }

    /** Every entry with this key, in file order. */
    public List<IniEntry> all(String key) {
        return entries.stream().filter(e -> e.key().equals(key)).toList();
    }
}
