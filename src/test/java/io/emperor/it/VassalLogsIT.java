package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.testing.Poll;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code vassal-logs = DIR}: each vassal without logto writes DIR/NAME.log, opened by the emperor. */
class VassalLogsIT extends ItSupport {
    private static final Pattern COUNT = Pattern.compile("^\\d{4}-\\d\\d-\\d\\dT\\S+Z count (\\d+)$");

    @Test
    void linesGoToTheVassalsFileRotatedBySizeIntoGzippedBackupsWithoutLosingALine() throws IOException {
        Path logs = Files.createDirectories(ws.root.resolve("logs"));
        try (EmperorProcess emp = emperor("vassal-logs = " + logs, "vassal-log-maxsize = 64k",
                "vassal-log-backups = 2")) {
            int from = emp.mark();
            Path file = ws.vassal("counter", "exec = " + ws.exec("counts.sh"), "stop-timeout = 2");
            Poll.until("counter.log.2.gz exists", WAIT, () -> Files.exists(logs.resolve("counter.log.2.gz")));
            Workspace.delete(file);
            emp.awaitLog(lifecycle("counter", "stopped "));
            // The last rotation's gzip may still be running (in the background): wait for it.
            Poll.until("no rotated file left uncompressed", WAIT, () -> rotatedLeft(logs).isEmpty(),
                    () -> rotatedLeft(logs).toString());
            assertFalse(Files.exists(logs.resolve("counter.log.3.gz")), "two backups only");
            List<Integer> counts = new ArrayList<>();
            for (String name : List.of("counter.log.2.gz", "counter.log.1.gz", "counter.log")) {
                Path f = logs.resolve(name);
                String text = name.endsWith(".gz") ? gunzip(f) : Workspace.read(f);
                assertTrue(text.length() <= 64 * 1024, name + " is " + text.length() + " bytes");
                for (String line : text.lines().toList()) {
                    Matcher m = COUNT.matcher(line);
                    assertTrue(m.matches(), name + ": " + line);
                    counts.add(Integer.parseInt(m.group(1)));
                }
            }
            // The last line may be one that seq was cut in at the stop (flushed unfinished): leave it out.
            for (int i = 1; i < counts.size() - 1; i++) {
                assertEquals(counts.get(i - 1) + 1, counts.get(i), "consecutive across the rotations");
            }
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(logs.resolve("counter.log"))));
            assertEquals(List.of(), emp.find(from, output("counter", "")).stream().map(LogLine::text).toList(),
                    "no output line in the emperor's log");
        }
    }

    @Test
    void sighupReopensTheFileAfterAnExternalMove() throws IOException {
        Path logs = Files.createDirectories(ws.root.resolve("logs"));
        try (EmperorProcess emp = emperor("vassal-logs = " + logs)) {
            Path file = ws.vassal("counter", "exec = " + ws.exec("counts.sh"), "stop-timeout = 2");
            Path log = logs.resolve("counter.log");
            Poll.until("counter.log has lines", WAIT, () -> Workspace.read(log).length() > 0);
            Path moved = logs.resolve("counter.log.moved");
            Files.move(log, moved);
            int from = emp.mark();
            emp.signal("HUP");
            emp.awaitLog(Lines.emperor(q("reloading configuration (SIGHUP)")));
            Poll.until("a new counter.log", WAIT, () -> Workspace.read(log).length() > 0);
            Workspace.delete(file);
            emp.awaitLog(lifecycle("counter", "stopped "));
            List<String> old = Files.readAllLines(moved);
            List<String> now = Files.readAllLines(log);
            int lastOld = count(old.get(old.size() - 1));
            assertEquals(lastOld + 1, count(now.get(0)), "the new file starts where the moved one ends");
            assertTrue(emp.find(from, Lines.emperor("counter: cannot write")).isEmpty());
        }
    }

    @Test
    void aTargetThatCannotBeWrittenIsReportedOnceAndTheLinesGoToTheEmperorLog() throws IOException {
        Path logs = Files.createDirectories(ws.root.resolve("logs"));
        Files.createDirectory(logs.resolve("bad.log")); // not a file: EISDIR, even for root
        try (EmperorProcess emp = emperor("vassal-logs = " + logs)) {
            int from = emp.mark();
            Path file = ws.vassal("bad", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            emp.awaitLog(lifecycle("bad", q("cannot write log file " + logs.resolve("bad.log") + ": ")));
            emp.awaitLogFrom(from, output("bad", "sleeps\\.sh running pid="), WAIT);
            Workspace.delete(file);
            emp.awaitLog(lifecycle("bad", "stopped "));
            emp.awaitLogFrom(from, output("bad", "sleeps\\.sh: got TERM, exiting"), WAIT);
            assertEquals(1, emp.find(from, lifecycle("bad", "cannot write log file")).size(), "reported once");
            assertTrue(emp.isAlive());
        }
    }

    private static List<String> rotatedLeft(Path logs) {
        try (java.util.stream.Stream<Path> s = Files.list(logs)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".rotated-")).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String gunzip(Path gz) throws IOException {
        try (java.io.InputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(gz))) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static int count(String line) {
        Matcher m = COUNT.matcher(line);
        assertTrue(m.matches(), line);
        return Integer.parseInt(m.group(1));
    }
}
