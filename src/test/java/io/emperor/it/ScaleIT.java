package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Many vassals, many cycles: bounded threads, clean shutdown, no fd leak. */
class ScaleIT extends ItSupport {
    /** The emperor's thread count must not grow with the number of vassals (DESIGN §7). */
    private static final int THREAD_BOUND = 40;

    @Test
    void twoHundredVassalsRunWithABoundedThreadCountAndStopCleanly() {
        try (EmperorProcess emp = emperor()) {
            int threadsIdle = emp.threads();
            int from = emp.mark();
            for (int i = 0; i < 200; i++) {
                ws.vassal(String.format("v%03d", i), "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            }
            List<LogLine> spawns = emp.awaitCount(from, Lines.anySpawned(), 200, Duration.ofSeconds(90));
            emp.awaitCount(from, Pattern.compile("^\\S+ \\[v\\d{3}\\] sleeps\\.sh running pid=\\d+ "), 200, Duration.ofSeconds(90));

            Set<String> names = new HashSet<>();
            List<Proc> vassals = new ArrayList<>();
            for (LogLine s : spawns) {
                names.add(s.group(1));
                Proc p = Procs.read(s.longGroup(2)).orElseThrow(() -> new AssertionError("no process for " + s));
                vassals.add(p);
            }
            assertEquals(200, names.size(), "200 different vassals");
            assertEquals(200, vassals.stream().filter(Proc::isAlive).count(), "200 live vassal processes");
            for (Proc p : vassals) {
                assertVassalProcess(emp, p, ws.argv("sleeps.sh"));
            }
            int threads = emp.threads();
            System.out.println("emperor threads: " + threadsIdle + " with no vassal, " + threads + " with 200 vassals");
            assertTrue(threads < THREAD_BOUND, "the emperor has " + threads + " threads with 200 vassals (bound "
                    + THREAD_BOUND + "; " + threadsIdle + " with none)");
            List<Proc> tree = emp.descendants();

            emp.signal("TERM");
            assertEquals(0, emp.awaitExit(Duration.ofSeconds(60)), emp::diagnostics);
            assertEquals(200, emp.countLog(Lines.emperor("v\\d{3}: stopped status=0 after ")), emp::diagnostics);
            for (Proc p : tree) {
                awaitGone(p, WAIT);
            }
            assertEquals(List.of(), Procs.withMarker(ws.marker), "no orphan carries the test's marker");
        }
    }

    @Test
    void noFdLeakAfterFiveHundredSpawnExitCycles() {
        // Vassals that exit on their own just after min-uptime are respawned at once, without
        // backoff: 100 of them living 1.1 s give 500 spawn/exit cycles in about 6 s.
        String lives = "exec = " + ws.exec("exits-after.sh", "1.1");
        try (EmperorProcess emp = emperor("min-uptime = 1")) {
            // Warm up: whatever the first spawn and exit open for good (classes, libraries) is open now.
            int from = emp.mark();
            Path warmup = ws.vassal("warmup", lives, "stop-timeout = 1");
            emp.awaitCount(from, spawned("warmup"), 2, WAIT);
            Workspace.delete(warmup);
            emp.awaitLog(lifecycle("warmup", "(stopped .*|removed)$"));
            Poll.until("the emperor to have no child but its spawn server", WAIT, () -> emp.vassalProcesses().isEmpty(),
                    () -> Procs.describe(emp.vassalProcesses()));
            List<String> fdsBefore = emp.fds();
            int threadsBefore = emp.threads();

            int cycles = emp.mark();
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                files.add(ws.vassal(String.format("cycle%03d", i), lives, "stop-timeout = 1"));
            }
            Pattern cycleSpawned = Lines.emperor("cycle\\d{3}: spawned pid=");
            emp.awaitCount(cycles, cycleSpawned, 500, Duration.ofSeconds(120));
            int removal = emp.mark();
            for (Path f : files) {
                Workspace.delete(f);
            }
            for (int i = 0; i < 100; i++) {
                emp.awaitLogFrom(removal, lifecycle(String.format("cycle%03d", i), "(stopped .*|removed)$"), WAIT);
            }
            Poll.until("the emperor to have no child but its spawn server (every exit reaped)", WAIT, () -> emp.vassalProcesses().isEmpty(),
                    () -> Procs.describe(emp.vassalProcesses()));

            int spawnedCount = emp.find(cycles, cycleSpawned).size();
            int exitedCount = emp.find(cycles, Lines.emperor("cycle\\d{3}: exited status=0 ")).size();
            assertTrue(exitedCount >= spawnedCount - 100, "each run but the last exited on its own: "
                    + exitedCount + " exits for " + spawnedCount + " spawns");
            assertEquals(0, emp.find(cycles, Lines.emperor("cycle\\d{3}: (backoff|spawn failed)")).size(),
                    "up for min-uptime: respawned at once, never failed");
            int before = fdsBefore.size();
            Poll.until("the emperor's fd count to settle back to " + before + " (+-3)", WAIT,
                    () -> emp.fdCount() <= before + 3,
                    () -> "before (" + before + "): " + fdsBefore + "\nnow (" + emp.fdCount() + "): " + emp.fds());
            int after = emp.fdCount();
            System.out.println("fds: " + before + " before, " + after + " after " + spawnedCount
                    + " spawn/exit cycles; threads " + threadsBefore + " -> " + emp.threads());
            assertTrue(Math.abs(after - before) <= 3, "fds " + before + " -> " + after);
        }
    }
}
