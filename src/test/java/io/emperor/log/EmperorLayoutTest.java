package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.emperor.config.LogFormat;
import org.junit.jupiter.api.Test;

/** The line formats: plain (timestamp, tags), journal (priority prefix, no timestamp), untagged vassal output. */
class EmperorLayoutTest {
    private static final long T = 1_795_957_200_123L; // 2026-11-29T13:00:00.123Z
    private final LoggerContext ctx = new LoggerContext();

    private String line(LogFormat format, String logger, Level level, String message) {
        EmperorLayout layout = new EmperorLayout(format);
        LoggingEvent e = new LoggingEvent(getClass().getName(), ctx.getLogger(logger), level, message, null, null);
        e.setTimeStamp(T);
        return layout.doLayout(e);
    }

    @Test
    void plain() {
        assertEquals("2026-11-29T13:00:00.123Z [emperor] app: spawned pid=42\n",
                line(LogFormat.PLAIN, EmperorLog.EMPEROR_LOGGER, Level.INFO, "app: spawned pid=42"));
        assertEquals("2026-11-29T13:00:00.123Z [app] hello\n",
                line(LogFormat.PLAIN, EmperorLog.VASSAL_LOGGER, Level.INFO, "[app] hello"));
    }

    @Test
    void untaggedVassalOutputGoesOutAsPrinted() {
        assertEquals("{\"level\":\"info\",\"msg\":\"hi\"}\n",
                line(LogFormat.PLAIN, EmperorLog.RAW_VASSAL_LOGGER, Level.INFO, "{\"level\":\"info\",\"msg\":\"hi\"}"));
        assertEquals("<6>{\"msg\":\"hi\"}\n",
                line(LogFormat.JOURNAL, EmperorLog.RAW_VASSAL_LOGGER, Level.INFO, "{\"msg\":\"hi\"}"));
    }

    @Test
    void journalHasPrioritiesAndNoTimestamp() {
        assertEquals("<6>[emperor] app: spawned pid=42\n",
                line(LogFormat.JOURNAL, EmperorLog.EMPEROR_LOGGER, Level.INFO, "app: spawned pid=42"));
        assertEquals("<4>[emperor] app: warning: x\n",
                line(LogFormat.JOURNAL, EmperorLog.EMPEROR_LOGGER, Level.WARN, "app: warning: x"));
        assertEquals("<3>[emperor] epoll_wait: boom\n",
                line(LogFormat.JOURNAL, EmperorLog.EMPEROR_LOGGER, Level.ERROR, "epoll_wait: boom"));
        assertEquals("<6>[app] hello\n",
                line(LogFormat.JOURNAL, EmperorLog.VASSAL_LOGGER, Level.INFO, "[app] hello"));
    }

    @Test
    void aBatchOfOutputLinesIsWrittenLineByLine() {
        EmperorLayout plain = new EmperorLayout(LogFormat.PLAIN);
        EmperorLayout journal = new EmperorLayout(LogFormat.JOURNAL);
        EmperorLog.OutputBatch tagged = new EmperorLog.OutputBatch("app", java.util.List.of("a", "b"), true);
        EmperorLog.OutputBatch raw = new EmperorLog.OutputBatch("app", java.util.List.of("{}", "[]"), false);
        assertEquals("2026-11-29T13:00:00.123Z [app] a\n2026-11-29T13:00:00.123Z [app] b\n",
                plain.doLayout(batchEvent(EmperorLog.VASSAL_LOGGER, tagged)));
        assertEquals("{}\n[]\n", plain.doLayout(batchEvent(EmperorLog.RAW_VASSAL_LOGGER, raw)));
        assertEquals("<6>[app] a\n<6>[app] b\n", journal.doLayout(batchEvent(EmperorLog.VASSAL_LOGGER, tagged)));
        assertEquals("<6>{}\n<6>[]\n", journal.doLayout(batchEvent(EmperorLog.RAW_VASSAL_LOGGER, raw)));
        assertEquals("[app] a\n[app] b", tagged.toString(), "what another layout shows");
    }

    private LoggingEvent batchEvent(String logger, EmperorLog.OutputBatch batch) {
        LoggingEvent e = new LoggingEvent(getClass().getName(), ctx.getLogger(logger), Level.INFO, "{}", null,
                new Object[] {batch});
        e.setTimeStamp(T);
        return e;
    }

    @Test
    void everyLineOfAStackTraceKeepsThePriority() {
        EmperorLayout layout = new EmperorLayout(LogFormat.JOURNAL);
        LoggingEvent e = new LoggingEvent(getClass().getName(), ctx.getLogger(EmperorLog.EMPEROR_LOGGER), Level.ERROR,
                "app: bug", new IllegalStateException("x"), null);
        for (String l : layout.doLayout(e).split("\n")) {
            assertTrue(l.startsWith("<3>"), l);
        }
    }

    /**
     * A tenant's value in an emperor line (a name, an exec, a quoted parse error) cannot start a
     * forged second line or send terminal escapes: CR, LF, ESC, BEL, DEL and C1 controls are
     * escaped, in the message, in an exception's message and in a vassal's tag; tab and other
     * text are kept.
     */
    @Test
    void controlCharactersOfEveryEmperorLineAreEscaped() {
        String hostile = "app: spawn failed: exec /x\r\n2026-01-01T00:00:00.000Z [emperor] forged\u001b[2J\u0007\u007f"
                + "\u009b31m\tok \u00e9";
        String escaped = "app: spawn failed: exec /x\\x0d\\x0a2026-01-01T00:00:00.000Z [emperor] forged\\x1b[2J\\x07"
                + "\\x7f\\xc2\\x9b31m\tok \u00e9";
        assertEquals("2026-11-29T13:00:00.123Z [emperor] " + escaped + "\n",
                line(LogFormat.PLAIN, EmperorLog.EMPEROR_LOGGER, Level.WARN, hostile));
        assertEquals("<4>[emperor] " + escaped + "\n", line(LogFormat.JOURNAL, EmperorLog.EMPEROR_LOGGER, Level.WARN, hostile));

        LoggingEvent e = new LoggingEvent(getClass().getName(), ctx.getLogger(EmperorLog.EMPEROR_LOGGER), Level.ERROR,
                "app: parser failed", new IllegalStateException("bad\nforged"), null);
        String[] lines = new EmperorLayout(LogFormat.PLAIN).doLayout(e).split("\n");
        assertEquals("    java.lang.IllegalStateException: bad\\x0aforged", lines[1]);

        assertEquals("[a\\x0ab\\x1b] ", EmperorLayout.tag("a\nb\u001b"));
        EmperorLog.OutputBatch batch = new EmperorLog.OutputBatch("a\nb", java.util.List.of("x", "y"), true);
        assertEquals("<6>[a\\x0ab] x\n<6>[a\\x0ab] y\n",
                new EmperorLayout(LogFormat.JOURNAL).doLayout(batchEvent(EmperorLog.VASSAL_LOGGER, batch)));
        assertEquals("[a\\x0ab] x\n[a\\x0ab] y", batch.toString());
        String plain = "app: spawned pid=42 uid=1000 gid=1000";
        assertTrue(EmperorLayout.escape(plain) == plain || EmperorLayout.escape(plain).equals(plain));
    }
}
