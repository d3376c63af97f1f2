package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Nothing a vassal starts outlives it (docs/lifecycle.md, "What a stop reaches"): a double-forked
 * setsid daemon and a plain child of a vassal are gone after rm of its file, after SIGTERM of the
 * emperor, and after SIGKILL of the emperor once the next emperor has started; a crashed emperor's
 * server no longer holds its port when the next one starts its own.
 */
class ContainmentIT extends ItSupport {

    /** Starts the daemon-spawning vassal; its main process, the plain child and the daemon. */
    private List<Proc> startSpawner(EmperorProcess emp, Path pids) {
        int from = emp.mark();
        ws.vassal("spawner", "exec = " + ws.exec("spawns-daemon.sh", pids.toString()), "stop-timeout = 3");
        Proc main = awaitRunning(emp, from, "spawner");
        List<Proc> all = new ArrayList<>(List.of(main));
        for (String line : awaitLines(pids, 2)) {
            long pid = Long.parseLong(line.split(" ")[1]);
            all.add(Procs.read(pid).orElseThrow(() -> new AssertionError(line + ": not running")));
        }
        Proc daemon = all.stream().filter(p -> p.command().contains("--daemon")).findFirst().orElseThrow();
        assertTrue(daemon.session() != main.pid() && daemon.pgid() != main.pid(),
                () -> "the daemon left the vassal's session: " + daemon);
        return all;
    }

    private void assertNothingLeft(List<Proc> procs) {
        for (Proc p : procs) {
            awaitGone(p, WAIT);
        }
        Poll.until("no process with the marker " + ws.marker, WAIT, () -> Procs.withMarker(ws.marker).isEmpty(),
                () -> Procs.describe(Procs.withMarker(ws.marker)));
    }

