package io.emperor.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the ini dialect that uWSGI reads (reference §7.2), keeping line numbers. It never throws
 * for bad input: an unreadable file, a binary file and every syntax error become {@link Problem}s.
 *
 * <ol>
 *   <li>The file is read whole, at most {@value #MAX_BYTES} bytes; it must be UTF-8 without NUL bytes.</li>
 *   <li>Lines are split on {@code \n}; a trailing {@code \r} and surrounding spaces and tabs are
 *       removed; empty lines are skipped.</li>
 *   <li>A line starting with {@code ;} or {@code #} is a comment. There are no inline comments:
 *       {@code a = b ; c} has the value {@code b ; c}.</li>
 *   <li>{@code [name]} starts a section; sections repeated under one name are merged in order.</li>
 *   <li>{@code key = value} is split at the first {@code =}, both sides trimmed; a line without
 *       {@code =} is a key with an empty value. Repeated keys are all kept, in order.</li>
 *   <li>A line before the first section header is ignored, with a warning.</li>
 *   <li>A line (other than a comment) longer than {@value #MAX_LINE} characters is an error (and skipped); after
 *       {@value #MAX_ERRORS} errors the rest of the file is not read (one more error says so);
 *       warnings past {@value #MAX_ERRORS} are dropped.</li>
 * </ol>
 * Values are not expanded here (see {@link Magic}); no quoting, escaping or line continuation exists.
 */
public final class IniReader {
    /** The largest file read: vassal and emperor files are small; anything bigger is a mistake. */
    public static final int MAX_BYTES = 1024 * 1024;
    /** The longest line, in characters (the log cuts lines at 64 KiB too). */
    public static final int MAX_LINE = 64 * 1024;
    /** Errors (and warnings) kept per file: a file of a million bad lines needs no million lines of log. */
    public static final int MAX_ERRORS = 20;

    private IniReader() {}

    /** Reads and parses a file; I/O errors and non-text content come back as errors at line 0 or the bad line. */
    public static IniFile read(Path file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            return unreadable(file, "cannot read: " + IoReasons.of(e));
        }
        return parse(file, bytes);
    }

    /**
     * Parses the bytes of a file (read by the caller, at most {@code MAX_BYTES + 1} of them);
     * {@code file} only names problems.
     */
    public static IniFile parse(Path file, byte[] bytes) {
        IniFile notText = notText(file, bytes);
        if (notText != null) {
            return notText;
        }
        return parse(file, new String(bytes, StandardCharsets.UTF_8));
    }

    /**
     * The one error of bytes that are not a vassal file's text (too large, a NUL byte, not UTF-8,
     * a byte order mark), as an unreadable file; null when they are text. Every format checks this.
     */
    static IniFile notText(Path file, byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            return failed(file, 0, "file is larger than 1 MiB");
        }
        int nul = indexOf(bytes, (byte) 0);
        int bad = firstInvalidUtf8(bytes);
        if (nul >= 0 && (bad < 0 || nul <= bad)) {
            return failed(file, lineAt(bytes, nul), "contains a NUL byte");
        }
        if (bad >= 0) {
            return failed(file, lineAt(bytes, bad), "not valid UTF-8 text");
        }
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xef && (bytes[1] & 0xff) == 0xbb && (bytes[2] & 0xff) == 0xbf) {
            // uWSGI does not skip a byte order mark: "[uwsgi]" would become an unknown line there.
            return failed(file, 1, "starts with a byte order mark (BOM); save the file as UTF-8 without BOM");
        }
        return null;
    }

    /** A file that could not be read at all: one error, at line 0. */
    public static IniFile unreadable(Path file, String message) {
        return failed(file, 0, message);
    }

    /** Parses text already read; {@code file} is only used to name problems. */
    public static IniFile parse(Path file, String text) {
        Map<String, Builder> sections = new LinkedHashMap<>();
        List<Problem> errors = new ArrayList<>();
        List<Problem> warnings = new ArrayList<>();
        Builder current = null;
        int number = 0;
        // One line at a time (no split): a file of a million empty lines makes no million strings.
        for (int start = 0, end; start <= text.length(); start = end + 1) {
            end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            number++;
            if (errors.size() >= MAX_ERRORS) {
                errors.add(new Problem(file, number, "more than " + MAX_ERRORS + " errors; the rest of the file is not read"));
                break;
            }
            String line = trim(text.substring(start, end));
            if (line.isEmpty() || line.startsWith(";") || line.startsWith("#")) {
                continue;
            }
            if (line.length() > MAX_LINE) {
                errors.add(new Problem(file, number, "line is longer than " + MAX_LINE + " characters"));
                continue;
            }
            if (line.startsWith("[")) {
                String name;
                if (line.endsWith("]")) {
                    name = trim(line.substring(1, line.length() - 1));
                } else {
                    errors.add(new Problem(file, number, "section header must end with ]"));
                    name = trim(line.substring(1));
                }
                if (name.isEmpty()) {
                    errors.add(new Problem(file, number, "section name is empty"));
                }
                final int headerLine = number;
                current = sections.computeIfAbsent(name, n -> new Builder(n, headerLine));
                continue;
            }
            if (current == null) {
                if (warnings.size() >= MAX_ERRORS) {
                    continue;
                }
                warnings.add(new Problem(file, number, "line outside any section is ignored"));
                continue;
            }
            int eq = line.indexOf('=');
            String key = eq < 0 ? line : trim(line.substring(0, eq));
            String value = eq < 0 ? "" : trim(line.substring(eq + 1));
            if (key.isEmpty()) {
                errors.add(new Problem(file, number, "missing key before ="));
                continue;
            }
            current.entries.add(new IniEntry(key, value, number));
        }
        List<IniSection> result = sections.values().stream()
                .map(b -> new IniSection(b.name, b.line, b.entries)).toList();
        return new IniFile(file, result, errors, warnings);
    }

    private static final class Builder {
        final String name;
        final int line;
        final List<IniEntry> entries = new ArrayList<>();

        Builder(String name, int line) {
            this.name = name;
            this.line = line;
        }
    }

    private static IniFile failed(Path file, int line, String message) {
        return new IniFile(file, List.of(), List.of(new Problem(file, line, message)), List.of());
    }

    /** Trims spaces, tabs and carriage returns (what uWSGI strips), nothing else. */
    static String trim(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isBlank(s.charAt(start))) {
            start++;
        }
        while (end > start && isBlank(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
    }


    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** The offset of the first byte that is not part of valid UTF-8, or -1. */
    private static int firstInvalidUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            return in.position();
        }
        result = decoder.flush(out);
        return result.isError() ? in.position() : -1;
    }

    private static int lineAt(byte[] bytes, int offset) {
        int line = 1;
        for (int i = 0; i < offset; i++) {
            if (bytes[i] == '\n') {
                line++;
            }
        }
        return line;
    }
}
