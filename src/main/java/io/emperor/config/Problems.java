package io.emperor.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Collects the errors and warnings of one file, in the order found, each once. At most
 * {@value #MAX_REPORTED} of each are reported (by line); one more line says how many were left out.
 */
final class Problems {
    static final int MAX_REPORTED = 20;

    private final Path file;
    private final Set<Problem> errors = new LinkedHashSet<>();
    private final Set<Problem> warnings = new LinkedHashSet<>();

    /** The problems of a file, starting with what the ini reader found in it. */
    static Problems of(IniFile ini) {
        Problems p = new Problems(ini.file());
        p.addErrors(ini.errors());
        p.addWarnings(ini.warnings());
        return p;
    }

    /** Warns about every section of {@code ini} other than {@code used}. */
    void ignoreOtherSections(IniFile ini, String used) {
        for (IniSection other : ini.sections()) {
            if (!other.name().equals(used)) {
                warning(other.line(), "section [" + other.name() + "] is ignored");
            }
        }
    }

    Problems(Path file) {
        this.file = file;
    }

    /** {@code file:line: key: message} */
    void error(IniEntry entry, String message) {
        errors.add(new Problem(file, entry.line(), entry.key() + ": " + message));
    }

    /** {@code file:line: message}, or {@code file: message} for line 0. */
    void error(int line, String message) {
        errors.add(new Problem(file, line, message));
    }

    void warning(IniEntry entry, String message) {
        warnings.add(new Problem(file, entry.line(), entry.key() + ": " + message));
    }

    void warning(int line, String message) {
        warnings.add(new Problem(file, line, message));
    }

    void addErrors(Collection<Problem> problems) {
        errors.addAll(problems);
    }

    void addWarnings(Collection<Problem> problems) {
        warnings.addAll(problems);
    }

    boolean hasErrors() {
        return !errors.isEmpty();
    }

    /**
     * Failed when there is any error; else the value, built only then. Problems come sorted by
     * line (the whole file first), so they read like the file.
     */
    <T> Parsed<T> result(Supplier<T> value) {
        if (hasErrors()) {
            return Parsed.failed(byLine(errors), byLine(warnings));
        }
        return Parsed.ok(value.get(), byLine(warnings));
    }

    private List<Problem> byLine(Set<Problem> problems) {
        List<Problem> sorted = new ArrayList<>(problems);
        sorted.sort(Comparator.comparingInt(Problem::line));
        if (sorted.size() <= MAX_REPORTED) {
            return sorted;
        }
        List<Problem> shown = new ArrayList<>(sorted.subList(0, MAX_REPORTED));
        shown.add(new Problem(file, sorted.get(MAX_REPORTED).line(),
                "and " + (sorted.size() - MAX_REPORTED) + " more problem(s) from here on, not shown"));
        return shown;
    }
}
