package io.emperor.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * An ini file as {@link IniReader} read it: its sections, and what was wrong with it. Errors
 * make the file unusable; warnings (a line outside any section) do not.
 *
 * @param file     the file, as given to the reader
 * @param sections the sections in order of their first header, same-named ones merged
 * @param errors   syntax errors, or one error for a file that could not be read as text
 * @param warnings things ignored
 */
public record IniFile(Path file, List<IniSection> sections, List<Problem> errors, List<Problem> warnings) {
    public IniFile {
        sections = List.copyOf(sections);
        errors = List.copyOf(errors);
        warnings = List.copyOf(warnings);
    }

    /** The section with this name (names are case-sensitive, as in uWSGI). */
    public Optional<IniSection> section(String name) {
        return sections.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /**
     * True when the file could not be read as text at all (I/O error, too large, binary): then
     * there is nothing more to say about its content.
     */
    public boolean unreadable() {
        return sections.isEmpty() && !errors.isEmpty();
    }
}
