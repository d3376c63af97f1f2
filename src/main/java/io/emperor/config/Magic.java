package io.emperor.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Expands the magic variables of one ini section's values (reference §7.4, §7.5), strictly:
 * where uWSGI silently erases an unknown {@code %X} or leaves an unset {@code $(VAR)} in place,
 * this reports an error with the line it is on.
 *
 * <table>
 *   <caption>What is expanded</caption>
 *   <tr><td>{@code %n}</td><td>file name without its last extension</td></tr>
 *   <tr><td>{@code %s}</td><td>file name</td></tr>
 *   <tr><td>{@code %e}</td><td>extension, without the dot</td></tr>
 *   <tr><td>{@code %p}</td><td>absolute path (a symlink's own path: never resolved)</td></tr>
 *   <tr><td>{@code %d}</td><td>directory of the file, with a trailing {@code /}</td></tr>
 *   <tr><td>{@code %c}</td><td>name of that directory</td></tr>
 *   <tr><td>{@code %h}</td><td>host name</td></tr>
 *   <tr><td>{@code %%}</td><td>a literal {@code %}</td></tr>
 *   <tr><td>{@code %(key)}</td><td>the first value of {@code key} in the section, itself expanded</td></tr>
 *   <tr><td>{@code $(VAR)}</td><td>the emperor's environment variable {@code VAR}</td></tr>
 * </table>
 * Text that comes out of an expansion (an environment value, a referenced key's value) is not
 * scanned again. One instance serves one section; it remembers referenced keys it expanded.
 *
 * <p>Bounded: references nest at most {@value #MAX_DEPTH} deep, and all the values of the
 * section together produce at most {@link #MAX_TEXT} characters; past either limit the value is
 * an error naming the limit, and once the text budget is spent every later value fails with that
 * same error (one line, not one per value).
 */
public final class Magic {
    /**
     * How deep {@code %(key)} references may nest: {@code a = %(b)}, {@code b = %(c)} is two deep.
     * Each level is a stack frame; thousands of chained keys would otherwise overflow the stack.
     */
    public static final int MAX_DEPTH = 16;
    /**
     * How much text expanding one file's values may produce in all (characters, each
     * {@code %(key)} counted every time it is used): a few kilobytes of doubling references would
     * otherwise make hundreds of megabytes.
     */
    public static final int MAX_TEXT = 1024 * 1024;
    /** Errors kept per value: the rest of a value full of bad references adds nothing. */
    static final int MAX_ERRORS = 8;

    /**
     * What the variables are made of.
     *
     * @param file        the file being read, absolute, as given (a symlink is not resolved)
     * @param hostname    the host name for {@code %h}
     * @param environment the environment for {@code $(VAR)}
     * @param lookup      the first entry of a key in the same section, for {@code %(key)}
     */
    public record Context(Path file, String hostname, Map<String, String> environment,
                          Function<String, Optional<IniEntry>> lookup) {
        public Context {
            Objects.requireNonNull(file, "file");
            Objects.requireNonNull(hostname, "hostname");
            environment = Map.copyOf(environment);
            Objects.requireNonNull(lookup, "lookup");
        }

        /** A context whose {@code %(key)} looks up the first occurrence of the key in {@code section}. */
        public static Context of(Path file, String hostname, Map<String, String> environment, IniSection section) {
            return new Context(file, hostname, environment, section::first);
        }
    }

    /**
     * The outcome of expanding one value.
     *
     * @param value  the expanded text; meaningless when there are errors
     * @param errors problems, each as {@code file:line: key: message} with the line of the entry
     *               that holds the bad text (for a bad {@code %(key)}, the referenced key's line)
     */
    public record Expansion(String value, List<Problem> errors) {
        public Expansion {
            errors = List.copyOf(errors);
        }

        public boolean isOk() {
            return errors.isEmpty();
        }
    }

    private final Context context;
    private final Map<String, Expansion> expandedKeys = new HashMap<>();
    /** Characters produced so far by every expansion of this instance. */
    private long produced;
    /** The error that ended the text budget, repeated for every later value. */
    private Problem exhausted;

    public Magic(Context context) {
        this.context = context;
    }

    /** Expands one entry's value. */
    public Expansion expand(IniEntry entry) {
        return expand(entry, List.of(entry));
    }

    /** @param chain the entries being expanded, outermost first, {@code entry} last */
    private Expansion expand(IniEntry entry, List<IniEntry> chain) {
        if (exhausted != null) {
            return new Expansion("", List.of(exhausted));
        }
        String text = entry.value();
        StringBuilder out = new StringBuilder(Math.min(text.length(), 4096));
        LinkedHashSet<Problem> errors = new LinkedHashSet<>();
        int i = 0;
        while (i < text.length() && errors.size() < MAX_ERRORS) {
            char c = text.charAt(i);
            char next = i + 1 < text.length() ? text.charAt(i + 1) : 0;
            int before = out.length();
            if ((c == '%' || c == '$') && next == '(') {
                int close = text.indexOf(')', i + 2);
                if (close < 0) {
                    errors.add(problem(entry, c + "( is not closed by )"));
                    break;
                }
                String name = text.substring(i + 2, close);
                Expansion part = c == '%' ? reference(entry, name, chain) : environment(entry, name);
                errors.addAll(part.errors());
                if (exhausted != null) {
                    break;
                }
                if (!spend(chain.get(0), part.value().length())) {
                    errors.add(exhausted);
                    break;
                }
                out.append(part.value());
                i = close + 1;
                continue;
            } else if (c == '%') {
                int after = i + 1 < text.length() ? text.codePointAt(i + 1) : -1;
                String variable = after < 0 ? null : variable(after);
                if (variable == null) {
                    String shown = after < 0 ? "%" : "%" + Character.toString(after);
                    errors.add(problem(entry, "unknown magic variable " + shown + " (write %% for a literal %)"));
                } else {
                    out.append(variable);
                }
                i += after < 0 ? 1 : 1 + Character.charCount(after);
            } else {
                out.append(c);
                i++;
            }
            if (!spend(chain.get(0), out.length() - before)) {
                errors.add(exhausted);
                break;
            }
        }
        return new Expansion(out.toString(), new ArrayList<>(errors));
    }

    /**
     * Counts {@code chars} more against {@link #MAX_TEXT}; false (and {@link #exhausted} set, on
     * {@code top}, the outermost entry being expanded) past it.
     */
    private boolean spend(IniEntry top, int chars) {
        produced += chars;
        if (produced <= MAX_TEXT && exhausted == null) {
            return true;
        }
        if (exhausted == null) {
            exhausted = problem(top, "expanding the file's values makes more than 1 MiB of text (the limit for all"
                    + " values together, each %(key) counted every time it is used)");
        }
        return false;
    }

    private Expansion environment(IniEntry entry, String name) {
        String value = context.environment().get(name);
        if (value == null) {
            return new Expansion("", List.of(problem(entry, "$(" + name + "): environment variable is not set")));
        }
        return new Expansion(value, List.of());
    }

    /**
     * {@code %(key)}: the first occurrence of {@code key} in the section, expanded in turn. A
     * reference back to an entry still being expanded is a cycle, reported where it closes.
     */
    private Expansion reference(IniEntry entry, String key, List<IniEntry> chain) {
        Optional<IniEntry> found = context.lookup().apply(key);
        if (found.isEmpty()) {
            return new Expansion("", List.of(problem(entry, "%(" + key + "): no such key")));
        }
        IniEntry target = found.get();
        int loop = chain.indexOf(target);
        if (loop >= 0) {
            return new Expansion("", List.of(problem(entry, cycle(chain.subList(loop, chain.size())))));
        }
        Expansion known = expandedKeys.get(key);
        if (known != null) {
            return known;
        }
        if (chain.size() > MAX_DEPTH) {
            // Reported on the outermost entry (the one the reader cares about), naming where it went too deep.
            IniEntry top = chain.get(0);
            return new Expansion("", List.of(problem(top, "%(" + chain.get(1).key() + "): references nest more than "
                    + MAX_DEPTH + " deep (%(" + top.key() + ") -> %(" + chain.get(1).key() + ") -> ... -> %(" + entry.key()
                    + ") at line " + entry.line() + " -> %(" + key + "))")));
        }
        List<IniEntry> longer = new ArrayList<>(chain);
        longer.add(target);
        Expansion result = expand(target, longer);
        expandedKeys.put(key, result);
        return result;
    }

    /** "%(a) refers to itself", or with the path when the loop goes through other keys. */
    private static String cycle(List<IniEntry> loop) {
        String key = loop.get(0).key();
        if (loop.size() == 1) {
            return "%(" + key + ") refers to itself";
        }
        StringBuilder path = new StringBuilder();
        for (IniEntry e : loop) {
            path.append("%(").append(e.key()).append(") -> ");
        }
        return "%(" + key + ") refers to itself (" + path + "%(" + key + "))";
    }

    private String variable(int name) {
        Path file = context.file();
        String fileName = file.getFileName() == null ? "" : file.getFileName().toString();
        int dot = fileName.lastIndexOf('.');
        Path dir = file.getParent();
        return switch (name) {
            case 'n' -> dot > 0 ? fileName.substring(0, dot) : fileName;
            case 's' -> fileName;
            case 'e' -> dot > 0 ? fileName.substring(dot + 1) : "";
            case 'p' -> file.toString();
            case 'd' -> dir == null ? "/" : dir.toString().endsWith("/") ? dir.toString() : dir + "/";
            case 'c' -> dir == null || dir.getFileName() == null ? "" : dir.getFileName().toString();
            case 'h' -> context.hostname();
            case '%' -> "%";
            default -> null;
        };
    }

    private Problem problem(IniEntry entry, String message) {
        return new Problem(context.file(), entry.line(), entry.key() + ": " + message);
    }
}
