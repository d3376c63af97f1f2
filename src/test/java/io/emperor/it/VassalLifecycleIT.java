package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The life of one vassal with a real emperor and real processes: drop, touch, restart, exec
 * change, removal, a vassal that ignores TERM, and a vassal killed behind the emperor's back.
 */
class VassalLifecycleIT extends ItSupport {

    @Test
    void droppedFileRunsItsProgramAndItsOutputIsLoggedUnderItsName() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("hello", "exec = " + ws.exec("sleeps.sh", "hello-arg"), "stop-timeout = 2");

            LogLine spawned = emp.awaitLog(spawned("hello"));
            Proc p = awaitRunning(emp, from, "hello");
            assertEquals(spawned.longGroup(1), p.pid());
            assertVassalProcess(emp, p, ws.argv("sleeps.sh", "hello-arg"));
            // The uid/gid in the line are the ones the process runs with.
            String uids = Procs.status(p.pid(), "Uid").orElseThrow();
            String gids = Procs.status(p.pid(), "Gid").orElseThrow();
            assertEquals(spawned.group(2), uids.split("\\s+")[1], "effective uid " + uids);
            assertEquals(spawned.group(3), gids.split("\\s+")[1], "effective gid " + gids);
            // Its stdout arrives in the emperor's log, tagged with the vassal's name.
            emp.awaitLog(output("hello", q("sleeps.sh running pid=" + p.pid() + " args=hello-arg " + ws.marker) + "$"));
        }
    }

    @Test
    void touchSendsTheReloadSignalToTheSameProcess() {
        try (EmperorProcess emp = emperor()) {
            Path record = ws.root.resolve("hups");
            int from = emp.mark();
            Path file = ws.vassal("app", "exec = " + ws.exec("trap-hup.sh", record.toString()), "stop-timeout = 2");
            Proc p = awaitRunning(emp, from, "app");

            // Repeated: each touch is one HUP, never a restart.
            for (int n = 1; n <= 3; n++) {
                emp.mark();
                Workspace.touch(file);
                emp.awaitLog(lifecycle("app", q("reloading signal=HUP pid=" + p.pid()) + "$"));
                List<String> hups = awaitLines(record, n);
                assertEquals("hup " + p.pid(), hups.get(n - 1));
                emp.awaitLog(output("app", q("trap-hup.sh: got HUP")));
                assertTrue(p.isAlive(), "same process after the reload: " + p);
            }
            assertEquals(1, emp.countLog(spawned("app")), "spawned once");
        }
    }

    @Test
    void reloadRestartGivesANewProcess() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            Path file = ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "reload = restart", "stop-timeout = 2");
            Proc old = awaitRunning(emp, from, "app");

            from = emp.mark();
            Workspace.touch(file);
            emp.awaitLog(lifecycle("app", q("restarting: reload = restart signal=TERM pid=" + old.pid() + " timeout=2s")));
            emp.awaitLog(output("app", q("sleeps.sh: got TERM, exiting")));
            emp.awaitLog(lifecycle("app", "stopped status=0 after \\d+\\.\\d\\ds$"));
            Proc next = awaitRunning(emp, from, "app");

            assertNotEquals(old.pid(), next.pid());
            assertFalse(old.isAlive(), "the old process is gone: " + old);
            assertVassalProcess(emp, next, ws.argv("sleeps.sh"));
        }
    }

    @Test
    void changedExecRestartsWithTheNewCommand() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("app", "exec = " + ws.exec("sleeps.sh", "first"), "stop-timeout = 2");
            Proc old = awaitRunning(emp, from, "app");
            assertVassalProcess(emp, old, ws.argv("sleeps.sh", "first"));

            from = emp.mark();
            ws.vassal("app", "exec = " + ws.exec("sleeps.sh", "second"), "stop-timeout = 2");
            emp.awaitLog(lifecycle("app", q("restarting: spawn settings changed signal=TERM pid=" + old.pid())));
            emp.awaitLog(lifecycle("app", "stopped status=0 after "));
            Proc next = awaitRunning(emp, from, "app");

            assertNotEquals(old.pid(), next.pid());
            assertFalse(old.isAlive(), "the old process is gone: " + old);
            assertVassalProcess(emp, next, ws.argv("sleeps.sh", "second"));
            emp.awaitLog(output("app", q("sleeps.sh running pid=" + next.pid() + " args=second")));
        }
    }

    @Test
    void removedFileStopsTheProcessWithinStopTimeout() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            // A stop-timeout a loaded machine cannot reach by being slow: only a TERM not obeyed reaches it.
            Path file = ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 15");
            Proc p = awaitRunning(emp, from, "app");
            List<Proc> tree = Procs.descendantsOf(p.pid()); // its sleep(1)

            from = emp.mark();
            Workspace.delete(file);
            LogLine stopping = emp.awaitLog(lifecycle("app",
                    q("stopping: file removed signal=TERM pid=" + p.pid() + " timeout=15s") + "$"));
            // Within the stop-timeout: the TERM was obeyed (status 0, from its trap), no SIGKILL.
            emp.awaitLogAfter(stopping, lifecycle("app", "stopped status=0 after \\d+\\.\\d\\ds$"));
            awaitGone(p, WAIT);
            assertTrue(emp.find(from, lifecycle("app", "stop-timeout")).isEmpty(), "no SIGKILL was needed");
            for (Proc child : tree) {
                awaitGone(child, WAIT);
            }
            assertTrue(Procs.withMarker(ws.marker).isEmpty(), () -> "left: " + Procs.describe(Procs.withMarker(ws.marker)));
        }
    }

    @Test
    void vassalThatIgnoresTermIsKilledWithItsChildAfterStopTimeout() {
        try (EmperorProcess emp = emperor()) {
            Path pidFile = ws.root.resolve("ignores-term.pids");
            int from = emp.mark();
            Path file = ws.vassal("stubborn", "exec = " + ws.exec("ignores-term.sh", pidFile.toString()), "stop-timeout = 1");
            Proc parent = awaitRunning(emp, from, "stubborn");
            long[] pids = Arrays.stream(awaitLines(pidFile, 1).get(0).trim().split(" ")).mapToLong(Long::parseLong).toArray();
            assertEquals(parent.pid(), pids[0]);
            Proc child = Procs.read(pids[1]).orElseThrow(() -> new AssertionError("no child " + pids[1]));
            assertEquals(parent.pid(), child.ppid());
            assertEquals(parent.pid(), child.pgid(), "the child is in the vassal's process group");
            emp.awaitLog(output("stubborn", q("ignores-term.sh child running pid=" + child.pid())));

            emp.mark();
            Workspace.delete(file);
            LogLine stopping = emp.awaitLog(lifecycle("stubborn",
                    q("stopping: file removed signal=TERM pid=" + parent.pid() + " timeout=1s") + "$"));
            LogLine kill = emp.awaitLogAfter(stopping, lifecycle("stubborn",
                    q("stop-timeout 1s passed: SIGKILL to process group " + parent.pid()) + "$"));
            emp.awaitLogAfter(kill, lifecycle("stubborn", "stopped signal=KILL after \\d+\\.\\d\\ds$"));
            awaitGone(parent, WAIT);
            awaitGone(child, WAIT);

            long waited = Duration.between(stopping.time(), kill.time()).toMillis();
            assertTrue(waited >= 900, "SIGKILL only after the stop-timeout of 1 s, was after " + waited + " ms");
            assertTrue(Procs.withMarker(ws.marker).isEmpty(), () -> "left: " + Procs.describe(Procs.withMarker(ws.marker)));
        }
    }

    @Test
    void killedVassalIsRespawnedAtOnceAfterMinUptime() {
        // min-uptime as short as emperor.ini allows (at least 1 s): so the test waits little.
        try (EmperorProcess emp = emperor("min-uptime = 1")) {
            int from = emp.mark();
            ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Proc old = awaitRunning(emp, from, "app");
            // Past min-uptime as the emperor counts it: from when it recorded the spawn, which is
            // before its "spawned" line (the process's own start time can be much older on a
            // loaded machine: the spawn is recorded after the fork returns).
            Instant recorded = emp.awaitLogFrom(from, spawned("app"), WAIT).time();
            Poll.until("app to be up for 1.2 s by the emperor's count", () -> Instant.now().isAfter(recorded.plusMillis(1200)));

            List<Proc> oldChildren = Procs.descendantsOf(old.pid());
            assertFalse(oldChildren.isEmpty(), "sleeps.sh runs sleep(1)");

            from = emp.mark();
            Procs.kill(old.pid(), "KILL");
            LogLine exited = emp.awaitLog(lifecycle("app", "exited signal=KILL uptime=(\\d+\\.\\d\\d)s$"));
            assertTrue(Double.parseDouble(exited.group(1)) >= 1.0, "up past min-uptime: " + exited.text());
            LogLine respawned = emp.awaitLogAfter(exited, spawned("app"));
            Proc next = awaitRunning(emp, from, "app");

            assertEquals(respawned.longGroup(1), next.pid());
            assertNotEquals(old.pid(), next.pid());
            awaitGone(old, WAIT);
            for (Proc child : oldChildren) {
                awaitGone(child, WAIT); // the group is killed when the vassal is reaped
            }
            assertVassalProcess(emp, next, ws.argv("sleeps.sh"));
            // At once: no backoff (a backoff is always logged, and waits 1 s at least). How long
            // the respawn took by the clock is no verdict: a loaded machine can take that long.
            assertEquals(Optional.empty(), emp.first(from, lifecycle("app", "backoff")).map(LogLine::text),
                    () -> "respawned at once, no backoff\n" + emp.diagnostics());
        }
    }

    @Test
    void vassalGetsItsEnvButNotTheEmperorsOwnVariablesAndAnEnvChangeRestartsIt() {
        Map<String, String> env = Map.of("NOTIFY_SOCKET", "/nonexistent/notify", "UWSGI_EMPEROR_TEST", "1",
                "EMPEROR_IT_INHERITED", "yes");
        Path ini = ws.emperorIni("vassals = " + ws.vassals);
        try (EmperorProcess emp = EmperorProcess.start(ws, env, "--config", ini.toString())) {
            int from = emp.mark();
            ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "env = GREETING=hello from %n", "env = EMPTY=",
                    "stop-timeout = 2");
            Proc p = awaitRunning(emp, from, "app");
            Map<String, String> e = Procs.environ(p.pid());
            assertEquals("hello from app", e.get("GREETING"));
            assertEquals("", e.get("EMPTY"));
            assertEquals("yes", e.get("EMPEROR_IT_INHERITED"), "the emperor's environment is the base");
            assertFalse(e.containsKey("NOTIFY_SOCKET"), "the emperor's notify socket is not the vassal's");
            assertFalse(e.containsKey("UWSGI_EMPEROR_TEST"), "no UWSGI_* leaks into a vassal");

            from = emp.mark();
            ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "env = GREETING=bye", "env = EMPTY=", "stop-timeout = 2");
            emp.awaitLog(lifecycle("app", q("restarting: spawn settings changed signal=TERM pid=" + p.pid())));
            Proc next = awaitRunning(emp, from, "app");
            assertNotEquals(p.pid(), next.pid());
            assertEquals("bye", Procs.environ(next.pid()).get("GREETING"));
        }
    }

    @Test
    void fileDroppedAndRemovedInQuickSuccessionLeavesExactlyWhatTheDirectorySays() {
        try (EmperorProcess emp = emperor()) {
            // Repeated, removing the file at different moments: before the emperor saw it, once it
            // was spawned, once it runs; and every interleaving the timing happens to give.
            for (int i = 0; i < 15; i++) {
                int round = emp.mark();
                Path f = ws.vassal("flicker", "exec = " + ws.exec("sleeps.sh", "round" + i), "stop-timeout = 1");
                if (i % 3 == 1) {
                    emp.awaitLogFrom(round, spawned("flicker"), WAIT);
                } else if (i % 3 == 2) {
                    emp.awaitLogFrom(round, output("flicker", "sleeps\\.sh running pid=\\d+ args=round" + i + " "), WAIT);
                }
                Workspace.delete(f);
            }
            int from = emp.mark();
            Path f = ws.vassal("flicker", "exec = " + ws.exec("sleeps.sh", "final"), "stop-timeout = 1");
            LogLine running = emp.awaitLog(output("flicker", "sleeps\\.sh running pid=(\\d+) args=final "));
            long pid = running.longGroup(1);
            Poll.until("only the final version of flicker to run", WAIT,
                    () -> Procs.withMarker(ws.marker).stream().map(Proc::pid).toList().equals(List.of(pid)),
                    () -> Procs.describe(Procs.withMarker(ws.marker)) + "\n" + emp.diagnostics());
            assertEquals(1, emp.find(from, lifecycle("flicker", "spawned pid=" + pid + " ")).size(), "the emperor spawned it");

            Workspace.delete(f);
            emp.awaitLog(lifecycle("flicker", q("stopping: file removed signal=TERM pid=" + pid)));
            Poll.until("no vassal process left", WAIT, () -> Procs.withMarker(ws.marker).isEmpty()
                    && emp.vassalProcesses().isEmpty(), () -> Procs.describe(emp.vassalProcesses()) + "\n" + emp.diagnostics());
            assertTrue(emp.isAlive());
        }
    }
}
