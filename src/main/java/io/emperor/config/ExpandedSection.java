package io.emperor.config;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One section with every value magic-expanded, and the checks that every section with a fixed
 * set of keys needs: unknown keys, and single-value keys given more than once (the last wins).
 * An entry whose expansion failed is reported once, here, and then left out of {@link #all}
 * and {@link #last}, so that it does not also get a confusing conversion error.
 */
final class ExpandedSection {
    private final IniSection section;
    private final Problems problems;
    private final Map<IniEntry, IniEntry> expanded = new IdentityHashMap<>();

    /** A section whose values are taken as written (no magic: the {@code [emperor]} section of a uWSGI file). */
    static ExpandedSection literal(IniSection section, Problems problems) {
        return new ExpandedSection(section, null, problems);
    }

    ExpandedSection(IniSection section, Magic magic, Problems problems) {
        this.section = section;
        this.problems = problems;
        for (IniEntry entry : section.entries()) {
            if (magic == null) {
                expanded.put(entry, entry);
                continue;
            }
            Magic.Expansion expansion = magic.expand(entry);
            if (expansion.isOk()) {
                expanded.put(entry, new IniEntry(entry.key(), expansion.value(), entry.line(), entry.assigned()));
            } else {
                problems.addErrors(expansion.errors());
            }
        }
    }

    /** True when the key is written at all, even if its value failed to expand. */
    boolean has(String key) {
        return section.first(key).isPresent();
    }

    /** The expanded entries of a key, in file order. */
    List<IniEntry> all(String key) {
        List<IniEntry> result = new ArrayList<>();
        for (IniEntry entry : section.all(key)) {
            IniEntry e = expanded.get(entry);
            if (e != null) {
                result.add(e);
            }
        }
        return result;
    }

    /** The winning (last) occurrence among {@code keys}, expanded; empty when absent or not expandable. */
    Optional<IniEntry> last(String... keys) {
        List<IniEntry> entries = occurrences(keys);
        if (entries.isEmpty()) {
            return Optional.empty();
        }
        return Optional.ofNullable(expanded.get(entries.get(entries.size() - 1)));
    }

    /**
     * An error for every key not in {@code known}; a line without {@code =} that is not a known key
     * is not taken for a key: "expected KEY = VALUE".
     */
    void rejectUnknown(List<String> known) {
        for (IniEntry entry : section.entries()) {
            if (!entry.assigned() && !known.contains(entry.key())) {
                problems.error(entry.line(), "expected KEY = VALUE, found: " + entry.key());
            } else if (!known.contains(entry.key())) {
                problems.error(entry, "unknown key (known keys: " + String.join(", ", known) + ")");
            }
        }
    }

    /**
     * A warning when a single-value setting is given more than once, under one or more names
     * ({@code logto} and its alias {@code daemonize}); the warning is on the first, ignored, line.
     */
    void warnRepeated(String... names) {
        List<IniEntry> entries = occurrences(names);
        if (entries.size() < 2) {
            return;
        }
        IniEntry first = entries.get(0);
        IniEntry winner = entries.get(entries.size() - 1);
        boolean oneName = entries.stream().map(IniEntry::key).distinct().count() == 1;
        String message = oneName
                ? first.key() + " is given " + entries.size() + " times; the last one (line "
                        + winner.line() + ") wins"
                : String.join(" and ", names) + " are the same setting, given " + entries.size()
                        + " times; the last one (" + winner.key() + ", line " + winner.line() + ") wins";
        problems.warning(first.line(), message);
    }

    private List<IniEntry> occurrences(String... keys) {
        Set<String> wanted = Set.of(keys);
        return section.entries().stream().filter(e -> wanted.contains(e.key())).toList();
    }
}
