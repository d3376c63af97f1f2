package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Vassals that keep failing: exponential backoff, never a tight loop, cut short by a touch. */
class BackoffIT extends ItSupport {

    @Test
    void vassalThatExitsAtOnceBacksOffOneTwoFourSecondsAndATouchRetriesAtOnce() throws Exception {
        try (EmperorProcess emp = emperor("min-uptime = 10", "max-backoff = 60")) {
            int from = emp.mark();
            Path file = ws.vassal("crashy", "exec = " + ws.exec("exits-at-once.sh"), "stop-timeout = 1");

            List<LogLine> spawns = emp.awaitCount(from, spawned("crashy"), 4, Duration.ofSeconds(40));
            LogLine fourth = emp.awaitLog(lifecycle("crashy", q("backoff retry in 8s (4 quick exits in a row)") + "$"));
            // Each exit is logged with its status, then the backoff that follows it.
            List<LogLine> exits = emp.find(from, lifecycle("crashy", "exited status=3 uptime=\\d+\\.\\d\\ds$"));
            assertEquals(4, exits.size(), emp::diagnostics);
            emp.awaitLog(lifecycle("crashy", q("backoff retry in 1s (1 quick exit)") + "$"));
            emp.awaitLog(lifecycle("crashy", q("backoff retry in 2s (2 quick exits in a row)") + "$"));
            emp.awaitLog(lifecycle("crashy", q("backoff retry in 4s (3 quick exits in a row)") + "$"));
            emp.awaitLog(output("crashy", q("exits-at-once.sh: exiting with status 3")));

            // The gaps between spawns grow: at least 1 s, 2 s, 4 s (no tight loop). The upper bound
            // is loose: a loaded machine adds the time the fixture takes to start and exit.
            double[] expected = {1, 2, 4};
            StringBuilder gaps = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                double gap = Duration.between(spawns.get(i).time(), spawns.get(i + 1).time()).toMillis() / 1000.0;
                gaps.append(gap).append("s ");
                assertTrue(gap >= expected[i] - 0.1 && gap <= expected[i] + 5.0,
                        "gap " + (i + 1) + " between spawns should be about " + expected[i] + " s: " + gaps + "\n"
                                + emp.diagnostics());
            }
            System.out.println("backoff gaps between spawns: " + gaps);

            // A touch during the 8 s backoff retries at once: before the backoff would have ended.
            Workspace.touch(file);
            LogLine retry = emp.awaitLogAfter(fourth, lifecycle("crashy", "retrying now: file changed$"));
            LogLine respawn = emp.awaitLogAfter(retry, spawned("crashy"));
            assertTrue(respawn.time().isBefore(fourth.time().plusSeconds(8)),
                    "spawned at " + respawn.time() + ", not after the 8 s backoff from " + fourth.time());
            assertEquals(5, emp.find(from, spawned("crashy")).size(), "five spawns in all, no tight loop");
            // The touch started a new series: the next quick exit waits 1 s again.
            emp.awaitLogAfter(respawn, lifecycle("crashy", q("backoff retry in 1s (1 quick exit)") + "$"));
        }
    }

    @Test
    void failureBeforeExecIsLoggedWithTheStepAndErrnoThenBacksOff() throws Exception {
        try (EmperorProcess emp = emperor("min-uptime = 10")) {
            Path missing = ws.root.resolve("no-such-dir");
            int from = emp.mark();
            Path file = ws.vassal("lost", "exec = " + ws.exec("sleeps.sh"), "chdir = " + missing, "stop-timeout = 1");

            LogLine spawned = emp.awaitLog(spawned("lost"));
            Proc helper = Procs.read(spawned.longGroup(1)).orElse(null);
            LogLine failed = emp.awaitLog(lifecycle("lost",
                    q("spawn failed: chdir " + missing + ": No such file or directory") + "$"));
            LogLine backoff = emp.awaitLogAfter(failed, lifecycle("lost", q("backoff retry in 1s (1 quick exit)") + "$"));
            LogLine failedAgain = emp.awaitLogAfter(backoff, lifecycle("lost", q("spawn failed: chdir " + missing + ":")));
            emp.awaitLogAfter(failedAgain, lifecycle("lost", q("backoff retry in 2s (2 quick exits in a row)") + "$"));
            if (helper != null) {
                awaitGone(helper, WAIT);
            }
            // The program itself never ran.
            assertTrue(emp.find(from, output("lost", "")).isEmpty(),
                    () -> "no output from a program that never ran: " + emp.find(from, output("lost", "")));

            // Fixing what was wrong and touching the file starts it at once.
            Files.createDirectory(missing);
            int fixed = emp.mark();
            Workspace.touch(file);
            emp.awaitLog(lifecycle("lost", "retrying now: file changed$"));
            Proc p = awaitRunning(emp, fixed, "lost");
            assertEquals(missing.toString(), Files.readSymbolicLink(Path.of("/proc/" + p.pid() + "/cwd")).toString());
        }
    }
}
