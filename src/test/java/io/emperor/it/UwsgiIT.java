package io.emperor.it;

import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real uWSGI vassals (DESIGN §2, §4) in the shape of the Plone training's: {@code http-socket},
 * {@code plugins = python3}, a {@code wsgi-file} written here, {@code enable-threads},
 * {@code processes = 1}, {@code threads = 4}, with and without a master. Every uWSGI process
 * carries the workspace's marker through {@code vassal-set} (so it is also a test of
 * {@code --set}), which lets the teardown find leftovers. Skipped, with the reason, when
 * {@code uwsgi} is not on PATH (CI installs uwsgi-core and uwsgi-plugin-python3).
 */
class UwsgiIT extends ItSupport {
    /**
     * Within the 30 s stop-timeout of a [uwsgi] vassal, so a process gone in this time left by the
     * stop signal, not the SIGKILL (uWSGI's master needs ~1 s to reap a worker; more when loaded).
     */
    static final Duration GONE_WITHIN = Duration.ofSeconds(20);

    /** Written at import time: one line per load of the app. */
    static final String APP = String.join("\n",
            "import os, time",
            "with open(os.environ['APP_MARKER'], 'a') as f:",
            "    f.write('%d %f\\n' % (os.getpid(), time.time()))",
            "def application(env, start_response):",
            "    start_response('200 OK', [('Content-Type', 'text/plain')])",
            "    return [('hello from %d\\n' % os.getpid()).encode()]",
            "");

    Path app;
    Path loads;

    @BeforeEach
    void needUwsgi() throws IOException {
        Assumptions.assumeTrue(onPath("uwsgi"), "uwsgi is not on PATH (apt-get install uwsgi-core uwsgi-plugin-python3)");
        app = ws.root.resolve("app.py");
        loads = ws.root.resolve("loads.txt");
        Files.writeString(app, APP);
    }

    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** An emperor whose uWSGI vassals all carry the marker on their command line. */
    EmperorProcess uwsgiEmperor(String... lines) {
        List<String> all = new ArrayList<>(List.of("vassal-set = emperor-it-marker=" + ws.marker));
        all.addAll(List.of(lines));
        return emperor(all.toArray(String[]::new));
    }

    /** Writes vassals/NAME.ini, a Plone-training-style [uwsgi] vassal on {@code port}. */
    Path plone(String name, int port, boolean master, String... extra) {
        Path file = ws.vassals.resolve(name + ".ini");
        Workspace.write(file, ploneText(port, master, extra));
        return file;
    }

