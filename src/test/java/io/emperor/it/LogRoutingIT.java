package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Where vassal output goes (docs/logging.md): untagged lines, the journal format. */
class LogRoutingIT extends ItSupport {

    @Test
    void logTagFalseWritesTheVassalsLinesAsPrinted() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            Path raw = ws.vassal("raw", "exec = " + ws.exec("sleeps.sh"), "log-tag = false", "stop-timeout = 2");
            Path tagged = ws.vassal("tagged", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            long pid = emp.awaitLog(spawned("raw")).longGroup(1);
            emp.awaitLogFrom(from, Pattern.compile("^sleeps\\.sh running pid=" + pid + " args="), WAIT);
            emp.awaitLogFrom(from, output("tagged", "sleeps\\.sh running pid="), WAIT);
            assertEquals(List.of(), emp.find(from, output("raw", "")).stream().map(LogLine::text).toList(),
                    "no tagged line of the untagged vassal");
            Workspace.delete(raw);
            Workspace.delete(tagged);
            emp.awaitLog(lifecycle("raw", "stopped status=0 "));
            emp.awaitLog(lifecycle("tagged", "stopped status=0 "));
            emp.awaitLogFrom(from, Pattern.compile("^sleeps\\.sh: got TERM, exiting$"), WAIT);
        }
    }

    /** Under systemd (JOURNAL_STREAM set) the default format has priorities and no timestamps. */
    @Test
    void journalStreamMeansPrioritiesAndNoTimestamps() throws Exception {
        Path log = ws.root.resolve("journal.log");
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "log = " + log);
        ws.vassal("j", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
        ws.vassal("broken", "exec = " + ws.exec("sleeps.sh"), "no-such-key = 1");
        List<String> cmd = new ArrayList<>(EmperorProcess.javaCommand());
        cmd.addAll(List.of("run", "--config", ini.toString(), "--control", ws.root.resolve("c.sock").toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ws.root.toFile())
                .redirectErrorStream(true).redirectOutput(ws.root.resolve("journal.out").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("JOURNAL_STREAM", "8:12345");
        Process p = pb.start();
        try {
            awaitLine(log, "<6>[emperor] ready: ");
            awaitLine(log, "<6>[j] sleeps.sh running pid=");
            awaitLine(log, "<3>[emperor] broken: refused: ");
        } finally {
            p.destroy(); // SIGTERM: the emperor stops its vassals and exits
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        assertEquals(0, p.exitValue(), Workspace.read(ws.root.resolve("journal.out")));
        awaitLine(log, "<6>[j] sleeps.sh: got TERM, exiting");
        awaitLine(log, "<6>[emperor] stopped");
        for (String line : Files.readAllLines(log)) {
            assertTrue(line.matches("^<[346]>.*"), "every line has a priority and no timestamp: " + line);
        }
    }

    private static void awaitLine(Path log, String prefix) {
        Poll.until("a line starting with " + prefix + " in " + log, WAIT,
                () -> Workspace.read(log).lines().anyMatch(l -> l.startsWith(prefix)),
                () -> Workspace.read(log));
    }
}
