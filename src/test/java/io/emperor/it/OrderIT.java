package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.control.Json;
import io.emperor.it.EmperorProcess.CliResult;
import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Order and readiness with a real emperor and real processes (issue 17, "Tests"): a dependent
 * waits for its requirement's port, stops when the requirement goes and starts again when it
 * returns; a cycle is refused with the cycle named; a uWSGI requirement is ready when it serves.
 */
class OrderIT extends ItSupport {

    private CliResult cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add(1, "--socket");
        all.add(2, ws.root.resolve("control.sock").toString());
        return EmperorProcess.cli(ws.root, all.toArray(String[]::new));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> status(String name) throws Json.ParseException {
        CliResult r = cli("status", "--json", name);
        assertEquals(0, r.exitCode(), r::stderr);
        return (Map<String, Object>) ((List<Object>) Json.parseObject(r.stdout().strip()).get("vassals")).get(0);
    }

    /** zeo: listens on {@code port} after {@code delay} seconds, ready when the port accepts. */
    private Path zeo(int port, double delay) {
        return ws.vassal("zeo", "exec = " + ws.exec("listens-after.sh", String.valueOf(delay), String.valueOf(port)),
                "ready = tcp:127.0.0.1:" + port, "stop-timeout = 2");
    }

    private Path plone() {
        return ws.vassal("plone", "exec = " + ws.exec("sleeps.sh"), "requires = zeo", "stop-timeout = 2");
    }

