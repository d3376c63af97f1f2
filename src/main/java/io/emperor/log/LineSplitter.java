package io.emperor.log;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns the byte stream of a vassal's stdout/stderr into log lines, written as bytes into a
 * {@link LineBatch}. Single-threaded: the I/O thread owns one per vassal run.
 *
 * <ul>
 *   <li>Lines end at {@code \n}; a {@code \r} before it is dropped.</li>
 *   <li>A line longer than {@link #MAX_LINE} bytes is cut there, marked, and the rest of it up to
 *       the next newline is dropped: memory per vassal stays bounded whatever the vassal writes.</li>
 *   <li>Bytes that are not valid UTF-8, and control characters other than tab (C1 controls
 *       included, as the {@code \xc2\xNN} of their two bytes), become {@code \xNN}, so nothing
 *       a vassal prints can forge or break a log line or reach a terminal as an escape.</li>
 * </ul>
 *
 * <p>Speed (docs/performance.md): this runs over every byte every vassal prints, on the one I/O
 * thread. The usual line, printable ASCII, is found and checked eight bytes at a time
 * ({@link #scan}) and copied as it is. A line with other bytes, or one that spans two reads, is
 * checked as UTF-8 ({@link #printableUtf8}) and copied when valid; only a line that needs
 * escaping goes through the byte-by-byte {@link #escape}.
 */
public final class LineSplitter {
    public static final int MAX_LINE = 64 * 1024;
    static final String CUT_MARK = " [line cut at " + MAX_LINE + " bytes]";
    private static final byte[] CUT_MARK_BYTES = CUT_MARK.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final int KEEP_CAPACITY = 4096;

    /** Eight bytes of an array as one little-endian long (byte {@code i} is bits {@code 8i..8i+7}). */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long SPACES = 0x2020202020202020L;
    private static final long NEWLINES = 0x0a0a0a0a0a0a0a0aL;

    private byte[] pending = new byte[0];
    private int length;
    private boolean dropping;
    /** Set by {@link #scan}: whether the bytes it went over can be copied without escaping. */
    private boolean plain;

    /** Feeds bytes; every completed line goes to {@code out}. */
    void feed(byte[] data, int off, int len, LineBatch out) {
        int end = off + len;
        int start = off;
        while (start < end) {
            int newline = scan(data, start, end);
            if (newline == end) {
                if (!dropping) {
                    append(data, start, end - start, out);
                }
                return;
            }
            if (dropping) {
                dropping = false;
            } else if (length == 0 && newline - start <= MAX_LINE) {
                int to = trimCr(data, start, newline);
                if (plain) {
                    out.addPlain(data, start, to);
                } else {
                    emit(data, start, to, out);
                }
            } else {
                append(data, start, newline - start, out);
                if (!dropping) {
                    emit(pending, 0, trimCr(pending, 0, length), out);
                }
                dropping = false;
                reset();
            }
            start = newline + 1;
        }
    }

    /** Emits what is left of an unfinished last line (the vassal exited without a final newline). */
    void flush(LineBatch out) {
        if (length > 0 && !dropping) {
            emit(pending, 0, trimCr(pending, 0, length), out);
        }
        dropping = false;
        reset();
    }

    /**
     * The index of the first {@code \n} in {@code data[from, to)}, or {@code to}; sets
     * {@link #plain} to whether the bytes before it are all printable ASCII or tab (a {@code \r}
     * right before the newline counts as plain: it is dropped).
     *
     * <p>Eight bytes at a time. A byte is <em>special</em> when it is below 0x20 (newline, tab,
     * controls) or 0x7f and above. In {@code w | (w - 0x20..20) | (w + 0x01..01)} the high bit of
     * each byte below the lowest special byte is clear (no borrow or carry crosses a byte that is
     * not special) and that of the lowest special byte is set; so a word without any special byte
     * gives 0, and the usual word is passed with a load and five operations. In a word that has
     * one, the first newline is found the same way in {@code w ^ 0x0a..0a} (the lowest zero byte
     * is exact), and only a special byte before it sends the word's bytes through
     * {@link #plainBytes}.
     */
    private int scan(byte[] data, int from, int to) {
        boolean clean = true;
        int i = from;
        for (int lastWord = to - 8; i <= lastWord; i += 8) {
            long w = (long) LONGS.get(data, i);
            long special = (w | (w - SPACES) | (w + ONES)) & HIGH_BITS;
            if (special == 0) {
                continue;
            }
            long x = w ^ NEWLINES;
            long newlines = (x - ONES) & ~x & HIGH_BITS;
            if (newlines == 0) {
                clean = clean && plainBytes(data, i, i + 8, to);
                continue;
            }
            int newline = i + (Long.numberOfTrailingZeros(newlines) >>> 3);
            long before = (newlines & -newlines) - 1; // the bits of the bytes before the first newline
            plain = clean && ((special & before) == 0 || plainBytes(data, i, newline, to));
            return newline;
        }
        for (; i < to; i++) {
            if (data[i] == '\n') {
                plain = clean;
                return i;
            }
            clean = clean && plainBytes(data, i, i + 1, to);
        }
        plain = clean;
        return to;
    }

    /** Whether {@code data[from, until)} (no newline) can be copied as it is; {@code to} ends the read. */
    private static boolean plainBytes(byte[] data, int from, int until, int to) {
        for (int k = from; k < until; k++) {
            int b = data[k]; // negative: not ASCII, for the escaping path to check as UTF-8
            if ((b < 0x20 || b == 0x7f) && b != '\t' && !(b == '\r' && k + 1 < to && data[k + 1] == '\n')) {
                return false;
            }
        }
        return true;
    }

    private void append(byte[] data, int off, int len, LineBatch out) {
        int room = MAX_LINE - length;
        if (len > room) {
            // The line is too long: emit its first MAX_LINE bytes with a mark, drop the rest of it.
            ensure(MAX_LINE);
            System.arraycopy(data, off, pending, length, room);
            length = MAX_LINE;
            escape(pending, 0, length, true, out);
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

    /** Adds {@code b[from, to)} as one line, copied when it needs no escaping. */
    private static void emit(byte[] b, int from, int to, LineBatch out) {
        if (printableUtf8(b, from, to)) {
            out.addPlain(b, from, to);
        } else {
            escape(b, from, to, false, out);
        }
    }

    /**
     * Whether {@code b[from, to)} is valid UTF-8 without control characters other than tab, so it
     * can be copied as it is: the common line that is not plain ASCII (accents, symbols) is then
     * checked without writing a byte, and copied at once. The checks are those of
     * {@link #sequenceLength}, written out for speed; bytes are compared signed
     * ({@code (byte) 0xC0} is -64: continuation bytes 0x80..0xBF are below it).
     */
    private static boolean printableUtf8(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            int c = b[i];
            if (c >= 0x20 && c != 0x7f || c == '\t') {
                // In mostly ASCII text, skip eight printable ASCII bytes at a time (see scan).
                long w = i + 8 <= to ? (long) LONGS.get(b, i) : -1L;
                i += ((w | (w - SPACES) | (w + ONES)) & HIGH_BITS) == 0 ? 8 : 1;
            } else if (c >= 0) {
                return false; // an ASCII control character
            } else if (c >= (byte) 0xC2 && c <= (byte) 0xDF) {
                if (i + 1 >= to || b[i + 1] >= (byte) 0xC0 || c == (byte) 0xC2 && b[i + 1] <= (byte) 0x9F) {
                    return false; // not a sequence, or a C1 control (U+0080..U+009F)
                }
                i += 2;
            } else if (c >= (byte) 0xE0 && c <= (byte) 0xEF) {
                if (i + 2 >= to) {
                    return false;
                }
                int c1 = b[i + 1];
                int min = c == (byte) 0xE0 ? (byte) 0xA0 : (byte) 0x80; // no overlong form
                int max = c == (byte) 0xED ? (byte) 0x9F : (byte) 0xBF; // no surrogate
                if (c1 < min || c1 > max || b[i + 2] >= (byte) 0xC0) {
                    return false;
                }
                i += 3;
            } else if (sequenceLength(b, i, to) == 4) {
                i += 4;
            } else {
                return false;
            }
        }
        return true;
    }

    /**
     * Adds {@code b[from, to)} as one line: valid UTF-8 is copied, invalid bytes and control
     * characters other than tab become {@code \xNN}; {@code cut} appends the cut mark.
     */
    private static void escape(byte[] b, int from, int to, boolean cut, LineBatch out) {
        out.beginLine();
        out.room(4 * (to - from) + CUT_MARK_BYTES.length + 1); // \xNN: at most 4 bytes a byte
        byte[] o = out.bytes;
        int pos = out.size;
        int i = from;
        while (i < to) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                if (c < 0x20 && c != '\t' || c == 0x7f) {
                    pos = hex(o, pos, c);
                } else {
                    o[pos++] = (byte) c;
                }
                i++;
                continue;
            }
            int n = sequenceLength(b, i, to);
            if (n == 0) {
                pos = hex(o, pos, c);
                i++;
            } else if (c == 0xC2 && (b[i + 1] & 0xff) <= 0x9f) {
                // A C1 control (U+0080..U+009F: CSI is U+009B), which terminals may obey.
                pos = hex(o, pos, c);
                pos = hex(o, pos, b[i + 1] & 0xff);
                i += 2;
            } else {
                System.arraycopy(b, i, o, pos, n);
                pos += n;
                i += n;
            }
        }
        if (cut) {
            System.arraycopy(CUT_MARK_BYTES, 0, o, pos, CUT_MARK_BYTES.length);
            pos += CUT_MARK_BYTES.length;
        }
        out.endLine(pos);
    }

    private static int hex(byte[] o, int pos, int c) {
        o[pos] = '\\';
        o[pos + 1] = 'x';
        o[pos + 2] = HEX[c >> 4];
        o[pos + 3] = HEX[c & 0xf];
        return pos + 4;
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
}
