package io.emperor.log;

import java.nio.charset.StandardCharsets;

/**
 * What comes before a line in the emperor's log and in a vassal's own log file, written in one
 * place for the two ways a line goes out (issue 16 §4): as characters through logback
 * ({@link EmperorLayout}, also for a batch of vassal lines, {@link EmperorLog.OutputBatch}) and as
 * pre-encoded bytes ({@link VassalOutput}). The two must give the same bytes
 * ({@code LinePrefixTest}, {@code EmperorAppendersTest}):
 * <pre>
 *   journal:  PRIORITY TAG LINE           (&lt;6&gt;[app] hello; no timestamp: journald has its own)
 *   plain:    TIME ' ' TAG LINE           (2026-11-29T13:00:00.123Z [app] hello), when timed
 *             TAG LINE                    when not (log-tag = false: no tag either)
 * </pre>
 * TAG is {@code [NAME] } for a vassal's lines in the emperor's log ({@link EmperorLayout#tag}),
 * {@code [emperor] } for the emperor's own, nothing in a vassal's own file. Not thread-safe (the
 * time is cached): one per writer.
 */
final class LinePrefix {
    /** The journal priority of vassal output (info). */
    static final String JOURNAL_INFO = "<6>";
    private static final byte[] JOURNAL_INFO_BYTES = JOURNAL_INFO.getBytes(StandardCharsets.US_ASCII);

    private final LogTime time = new LogTime();

    /** Room for a prefix with a tag of {@code tagBytes} bytes. */
    static int maxLength(int tagBytes) {
        return Math.max(LogTime.LENGTH + 1, JOURNAL_INFO_BYTES.length) + tagBytes;
    }

    /**
     * Appends the prefix: {@code priority} when not empty (the journal), else the time and a space
     * when {@code timed}; then {@code tag} (may be null).
     */
    void append(StringBuilder sb, String priority, boolean timed, String tag, long millis) {
        if (!priority.isEmpty()) {
            sb.append(priority);
        } else if (timed) {
            time.append(sb, millis);
            sb.append(' ');
        }
        if (tag != null) {
            sb.append(tag);
        }
    }

    /**
     * The same as bytes at {@code dst[0]}, for vassal output ({@code <6>} in the journal); returns
     * the length. {@code dst} has {@link #maxLength} room.
     */
    int put(byte[] dst, boolean journal, boolean timed, byte[] tag, long millis) {
        int n = 0;
        if (journal) {
            System.arraycopy(JOURNAL_INFO_BYTES, 0, dst, 0, JOURNAL_INFO_BYTES.length);
            n = JOURNAL_INFO_BYTES.length;
        } else if (timed) {
            n = time.put(dst, 0, millis);
            dst[n++] = ' ';
        }
        if (tag != null) {
            System.arraycopy(tag, 0, dst, n, tag.length);
            n += tag.length;
        }
        return n;
    }
}
