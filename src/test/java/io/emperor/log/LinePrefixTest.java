package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.emperor.config.LogFormat;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 §4: the prefix of a line is written in one place, {@link LinePrefix}, for logback's
 * layout (one line, a batch) and for the pre-encoded bytes; these are the bytes, pinned.
 */
class LinePrefixTest {
    private static final long T = 1_795_957_200_123L; // 2026-11-29T13:00:00.123Z
    private static final String TAG = EmperorLayout.tag("a\nb"); // an escaped name: [a\x0ab]

    private static String bytes(boolean journal, boolean timed, String tag) {
        byte[] dst = new byte[LinePrefix.maxLength(tag == null ? 0 : tag.getBytes(StandardCharsets.UTF_8).length)];
        int n = new LinePrefix().put(dst, journal, timed, tag == null ? null : tag.getBytes(StandardCharsets.UTF_8), T);
        return new String(dst, 0, n, StandardCharsets.UTF_8);
    }

    private static String chars(String priority, boolean timed, String tag) {
        StringBuilder sb = new StringBuilder();
        new LinePrefix().append(sb, priority, timed, tag, T);
        return sb.toString();
    }

    @Test
    void theBytesOfEveryPrefix() {
        assertEquals("2026-11-29T13:00:00.123Z [a\\x0ab] ", bytes(false, true, TAG));
        assertEquals("<6>[a\\x0ab] ", bytes(true, true, TAG));
        assertEquals("<6>", bytes(true, false, null), "journal, log-tag = false");
        assertEquals("", bytes(false, false, null), "plain, log-tag = false");
        assertEquals("2026-11-29T13:00:00.123Z ", bytes(false, true, null), "a vassal's own file");
        assertEquals(bytes(false, true, TAG), chars("", true, TAG));
        assertEquals(bytes(true, true, TAG), chars("<6>", true, TAG));
        assertEquals("2026-11-29T13:00:00.123Z [emperor] ", chars("", true, EmperorLayout.EMPEROR_TAG));
    }

    /** The layout's one line, the layout's batch and the pre-encoded prefix give the same bytes. */
    @Test
    void theLayoutWritesTheSameBytesAsThePreEncodedPath() {
        LoggerContext ctx = new LoggerContext();
        for (LogFormat format : LogFormat.values()) {
            boolean journal = format == LogFormat.JOURNAL;
            EmperorLayout layout = new EmperorLayout(format);
            LoggingEvent one = new LoggingEvent(getClass().getName(), ctx.getLogger(EmperorLog.VASSAL_LOGGER), Level.INFO,
                    TAG + "hello", null, null);
            one.setTimeStamp(T);
            LoggingEvent batch = new LoggingEvent(getClass().getName(), ctx.getLogger(EmperorLog.VASSAL_LOGGER), Level.INFO,
                    "{}", null, new Object[] {new EmperorLog.OutputBatch("a\nb", List.of("hello", "again"), true)});
            batch.setTimeStamp(T);
            String prefix = bytes(journal, true, TAG);
            assertEquals(prefix + "hello\n", layout.doLayout(one), format.name());
            assertEquals(prefix + "hello\n" + prefix + "again\n", layout.doLayout(batch), format.name());
        }
    }
}