    @Test
    void aDependentDroppedBeforeItsRequirementWaitsAndStartsOnlyOnceThePortAccepts() throws Exception {
        int port = UwsgiIT.freePort();
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            plone();
            emp.awaitLogFrom(from, lifecycle("plone", q("waiting for zeo (no such vassal)") + "$"), WAIT);
            // No process for 2 s.
            assertEquals(Optional.empty(), Poll.within(Duration.ofSeconds(2), () -> emp.first(from, spawned("plone"))));
            assertTrue(Procs.withMarker(ws.marker).isEmpty(), () -> Procs.describe(Procs.withMarker(ws.marker)));
            Map<String, Object> s = status("plone");
            assertEquals("waiting", s.get("state"));
            assertEquals("zeo (no such vassal)", s.get("waiting_for"));
            assertEquals(false, s.get("ready"));

            zeo(port, 2);
            LogLine listening = emp.awaitLogFrom(from, output("zeo", q("listens-after.sh listening port=" + port)), WAIT);
            LogLine ready = emp.awaitLogFrom(from, lifecycle("zeo", q("ready (tcp:127.0.0.1:" + port + " accepts)") + "$"), WAIT);
            LogLine started = emp.awaitLogFrom(from, spawned("plone"), WAIT);
            assertTrue(listening.index() < started.index() && ready.index() < started.index(), emp::diagnostics);
            awaitRunning(emp, from, "plone");
            assertEquals(true, status("zeo").get("ready"));
            assertEquals(null, status("plone").get("waiting_for"));
        }
    }

    @Test
    void removingTheRequirementStopsTheDependentWhichStartsAgainWhenItReturns() {
        int port = UwsgiIT.freePort();
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            Path zeo = zeo(port, 0);
            plone();
            Proc first = awaitRunning(emp, from, "plone");

            from = emp.mark();
            Workspace.delete(zeo);
            emp.awaitLogFrom(from, lifecycle("plone", q("stopping: requirement gone: zeo (removed) signal=TERM")), WAIT);
            awaitGone(first, WAIT);
            // "(removed)" while zeo's stop is under way, "(no such vassal)" once it is forgotten:
            // which one plone's exit meets depends on which of the two exits is reaped first.
            emp.awaitLogFrom(from, lifecycle("plone", "waiting for zeo \\((removed|no such vassal)\\)$"), WAIT);

            from = emp.mark();
            zeo(port, 1);
            emp.awaitLogFrom(from, lifecycle("zeo", q("ready (tcp:127.0.0.1:" + port + " accepts)")), WAIT);
            Proc second = awaitRunning(emp, from, "plone");
            assertTrue(second.pid() != first.pid());
            LogLine ready = emp.first(from, lifecycle("zeo", q("ready ("))).orElseThrow();
            LogLine spawnedAgain = emp.first(from, spawned("plone")).orElseThrow();
            assertTrue(ready.index() < spawnedAgain.index(), emp::diagnostics);
        }
    }

    @Test
    void readyTimeoutFailsTheRunWithTheProbesLastReasonThenItBacksOff() throws Exception {
        int port = UwsgiIT.freePort();
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("zeo", "exec = " + ws.exec("sleeps.sh"), "ready = tcp:127.0.0.1:" + port, "ready-timeout = 1",
                    "stop-timeout = 2");
            Proc p = awaitRunning(emp, from, "zeo");
            String why = "not ready within 1s (ready = tcp:127.0.0.1:" + port + "): connect tcp:127.0.0.1:" + port
                    + ": Connection refused";
            emp.awaitLogFrom(from, lifecycle("zeo", q(why) + "$"), WAIT);
            emp.awaitLogFrom(from, lifecycle("zeo", q("stopping: not ready in time signal=TERM pid=" + p.pid())), WAIT);
            emp.awaitLogFrom(from, lifecycle("zeo", q("backoff retry in 1s (1 quick exit)")), WAIT);
            awaitGone(p, WAIT);
            assertEquals(why, status("zeo").get("last_problem"));
        }
    }

    @Test
    void aTwoVassalCycleIsRefusedWithTheCycleNamed() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("a", "exec = " + ws.exec("sleeps.sh"), "requires = b");
            ws.vassal("b", "exec = " + ws.exec("sleeps.sh"), "after = a");
            String cycle = q("dependency cycle (requires/after): a -> b -> a; every vassal in it is refused");
            emp.awaitLogFrom(from, lifecycle("a", "refused: .*a\\.ini: " + cycle), WAIT);
            emp.awaitLogFrom(from, lifecycle("b", "refused: .*b\\.ini: " + cycle), WAIT);
            assertEquals(Optional.empty(), Poll.within(Duration.ofSeconds(1), () -> emp.first(from, Lines.anySpawned())));
        }
    }

    @Test
    void aUwsgiRequirementIsReadyWhenItServesHttp() throws Exception {
        Assumptions.assumeTrue(UwsgiIT.onPath("uwsgi"), "uwsgi is not on PATH (apt-get install uwsgi-core uwsgi-plugin-python3)");
        int port = UwsgiIT.freePort();
        Path app = ws.root.resolve("app.py");
        Files.writeString(app, String.join("\n",
                "def application(env, start_response):",
                "    start_response('200 OK', [('Content-Type', 'text/plain')])",
                "    return [b'zeo here']", ""));
        Path served = ws.root.resolve("served.txt");
        try (EmperorProcess emp = emperor("vassal-set = emperor-it-marker=" + ws.marker)) {
            int from = emp.mark();
            // The dependent records whether its requirement served HTTP when it started.
            ws.vassal("plone", "exec = /bin/sh -c 'curl -fsS http://127.0.0.1:" + port + "/ > " + served
                    + " 2>&1; echo plone running pid=$$; exec sleep 600' " + ws.marker, "requires = zeo", "stop-timeout = 2");
            Workspace.write(ws.vassals.resolve("zeo.ini"), String.join("\n", "[uwsgi]",
                    "http-socket = 127.0.0.1:" + port, "plugins = python3", "wsgi-file = " + app, "master = true",
                    "processes = 1", "", "[emperor]", "ready-timeout = 120", ""));
            emp.awaitLogFrom(from, lifecycle("zeo", q("accepting") + "$"), WAIT);
            emp.awaitLogFrom(from, spawned("plone"), WAIT);
            Poll.until("plone's curl wrote " + served, WAIT, () -> Files.exists(served) && Workspace.read(served).contains("zeo"),
                    () -> (Files.exists(served) ? Workspace.read(served) : "(no file)") + "\n" + emp.diagnostics());
            assertEquals("zeo here", Workspace.read(served).strip());
            assertEquals(true, status("zeo").get("ready"));
        }
    }
}
