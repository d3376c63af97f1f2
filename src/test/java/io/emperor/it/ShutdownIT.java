package io.emperor.it;

import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How the emperor ends: SIGTERM and SIGINT stop every vassal; an emperor killed takes its vassals along. */
class ShutdownIT extends ItSupport {

    @Test
    void sigtermStopsTwentyVassalsInParallelExitsZeroAndLeavesNoOrphan() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            List<String> names = new ArrayList<>();
            List<Path> pidFiles = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                ws.vassal("polite" + i, "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
                Path pidFile = ws.root.resolve("stubborn" + i + ".pids");
                pidFiles.add(pidFile);
                ws.vassal("stubborn" + i, "exec = " + ws.exec("ignores-term.sh", pidFile.toString()), "stop-timeout = 1");
                names.add("polite" + i);
                names.add("stubborn" + i);
            }
            List<Proc> vassals = new ArrayList<>();
            for (String name : names) {
                vassals.add(awaitRunning(emp, from, name));
            }
            for (Path pidFile : pidFiles) {
                awaitLines(pidFile, 1);
            }
            List<Proc> tree = emp.descendants();
            for (Proc v : vassals) {
                assertTrue(tree.stream().anyMatch(p -> p.pid() == v.pid()), () -> v + " is the emperor's");
            }
            assertTrue(tree.size() >= 40, () -> "20 vassals, each with a child: " + Procs.describe(tree));

            int stop = emp.mark();
            long t0 = System.nanoTime();
            emp.signal("TERM");
            int code = emp.awaitExit(WAIT);
            long tookMillis = (System.nanoTime() - t0) / 1_000_000;

            assertEquals(0, code, emp::diagnostics);
            emp.awaitLog(Lines.emperor(q("stopping 20 vassal(s) (SIGTERM)") + "$"));
            assertEquals(20, emp.find(stop, Lines.emperor("\\S+: stopping: emperor stopping signal=TERM pid=\\d+ timeout=")).size(),
                    emp::diagnostics);
            assertEquals(10, emp.find(stop, Lines.emperor("polite\\d+: stopped status=0 after ")).size(), emp::diagnostics);
            assertEquals(10, emp.find(stop, Lines.emperor("stubborn\\d+: stop-timeout 1s passed: SIGKILL to process group \\d+$"))
                    .size(), emp::diagnostics);
            assertEquals(10, emp.find(stop, Lines.emperor("stubborn\\d+: stopped signal=KILL after ")).size(), emp::diagnostics);
            List<String> lines = emp.lines();
            assertTrue(lines.get(lines.size() - 1).matches("\\S+ \\[emperor\\] stopped"), () -> "last line: " + emp.diagnostics());
            // In parallel: all twenty stops were begun before the first stop-timeout passed (one
            // after the other, each stubborn one's SIGKILL would come before the next one's TERM).
            int lastStopping = emp.find(stop, Lines.emperor("\\S+: stopping: emperor stopping ")).stream()
                    .mapToInt(LogLine::index).max().orElseThrow();
            int firstKill = emp.find(stop, Lines.emperor("stubborn\\d+: stop-timeout 1s passed")).stream()
                    .mapToInt(LogLine::index).min().orElseThrow();
            assertTrue(lastStopping < firstKill, emp::diagnostics);
            for (Proc p : tree) {
                awaitGone(p, WAIT);
            }
            assertEquals(List.of(), Procs.withMarker(ws.marker), "no orphan carries the test's marker");
            System.out.println("SIGTERM with 20 vassals (10 ignoring TERM, stop-timeout 1 s): exit 0 after " + tookMillis + " ms");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"INT", "QUIT"})
    void sigintAndSigquitStopLikeSigterm(String signal) {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Proc p = awaitRunning(emp, from, "app");
            emp.signal(signal);
            assertEquals(0, emp.awaitExit(WAIT), emp::diagnostics);
            emp.awaitLog(Lines.emperor(q("stopping 1 vassal(s) (SIG" + signal + ")") + "$"));
            emp.awaitLog(Lines.lifecycle("app", "stopped status=0 after "));
            awaitGone(p, WAIT);
        }
    }

    @Test
    void killedEmperorTakesItsVassalsAlong() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            Path pidFile = ws.root.resolve("stubborn.pids");
            ws.vassal("polite", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            ws.vassal("stubborn", "exec = " + ws.exec("ignores-term.sh", pidFile.toString()), "stop-timeout = 2");
            List<Proc> vassals = new ArrayList<>(List.of(awaitRunning(emp, from, "polite"), awaitRunning(emp, from, "stubborn")));
            awaitLines(pidFile, 1);

            emp.signal("KILL");
            assertNotEquals(0, emp.awaitExit(WAIT));
            // The parent-death signal (SIGKILL, set by the exec helper) ends every vassal, even one
            // that ignores SIGTERM.
            for (Proc v : vassals) {
                awaitGone(v, WAIT);
            }
            assertTrue(Procs.withMarker(ws.marker).stream().noneMatch(p -> vassals.stream().anyMatch(v -> v.pid() == p.pid())),
                    "no vassal outlives the emperor");
        }
    }
}
