package io.emperor.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads a {@code NAME.yaml} (or {@code NAME.yml}) uWSGI vassal: the subset of YAML that uWSGI
 * reads the same way whether it was built with its own reader (core/yaml.c) or with libyaml
 * (Debian's), not general YAML:
 *
 * <pre>
 * uwsgi:
 *   http-socket: 127.0.0.1:8080
 *   master: true
 *   env: A=1
 *   env: B=2
 * </pre>
 *
 * <ol>
 *   <li>The first line {@code uwsgi:} at the start of a line opens the block (a comment may follow);
 *       other top-level lines before it, and everything after the block, are not read (a second
 *       {@code uwsgi:} gets a warning: uWSGI reads only the first).</li>
 *   <li>The block is every following line indented by spaces, each {@code KEY: VALUE}, all indented
 *       alike; it ends at the next line that is not indented. Blank lines and comments
 *       ({@code #} at the start, or after a space) are skipped. A key given twice is two options,
 *       as in an ini file.</li>
 *   <li>Errors, since one of the two readers stops there or reads something else: a tab in the
 *       indentation, a line indented differently, a list item ({@code - x}), a key without a value,
 *       a line without {@code ": "}, a value starting with {@code [ { | > & * ! @ `} (flow
 *       collections, block scalars, anchors, tags), a value with {@code ": "} in it, a quoted value
 *       that does not end on its line.</li>
 *   <li>A value the two readers take differently (quotes, which libyaml removes and uWSGI's own
 *       reader keeps; a {@code #} without a space before it, where only uWSGI's own reader cuts the
 *       line): an error for the keys the emperor reads when it changes their truth, else a warning;
 *       the value kept is libyaml's.</li>
 * </ol>
 * Bounded as the ini reader: the same size and text rules, lines of at most
 * {@value IniReader#MAX_LINE} characters, at most {@value IniReader#MAX_ERRORS} errors and warnings.
 * Values are not expanded: uWSGI's {@code %} magic, {@code $(VAR)} and {@code %(key)} are uWSGI's.
 */
public final class UwsgiYaml {
    private static final String INDICATORS = "[{|>&*!@`";

    private UwsgiYaml() {}

    private enum State { BEFORE, IN, AFTER }

    /**
     * @param read the option names whose value the emperor reads ({@code master} …)
     */
    public static IniFile parse(Path file, byte[] bytes, Set<String> read) {
        return parse(file, bytes, read, VassalParser.UWSGI, true);
    }

    /**
     * The block {@code NAME:} read by the same rules ({@code emperor:}, which uWSGI does not read).
     *
     * @param required false: a file without the block is no error (an {@link IniFile} without sections)
     */
    static IniFile parse(Path file, byte[] bytes, Set<String> read, String name, boolean required) {
        String head = name + ":";
        IniFile notText = IniReader.notText(file, bytes);
        if (notText != null) {
            return notText;
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        List<IniEntry> entries = new ArrayList<>();
        List<Problem> errors = new ArrayList<>();
        List<Problem> warnings = new ArrayList<>();
        State state = State.BEFORE;
        int blockLine = 0;
        int indent = -1;
        int indentLine = 0;
        int number = 0;
        for (int start = 0, end; start <= text.length(); start = end + 1) {
            end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            number++;
            if (errors.size() >= IniReader.MAX_ERRORS) {
                errors.add(new Problem(file, number, "more than " + IniReader.MAX_ERRORS
                        + " errors; the rest of the file is not read"));
                break;
            }
            if (end - start > IniReader.MAX_LINE) {
                if (state == State.IN) {
                    errors.add(new Problem(file, number, "line is longer than " + IniReader.MAX_LINE + " characters"));
                }
                continue;
            }
            String raw = text.substring(start, end);
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            int spaces = 0;
            while (spaces < line.length() && line.charAt(spaces) == ' ') {
                spaces++;
            }
            String content = line.substring(spaces);
            String trimmed = content.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            if (state != State.IN) {
                if (spaces > 0 || content.startsWith("\t")) {
                    continue;
                }
                if (isBlockStart(content, head)) {
                    if (state == State.BEFORE) {
                        state = State.IN;
                        blockLine = number;
                    } else {
                        warn(warnings, new Problem(file, number, "a second " + head + " block is ignored (uWSGI reads only"
                                + " the first, line " + blockLine + ")"));
                    }
                } else if (state == State.BEFORE && content.startsWith(head)) {
                    errors.add(new Problem(file, number, head + " its options go on the lines below it, one"
                            + " KEY: VALUE each, indented"));
                    state = State.AFTER;
                }
                continue;
            }
            if (spaces == 0) {
                if (content.startsWith("\t")) {
                    errors.add(new Problem(file, number, "a tab in the indentation (YAML indents with spaces;"
                            + " uWSGI's own reader counts a tab as 8)"));
                    continue;
                }
                state = State.AFTER;
                if (entries.isEmpty() && errors.isEmpty()) {
                    errors.add(new Problem(file, blockLine, head + " the block has no options"));
                }
                if (isBlockStart(content, head)) {
                    warn(warnings, new Problem(file, number, "a second " + head + " block is ignored (uWSGI reads only"
                            + " the first, line " + blockLine + ")"));
                }
                continue;
            }
            if (content.startsWith("\t")) {
                errors.add(new Problem(file, number, "a tab in the indentation (YAML indents with spaces;"
                        + " uWSGI's own reader counts a tab as 8)"));
                continue;
            }
            if (indent < 0) {
                indent = spaces;
                indentLine = number;
            } else if (spaces != indent && !isListItem(content)) {
                errors.add(new Problem(file, number, "indented " + spaces + " spaces where the block's first option"
                        + " (line " + indentLine + ") is indented " + indent + ": uWSGI's own reader takes it as an"
                        + " option, libyaml as part of the line above or an error; indent every option alike"));
                continue;
            }
            entry(file, number, raw.substring(spaces), content, read, entries, errors, warnings);
        }
        if (state == State.BEFORE && !required) {
            return new IniFile(file, List.of(), errors, warnings);
        }
        if (state == State.BEFORE) {
            errors.add(new Problem(file, 0, "no uwsgi: block (uWSGI reads a line \"uwsgi:\" and below it one"
                    + " indented KEY: VALUE line per option)"));
        } else if (state == State.IN && entries.isEmpty() && errors.isEmpty()) {
            errors.add(new Problem(file, blockLine, head + " the block has no options"));
        }
        if (!errors.isEmpty()) {
            return new IniFile(file, List.of(), errors, warnings);
        }
        return new IniFile(file, List.of(new IniSection(name, blockLine, entries)), List.of(),
                warnings);
    }

    private static boolean isListItem(String content) {
        return content.equals("-") || content.startsWith("- ") || content.startsWith("-\t");
    }

    /** {@code uwsgi:} alone, or followed by spaces and a comment. */
    private static boolean isBlockStart(String content, String head) {
        if (!content.startsWith(head)) {
            return false;
        }
        String rest = content.substring(head.length()).strip();
        return rest.isEmpty() || rest.startsWith("#") && content.charAt(head.length()) != '#';
    }

    /**
     * One {@code KEY: VALUE} line of the block.
     *
     * @param raw     the line after its indentation, with a trailing CR if it had one
     * @param content the same without the CR
     */
    private static void entry(Path file, int number, String raw, String content, Set<String> read,
                              List<IniEntry> entries, List<Problem> errors, List<Problem> warnings) {
        if (isListItem(content)) {
            errors.add(new Problem(file, number, "a list item: uWSGI's own YAML reader stops reading the block"
                    + " here (libyaml reads it); write the key once per value instead (KEY: A, then KEY: B)"));
            return;
        }
        int colon = separator(content);
        if (colon < 0) {
            String bare = stripComment(content);
            if (bare.endsWith(":")) {
                String key = bare.substring(0, bare.length() - 1).strip();
                errors.add(new Problem(file, number, noValue(key)));
            } else {
                errors.add(new Problem(file, number, "expected KEY: VALUE (uWSGI's own YAML reader stops reading the"
                        + " block here)"));
            }
            return;
        }
        String key = content.substring(0, colon).strip();
        if (key.isEmpty() || "-?:,]}#'\"%".indexOf(key.charAt(0)) >= 0 || INDICATORS.indexOf(key.charAt(0)) >= 0) {
            errors.add(new Problem(file, number, "expected KEY: VALUE with a plain key, not " + quote(key)));
            return;
        }
        String rest = content.substring(colon + 1);
        String lib;
        try {
            lib = libyaml(rest);
        } catch (IllegalArgumentException e) {
            errors.add(new Problem(file, number, key + ": " + e.getMessage()));
            return;
        }
        if (lib == null) {
            errors.add(new Problem(file, number, noValue(key)));
            return;
        }
        String own = own(raw.substring(Math.min(raw.length(), colon + 1)));
        if (!own.equals(lib)) {
            String message = key + ": uWSGI builds read this value differently: " + quote(lib) + " with libyaml, "
                    + quote(own) + " with uWSGI's own YAML reader";
            if (read.contains(key) && Values.bool(own) != Values.bool(lib)) {
                errors.add(new Problem(file, number, message + "; write it plain, as " + key + ": true or "
                        + key + ": false"));
                return;
            }
            warn(warnings, new Problem(file, number, message));
        }
        entries.add(new IniEntry(key, lib, number));
    }

    private static String noValue(String key) {
        return key + ": no value: uWSGI's own YAML reader stops reading the block here (libyaml reads a list"
                + " below the key as its values, or skips the key); write the key once per value (" + key
                + ": A, then " + key + ": B), or " + key + ": true for a flag";
    }

    /** The offset of the {@code :} of the first {@code ": "} or {@code ":\t"}, or -1. */
    private static int separator(String content) {
        for (int i = 0; i + 1 < content.length(); i++) {
            if (content.charAt(i) == ':' && (content.charAt(i + 1) == ' ' || content.charAt(i + 1) == '\t')) {
                return i;
            }
            if (content.charAt(i) == '#' && i > 0 && (content.charAt(i - 1) == ' ' || content.charAt(i - 1) == '\t')) {
                return -1; // a comment: no separator after it counts
            }
        }
        return -1;
    }

    /** The text before a comment ({@code #} at the start or after a blank), right-stripped. */
    private static String stripComment(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '#' && (i == 0 || s.charAt(i - 1) == ' ' || s.charAt(i - 1) == '\t')) {
                return s.substring(0, i).stripTrailing();
            }
        }
        return s.stripTrailing();
    }

    /**
     * The value as uWSGI's own reader (core/yaml.c) takes it: the line is cut at its first
     * {@code #}, then spaces, tabs and CRs are stripped on the left, spaces and tabs on the right
     * (a CR at the end stays).
     *
     * @param afterColon the line after the key's {@code :}, its CR kept
     */
    private static String own(String afterColon) {
        int hash = afterColon.indexOf('#');
        String v = hash >= 0 ? afterColon.substring(0, hash) : afterColon;
        // The separator's blank.
        v = v.isEmpty() ? v : v.substring(1);
        int a = 0;
        while (a < v.length() && (v.charAt(a) == ' ' || v.charAt(a) == '\t' || v.charAt(a) == '\r')) {
            a++;
        }
        int b = v.length();
        while (b > a && (v.charAt(b - 1) == ' ' || v.charAt(b - 1) == '\t')) {
            b--;
        }
        return v.substring(a, b);
    }

    /**
     * The value as libyaml reads it: a plain scalar up to a comment, or a quoted one; null when
     * there is none. Throws, with the reason, for what this subset does not take.
     *
     * @param afterColon the line after the key's {@code :}, without its CR
     */
    private static String libyaml(String afterColon) {
        String v = afterColon.strip();
        if (v.isEmpty() || v.startsWith("#")) {
            return null;
        }
        char c = v.charAt(0);
        if (c == '"' || c == '\'') {
            return quoted(v);
        }
        if (INDICATORS.indexOf(c) >= 0) {
            throw new IllegalArgumentException("a value starting with " + c + " is YAML syntax to libyaml (a flow"
                    + " collection, block scalar, anchor or tag) and plain text to uWSGI's own reader; write the value"
                    + " without it, or use an .ini file");
        }
        if (v.equals("-") || v.startsWith("- ")) {
            throw new IllegalArgumentException("a list after the key: libyaml refuses it, uWSGI's own reader reads"
                    + " it as text; write the key once per value instead");
        }
        String plain = stripComment(v);
        if (plain.contains(": ") || plain.contains(":\t") || plain.endsWith(":")) {
            throw new IllegalArgumentException("\": \" (or a final \":\") in a value: libyaml refuses it (a mapping"
                    + " value is not allowed here), uWSGI's own reader keeps it; use an .ini file for this option");
        }
        return plain;
    }

    /** A single- or double-quoted scalar that ends on its line, unquoted as libyaml does. */
    private static String quoted(String v) {
        char q = v.charAt(0);
        StringBuilder sb = new StringBuilder();
        int i = 1;
        while (true) {
            if (i >= v.length()) {
                throw new IllegalArgumentException("a quoted value that does not end on its line");
            }
            char c = v.charAt(i);
            if (q == '\'' && c == '\'') {
                if (i + 1 < v.length() && v.charAt(i + 1) == '\'') {
                    sb.append('\'');
                    i += 2;
                    continue;
                }
                break;
            }
            if (q == '"' && c == '"') {
                break;
            }
            if (q == '"' && c == '\\') {
                if (i + 1 >= v.length()) {
                    throw new IllegalArgumentException("a quoted value that does not end on its line");
                }
                char e = v.charAt(i + 1);
                String simple = switch (e) {
                    case '0' -> "\0";
                    case 'a' -> "\u0007";
                    case 'b' -> "\b";
                    case 't', '\t' -> "\t";
                    case 'n' -> "\n";
                    case 'v' -> "\u000b";
                    case 'f' -> "\f";
                    case 'r' -> "\r";
                    case 'e' -> "\u001b";
                    case ' ' -> " ";
                    case '"' -> "\"";
                    case '/' -> "/";
                    case '\\' -> "\\";
                    default -> null;
                };
                if (simple != null) {
                    sb.append(simple);
                    i += 2;
                    continue;
                }
                int len = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : -1;
                if (len < 0 || i + 2 + len > v.length()) {
                    throw new IllegalArgumentException("a bad escape \\" + e + " in a quoted value");
                }
                try {
                    sb.appendCodePoint(Integer.parseInt(v.substring(i + 2, i + 2 + len), 16));
                } catch (IllegalArgumentException x) {
                    throw new IllegalArgumentException("a bad escape \\" + e + " in a quoted value");
                }
                i += 2 + len;
                continue;
            }
            sb.append(c);
            i++;
        }
        String after = v.substring(i + 1).strip();
        if (!after.isEmpty() && !after.startsWith("#")) {
            throw new IllegalArgumentException("text after the quoted value: libyaml refuses it");
        }
        return sb.toString();
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\r') {
                sb.append("\\r");
            } else if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    private static void warn(List<Problem> warnings, Problem p) {
        if (warnings.size() < IniReader.MAX_ERRORS) {
            warnings.add(p);
        }
    }
}
