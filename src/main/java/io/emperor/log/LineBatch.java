package io.emperor.log;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The lines of one read of a vassal's pipe, already formatted for their target: each line is
 * {@code PREFIX TEXT \n} in one byte array, where the prefix (timestamp, tag, priority; possibly
 * empty) is the same for every line of the batch and the text is valid UTF-8 without control
 * characters (split, cut and escaped by {@link LineSplitter}). The whole array is then written
 * with one {@code write(2)}, and only the lines the in-memory tail needs become {@code String}s
 * (docs/performance.md: per-line objects and re-encoding were most of the cost).
 *
 * <p>Line {@code i} is {@code bytes[start(i), end(i))}; {@code bytes[end(i)]} is its newline.
 * Owned by the I/O thread and reused from one read to the next.
 */
final class LineBatch {
    private static final int INITIAL_CAPACITY = 80 * 1024;
    private static final int INITIAL_LINES = 1024;
    /**
     * A batch that grew beyond this (a read of many empty lines with long prefixes, or of bytes
     * that are all escaped: up to ~35 times the read) gives its array back at the next reset.
     */
    private static final int KEEP_CAPACITY = 1024 * 1024;

    /** The formatted lines; {@link LineSplitter} writes into it directly (see {@link #room}). */
    byte[] bytes = new byte[INITIAL_CAPACITY];
    /** How many bytes of {@link #bytes} are used. */
    int size;
    private byte[] prefix = new byte[0];
    private int prefixLength;
    private int[] ends = new int[INITIAL_LINES];
    private int count;

    /** Empties the batch; every line added from now on starts with {@code prefix[0, length)}. */
    void reset(byte[] prefix, int length) {
        this.prefix = prefix;
        this.prefixLength = length;
        if (bytes.length > KEEP_CAPACITY) {
            bytes = new byte[INITIAL_CAPACITY];
            ends = new int[INITIAL_LINES];
        }
        size = 0;
        count = 0;
    }

    int count() {
        return count;
    }

    int start(int line) {
        return (line == 0 ? 0 : ends[line - 1] + 1) + prefixLength;
    }

    int end(int line) {
        return ends[line];
    }

    /** Line {@code i} as text (for the tail, its followers and logback's per-event path). */
    String line(int i) {
        int start = start(i);
        return new String(bytes, start, ends[i] - start, StandardCharsets.UTF_8);
    }

    /** Every line as text. */
    List<String> lines() {
        List<String> lines = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            lines.add(line(i));
        }
        return lines;
    }

    /** A line whose text {@code b[from, to)} is known to need no escaping. */
    void addPlain(byte[] b, int from, int to) {
        int len = to - from;
        room(prefixLength + len + 1);
        byte[] out = bytes;
        int pos = size;
        System.arraycopy(prefix, 0, out, pos, prefixLength);
        pos += prefixLength;
        System.arraycopy(b, from, out, pos, len);
        pos += len;
        endLine(pos);
    }

    /** Starts a line whose text the caller then writes at {@link #size} (after {@link #room}). */
    void beginLine() {
        room(prefixLength);
        System.arraycopy(prefix, 0, bytes, size, prefixLength);
        size += prefixLength;
    }

    /** Ends the line begun by {@link #beginLine}, whose text ends at {@code pos}. */
    void endLine(int pos) {
        room(pos + 1 - size);
        bytes[pos] = '\n';
        if (count == ends.length) {
            ends = Arrays.copyOf(ends, count * 2);
        }
        ends[count++] = pos;
        size = pos + 1;
    }

    /** Makes room for {@code n} more bytes after {@link #size}. */
    void room(int n) {
        if (size + n > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(size + n, bytes.length * 2));
        }
    }
}
