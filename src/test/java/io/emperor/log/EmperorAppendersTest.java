package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import io.emperor.config.LogFormat;
import io.emperor.testing.Poll;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Vassal output written as pre-encoded bytes into the emperor's log is exactly what logback's
 * per-event path with {@link EmperorLayout} writes, in every format; rotation still happens.
 */
class EmperorAppendersTest {
    private static final long T = 1_795_957_200_123L; // 2026-11-29T13:00:00.123Z

    @TempDir
    Path dir;

    final LoggerContext ctx = new LoggerContext();

    @AfterEach
    void restoreTheDefaultLog() {
        LogSetup.install((LoggerContext) LoggerFactory.getILoggerFactory(), LogSetup.Target.of(null, LogFormat.PLAIN));
        ctx.stop();
    }

    @Test
    void preEncodedLinesAreTheLayoutsLinesInEveryFormat() throws Exception {
        for (LogFormat format : LogFormat.values()) {
            for (boolean tag : new boolean[] {true, false}) {
                Path log = dir.resolve(format + "-" + tag + ".log");
                LogSetup.install(ctx, new LogSetup.Target(log, format, 0, 5));
                assertNotNull(LogSetup.preEncoded(), "our own appender alone: the pre-encoded path");
                print(new VassalOutput.Route("app", tag), "one\ttab", "t\u00e9l\u00e9", "\u0007bell");
                EmperorLayout layout = new EmperorLayout(format);
                String expected = layout.doLayout(batchEvent(tag, List.of("one\ttab", "t\u00e9l\u00e9", "\\x07bell")));
                assertEquals(expected, Files.readString(log), format + ", tag " + tag);
            }
        }
    }

    @Test
    void preEncodedWritesRotateTheLogBySize() throws Exception {
        Path log = dir.resolve("emperor.log");
        LogSetup.install(ctx, new LogSetup.Target(log, LogFormat.PLAIN, 1000, 2));
        String line = "x".repeat(99);
        String[] lines = new String[20];
        java.util.Arrays.fill(lines, line);
        print(VassalOutput.Route.tagged("app"), lines); // 20 lines of 132 bytes: past the size
        // The size is looked at once per LogSetup.CHECK_MILLIS, at a write: write until it rotates.
        Poll.until("the log rotated at a later write", Duration.ofSeconds(10), () -> {
            print(VassalOutput.Route.tagged("app"), "after");
            return Files.exists(dir.resolve("emperor.log.1.gz"));
        });
        assertTrue(Files.readString(log).endsWith(" [app] after\n"), Files.readString(log));
    }

    private void print(VassalOutput.Route route, String... lines) {
        byte[] b = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        new VassalOutput(new VassalTails(), System::nanoTime, () -> T).write(route, new LineSplitter(), b, 0, b.length);
    }

    private ch.qos.logback.classic.spi.LoggingEvent batchEvent(boolean tag, List<String> lines) {
        String logger = tag ? EmperorLog.VASSAL_LOGGER : EmperorLog.RAW_VASSAL_LOGGER;
        ch.qos.logback.classic.spi.LoggingEvent e = new ch.qos.logback.classic.spi.LoggingEvent(getClass().getName(),
                ctx.getLogger(logger), ch.qos.logback.classic.Level.INFO, "{}", null,
                new Object[] {new EmperorLog.OutputBatch("app", lines, tag)});
        e.setTimeStamp(T);
        return e;
    }
}
