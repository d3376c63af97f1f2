package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.control.Json;
import io.emperor.it.EmperorProcess.CliResult;
import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@code ready = notify} and {@code watchdog} against a real emperor (docs/vassal.ini.5.md): a Python program
 * that speaks sd_notify by hand ({@code notifies.py}) to the emperor's one notify socket.
 */
class NotifyIT extends ItSupport {
    static final String PYTHON = "/usr/bin/python3";

    /** {@code exec =} for notifies.py in MODE with ARGS (shell words). */
    String notifies(String mode, String... args) {
        return PYTHON + " " + ws.fixture("notifies.py") + " " + mode + " " + String.join(" ", args) + " " + ws.marker;
    }

    CliResult cli(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.add(1, "--socket");
        all.add(2, ws.root.resolve("control.sock").toString());
        return EmperorProcess.cli(ws.root, all.toArray(String[]::new));
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> status(String name) {
        CliResult r = cli("status", "--json", name);
        try {
            Map<String, Object> answer = Json.parseObject(r.stdout().strip());
            return (Map<String, Object>) ((List<Object>) answer.get("vassals")).get(0);
        } catch (Json.ParseException | RuntimeException e) {
            throw new AssertionError("status --json " + name + ": " + r, e);
        }
    }

    static void assumePython() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of(PYTHON)), "needs " + PYTHON);
    }

    @Test
    void startingUntilReadyOneThenRunningWithItsStatusText() {
        assumePython();
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            Path gate = ws.root.resolve("zeo-may-be-ready");
            ws.vassal("zeo", "exec = " + notifies("ready-on", gate.toString(), "'serving 3 clients'"), "ready = notify",
                    "stop-timeout = 5");
            awaitRunning(emp, from, "zeo");
            assertEquals("starting", status("zeo").get("state"), "not ready before READY=1");
            Workspace.write(gate, "");
            emp.awaitLogFrom(from, lifecycle("zeo", q("ready (READY=1)") + "$"), WAIT);
            Map<String, Object> s = status("zeo");
            assertEquals("running", s.get("state"));
            assertEquals("serving 3 clients", s.get("status_text"));
            CliResult table = cli("status");
            assertTrue(table.stdout().contains("zeo: status: serving 3 clients"), table::stdout);
        }
    }

    @Test
    void systemdNotifyWorksUnchangedFromAShellScript() {
        Path tool = Path.of("/usr/bin/systemd-notify");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(tool), "needs systemd-notify (apt-get install systemd)");
        Path script = ws.root.resolve("sd.sh");
        Workspace.write(script, String.join("\n",
                "# sd.sh: says it runs, tells the emperor with systemd-notify, says how that went, idles",
                "echo \"sd.sh running pid=$$\"",
                "sleep 1",
                tool + " --ready --status='via systemd-notify'",
                "echo \"sd.sh systemd-notify exited $?\"",
                "while :; do sleep 1; done", ""));
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("sd", "exec = /bin/sh " + script + " " + ws.marker, "ready = notify", "stop-timeout = 5");
            awaitRunning(emp, from, "sd");
            emp.awaitLogFrom(from, lifecycle("sd", q("ready (READY=1)") + "$"), WAIT);
            // Its barrier (a second datagram with an fd) was answered: the fd closed, it returned.
            emp.awaitLogFrom(from, output("sd", q("sd.sh systemd-notify exited 0") + "$"), WAIT);
            assertEquals("via systemd-notify", status("sd").get("status_text"));
        }
    }

    @Test
    void itsDependentStartsOnlyAfterReadyOne() {
        assumePython();
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            Path gate = ws.root.resolve("zeo-may-be-ready");
            ws.vassal("zeo", "exec = " + notifies("ready-on", gate.toString(), "'ZEO up'"), "ready = notify",
                    "stop-timeout = 5");
            ws.vassal("plone", "exec = " + ws.exec("sleeps.sh"), "requires = zeo", "stop-timeout = 5");
            awaitRunning(emp, from, "zeo");
            // Both files seen, zeo running and not ready: plone waits (and has not been spawned).
            emp.awaitLogFrom(from, lifecycle("plone", "waiting for zeo \\(.+\\)$"), WAIT);
            assertEquals(List.of(), emp.find(from, Lines.spawned("plone")), "plone started before zeo was ready");
            Workspace.write(gate, "");
            LogLine ready = emp.awaitLogFrom(from, lifecycle("zeo", q("ready (READY=1)") + "$"), WAIT);
            LogLine spawned = emp.awaitLogFrom(from, Lines.spawned("plone"), WAIT);
            assertTrue(spawned.index() > ready.index(), () -> "plone started before zeo was ready\n" + emp.diagnostics());
            assertEquals("ZEO up", status("zeo").get("status_text"));
        }
    }

    @Test
    void onlyTheVassalsThatAskGetNotifySocketAndWatchdogAndNeverTheEmperorsOwn() {
        assumePython();
        Map<String, String> env = Map.of("NOTIFY_SOCKET", ws.root.resolve("systemd-notify-of-the-emperor").toString(),
                "WATCHDOG_USEC", "99000000", "WATCHDOG_PID", "1");
        String[] ini = {"vassals = " + ws.vassals};
        try (EmperorProcess emp = EmperorProcess.start(ws, env, "--config", ws.emperorIni(ini).toString())) {
            int from = emp.mark();
            // Its own env lines for them are replaced: glibc's getenv would take the first of two.
            ws.vassal("dog", "exec = " + notifies("env"), "ready = notify", "watchdog = 30",
                    "env = NOTIFY_SOCKET=/tmp/not-the-emperors", "env = WATCHDOG_PID=1");
            ws.vassal("plain", "exec = " + notifies("env"));
            Proc dog = awaitRunning(emp, from, "dog");
            Proc plain = awaitRunning(emp, from, "plain");
            String socket = ws.root.resolve("notify.sock").toString();
            emp.awaitLogFrom(from, output("dog", q("notifies.py NOTIFY_SOCKET=" + socket) + "$"), WAIT);
            emp.awaitLogFrom(from, output("dog", q("notifies.py WATCHDOG_USEC=30000000") + "$"), WAIT);
            emp.awaitLogFrom(from, output("dog", q("notifies.py WATCHDOG_PID=" + dog.pid()) + "$"), WAIT);
            for (String k : List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")) {
                emp.awaitLogFrom(from, output("plain", q("notifies.py " + k + "=(unset)") + "$"), WAIT);
            }
            assertNull(Procs.environ(plain.pid()).get("NOTIFY_SOCKET"));
            assertEquals(socket, Procs.environ(dog.pid()).get("NOTIFY_SOCKET"));
            assertTrue(Files.exists(ws.root.resolve("notify.sock")));
        }
    }

    @Test
    void aVassalThatStopsPingingIsAbortedAndRestartedWithTheReason() {
        assumePython();
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("dog", "exec = " + notifies("pings", "4"), "ready = notify", "watchdog = 2", "stop-timeout = 5");
            Proc first = awaitRunning(emp, from, "dog");
            LogLine pinged = emp.awaitLogFrom(from, output("dog", q("notifies.py stops pinging") + "$"), WAIT);
            LogLine missed = emp.awaitLogAfter(pinged, lifecycle("dog",
                    q("watchdog: no WATCHDOG=1 in the last 2s: SIGABRT pid=" + first.pid() + " timeout=5s") + "$"));
            emp.awaitLogAfter(missed, lifecycle("dog", "exited signal=ABRT( \\(core dumped\\))? uptime=\\S+ \\(watchdog\\)$"));
            emp.awaitLogAfter(missed, Lines.spawned("dog"));
            Map<String, Object> s = status("dog");
            String problem = String.valueOf(s.get("last_problem"));
            assertTrue(problem.startsWith("watchdog: no WATCHDOG=1 in the last 2s; exited signal=ABRT"), problem);
            awaitGone(first, WAIT);
        }
    }

    @Test
    void fdsSentWithADatagramAreClosed() {
        assumePython();
        try (EmperorProcess emp = emperor()) {
            long before = emp.fds().stream().filter(f -> f.endsWith(" -> /dev/null")).count();
            int from = emp.mark();
            ws.vassal("fds", "exec = " + notifies("fds", "40"), "ready = notify", "stop-timeout = 5");
            emp.awaitLogFrom(from, lifecycle("fds", q("ready (READY=1)") + "$"), WAIT);
            assertEquals("sent 40 fds", status("fds").get("status_text"));
            long after = emp.fds().stream().filter(f -> f.endsWith(" -> /dev/null")).count();
            assertEquals(before, after, () -> "the emperor kept fds it was sent: " + emp.fds());
        }
    }

    @Test
    void aDatagramLargerThanTheBoundIsDroppedWithALine() {
        assumePython();
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("big", "exec = " + notifies("big"), "ready = notify", "stop-timeout = 5");
            Proc p = awaitRunning(emp, from, "big");
            emp.awaitLogFrom(from, Lines.emperor(q("notify: dropped 1 datagram (1 larger than 4096 bytes; the last from pid "
                    + p.pid() + " uid ") + "\\d+\\)$"), WAIT);
            emp.awaitLogFrom(from, lifecycle("big", q("ready (READY=1)") + "$"), WAIT);
            assertEquals("small", status("big").get("status_text"));
        }
    }

    @Test
    void aFloodCostsLittleAndEndsCoalesced() {
        assumePython();
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("other", "exec = " + notifies("ready", "0", "fine"), "ready = notify", "stop-timeout = 5");
            emp.awaitLogFrom(from, lifecycle("other", q("ready (READY=1)") + "$"), WAIT);
            // The baseline (printed, not asserted): the same emperor's CPU over 1 s without a flood.
            long idleStart = ChannelFloodIT.cpuTicks(emp.pid());
            long t0 = System.nanoTime();
            Poll.until("1 s of baseline", Duration.ofSeconds(30), () -> System.nanoTime() - t0 >= 1_000_000_000L);
            long idle = (ChannelFloodIT.cpuTicks(emp.pid()) - idleStart) * 10;
            long cpuBefore = ChannelFloodIT.cpuTicks(emp.pid());
            long rssBefore = ChannelFloodIT.rssKb(emp.pid());
            ws.vassal("flood", "exec = " + notifies("flood", "4"), "ready = notify", "stop-timeout = 5");
            LogLine flooded = emp.awaitLogFrom(from, output("flood", "notifies\\.py flooded (\\d+) datagrams$"), WAIT);
            long cpu = (ChannelFloodIT.cpuTicks(emp.pid()) - cpuBefore) * 10;
            long rss = ChannelFloodIT.rssKb(emp.pid()) - rssBefore;
            emp.awaitLogFrom(from, lifecycle("flood", q("ready (READY=1)") + "$"), WAIT);
            Poll.until("the flooder's last STATUS=", WAIT, () -> "flooded".equals(status("flood").get("status_text")));
            String measured = flooded.group(1) + " datagrams in 4 s: emperor CPU " + cpu + " ms (" + idle
                    + " ms in 1 s without the flood), RSS +" + rss + " kB";
            System.out.println("NotifyIT flood: " + measured);
            assertTrue(cpu < 2500, measured);
            assertTrue(rss < 200 * 1024, measured);
            // The other vassal is still served at once: an operator restart, then its READY=1.
            int again = emp.mark();
            assertEquals(0, cli("restart", "other").exitCode());
            emp.awaitLogFrom(again, lifecycle("other", q("ready (READY=1)") + "$"), WAIT);
        }
    }

    @Test
    void stoppingOneIsTheVassalsOwnStopAndNotAProblem() {
        assumePython();
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("quits", "exec = " + notifies("stopping"), "ready = notify", "stop-timeout = 5");
            Proc p = awaitRunning(emp, from, "quits");
            LogLine stop = emp.awaitLogFrom(from, lifecycle("quits",
                    q("stopping: the vassal says so (STOPPING=1) pid=" + p.pid() + " timeout=5s") + "$"), WAIT);
            emp.awaitLogAfter(stop, lifecycle("quits", "stopped status=0 after \\S+$"));
            emp.awaitLogAfter(stop, lifecycle("quits", "backoff retry in 1s \\(1 quick exit\\)$"));
            Optional<String> problem = Optional.ofNullable((String) status("quits").get("last_problem"));
            assertTrue(problem.isEmpty(), () -> "its own stop is no problem: " + problem);
        }
    }
}
