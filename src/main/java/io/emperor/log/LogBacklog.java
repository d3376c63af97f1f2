package io.emperor.log;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * What the emperor's log file owes while it cannot be written (disk full, quota, I/O error;
 * docs/logging.md "A full disk"): the emperor's own lines, kept in order up to a bound (the
 * newest are kept, the oldest go), and counts of what was dropped: vassal output (never kept, so
 * a tenant's flood costs no memory) and the emperor's lines pushed out by the bound.
 *
 * <p>An entry is one write of the emperor's (one event: a line, or a message with its stack
 * trace), already formatted; its lines are its newlines. Owned by one {@link RetryingFileStream},
 * under its appender's lock. Pure: no I/O, no clock.
 */
final class LogBacklog {
    /** The most lines kept. */
    static final int MAX_LINES = 10_000;
    /** The most bytes kept (the formatted lines; each entry costs ~40 bytes more in objects). */
    static final int MAX_BYTES = 2 * 1024 * 1024;

    private final int maxLines;
    private final int maxBytes;
    private final ArrayDeque<byte[]> entries = new ArrayDeque<>();
    private int lines;
    private long bytes;
    private long droppedLines;
    private long droppedBytes;
    private long vassalLines;
    private long vassalBytes;

    LogBacklog() {
        this(MAX_LINES, MAX_BYTES);
    }

    LogBacklog(int maxLines, int maxBytes) {
        this.maxLines = maxLines;
        this.maxBytes = maxBytes;
    }

    /** Keeps a copy of {@code b[off, off + len)} after the others; the oldest go while over the bound. */
    void keep(byte[] b, int off, int len) {
        if (len == 0) {
            return;
        }
        entries.addLast(Arrays.copyOfRange(b, off, off + len));
        lines += lines(b, off, len);
        bytes += len;
        while (lines > maxLines || bytes > maxBytes) {
            byte[] oldest = entries.removeFirst();
            int n = lines(oldest, 0, oldest.length);
            lines -= n;
            bytes -= oldest.length;
            droppedLines += n;
            droppedBytes += oldest.length;
        }
    }

    /**
     * Puts {@code entry} back in front of the others (what a write of it did not get to the
     * file), outside the bound: it was counted when it was kept first.
     */
    void putBack(byte[] entry) {
        entries.addFirst(entry);
        lines += lines(entry, 0, entry.length);
        bytes += entry.length;
    }

    /** The oldest entry, removed; null when there is none. */
    byte[] poll() {
        byte[] e = entries.pollFirst();
        if (e != null) {
            lines -= lines(e, 0, e.length);
            bytes -= e.length;
        }
        return e;
    }

    /** Counts vassal output that could not be written ({@code b[off, off + len)}; a part of a line counts as one). */
    void dropVassal(byte[] b, int off, int len) {
        if (len > 0) {
            vassalLines += lines(b, off, len);
            vassalBytes += len;
        }
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    int lines() {
        return lines;
    }

    long bytes() {
        return bytes;
    }

    long droppedLines() {
        return droppedLines;
    }

    long droppedBytes() {
        return droppedBytes;
    }

    long vassalLines() {
        return vassalLines;
    }

    long vassalBytes() {
        return vassalBytes;
    }

    /**
     * Takes every entry and count of {@code older} (which ends empty), its entries in front of
     * these, outside the bound (they were counted when kept).
     */
    void takeOver(LogBacklog older) {
        java.util.Iterator<byte[]> it = older.entries.descendingIterator();
        while (it.hasNext()) {
            putBack(it.next());
        }
        older.entries.clear();
        older.lines = 0;
        older.bytes = 0;
        droppedLines += older.droppedLines;
        droppedBytes += older.droppedBytes;
        vassalLines += older.vassalLines;
        vassalBytes += older.vassalBytes;
        older.resetCounts();
    }

    /** Starts the counts of what was dropped again (once they have been said). */
    void resetCounts() {
        droppedLines = droppedBytes = vassalLines = vassalBytes = 0;
    }

    /** The lines of {@code b[off, off + len)}: its newlines, plus one for an unfinished last line. */
    static int lines(byte[] b, int off, int len) {
        int n = 0;
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                n++;
            }
        }
        return len > 0 && b[off + len - 1] != '\n' ? n + 1 : n;
    }
}
