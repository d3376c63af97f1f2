package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The emperor's own configuration: vassal directories that appear later, SIGHUP. */
class ConfigIT extends ItSupport {

    @Test
    void missingVassalDirectoryIsLoggedOnceAndPickedUpWhenCreated() throws Exception {
        // A vassal whose file is a symlink to a file outside the watched directory: a touch of the
        // target is seen only by the periodic rescan, so each reload it gets proves one rescan.
        Path record = ws.root.resolve("hups");
        Path target = ws.vassalIn(Files.createDirectories(ws.root.resolve("targets")), "tick",
                "exec = " + ws.exec("trap-hup.sh", record.toString()), "stop-timeout = 2");
        Files.createSymbolicLink(ws.vassals.resolve("tick.ini"), target);
        Path later = ws.root.resolve("later").resolve("vassals");
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "vassals = " + later, "rescan = 1");

        try (EmperorProcess emp = EmperorProcess.start(ws, "--config", ini.toString())) {
            Proc tick = awaitRunning(emp, 0, "tick");
            LogLine missing = emp.awaitLogFrom(0, Lines.emperor(q("vassal directory " + later + " does not exist; waiting for it") + "$"), WAIT);
            for (int n = 1; n <= 2; n++) {
                emp.mark();
                Workspace.touch(target);
                emp.awaitLog(lifecycle("tick", q("reloading signal=HUP pid=" + tick.pid()) + "$"));
                awaitLines(record, n);
            }
            assertEquals(1, emp.countLog(Lines.emperor(q("vassal directory " + later + " does not exist"))),
                    "logged once, not at every rescan\n" + emp.diagnostics());

            int created = emp.mark();
            Files.createDirectories(later);
            ws.vassalIn(later, "late", "exec = " + ws.exec("sleeps.sh", "late"), "stop-timeout = 2");
            Proc late = awaitRunning(emp, created, "late");
            assertVassalProcess(emp, late, ws.argv("sleeps.sh", "late"));
            emp.awaitLog(Lines.emperor(q("vassal directory " + later + " appeared")));
            assertTrue(missing.index() < created, "the missing directory was reported before it was created");
            assertTrue(tick.isAlive(), "the other vassal keeps running");
        }
    }

    @Test
    void sighupAppliesANewVassalDirectoryAndLeavesRunningVassalsAlone() throws Exception {
        Path record = ws.root.resolve("hups");
        Path more = Files.createDirectories(ws.root.resolve("more"));
        Path ini = ws.emperorIni("vassals = " + ws.vassals);
        try (EmperorProcess emp = EmperorProcess.start(ws, "--config", ini.toString())) {
            int from = emp.mark();
            ws.vassal("a", "exec = " + ws.exec("trap-hup.sh", record.toString()), "stop-timeout = 2");
            Proc a = awaitRunning(emp, from, "a");
            ws.vassalIn(more, "b", "exec = " + ws.exec("sleeps.sh", "b"), "stop-timeout = 2");

            int hup = emp.mark();
            ws.emperorIni("vassals = " + ws.vassals, "vassals = " + more);
            emp.signal("HUP");
            emp.awaitLog(Lines.emperor(q("reloading configuration (SIGHUP)") + "$"));
            Proc b = awaitRunning(emp, hup, "b");
            assertVassalProcess(emp, b, ws.argv("sleeps.sh", "b"));

            assertTrue(a.isAlive(), "the vassal of the first directory keeps its process: " + a);
            assertEquals(List.of(), emp.find(hup, lifecycle("a", "")).stream().map(LogLine::text).toList(),
                    "nothing happened to vassal a");
            assertEquals("", Workspace.read(record), "vassal a got no signal");
            assertEquals(1, emp.countLog(Lines.spawned("a")));

            // A SIGHUP with a broken emperor.ini changes nothing and says why.
            int broken = emp.mark();
            ws.emperorIni("vassals = " + ws.vassals, "rescan = never"); // line 3
            emp.signal("HUP");
            emp.awaitLog(Lines.emperor(q("emperor.ini not reloaded: " + ini + ":3: rescan: ")));
            // The configuration in force is still the previous one: the second directory is watched.
            ws.vassalIn(more, "c", "exec = " + ws.exec("sleeps.sh", "c"), "stop-timeout = 2");
            awaitRunning(emp, broken, "c");
            assertTrue(a.isAlive() && b.isAlive(), "both vassals keep running");
            assertEquals(List.of(), emp.find(broken, Lines.emperor("(a|b): ")).stream().map(LogLine::text).toList(),
                    "nothing happened to vassals a and b");
        }
    }

    /**
     * Regression: every SIGHUP reopens the log file (for logrotate); that once went through
     * LoggerContext.reset() before a new appender existed, and whatever another thread logged
     * in between (here: the I/O thread writing vassal output) was lost.
     */
    @Test
    void sighupLosesNoLineOfVassalOutput() {
        Path ini = ws.emperorIni("vassals = " + ws.vassals);
        try (EmperorProcess emp = EmperorProcess.start(ws, "--config", ini.toString())) {
            Path file = ws.vassal("counter", "exec = " + ws.exec("counts.sh"), "stop-timeout = 2");
            emp.awaitLog(Lines.output("counter", "count 1$"));
            int from = emp.mark();
            for (int hup = 1; hup <= 40; hup++) {
                emp.signal("HUP"); // back to back, while the output flows
            }
            int reloads = emp.awaitCount(from, Lines.emperor(q("reloading configuration (SIGHUP)")), 20, WAIT).size();
            Workspace.delete(file);
            emp.awaitLog(Lines.lifecycle("counter", "stopped "));

            BitSet seen = new BitSet();
            Pattern count = Pattern.compile("^\\S+ \\[counter\\] count (\\d+)$");
            for (String line : emp.lines()) {
                Matcher m = count.matcher(line);
                if (m.find()) {
                    seen.set(Integer.parseInt(m.group(1)));
                }
            }
            int last = seen.length() - 1;
            int missing = last - seen.cardinality();
            assertEquals(0, missing, missing + " of the " + last + " output lines printed during " + reloads
                    + " SIGHUPs are not in the log (the first: count " + seen.nextClearBit(1) + ")");
        }
    }
}
