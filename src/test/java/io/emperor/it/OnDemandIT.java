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
import org.junit.jupiter.api.Test;

/**
 * On-demand vassals with a real emperor and real processes (issue 15, "Tests"): nothing runs before the
 * first connection, which is then served by the process it started; an idle exit 0 returns the vassal to
 * waiting (no process in /proc) and the next connection wakes it.
 */
class OnDemandIT extends ItSupport {

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
        try (EmperorProcess emp = emperor("min-uptime = 1")) {
            int from = emp.mark();
            ws.vassal("app", "exec = /usr/bin/python3 " + ws.fixture("idles-fd.py") + " --idle 2 " + ws.marker,
                    "listen = 127.0.0.1:" + port, "on-demand = true", "stop-timeout = 5");
            emp.awaitLogFrom(from, lifecycle("app", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
            Map<String, Object> s = status("app");
            assertEquals("waiting", s.get("state"));
            assertEquals("a connection on 127.0.0.1:" + port, s.get("waiting_for"));
            CliResult text = cli("status", "app");
            assertTrue(text.stdout().contains("app: waiting for a connection on 127.0.0.1:" + port + "\n"), text.stdout());
            assertTrue(text.stdout().lines().anyMatch(l -> l.matches("app\\s+waiting\\s+-.*")), text.stdout());
            assertEquals(Optional.empty(), Poll.within(Duration.ofSeconds(1), () -> emp.first(from, spawned("app"))));
            assertTrue(Procs.withMarker(ws.marker).isEmpty(), () -> Procs.describe(Procs.withMarker(ws.marker)));

            String first = get(port);
            LogLine spawned = emp.awaitLogFrom(from, spawned("app"), WAIT);
            assertEquals("pid=" + spawned.longGroup(1) + "\n", first, "served by the process the connection started");
            emp.awaitLogFrom(from, lifecycle("app", q("starting: a connection is waiting (on demand)") + "$"), WAIT);

            int idle = emp.mark();
            emp.awaitLogFrom(idle, lifecycle("app", "exited status=0 uptime=\\S+ "
                    + q("(on demand: back to waiting)") + "$"), WAIT);
            emp.awaitLogFrom(idle, lifecycle("app", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
            Poll.until("no process of the vassal", () -> Procs.withMarker(ws.marker).isEmpty());
            assertEquals("waiting", status("app").get("state"));
            assertEquals(null, status("app").get("last_problem"));

            String second = get(port);
            LogLine again = emp.awaitLogFrom(idle, spawned("app"), WAIT);
            assertEquals("pid=" + again.longGroup(1) + "\n", second);
            assertTrue(again.longGroup(1) != spawned.longGroup(1));
        }
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
        java.nio.file.Path app = ws.root.resolve("app.py");
        Workspace.write(app, "import os\n"
                + "def application(env, start_response):\n"
                + "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                + "    return [('pid=%d\\n' % os.getpid()).encode()]\n");
        try (EmperorProcess emp = emperor("min-uptime = 1", "on-demand-extension = .socket",
                "vassal-set = emperor-it-marker=" + ws.marker)) {
            int from = emp.mark();
            Workspace.write(ws.vassals.resolve("app.ini.socket"), "127.0.0.1:" + port + "\n");
            Workspace.write(ws.vassals.resolve("app.ini"), String.join("\n", "[uwsgi]", "master = true",
                    "plugins = python3", "protocol = http", "wsgi-file = " + app, "processes = 1", "idle = 2",
                    "die-on-idle = true", ""));
            emp.awaitLogFrom(from, lifecycle("app", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
            assertEquals(Optional.empty(), Poll.within(Duration.ofSeconds(1), () -> emp.first(from, spawned("app"))));
            assertTrue(Procs.withMarker(ws.marker).isEmpty(), () -> Procs.describe(Procs.withMarker(ws.marker)));

            String first = get(port);
            assertTrue(first.startsWith("pid="), first);
            LogLine spawned = emp.awaitLogFrom(from, spawned("app"), WAIT);
            int idle = emp.mark();
            emp.awaitLogFrom(from, lifecycle("app", q("stopping: back to on demand (byte 22) byte=0 pid="
                    + spawned.longGroup(1))), WAIT);
            emp.awaitLogFrom(from, lifecycle("app", "stopped status=0 after \\S+$"), WAIT);
            emp.awaitLogFrom(idle, lifecycle("app", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
            Poll.until("no uWSGI process of the vassal", WAIT, () -> Procs.withMarker(ws.marker).isEmpty(),
                    () -> Procs.describe(Procs.withMarker(ws.marker)));
            Map<String, Object> s = status("app");
            assertEquals("waiting", s.get("state"));
            assertEquals(null, s.get("last_problem"));

            String second = get(port);
            assertTrue(second.startsWith("pid=") && !second.equals(first), second);
            LogLine again = emp.awaitLogFrom(idle, spawned("app"), WAIT);
            assertTrue(again.longGroup(1) != spawned.longGroup(1));
        }
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
        try (EmperorProcess emp = emperor("on-demand-extension = .socket")) {
            int from = emp.mark();
            Workspace.write(ws.vassals.resolve("app.ini.socket"), victim + "\n");
            Workspace.write(ws.vassals.resolve("app.ini"), "[uwsgi]\nmaster = true\nprotocol = http\n");
            emp.awaitLogFrom(from, lifecycle("app", q("sockets not held: listen unix:" + victim + ": ")
                    + ".*not a socket.*"), WAIT);
            emp.awaitLogFrom(from, lifecycle("app", q("backoff retry in 1s (1 quick exit)")), WAIT);
            assertEquals("precious\n", Workspace.read(victim));
            assertEquals(Optional.empty(), emp.first(from, spawned("app")));
        }
    }

    /**
     * Attack: a program that exits 0 at once, never accepting. The connection stays in the backlog, so each
     * time the vassal waits again it is woken at once: a quick exit 0 backs off (1 s, 2 s, …) instead of a
     * busy loop of spawns.
     */
    @Test
    void aProgramThatExitsZeroWithoutAcceptingBacksOffInsteadOfLooping() throws Exception {
        int port = UwsgiIT.freePort();
        try (EmperorProcess emp = emperor("min-uptime = 1")) {
            int from = emp.mark();
            ws.vassal("app", "exec = /bin/true " + ws.marker, "listen = 127.0.0.1:" + port, "on-demand = true");
            emp.awaitLogFrom(from, lifecycle("app", q("waiting for a connection on 127.0.0.1:" + port) + "$"), WAIT);
            try (Socket client = new Socket()) {
                client.connect(new InetSocketAddress("127.0.0.1", port), 60_000);
                LogLine second = emp.awaitLogFrom(from, lifecycle("app", q("backoff retry in 2s (2 quick exits in a row)")), WAIT);
                long spawns = emp.find(from, spawned("app")).stream().filter(l -> l.index() < second.index()).count();
                assertEquals(2, spawns, emp::diagnostics);
                emp.awaitLogFrom(from, lifecycle("app", "exited status=0 uptime=\\S+$"), WAIT);
            }
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
        java.nio.file.Path app = ws.root.resolve("app.py");
        Workspace.write(app, "def application(env, start_response):\n"
                + "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                + "    return [b'ok\\n']\n");
        try (EmperorProcess emp = emperor("min-uptime = 1", "vassal-set = emperor-it-marker=" + ws.marker)) {
            int from = emp.mark();
            Workspace.write(ws.vassals.resolve("app.ini"), String.join("\n", "[uwsgi]", "master = true",
                    "plugins = python3", "http-socket = 127.0.0.1:" + port, "wsgi-file = " + app, "processes = 1",
                    "idle = 1", "die-on-idle = true", ""));
            LogLine first = emp.awaitLogFrom(from, spawned("app"), WAIT);
            emp.awaitLogFrom(from, lifecycle("app", q("restarting: the vassal asked to stop (byte 22) byte=0 pid="
                    + first.longGroup(1))), WAIT);
            LogLine second = emp.awaitLogAfter(first, spawned("app"));
            assertTrue(second.longGroup(1) != first.longGroup(1));
            // Stopped once it accepts: uWSGI 2.0 misses a stop byte that comes while its master starts.
            emp.awaitLogAfter(second, lifecycle("app", "accepting$"));
        }
    }
}
