package io.emperor.cli;

import io.emperor.config.ControlSettings;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The {@code control} key of a plain emperor.ini, read by the client without the emperor's full
 * parser (docs/control.md, "Which socket"): a plain {@code emperor status} reads
 * /etc/emperor/emperor.ini for its socket, and the full parser (every key checked, its lambdas,
 * regular expressions and streams) cost more than the rest of the client (docs/performance.md,
 * "Weight"). Only a file it can read exactly as {@link io.emperor.config.EmperorConfigParser}
 * would get an answer here: ASCII, one {@code [emperor]} section first, {@code key = value} lines
 * with plain keys and comments, a {@code control} value without magic ({@code %}, {@code $},
 * {@code @}). For anything else it answers null and the client parses the file in full. It checks
 * no other key: when the emperor does not answer on that socket the client parses the file in
 * full after all and reports its errors as before ({@link ControlCommands#exchange}).
 */
final class ControlKey {
    /** Larger files are for the full parser. */
    static final int MAX_BYTES = 16 * 1024;
    /** The longest socket path the parser accepts (EmperorConfigParser.MAX_SOCKET_PATH). */
    static final int MAX_SOCKET_PATH = 107;

    private ControlKey() {}

    /** The socket {@code file} names (the default when it names none), or null: parse it in full. */
    static Path find(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        byte[] bytes;
        try (FileInputStream in = new FileInputStream(abs.toString())) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException | SecurityException e) {
            return null; // the full parser says what is wrong
        }
        if (bytes.length > MAX_BYTES) {
            return null;
        }
        for (byte b : bytes) {
            if (b <= 0) {
                return null; // not ASCII (or a NUL): the parser decodes and checks UTF-8
            }
        }
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        boolean section = false;
        String control = null;
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl;
            String line = trim(text, start, end);
            start = end + 1;
            if (line.isEmpty() || line.charAt(0) == ';' || line.charAt(0) == '#') {
                continue;
            }
            if (line.charAt(0) == '[') {
                if (section || !line.equals("[emperor]")) {
                    return null; // another section, or [emperor] twice: the parser's business
                }
                section = true;
                continue;
            }
            int eq = line.indexOf('=');
            if (!section || eq < 0) {
                return null; // a line before the section (a warning), a key without a value
            }
            String key = trim(line, 0, eq);
            if (!plainKey(key)) {
                return null;
            }
            if (key.equals("control")) {
                control = trim(line, eq + 1, line.length()); // the last one wins, as in the parser
            }
        }
        if (!section) {
            return null;
        }
        if (control == null) {
            return ControlSettings.DEFAULT_SOCKET;
        }
        if (control.isEmpty() || control.indexOf('%') >= 0 || control.indexOf('$') >= 0 || control.indexOf('@') >= 0) {
            return null; // "no socket" is an error the parser words; magic is the parser's
        }
        try {
            Path p = abs.getParent().resolve(control).toAbsolutePath().normalize();
            return p.toString().length() > MAX_SOCKET_PATH ? null : p;
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /** {@code [a-z0-9_-]+}, by hand (no regular expression on the client's path). */
    private static boolean plainKey(String key) {
        if (key.isEmpty()) {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    /** {@code s[from, to)} without surrounding spaces, tabs and {@code \r}, as IniReader trims. */
    private static String trim(String s, int from, int to) {
        while (from < to && blank(s.charAt(from))) {
            from++;
        }
        while (to > from && blank(s.charAt(to - 1))) {
            to--;
        }
        return s.substring(from, to);
    }

    private static boolean blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
    }
}
