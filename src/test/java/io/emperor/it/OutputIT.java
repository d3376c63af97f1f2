package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** What vassals print: into the emperor's log, line by line and safely, or into their logto file. */
class OutputIT extends ItSupport {
    private static final String CUT = " [line cut at 65536 bytes]";

    @Test
    void longLinesAreCutInvalidUtf8IsEscapedAndALastLineWithoutNewlineIsFlushedAtExit() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            Path file = ws.vassal("spew", "exec = " + ws.exec("spews-output.sh"), "stop-timeout = 1");
            LogLine exited = emp.awaitLog(lifecycle("spew", "exited status=0 "));
            List<String> printed = firstRun(emp, from, exited);

            assertEquals(6, printed.size(), () -> "the lines of the first run: " + abbreviated(printed));
            assertEquals("spews-output.sh: begin", printed.get(0));
            assertEquals("x".repeat(65536) + CUT, printed.get(1), "cut at 64 KiB, marked");
            assertEquals("spews-output.sh: after the long line", printed.get(2),
                    "the rest of the long line is dropped, not logged as more lines");
            assertEquals("bad bytes: \\xff\\xfe end", printed.get(3).toLowerCase(java.util.Locale.ROOT),
                    "bytes that are not UTF-8 are escaped");
            assertEquals("utf-8: na\u00efve \u2603", printed.get(4), "valid UTF-8 is kept as it is");
            assertEquals("last line without newline", printed.get(5), "flushed at exit");
            Workspace.delete(file);
            emp.awaitLog(lifecycle("spew", "(stopped|removed)"));
        }
    }

    /**
     * Regression: logback's encoder once used the JVM's default charset, which on Java 17 without
     * LANG is US-ASCII, so "naïve ☃" became "na?ve ?" in emperor.log.
     */
    @Test
    void utf8OutputIsKeptWhateverTheEmperorsLocale() {
        // Under systemd, or started by cron, the emperor may have no LANG at all.
        Map<String, String> noLocale = new HashMap<>();
        for (String k : List.of("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES")) {
            noLocale.put(k, null);
        }
        Path ini = ws.emperorIni("vassals = " + ws.vassals);
        try (EmperorProcess emp = EmperorProcess.start(ws, noLocale, "--config", ini.toString())) {
            int from = emp.mark();
            Path file = ws.vassal("spew", "exec = " + ws.exec("spews-output.sh"), "stop-timeout = 1");
            LogLine exited = emp.awaitLog(lifecycle("spew", "exited status=0 "));
            List<String> printed = firstRun(emp, from, exited);
            assertEquals(6, printed.size(), () -> "the lines of the first run: " + abbreviated(printed));
            assertEquals("bad bytes: \\xff\\xfe end", printed.get(3).toLowerCase(java.util.Locale.ROOT));
            assertEquals("utf-8: na\u00efve \u2603", printed.get(4),
                    "valid UTF-8 from a vassal reaches emperor.log unchanged when the emperor runs without LANG");
            Workspace.delete(file);
            emp.awaitLog(lifecycle("spew", "(stopped|removed)"));
        }
    }

    @Test
    void logtoSendsOutputToThatFileAppendedAndNotToTheEmperorLog() throws Exception {
        try (EmperorProcess emp = emperor()) {
            Path logs = Files.createDirectories(ws.root.resolve("logs"));
            Path existing = logs.resolve("appender.log");
            Files.writeString(existing, "an earlier line\n");
            Path created = logs.resolve("creator.log");
            int from = emp.mark();
            Path a = ws.vassal("appender", "exec = " + ws.exec("sleeps.sh"), "logto = " + existing, "stop-timeout = 2");
            Path c = ws.vassal("creator", "exec = " + ws.exec("sleeps.sh"), "daemonize = " + created, "stop-timeout = 2");
            long pidA = emp.awaitLog(spawned("appender")).longGroup(1);
            long pidC = emp.awaitLog(spawned("creator")).longGroup(1);
            List<String> linesA = awaitLines(existing, 2);
            List<String> linesC = awaitLines(created, 1);
            assertEquals("an earlier line", linesA.get(0), "appended, not truncated");
            assertTrue(linesA.get(1).startsWith("sleeps.sh running pid=" + pidA + " "), () -> "in the file: " + linesA);
            assertTrue(linesC.get(0).startsWith("sleeps.sh running pid=" + pidC + " "), () -> "in the file: " + linesC);
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(created)),
                    "a logto file is created with mode 0640");

            Workspace.delete(a);
            Workspace.delete(c);
            emp.awaitLog(lifecycle("appender", "stopped status=0 "));
            emp.awaitLog(lifecycle("creator", "stopped status=0 "));
            assertEquals("sleeps.sh: got TERM, exiting", awaitLines(existing, 3).get(2));
            assertEquals("sleeps.sh: got TERM, exiting", awaitLines(created, 2).get(1));
            assertEquals(List.of(), emp.find(from, output("appender", "")).stream().map(LogLine::text).toList(),
                    "no output of a logto vassal in the emperor's log");
            assertEquals(List.of(), emp.find(from, output("creator", "")).stream().map(LogLine::text).toList(),
                    "no output of a daemonize vassal in the emperor's log");
        }
    }

    /** What vassal "spew" printed in its first run: its output lines from {@code from} up to its exit line. */
    private static List<String> firstRun(EmperorProcess emp, int from, LogLine exited) {
        Pattern out = output("spew", "(.*)$");
        return emp.find(from, out).stream().filter(l -> l.index() < exited.index()).map(l -> l.group(1)).toList();
    }

    private static String abbreviated(List<String> lines) {
        return lines.stream().map(l -> l.length() > 100 ? l.substring(0, 100) + "...(" + l.length() + " chars)" : l).toList().toString();
    }
}
