package io.emperor.log;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Turns the byte stream of a vassal's stdout/stderr into log lines. Pure and single-threaded:
 * the I/O thread owns one per vassal run.
 *
 * <ul>
 *   <li>Lines end at {@code \n}; a {@code \r} before it is dropped.</li>
 *   <li>A line longer than {@link #MAX_LINE} bytes is cut there, marked, and the rest of it up to
 *       the next newline is dropped: memory per vassal stays bounded whatever the vassal writes.</li>
 *   <li>Bytes that are not valid UTF-8, and control characters other than tab, become
 *       {@code \xNN}, so nothing a vassal prints can forge or break a log line.</li>
 * </ul>
 */
public final class LineSplitter {
    public static final int MAX_LINE = 64 * 1024;
    static final String CUT_MARK = " [line cut at " + MAX_LINE + " bytes]";
    private static final int KEEP_CAPACITY = 4096;

    private byte[] pending = new byte[0];
    private int length;
    private boolean dropping;

    /** Feeds bytes; every completed line goes to {@code out}. */
    public void feed(byte[] data, int off, int len, Consumer<String> out) {
        int end = off + len;
        int start = off;
        for (int i = off; i < end; i++) {
            if (data[i] != '\n') {
                continue;
            }
            if (dropping) {
                dropping = false;
            } else if (length == 0 && i - start <= MAX_LINE) {
                out.accept(decode(data, start, trimCr(data, start, i)));
            } else {
                append(data, start, i - start, out);
                if (!dropping) {
                    out.accept(decode(pending, 0, trimCr(pending, 0, length)));
                }
                dropping = false;
                reset();
            }
            start = i + 1;
        }
        if (start < end && !dropping) {
            append(data, start, end - start, out);
        }
    }

    /** Emits what is left of an unfinished last line (the vassal exited without a final newline). */
    public void flush(Consumer<String> out) {
        if (length > 0 && !dropping) {
            out.accept(decode(pending, 0, trimCr(pending, 0, length)));
        }
        dropping = false;
        reset();
    }

    private void append(byte[] data, int off, int len, Consumer<String> out) {
        int room = MAX_LINE - length;
        if (len > room) {
            // The line is too long: emit its first MAX_LINE bytes with a mark, drop the rest of it.
            ensure(MAX_LINE);
            System.arraycopy(data, off, pending, length, room);
            length = MAX_LINE;
            out.accept(decode(pending, 0, length) + CUT_MARK);
            reset();
            dropping = true;
            return;
        }
        ensure(length + len);
        System.arraycopy(data, off, pending, length, len);
        length += len;
    }

    private void ensure(int capacity) {
        if (pending.length < capacity) {
            pending = Arrays.copyOf(pending, Math.min(MAX_LINE, Math.max(capacity, pending.length * 2)));
        }
    }

    private void reset() {
        length = 0;
        if (pending.length > KEEP_CAPACITY) {
            pending = new byte[0];
        }
    }

    private static int trimCr(byte[] b, int from, int to) {
        return to > from && b[to - 1] == '\r' ? to - 1 : to;
    }

    /** Decodes {@code b[from, to)} as UTF-8, escaping invalid bytes and control characters. */
    static String decode(byte[] b, int from, int to) {
        boolean plain = true;
        for (int i = from; i < to; i++) {
            int c = b[i];
            if (c < 0x20 && c != '\t' || c == 0x7f) { // negative = non-ASCII
                plain = false;
                break;
            }
        }
        if (plain) {
            return new String(b, from, to - from, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
        StringBuilder sb = new StringBuilder(to - from + 16);
        int i = from;
        while (i < to) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                if (c < 0x20 && c != '\t' || c == 0x7f) {
                    escape(sb, c);
                } else {
                    sb.append((char) c);
                }
                i++;
                continue;
            }
            int n = sequenceLength(b, i, to);
            if (n == 0) {
                escape(sb, c);
                i++;
            } else {
                sb.append(new String(b, i, n, java.nio.charset.StandardCharsets.UTF_8));
                i += n;
            }
        }
        return sb.toString();
    }

    /** The length of the valid UTF-8 sequence starting at {@code i}, or 0 when it is not valid. */
    private static int sequenceLength(byte[] b, int i, int to) {
        int c = b[i] & 0xff;
        int n;
        int min;
        int cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            min = 0x80;
            cp = c & 0x1f;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            min = 0x800;
            cp = c & 0x0f;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            min = 0x10000;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + n > to) {
            return 0;
        }
        for (int k = 1; k < n; k++) {
            int cc = b[i + k] & 0xff;
            if ((cc & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        return n;
    }

    private static void escape(StringBuilder sb, int c) {
        sb.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
    }
}