    /** An emperor on the workspace with containment {@code mode} ({@code -Demperor.containment}), as its start line says. */
    private EmperorProcess emperorWith(String mode) {
        if (!mode.equals("mark")) {
            Assumptions.assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0,
                    "creating cgroups needs root here (or a delegated cgroup v2 subtree)");
            Assumptions.assumeTrue(Files.isDirectory(Path.of(mode.equals("cgroup2") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup/pids"))
                    || mode.equals("cgroup2") && Files.exists(Path.of("/sys/fs/cgroup/cgroup.procs")), mode + " is not mounted");
        }
        EmperorProcess emp = EmperorProcess.start(ws, java.util.Map.of("JAVA_TOOL_OPTIONS", "-Demperor.containment=" + mode),
                "--config", ws.emperorIni("vassals = " + ws.vassals).toString());
        String text = mode.equals("cgroup2") ? "cgroup v2 " : mode.equals("cgroup1") ? "cgroup v1 " : "mark EMPEROR_RUN=";
        emp.awaitLogFrom(0, Lines.emperor("containment: " + java.util.regex.Pattern.quote(text)), WAIT);
        return emp;
    }

    @ParameterizedTest
    @ValueSource(strings = {"cgroup2", "cgroup1", "mark"})
    void rmOfTheFileStopsTheDaemonAndTheChildToo(String mode) {
        Path pids = ws.root.resolve("spawner.pids");
        try (EmperorProcess emp = emperorWith(mode)) {
            List<Proc> procs = startSpawner(emp, pids);
            int from = emp.mark();
            Workspace.delete(ws.vassals.resolve("spawner.ini"));
            emp.awaitLogFrom(from, Lines.emperor("spawner: stopped "), WAIT);
            assertNothingLeft(procs);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cgroup2", "cgroup1", "mark"})
    void sigtermOfTheEmperorStopsTheDaemonAndTheChildToo(String mode) {
        Path pids = ws.root.resolve("spawner.pids");
        try (EmperorProcess emp = emperorWith(mode)) {
            List<Proc> procs = startSpawner(emp, pids);
            emp.signal("TERM");
            assertEquals(0, emp.awaitExit(Duration.ofSeconds(60)), emp::diagnostics);
            assertNothingLeft(procs);
            if (mode.equals("mark")) {
                // Nothing is left for a next emperor to look for: the state file goes too (a
                // package purge removes the runtime directory it is in).
                Path state = Path.of(emp.awaitLogFrom(0, Lines.emperor("containment: mark .*, state file (\\S+) "),
                        WAIT).group(1));
                assertFalse(Files.exists(state), () -> state + " is left after a clean stop");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cgroup2", "cgroup1", "mark"})
    void afterSigkillOfTheEmperorTheNextOneStopsWhatTheVassalLeftBeforeItSpawns(String mode) {
        Path pids = ws.root.resolve("spawner.pids");
        // The crashed emperor is closed last: its close() would kill what carries the marker.
        try (EmperorProcess emp = emperorWith(mode)) {
            List<Proc> procs = startSpawner(emp, pids);
            emp.signal("KILL");
            emp.awaitExit(Duration.ofSeconds(60));
            Proc daemon = procs.stream().filter(p -> p.command().contains("--daemon")).findFirst().orElseThrow();
            assertTrue(daemon.isAlive(), "without the next emperor the daemon survives the crash: " + daemon);
            int before = emp.lines().size();
            Workspace.delete(pids);
            try (EmperorProcess next = emperorWith(mode)) {
                LogLine found = next.awaitLogFrom(before, Lines.emperor(
                        "leftovers: spawner: \\d+ process\\(es\\) of a previous emperor"), WAIT);
                LogLine stopped = next.awaitLogAfter(found, Lines.emperor("leftovers: stopped \\d+ process\\(es\\)"));
                LogLine spawned = next.awaitLogFrom(before, Lines.spawned("spawner"), WAIT);
                assertTrue(stopped.index() < spawned.index(), () -> "stopped before the spawn\n" + next.diagnostics());
                for (Proc p : procs) {
                    awaitGone(p, WAIT);
                }
                // The new run has its own daemon and child again.
                awaitLines(pids, 2);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cgroup2", "cgroup1", "mark"})
    void aWrappedServerOfACrashedEmperorDoesNotHoldItsPortWhenTheNextOneStarts(String mode) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "needs /usr/bin/python3");
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String server = "/usr/bin/python3 -m http.server " + port + " --bind 127.0.0.1";
        try (EmperorProcess emp = emperorWith(mode)) {
            int from = emp.mark();
            ws.vassal("web", "exec = /bin/sh -c '" + server + " & wait' " + ws.marker, "stop-timeout = 3");
            emp.awaitLogFrom(from, Lines.spawned("web"), WAIT);
            Proc old = awaitServer(server);
            awaitListening(port);
            emp.signal("KILL");
            emp.awaitExit(Duration.ofSeconds(60));
            assertTrue(old.isAlive(), "without the next emperor the server survives the crash: " + old);
            int before = emp.lines().size();
            try (EmperorProcess next = emperorWith(mode)) {
                next.awaitLogFrom(before, Lines.emperor("leftovers: web: \\d+ process\\(es\\) of a previous emperor"), WAIT);
                LogLine spawned = next.awaitLogFrom(before, Lines.spawned("web"), WAIT);
                awaitGone(old, WAIT);
                Proc now = awaitServer(server);
                assertTrue(now.pid() != old.pid(), "a new server");
                awaitListening(port);
                assertEquals(1, servers(server).size(), () -> "exactly one server: " + Procs.describe(servers(server)));
                assertEquals(0, next.find(spawned.index(), java.util.regex.Pattern.compile("Address already in use")).size(),
                        next::diagnostics);
                assertEquals(1, next.find(before, Lines.spawned("web")).size(), () -> "spawned once\n" + next.diagnostics());
            }
        }
    }

    @org.junit.jupiter.api.Test
    void adoptedOrphansAreReapedAndTheVassalKeepsItsOwnExitStatus() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            // Twenty double-forked children that end at once: each is re-parented to the emperor
            // (a subreaper) and must be reaped there, while the main process's status stays its own.
            ws.vassal("orphans", "exec = /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20;"
                    + " do (sleep 0.1 &); done; sleep 1; exit 7' " + ws.marker);
            emp.awaitLogFrom(from, Lines.emperor("orphans: exited status=7 uptime="), WAIT);
            Poll.until("no zombie among the emperor's children", WAIT,
                    () -> Procs.descendantsOf(emp.pid()).stream().noneMatch(p -> p.state() == 'Z'),
                    () -> Procs.describe(Procs.descendantsOf(emp.pid())));
            assertEquals(0, emp.countLog(java.util.regex.Pattern.compile("orphans: exited (?!status=7 )")),
                    emp::diagnostics);
        }
    }

    @org.junit.jupiter.api.Test
    void anUnknownContainmentModeIsRefusedAtStart() throws Exception {
        List<String> cmd = new ArrayList<>(EmperorProcess.javaCommand());
        cmd.addAll(List.of("run", "--vassals", ws.vassals.toString(), "--control", ""));
        Path err = ws.root.resolve("bogus.err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("JAVA_TOOL_OPTIONS", "-Demperor.containment=cgroups");
        Process p = pb.start();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "exits");
        assertEquals(1, p.exitValue(), () -> Workspace.read(err));
        assertTrue(Workspace.read(err).contains(
                "emperor: -Demperor.containment=cgroups: expected one of auto, cgroup2, cgroup1, mark\n"),
                () -> Workspace.read(err));
    }

    private static List<Proc> servers(String server) {
        return Procs.all().stream().filter(p -> p.state() != 'Z' && p.command().equals(server)).toList();
    }

    private static Proc awaitServer(String server) {
        return Poll.until("a process running " + server, WAIT,
                () -> servers(server).stream().findFirst(), () -> Procs.describe(servers(server)));
    }

    private static void awaitListening(int port) {
        Poll.until("something listening on 127.0.0.1:" + port, WAIT, () -> {
            try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
                return Optional.of(Boolean.TRUE);
            } catch (java.io.IOException e) {
                return Optional.empty();
            }
        }, () -> "");
    }
}
