package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.control.Json;
import io.emperor.it.EmperorProcess.CliResult;
import io.emperor.testing.Poll;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On-demand vassals with a real emperor and real processes (issue 15, "Tests"): nothing runs before the
 * first connection, which is then served by the process it started; an idle exit 0 returns the vassal to
 * waiting (no process in /proc) and the next connection wakes it.
 */
class OnDemandIT extends ItSupport {
    /**
     * One emperor for the class (each case has vassals of its own names, and leaves none behind:
     * {@link #removeTheCasesVassals()}), on a workspace of the class: its marker is on every
     * process of every case, uWSGI's through {@code vassal-set}.
     */
    @TempDir
    static java.nio.file.Path sharedRoot;

    static Workspace shared;
    static EmperorProcess emp;

    @BeforeAll
    static void startTheEmperor() {
        shared = new Workspace(sharedRoot);
        emp = EmperorProcess.start(shared, "--config", shared.emperorIni("vassals = " + shared.vassals,
                "min-uptime = 1", "on-demand-extension = .socket", "vassal-set = emperor-it-marker=" + shared.marker)
                .toString());
    }

    @AfterAll
    static void stopTheEmperor() {
        if (emp != null) {
            emp.close();
        }
    }

    @BeforeEach
    void useTheSharedWorkspace() {
        ws = shared;
    }

    /** Every vassal file of the case removed; its processes gone before the next case looks at /proc. */
    @AfterEach
    void removeTheCasesVassals() throws IOException {
        try (var files = java.nio.file.Files.list(shared.vassals)) {
            for (java.nio.file.Path f : files.toList()) {
                java.nio.file.Files.delete(f);
            }
        }
        Poll.until("no process of the case's vassals", WAIT, () -> Procs.withMarker(shared.marker).isEmpty(),
                () -> Procs.describe(Procs.withMarker(shared.marker)) + "\n" + emp.diagnostics());
    }

    CliResult cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add(1, "--socket");
        all.add(2, ws.root.resolve("control.sock").toString());
        return EmperorProcess.cli(ws.root, all.toArray(String[]::new));
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> status(String name) throws Json.ParseException {
        CliResult r = cli("status", "--json", name);
        assertEquals(0, r.exitCode(), r::stderr);
        return (Map<String, Object>) ((List<Object>) Json.parseObject(r.stdout().strip()).get("vassals")).get(0);
    }

