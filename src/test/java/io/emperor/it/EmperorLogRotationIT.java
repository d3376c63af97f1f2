package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.testing.Poll;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** {@code log-maxsize} / {@code log-backups}: emperor.log rotated by size, old files gzipped; SIGHUP still reopens. */
class EmperorLogRotationIT extends ItSupport {
    private static final Pattern COUNT = Pattern.compile("^\\S+ \\[counter\\] count (\\d+)$");

    @Test
    void rotatesBySizeIntoGzippedBackupsWithoutLosingALine() throws IOException {
        Path log = ws.root.resolve("emperor.log");
        try (EmperorProcess emp = emperor("log-maxsize = 64k", "log-backups = 2")) {
            Path file = ws.vassal("counter", "exec = " + ws.exec("counts.sh"), "stop-timeout = 2");
            Poll.until("emperor.log.2.gz exists", WAIT, () -> Files.exists(ws.root.resolve("emperor.log.2.gz")));
            Workspace.delete(file);
            Poll.until("the counter stopped", WAIT, () -> Workspace.read(log).contains("counter: stopped "));
        }
        assertFalse(Files.exists(ws.root.resolve("emperor.log.3.gz")), "two backups only");
        List<Integer> counts = new ArrayList<>();
        for (String text : List.of(gunzip(ws.root.resolve("emperor.log.2.gz")),
                gunzip(ws.root.resolve("emperor.log.1.gz")), Workspace.read(log))) {
            // A sustained flood too: never more than one line over the size (it was 16 times it).
            assertTrue(text.getBytes(StandardCharsets.UTF_8).length <= 64 * 1024 + 200,
                    "a file of " + text.length() + " bytes");
            for (String line : text.split("\n")) {
                Matcher m = COUNT.matcher(line);
                if (m.matches()) {
                    counts.add(Integer.parseInt(m.group(1)));
                }
            }
        }
        assertTrue(counts.size() > 1000, "lines: " + counts.size());
        // The last line may be one that seq was cut in at the stop (flushed unfinished): leave it out.
        for (int i = 1; i < counts.size() - 1; i++) {
            assertEquals(counts.get(i - 1) + 1, counts.get(i), "consecutive across the rotations");
        }
    }

    private static final Pattern BURST = Pattern.compile("^\\S+ \\[burst\\] burst (\\d{5}) x{88}$");

    /**
     * 1 MB printed in one go (10,000 lines, faster than any size check by time): the log is
     * rotated before each write that would take it past {@code log-maxsize}, on the fast path
     * (vassal output as pre-encoded bytes) too, so no file is more than one line over, the
     * backups exist, and every line is in exactly one file, whole and in order.
     */
    @Test
    void aBurstIsRotatedBeforeEachWriteThatWouldCrossTheSize() throws IOException {
        int lines = 10_000;
        long maxSize = 100_000;
        Path log = ws.root.resolve("emperor.log");
        try (EmperorProcess emp = emperor("log-maxsize = " + maxSize, "log-backups = 20")) {
            ws.vassal("burst", "exec = " + ws.exec("bursts.sh", String.valueOf(lines)), "stop-timeout = 2");
            Poll.until("the burst was logged", WAIT, () -> Workspace.read(log).contains("[burst] bursts.sh: done"));
        }
        List<Path> files = new ArrayList<>();
        for (int i = 20; i >= 1; i--) {
            Path backup = ws.root.resolve("emperor.log." + i + ".gz");
            if (Files.exists(backup)) {
                files.add(backup);
            }
        }
        files.add(log);
        // 10,000 lines of ~130 bytes in files of 100,000: 13 or more files.
        assertTrue(files.size() >= 13, "backups: " + files);
        List<Integer> seen = new ArrayList<>();
        for (Path f : files) {
            String text = f == log ? Workspace.read(log) : gunzip(f);
            long longest = text.lines().mapToLong(l -> l.getBytes(StandardCharsets.UTF_8).length + 1).max().orElse(0);
            long size = text.getBytes(StandardCharsets.UTF_8).length;
            assertTrue(size <= maxSize + longest, f + " has " + size + " bytes, more than " + maxSize + " + one line");
            for (String line : text.split("\n")) {
                Matcher m = BURST.matcher(line);
                if (m.matches()) {
                    seen.add(Integer.parseInt(m.group(1)));
                } else {
                    assertFalse(line.contains("burst 0") || line.contains("xxxxxxxx"), "a split line in " + f + ": " + line);
                }
            }
        }
        assertEquals(lines, seen.size(), "burst lines across " + files.size() + " files");
        for (int i = 0; i < lines; i++) {
            assertEquals(i + 1, seen.get(i), "line " + (i + 1) + " in order, once");
        }
    }

    @Test
    void sighupReopensTheRotatedLogAfterAnExternalMove() throws IOException {
        Path log = ws.root.resolve("emperor.log");
        try (EmperorProcess emp = emperor("log-maxsize = 10M", "log-backups = 3")) {
            Path moved = ws.root.resolve("emperor.log.moved");
            Files.move(log, moved);
            emp.signal("HUP");
            Poll.until("the reload line in the moved file", WAIT,
                    () -> Workspace.read(moved).contains("reloading configuration (SIGHUP)"));
            ws.vassal("late", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Poll.until("a new emperor.log with the spawn", WAIT, () -> Workspace.read(log).contains("late: spawned pid="),
                    () -> Workspace.read(moved));
            assertFalse(Workspace.read(moved).contains("late: spawned"));
        }
    }

    /** Turning rotation on by SIGHUP swaps logback's appender on the same file: nothing is lost. */
    @Test
    void sighupCanTurnRotationOn() throws IOException {
        Path log = ws.root.resolve("emperor.log");
        try (EmperorProcess emp = emperor()) {
            Path file = ws.vassal("counter", "exec = " + ws.exec("counts.sh"), "stop-timeout = 2");
            Poll.until("counting", WAIT, () -> Workspace.read(log).contains("[counter] count 1000"));
            ws.emperorIni("vassals = " + ws.vassals, "log-maxsize = 64k", "log-backups = 1");
            emp.signal("HUP");
            Poll.until("emperor.log.1.gz exists", WAIT, () -> Files.exists(ws.root.resolve("emperor.log.1.gz")));
            Workspace.delete(file);
            Poll.until("the counter stopped", WAIT, () -> Workspace.read(log).contains("counter: stopped "));
        }
        assertFalse(Files.exists(ws.root.resolve("emperor.log.2.gz")));
        List<Integer> counts = new ArrayList<>();
        for (String line : (gunzip(ws.root.resolve("emperor.log.1.gz")) + Workspace.read(log)).split("\n")) {
            Matcher m = COUNT.matcher(line);
            if (m.matches()) {
                counts.add(Integer.parseInt(m.group(1)));
            }
        }
        for (int i = 1; i < counts.size() - 1; i++) {
            assertTrue(counts.get(i) <= counts.get(i - 1) + 1, "no gap at " + counts.get(i - 1) + " -> " + counts.get(i));
        }
    }

    private static String gunzip(Path gz) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
