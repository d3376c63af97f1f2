package io.emperor.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a {@code NAME.json} (or {@code NAME.js}) uWSGI vassal as uWSGI does (core/json.c, with
 * jansson or yajl): the top level is an object whose member {@code "uwsgi"} is an object; each of
 * its members is an option, a string as it is, {@code true} as {@code 1}, {@code false} and
 * {@code null} as {@code 0}, an integer as its digits, an array as one option per element.
 * uWSGI ignores nested objects and arrays there (a warning says so). What the two libraries
 * read differently is reported: a member given twice (jansson keeps the last, yajl every one:
 * an error, use an array), and a number with a fraction or exponent or an integer not in its
 * plain form (yajl keeps the text, jansson drops it or rewrites it: an error for the keys the
 * emperor reads, a warning for the others).
 *
 * <p>The result is an {@link IniFile} with one section, {@code uwsgi}, each option an entry on the
 * line of its member name, or no section and the errors. Bounded: the file's size and text rules
 * are the ini reader's, nesting is at most {@value #MAX_DEPTH} deep, nothing outside the
 * {@code "uwsgi"} object is kept, and at most {@value IniReader#MAX_ERRORS} warnings.
 */
public final class UwsgiJson {
    /** Deeper nesting than this is an error: a vassal's options are flat. */
    public static final int MAX_DEPTH = 32;

    private UwsgiJson() {}

    /**
     * @param read the option names whose value the emperor reads ({@code master} …): what uWSGI
     *             builds read differently there is an error, not a warning
     */
    public static IniFile parse(Path file, byte[] bytes, Set<String> read) {
        return parse(file, bytes, read, VassalParser.UWSGI, true);
    }

    /**
     * The object {@code "NAME"} read by the same rules ({@code "emperor"}, which uWSGI does not read).
     *
     * @param required false: a file without it is no error (an {@link IniFile} without sections)
     */
    static IniFile parse(Path file, byte[] bytes, Set<String> read, String name, boolean required) {
        IniFile notText = IniReader.notText(file, bytes);
        if (notText != null) {
            return notText;
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        Reader r = new Reader(file, text, read, name);
        try {
            JsonReader.read(text, MAX_DEPTH, r);
        } catch (JsonReader.ParseException e) {
            return failed(file, r.lines.line(e.offset()), "not valid JSON: " + e.getMessage(), r.warnings);
        }
        if (!r.errors.isEmpty()) {
            return new IniFile(file, List.of(), r.errors, r.warnings);
        }
        if (r.uwsgiLine == 0 && !required) {
            return new IniFile(file, List.of(), List.of(), r.warnings);
        }
        if (r.uwsgiLine == 0) {
            return failed(file, 0, "no \"uwsgi\" object (uWSGI reads its options from {\"uwsgi\": {...}})",
                    r.warnings);
        }
        return new IniFile(file, List.of(new IniSection(name, r.uwsgiLine, r.entries)), List.of(),
                r.warnings);
    }

    private static IniFile failed(Path file, int line, String message, List<Problem> warnings) {
        return new IniFile(file, List.of(), List.of(new Problem(file, line, message)), warnings);
    }

    /** Lines of increasing offsets, counted once: a file of many members costs one pass. */
    static final class Lines {
        private final String text;
        private int offset;
        private int line = 1;

        Lines(String text) {
            this.text = text;
        }

        int line(int at) {
            if (at < offset) {
                offset = 0;
                line = 1;
            }
            for (int end = Math.min(at, text.length()); offset < end; offset++) {
                if (text.charAt(offset) == '\n') {
                    line++;
                }
            }
            return line;
        }
    }

    private static final class Reader implements JsonReader.Handler {
        final Path file;
        final Set<String> read;
        final Lines lines;
        final List<IniEntry> entries = new ArrayList<>();
        final List<Problem> errors = new ArrayList<>();
        final List<Problem> warnings = new ArrayList<>();
        /** The line of the first {@code "uwsgi"} member whose value is an object; 0 before. */
        int uwsgiLine;
        private boolean uwsgiSeen;
        /** How deep the reader is: 1 in the top object, 2 in {@code "uwsgi"}, 3 in an option's array. */
        private int depth;
        /** True while inside the {@code "uwsgi"} object (and what it holds). */
        private boolean inUwsgi;
        /** True while reading the elements of an option's array. */
        private boolean inOptionArray;
        /** The top-level member being read. */
        private String topKey;
        /** The option being read inside {@code "uwsgi"}, and the line of its name. */
        private String option;
        private int optionLine;
        private final Set<String> options = new HashSet<>();

        /** The member read: {@code "uwsgi"}, or {@code "emperor"}. */
        private final String name;

        Reader(Path file, String text, Set<String> read, String name) {
            this.file = file;
            this.name = name;
            this.read = read;
            this.lines = new Lines(text);
        }

        @Override
        public void startObject(int offset) throws JsonReader.ParseException {
            if (depth == 0) {
                depth = 1;
                return;
            }
            if (depth == 1 && name.equals(topKey) && !uwsgiSeen) {
                uwsgiSeen = true;
                inUwsgi = true;
                uwsgiLine = lines.line(offset);
            } else if (inUwsgi && depth == 2) {
                warn(optionLine, option + ": an object here is ignored by uWSGI");
            } else if (inOptionArray && depth == 3) {
                warn(optionLine, option + ": an object in the array is ignored by uWSGI");
            }
            depth++;
        }

        @Override
        public void key(String key, int offset) throws JsonReader.ParseException {
            if (depth == 1) {
                if (key.equals(name) && uwsgiSeen) {
                    throw new JsonReader.ParseException(offset, "\"" + name + "\" is given twice (uWSGI builds disagree"
                            + " on which one they read)");
                }
                topKey = key;
            } else if (inUwsgi && depth == 2) {
                option = key;
                optionLine = lines.line(offset);
                if (!options.add(key)) {
                    errors.add(new Problem(file, optionLine, key + ": given twice (uWSGI with jansson reads only"
                            + " the last, with yajl every one); for several values write one array"));
                }
            }
        }

        @Override
        public void endObject() {
            depth--;
            if (depth == 1) {
                inUwsgi = false;
            }
        }

        @Override
        public void startArray(int offset) throws JsonReader.ParseException {
            if (depth == 0) {
                throw new JsonReader.ParseException(offset, "the top level is an array; uWSGI reads an object"
                        + " with a \"uwsgi\" object in it");
            }
            if (depth == 1 && name.equals(topKey) && !uwsgiSeen) {
                throw new JsonReader.ParseException(offset, "\"" + name + "\" is not an object");
            }
            if (inUwsgi && depth == 2) {
                inOptionArray = true;
            } else if (inOptionArray && depth == 3) {
                warn(optionLine, option + ": an array in the array is ignored by uWSGI");
            }
            depth++;
        }

        @Override
        public void endArray() {
            depth--;
            if (depth == 2) {
                inOptionArray = false;
            }
        }

        @Override
        public void scalar(Object value, String text, int offset) throws JsonReader.ParseException {
            if (depth == 0) {
                throw new JsonReader.ParseException(offset, "the top level is not an object; uWSGI reads an object"
                        + " with a \"uwsgi\" object in it");
            }
            if (depth == 1 && name.equals(topKey) && !uwsgiSeen) {
                throw new JsonReader.ParseException(offset, "\"" + name + "\" is not an object");
            }
            if (!inUwsgi || !(depth == 2 || depth == 3 && inOptionArray)) {
                return;
            }
            String v;
            if (value == null || Boolean.FALSE.equals(value)) {
                v = "0";
            } else if (Boolean.TRUE.equals(value)) {
                v = "1";
            } else if (value instanceof String s) {
                v = s;
            } else if (value instanceof Long n && Long.toString(n).equals(text)) {
                v = text;
            } else {
                String why = option + ": " + text + ": uWSGI with yajl reads the number as written, with jansson "
                        + (value instanceof Long n ? "as " + n : "not at all") + "; write an integer or a string";
                if (read.contains(option)) {
                    errors.add(new Problem(file, optionLine, why));
                    return;
                }
                warn(optionLine, why);
                v = text;
            }
            entries.add(new IniEntry(option, v, optionLine));
        }

        private void warn(int line, String message) {
            if (warnings.size() < IniReader.MAX_ERRORS) {
                warnings.add(new Problem(file, line, message));
            }
        }
    }
}