    String ploneText(int port, boolean master, String... extra) {
        List<String> lines = new ArrayList<>(List.of("[uwsgi]",
                "http-socket = 127.0.0.1:" + port,
                "plugins = python3",
                "wsgi-file = " + app,
                "env = APP_MARKER=" + loads,
                "master = " + master,
                "enable-threads = true",
                "processes = 1",
                "threads = 4"));
        lines.addAll(List.of(extra));
        return String.join("\n", lines) + "\n";
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The body of a GET, or empty when it fails (refused, timed out, not 200). */
    static Optional<String> get(int port) {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + "/").openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(2000);
            try (InputStream in = c.getInputStream()) {
                return c.getResponseCode() == 200 ? Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                        : Optional.empty();
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static String awaitHttp(EmperorProcess emp, int port) {
        return Poll.until("HTTP 200 on port " + port, WAIT, () -> get(port), emp::diagnostics);
    }

    /** The vassal's spawned pid; waits for the line. */
    static long awaitSpawned(EmperorProcess emp, int from, String name) {
        return emp.awaitLogFrom(from, Lines.spawned(name), WAIT).longGroup(1);
    }

    List<Proc> uwsgiProcesses() {
        return Procs.withMarker(ws.marker);
    }

    void awaitNoUwsgiProcess(EmperorProcess emp, Duration within) {
        Poll.until("every uWSGI process of the test gone", within, () -> uwsgiProcesses().isEmpty(),
                () -> Procs.describe(uwsgiProcesses()) + "\n" + emp.diagnostics());
    }

    int loadCount() {
        return (int) Workspace.read(loads).lines().count();
    }

    @Test
    void withoutMasterItAnswersHttpAndRemovalTakesSeconds() {
        try (EmperorProcess emp = uwsgiEmperor()) {
            int from = emp.mark();
            int port = freePort();
            Path file = plone("plone", port, false);
            long pid = awaitSpawned(emp, from, "plone");
            assertTrue(awaitHttp(emp, port).startsWith("hello from "));
            emp.awaitLogFrom(from, Lines.lifecycle("plone", "accepting$"), WAIT);
            Proc p = Procs.read(pid).orElseThrow();
            assertTrue(p.cmdline().containsAll(List.of("--set", "emperor-it-marker=" + ws.marker, "--ini", file.toString())),
                    p::toString);

            int stop = emp.mark();
            long t0 = System.nanoTime();
            Workspace.delete(file);
            emp.awaitLog(Lines.lifecycle("plone", q("stopping: file removed byte=0 signal=INT pid=" + pid)));
            awaitNoUwsgiProcess(emp, GONE_WITHIN);
            long took = (System.nanoTime() - t0) / 1_000_000;
            emp.awaitLogFrom(stop, Lines.lifecycle("plone", "stopped "), WAIT);
            System.out.println("uWSGI without master: removal to no process left in " + took + " ms");
        }
    }

    @Test
    void withMasterItAnswersHttpReloadsOnATouchWithTheSamePidAndRemovalTakesSeconds() {
        try (EmperorProcess emp = uwsgiEmperor()) {
            int from = emp.mark();
            int port = freePort();
            Path file = plone("plone", port, true);
            long pid = awaitSpawned(emp, from, "plone");
            awaitHttp(emp, port);
            emp.awaitLogFrom(from, Lines.lifecycle("plone", "ready$"), WAIT);
            emp.awaitLogFrom(from, Lines.lifecycle("plone", "accepting$"), WAIT);
            Poll.until("the app loaded once", () -> loadCount() == 1);

            int reload = emp.mark();
            long t0 = System.nanoTime();
            Workspace.touch(file);
            // Requests all through the reload: the listening socket survives uWSGI's re-exec, so
            // a request waits in the backlog rather than failing.
            long failedSince = -1;
            long longestFailure = 0;
            while (loadCount() < 2 || emp.first(reload, Lines.lifecycle("plone", "accepting$")).isEmpty()) {
                assertTrue(System.nanoTime() - t0 < WAIT.toNanos(), emp::diagnostics);
                long now = System.nanoTime();
                if (get(port).isPresent()) {
                    failedSince = -1;
                } else if (failedSince < 0) {
                    failedSince = now;
                } else {
                    longestFailure = Math.max(longestFailure, now - failedSince);
                }
            }
            emp.awaitLogFrom(reload, Lines.lifecycle("plone", q("reloading byte=1 pid=" + pid) + "$"), WAIT);
            awaitHttp(emp, port);
            long took = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(longestFailure / 1_000_000 <= took, "requests failed for " + longestFailure / 1_000_000 + " ms");
            assertTrue(Procs.read(pid).orElseThrow().isAlive(), "the master pid stays");
            assertEquals(List.of(), emp.find(reload, Lines.spawned("plone")), "a reload spawns nothing");
            System.out.println("uWSGI with master: touch to serving the reloaded app in " + took
                    + " ms; longest run of failing requests meanwhile: " + longestFailure / 1_000_000 + " ms");

            int stop = emp.mark();
            long t1 = System.nanoTime();
            Workspace.delete(file);
            emp.awaitLog(Lines.lifecycle("plone", q("stopping: file removed byte=0 pid=" + pid)));
            awaitNoUwsgiProcess(emp, GONE_WITHIN);
            emp.awaitLogFrom(stop, Lines.lifecycle("plone", "stopped status=0 "), WAIT);
            System.out.println("uWSGI with master: removal to no process left in " + (System.nanoTime() - t1) / 1_000_000 + " ms");
        }
    }

    /** The control socket's reload waits until the vassal is back; stop and start work on uWSGI as on anything. */
    @Test
    void theControlCommandsReloadStopAndStartAUwsgiVassal() {
        try (EmperorProcess emp = uwsgiEmperor()) {
            int from = emp.mark();
            int port = freePort();
            plone("plone", port, true);
            long pid = awaitSpawned(emp, from, "plone");
            awaitHttp(emp, port);
            emp.awaitLogFrom(from, Lines.lifecycle("plone", "accepting$"), WAIT);
            String socket = ws.root.resolve("control.sock").toString();

            EmperorProcess.CliResult reload = EmperorProcess.cli(ws.root, "reload", "--socket", socket, "plone");
            assertEquals(0, reload.exitCode(), reload.stderr());
            assertEquals("plone: reloaded pid=" + pid + "\n", reload.stdout());
            assertEquals(2, loadCount(), "answered once the app was loaded again");
            assertTrue(get(port).isPresent());

            EmperorProcess.CliResult stop = EmperorProcess.cli(ws.root, "stop", "--socket", socket, "plone");
            assertEquals(0, stop.exitCode(), stop.stderr());
            assertEquals("plone: stopped\n", stop.stdout());
            awaitNoUwsgiProcess(emp, GONE_WITHIN);

            from = emp.mark();
            EmperorProcess.CliResult start = EmperorProcess.cli(ws.root, "start", "--socket", socket, "plone");
            assertEquals(0, start.exitCode(), start.stderr());
            long again = awaitSpawned(emp, from, "plone");
            assertEquals("plone: running pid=" + again + "\n", start.stdout());
            awaitHttp(emp, port);
        }
    }

    /** A Plone-style vassal with a master and one without, both answering HTTP. */
    void startOneWithAndOneWithoutMaster(EmperorProcess emp) {
        int from = emp.mark();
        int p1 = freePort();
        int p2 = freePort();
        plone("with-master", p1, true);
        plone("without-master", p2, false);
        awaitSpawned(emp, from, "with-master");
        awaitSpawned(emp, from, "without-master");
        awaitHttp(emp, p1);
        awaitHttp(emp, p2);
    }

    @Test
    void emperorSigtermStopsEveryUwsgiVassal() {
        try (EmperorProcess emp = uwsgiEmperor()) {
            startOneWithAndOneWithoutMaster(emp);
            long t0 = System.nanoTime();
            emp.signal("TERM");
            assertEquals(0, emp.awaitExit(Duration.ofSeconds(20)), emp::diagnostics);
            long took = (System.nanoTime() - t0) / 1_000_000;
            // By their stop signals, not at the 30 s stop-timeout (the exit took less than that).
            assertTrue(emp.lines().stream().noneMatch(l -> l.matches(".*: stop-timeout \\d+s passed.*")), emp::diagnostics);
            assertEquals(List.of(), uwsgiProcesses(), "no uWSGI process outlives the emperor");
            System.out.println("SIGTERM with 2 uWSGI vassals: exit 0 after " + took + " ms");
        }
    }

    @Test
    void emperorSigkillTakesEveryUwsgiVassalAlong() {
        try (EmperorProcess emp = uwsgiEmperor()) {
            startOneWithAndOneWithoutMaster(emp);
            assertTrue(uwsgiProcesses().size() >= 3, () -> Procs.describe(uwsgiProcesses()));
            long t0 = System.nanoTime();
            emp.signal("KILL");
            assertTrue(emp.awaitExit(Duration.ofSeconds(20)) != 0);
            // The parent-death signal (set by the exec helper for every vassal) ends each master
            // and lone worker; a master's workers go with their master.
            awaitNoUwsgiProcess(emp, GONE_WITHIN);
            System.out.println("SIGKILL of the emperor: its uWSGI vassals gone after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        }
    }

    /** uWSGI's emperor.ini of the Plone training's kind, its paths in the workspace, as --config. */
    @Test
    void uwsgisOwnEmperorIniStartsTheEmperor() {
        Path ini = ws.root.resolve("uwsgi-emperor.ini");
        Workspace.write(ini, String.join("\n", "[uwsgi]",
                "emperor = " + ws.vassals,
                "emperor-required-heartbeat = 30",
                "emperor-throttle = 1000",
                "master = true",
                "no-orphans = true",
                "log-date = true",
                "emperor-pidfile = " + ws.root.resolve("emperor.pid"),
                "vassal-set = emperor-it-marker=" + ws.marker,
                ""));
        try (EmperorProcess emp = EmperorProcess.start(ws, "--config", ini.toString())) {
            int from = emp.mark();
            int port = freePort();
            plone("plone", port, false);
            awaitSpawned(emp, from, "plone");
            assertTrue(awaitHttp(emp, port).startsWith("hello from "));
            assertTrue(Workspace.read(ws.root.resolve("emperor.out")).contains(
                    ini + ":5: warning: master: uWSGI option ignored: the emperor needs no master process"),
                    () -> Workspace.read(ws.root.resolve("emperor.out")));
        }
    }

    /** Tyrant mode (root only): the [uwsgi] file's owner is who uWSGI runs as, and it serves HTTP. */
    @Test
    void inTyrantModeAUwsgiVassalRunsAsTheOwnerOfItsFile() {
        TyrantSupport.assumeRootWithUseradd();
        try (TyrantSupport.Accounts accounts = new TyrantSupport.Accounts()) {
            TyrantSupport.User u = accounts.user("w");
            TyrantSupport.openUp(tmp, ws.root, ws.vassals);
            TyrantSupport.chmod(app, "rw-r--r--");
            TyrantSupport.ownedFile(loads, u.uid(), u.gid());
            try (EmperorProcess emp = uwsgiEmperor("tyrant = true")) {
                int from = emp.mark();
                int port = freePort();
                TyrantSupport.file(ws, ws.vassals.resolve("plone.ini"), u.uid(), u.gid(), "rw-r--r--",
                        ploneText(port, true));
                long pid = emp.awaitLogFrom(from, Lines.lifecycle("plone",
                        "spawned pid=(\\d+) uid=" + u.uid() + " gid=" + u.gid() + "$"), WAIT).longGroup(1);
                assertTrue(awaitHttp(emp, port).startsWith("hello from "));
                assertEquals(TyrantSupport.allFour(u.uid()), TyrantSupport.status(pid).get("Uid"));
                assertEquals(1, loadCount(), "the app, running as " + u.name() + ", wrote its marker");
            }
        }
    }

    @Test
    void aVassalThatStopsHeartbeatingIsReloadedThenKilledAndRespawned() {
        try (EmperorProcess emp = uwsgiEmperor("required-heartbeat = 2")) {
            int from = emp.mark();
            int port = freePort();
            plone("beats", port, true, "heartbeat = 1");
            long pid = awaitSpawned(emp, from, "beats");
            awaitHttp(emp, port);
            emp.awaitLogFrom(from, Lines.lifecycle("beats", q("heartbeat: from now on required every 2s") + "$"), WAIT);

            int stall = emp.mark();
            List<Proc> stopped = uwsgiProcesses();
            for (Proc p : stopped) {
                Procs.kill(p.pid(), "STOP");
            }
            emp.awaitLog(Lines.lifecycle("beats", q("no heartbeat in the last 2s: reloading byte=1 pid=" + pid) + "$"));
            emp.awaitLog(Lines.lifecycle("beats", q("no heartbeat 2s after the reload: SIGKILL to process group " + pid) + "$"));
            emp.awaitLog(Lines.lifecycle("beats", "exited signal=KILL "));
            long next = emp.awaitLogFrom(stall, Lines.spawned("beats"), WAIT).longGroup(1);
            assertTrue(next != pid);
            for (Proc p : stopped) {
                awaitGone(p, WAIT);
            }
            awaitHttp(emp, port);
        }
    }
}