    /** One HTTP/1.0 request to 127.0.0.1:port; the answer's body. */
    static String get(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 60_000);
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int body = answer.indexOf("\r\n\r\n");
            return body < 0 ? answer : answer.substring(body + 4);
        }
    }

    @Test
    void nothingRunsBeforeTheFirstConnectionAndAnIdleExitGoesBackToWaiting() throws Exception {
        int port = UwsgiIT.freePort();
        int from = emp.mark();
        ws.vassal("idler", "exec = /usr/bin/python3 " + ws.fixture("idles-fd.py") + " --idle 2 " + ws.marker,
                "listen = 127.0.0.1:" + port, "on-demand = true", "stop-timeout = 5");
        emp.awaitLogFrom(from, lifecycle("idler", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
        Map<String, Object> s = status("idler");
        assertEquals("waiting", s.get("state"));
        assertEquals("a connection on 127.0.0.1:" + port, s.get("waiting_for"));
        CliResult text = cli("status", "idler");
        assertTrue(text.stdout().contains("idler: waiting for a connection on 127.0.0.1:" + port + "\n"), text.stdout());
        assertTrue(text.stdout().lines().anyMatch(l -> l.matches("idler\\s+waiting\\s+-.*")), text.stdout());
        assertEquals(Optional.empty(), Poll.within(Duration.ofSeconds(1), () -> emp.first(from, spawned("idler"))));
        assertTrue(Procs.withMarker(ws.marker).isEmpty(), () -> Procs.describe(Procs.withMarker(ws.marker)));

        String first = get(port);
        LogLine spawned = emp.awaitLogFrom(from, spawned("idler"), WAIT);
        assertEquals("pid=" + spawned.longGroup(1) + "\n", first, "served by the process the connection started");
        emp.awaitLogFrom(from, lifecycle("idler", q("starting: a connection is waiting (on demand)") + "$"), WAIT);

        int idle = emp.mark();
        emp.awaitLogFrom(idle, lifecycle("idler", "exited status=0 uptime=\\S+ "
                + q("(on demand: back to waiting)") + "$"), WAIT);
        emp.awaitLogFrom(idle, lifecycle("idler", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
        Poll.until("no process of the vassal", () -> Procs.withMarker(ws.marker).isEmpty());
        assertEquals("waiting", status("idler").get("state"));
        assertEquals(null, status("idler").get("last_problem"));

        String second = get(port);
        LogLine again = emp.awaitLogFrom(idle, spawned("idler"), WAIT);
        assertEquals("pid=" + again.longGroup(1) + "\n", second);
        assertTrue(again.longGroup(1) != spawned.longGroup(1));
    }

    /**
     * A real uWSGI vassal with a {@code .socket} file (on-demand-extension), started by its first HTTP
     * request: uWSGI serves the socket it finds on fd 0, HTTP with {@code protocol = http}; {@code idle} and
     * {@code die-on-idle} make it send byte 22 once idle, which brings it back to waiting, and the next
     * request starts it again.
     */
    @Test
    void aUwsgiVassalWithASocketFileIsStartedByItsFirstRequestAndByte22BringsItBack() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(UwsgiIT.onPath("uwsgi"), "uwsgi is not on PATH");
        int port = UwsgiIT.freePort();
        java.nio.file.Path app = ws.root.resolve("pid-app.py");
        Workspace.write(app, "import os\n"
                + "def application(env, start_response):\n"
                + "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                + "    return [('pid=%d\\n' % os.getpid()).encode()]\n");
        int from = emp.mark();
        Workspace.write(ws.vassals.resolve("lazy.ini.socket"), "127.0.0.1:" + port + "\n");
        Workspace.write(ws.vassals.resolve("lazy.ini"), String.join("\n", "[uwsgi]", "master = true",
                "plugins = python3", "protocol = http", "wsgi-file = " + app, "processes = 1", "idle = 2",
                "die-on-idle = true", ""));
        emp.awaitLogFrom(from, lifecycle("lazy", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
        assertEquals(Optional.empty(), Poll.within(Duration.ofSeconds(1), () -> emp.first(from, spawned("lazy"))));
        assertTrue(Procs.withMarker(ws.marker).isEmpty(), () -> Procs.describe(Procs.withMarker(ws.marker)));

        String first = get(port);
        assertTrue(first.startsWith("pid="), first);
        LogLine spawned = emp.awaitLogFrom(from, spawned("lazy"), WAIT);
        int idle = emp.mark();
        emp.awaitLogFrom(from, lifecycle("lazy", q("stopping: back to on demand (byte 22) byte=0 pid="
                + spawned.longGroup(1))), WAIT);
        emp.awaitLogFrom(from, lifecycle("lazy", "stopped status=0 after \\S+$"), WAIT);
        emp.awaitLogFrom(idle, lifecycle("lazy", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
        Poll.until("no uWSGI process of the vassal", WAIT, () -> Procs.withMarker(ws.marker).isEmpty(),
                () -> Procs.describe(Procs.withMarker(ws.marker)));
        Map<String, Object> s = status("lazy");
        assertEquals("waiting", s.get("state"));
        assertEquals(null, s.get("last_problem"));

        String second = get(port);
        assertTrue(second.startsWith("pid=") && !second.equals(first), second);
        LogLine again = emp.awaitLogFrom(idle, spawned("lazy"), WAIT);
        assertTrue(again.longGroup(1) != spawned.longGroup(1));
    }

    /**
     * Attack (the uWSGI Emperor's: its root Emperor unlink()s whatever the socket name points to and
     * makes a 0666 socket there): a socket-name file naming a file that exists. Nothing is removed; the
     * vassal is not started, says why and backs off.
     */
    @Test
    void aSocketNameOfAnExistingFileRemovesNothing() throws Exception {
        java.nio.file.Path victim = ws.root.resolve("victim.conf");
        Workspace.write(victim, "precious\n");
        int from = emp.mark();
        Workspace.write(ws.vassals.resolve("named.ini.socket"), victim + "\n");
        Workspace.write(ws.vassals.resolve("named.ini"), "[uwsgi]\nmaster = true\nprotocol = http\n");
        emp.awaitLogFrom(from, lifecycle("named", q("sockets not held: listen unix:" + victim + ": ")
                + ".*not a socket.*"), WAIT);
        emp.awaitLogFrom(from, lifecycle("named", q("backoff retry in 1s (1 quick exit)")), WAIT);
        assertEquals("precious\n", Workspace.read(victim));
        assertEquals(Optional.empty(), emp.first(from, spawned("named")));
    }

    /**
     * Attack: a program that exits 0 at once, never accepting. The connection stays in the backlog, so each
     * time the vassal waits again it is woken at once: a quick exit 0 backs off (1 s, 2 s, …) instead of a
     * busy loop of spawns.
     */
    @Test
    void aProgramThatExitsZeroWithoutAcceptingBacksOffInsteadOfLooping() throws Exception {
        int port = UwsgiIT.freePort();
        int from = emp.mark();
        ws.vassal("quitter", "exec = /bin/true " + ws.marker, "listen = 127.0.0.1:" + port, "on-demand = true");
        emp.awaitLogFrom(from, lifecycle("quitter", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
        try (Socket client = new Socket()) {
            client.connect(new InetSocketAddress("127.0.0.1", port), 60_000);
            LogLine second = emp.awaitLogFrom(from, lifecycle("quitter", q("backoff retry in 2s (2 quick exits in a row)")), WAIT);
            long spawns = emp.find(from, spawned("quitter")).stream().filter(l -> l.index() < second.index()).count();
            assertEquals(2, spawns, emp::diagnostics);
            emp.awaitLogFrom(from, lifecycle("quitter", "exited status=0 uptime=\\S+$"), WAIT);
        }
    }

    /**
     * Byte 22 of a uWSGI vassal that is not on demand: what the uWSGI Emperor does, a stop, and since its
     * file is still there it starts again (a new pid serving its own http-socket).
     */
    @Test
    void byte22OfAUwsgiVassalNotOnDemandStopsItAndItStartsAgain() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(UwsgiIT.onPath("uwsgi"), "uwsgi is not on PATH");
        int port = UwsgiIT.freePort();
        java.nio.file.Path app = ws.root.resolve("ok-app.py");
        Workspace.write(app, "def application(env, start_response):\n"
                + "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                + "    return [b'ok\\n']\n");
        int from = emp.mark();
        Workspace.write(ws.vassals.resolve("b22.ini"), String.join("\n", "[uwsgi]", "master = true",
                "plugins = python3", "http-socket = 127.0.0.1:" + port, "wsgi-file = " + app, "processes = 1",
                "idle = 1", "die-on-idle = true", ""));
        LogLine first = emp.awaitLogFrom(from, spawned("b22"), WAIT);
        emp.awaitLogFrom(from, lifecycle("b22", q("restarting: the vassal asked to stop (byte 22) byte=0 pid="
                + first.longGroup(1))), WAIT);
        LogLine second = emp.awaitLogAfter(first, spawned("b22"));
        assertTrue(second.longGroup(1) != first.longGroup(1));
        // Stopped once it accepts: uWSGI 2.0 misses a stop byte that comes while its master starts.
        emp.awaitLogAfter(second, lifecycle("b22", "accepting$"));
    }
}
