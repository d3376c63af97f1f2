package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import io.emperor.config.LogFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /**
     * On a full disk (/dev/full behind the path) events of the emperor's logger are kept and
     * those of the vassal loggers dropped and counted; once the path is a file, the retry thread
     * alone writes them. A SIGHUP with a new format in between hands them over.
     */
    @Test
    void onAFullDiskTheEmperorsEventsAreKeptAndVassalEventsCountedAcrossANewAppender() throws Exception {
        Path full = Path.of("/dev/full");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full), "needs a writable /dev/full");
        Path log = dir.resolve("emperor.log");
        Files.createSymbolicLink(log, full);
        LogSetup.install(ctx, new LogSetup.Target(log, LogFormat.PLAIN, 0, 5));
        ctx.getLogger(EmperorLog.EMPEROR_LOGGER).info("app: spawned pid=1");
        ctx.getLogger(EmperorLog.VASSAL_LOGGER).info("[app] printed");
        ctx.getLogger(EmperorLog.RAW_VASSAL_LOGGER).info("raw");
        LogSetup.install(ctx, new LogSetup.Target(log, LogFormat.JOURNAL, 0, 5)); // SIGHUP, a new format
        ctx.getLogger(EmperorLog.EMPEROR_LOGGER).info("app: stopped");
        Files.delete(log);
        Files.createFile(log);
        io.emperor.testing.Poll.until("the kept lines", java.time.Duration.ofSeconds(30),
                () -> Text.read(log).contains("app: stopped"), () -> Text.read(log));
        List<String> lines = Files.readAllLines(log);
        assertEquals(3, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).matches("<4>\\[emperor\\] log file " + java.util.regex.Pattern.quote(log.toString())
                + " is writable again after \\d+s \\(No space left on device\\); dropped meanwhile: 2 lines \\(\\d+ bytes\\)"
                + " of vassal output, 0 lines \\(0 bytes\\) of the emperor's; 2 lines of the emperor's follow"), lines.get(0));
        assertTrue(lines.get(1).matches("\\S+ \\[emperor\\] app: spawned pid=1"), "kept in the old format: " + lines.get(1));
        assertEquals("<6>[emperor] app: stopped", lines.get(2));
    }

    /** Reads a file whole, or "" when it cannot. */
    private static final class Text {
        static String read(Path p) {
            try {
                return Files.readString(p);
            } catch (java.io.IOException e) {
                return "";
            }
        }
    }

    @Test
    void preEncodedWritesRotateTheLogBeforeCrossingTheSize() throws Exception {
        Path log = dir.resolve("emperor.log");
        LogSetup.install(ctx, new LogSetup.Target(log, LogFormat.PLAIN, 1000, 2));
        String[] lines = new String[20];
        for (int i = 0; i < lines.length; i++) {
            lines[i] = String.format("%02d", i) + "x".repeat(97);
        }
        print(VassalOutput.Route.tagged("app"), lines); // one write of 20 lines of 132 bytes: 7 fit in 1000
        List<String> files = List.of(gunzip(dir.resolve("emperor.log.2.gz")), gunzip(dir.resolve("emperor.log.1.gz")),
                Files.readString(log));
        StringBuilder all = new StringBuilder();
        for (String f : files) {
            assertTrue(f.length() <= 1000, f.length() + " bytes");
            assertTrue(f.endsWith("\n"), "whole lines only");
            all.append(f);
        }
        assertEquals(List.of(7, 7, 6), files.stream().map(f -> (int) f.lines().count()).toList());
        assertEquals(List.of(lines), all.toString().lines().map(l -> l.substring(l.indexOf("[app] ") + 6)).toList());
    }

    @Test
    void aLineLongerThanTheSizeGoesAloneIntoAFileAndEventsRotateToo() throws Exception {
        Path log = dir.resolve("emperor.log");
        LogSetup.install(ctx, new LogSetup.Target(log, LogFormat.PLAIN, 1000, 3));
        ctx.getLogger(EmperorLog.EMPEROR_LOGGER).info("before");
        String longLine = "y".repeat(3000);
        print(VassalOutput.Route.tagged("app"), longLine, "short");
        ctx.getLogger(EmperorLog.EMPEROR_LOGGER).info("after " + "z".repeat(980)); // does not fit with "short"
        assertTrue(gunzip(dir.resolve("emperor.log.3.gz")).endsWith(" [emperor] before\n"));
        String alone = gunzip(dir.resolve("emperor.log.2.gz"));
        assertTrue(alone.endsWith(" [app] " + longLine + "\n") && alone.lines().count() == 1, alone);
        assertTrue(gunzip(dir.resolve("emperor.log.1.gz")).endsWith(" [app] short\n"));
        assertTrue(Files.readString(log).endsWith("z".repeat(980) + "\n"), Files.readString(log));
    }

    private static String gunzip(Path gz) throws java.io.IOException {
        try (java.io.InputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(gz))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
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
