package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.EtcdServer;
import io.emperor.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet with a real etcd (one per class, started on loopback ports) and real emperors: keys are
 * vassals, node scope, two emperors on one fleet-wide key, an etcd SIGKILLed for 6 s (nothing stops,
 * the changes made once it is back are applied: the watch that jetcd resumes has been known to stay
 * silent after a restart, etcd-io/jetcd#1209), and nothing of the client without {@code etcd}.
 * Each test has its own prefix.
 */
class FleetIT extends ItSupport {
    @TempDir
    static Path etcdDir;
    static EtcdServer etcd;
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdServer.start(etcdDir, 1);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    private String prefix;

    private EmperorProcess fleetEmperor(Workspace w, String node, String... more) {
        prefix = prefix == null ? "/t" + PREFIXES.incrementAndGet() : prefix;
        String[] lines = new String[4 + more.length];
        lines[0] = "vassals = " + w.vassals;
        lines[1] = "etcd = " + etcd.endpoints();
        lines[2] = "etcd-prefix = " + prefix;
        lines[3] = "node = " + node;
        System.arraycopy(more, 0, lines, 4, more.length);
        EmperorProcess emp = EmperorProcess.start(w, "--config", w.emperorIni(lines).toString());
        emp.awaitLog(Lines.emperor(q("etcd: listed " + prefix + "/ at revision")));
        return emp;
    }

    private String vassal(Workspace w, String... args) {
        return "[vassal]\nexec = " + w.exec("sleeps.sh", args) + "\nstop-timeout = 5\n";
    }

    @Test
    void aPutSpawnsAChangeRestartsADeleteStops() {
        try (EmperorProcess emp = fleetEmperor(ws, "n1")) {
            int from = emp.mark();
            etcd.put(prefix + "/vassals/app.ini", vassal(ws, "first"));
            Proc first = awaitRunning(emp, from, "app");
            assertVassalProcess(emp, first, ws.argv("sleeps.sh", "first"));

            from = emp.mark();
            etcd.put(prefix + "/vassals/app.ini", vassal(ws, "second"));
            emp.awaitLog(lifecycle("app", q("restarting: spawn settings changed signal=TERM pid=" + first.pid())));
            Proc second = awaitRunning(emp, from, "app");
            assertVassalProcess(emp, second, ws.argv("sleeps.sh", "second"));
            awaitGone(first, WAIT);

            etcd.delete(prefix + "/vassals/app.ini");
            emp.awaitLog(lifecycle("app", q("stopping: file removed signal=TERM pid=" + second.pid())));
            awaitGone(second, WAIT);
        }
    }

    @Test
    void aNodesKeyWinsOverTheFleetsAndTwoEmperorsShareTheFleetWideKey() {
        Workspace other = new Workspace(tmp.resolve("n2"));
        try (EmperorProcess n1 = fleetEmperor(ws, "n1"); EmperorProcess n2 = fleetEmperor(other, "n2")) {
            int from1 = n1.mark();
            int from2 = n2.mark();
            etcd.put(prefix + "/nodes/n2/vassals/app.ini", vassal(other, "n2-only"));
            etcd.put(prefix + "/vassals/app.ini", vassal(ws, "everywhere"));
            etcd.put(prefix + "/nodes/n3/vassals/elsewhere.ini", vassal(ws, "n3"));
            etcd.put(prefix + "/status/n9/junk.ini", "not a vassal");

            Proc a1 = awaitRunning(n1, from1, "app");
            assertVassalProcess(n1, a1, ws.argv("sleeps.sh", "everywhere"));
            Proc a2 = awaitRunning(n2, from2, "app");
            assertVassalProcess(n2, a2, other.argv("sleeps.sh", "n2-only"));

            // The node's key gone, n2 runs the fleet-wide one.
            from2 = n2.mark();
            etcd.delete(prefix + "/nodes/n2/vassals/app.ini");
            Proc b2 = awaitRunning(n2, from2, "app");
            assertVassalProcess(n2, b2, ws.argv("sleeps.sh", "everywhere"));
            // Another node's key and a status key are nobody's vassal here.
            assertEquals(1, n1.countLog(Lines.anySpawned()), n1::diagnostics);
            assertTrue(a1.isAlive(), "n1's vassal was never touched");
        }
    }

    @Test
    void etcdKilledForSixSecondsStopsNothingAndWhatChangesOnceItIsBackIsApplied() {
        try (EmperorProcess emp = fleetEmperor(ws, "n1")) {
            int from = emp.mark();
            etcd.put(prefix + "/vassals/keep.ini", vassal(ws, "keep"));
            etcd.put(prefix + "/vassals/gone.ini", vassal(ws, "gone"));
            Path dirVassal = ws.vassal("local", "exec = " + ws.exec("sleeps.sh", "local"), "stop-timeout = 5");
            Proc keep = awaitRunning(emp, from, "keep");
            Proc gone = awaitRunning(emp, from, "gone");
            Proc local = awaitRunning(emp, from, "local");

            int outage = emp.mark();
            etcd.kill(0);
            long killed = System.nanoTime();
            emp.awaitLog(Lines.emperor("etcd: unreachable \\(.*\\) at " + q(etcd.endpoints())));
            EmperorProcess.CliResult status = EmperorProcess.cli(ws.root, "status", "--socket",
                    ws.root.resolve("control.sock").toString());
            assertTrue(status.stdout().contains("etcd: unreachable"), status::toString);
            // The directory still works meanwhile.
            Workspace.delete(dirVassal);
            awaitGone(local, WAIT);
            // Six seconds of outage, sampled: nothing from etcd stops.
            while (System.nanoTime() - killed < Duration.ofSeconds(6).toNanos()) {
                assertTrue(keep.isAlive() && gone.isAlive(), emp::diagnostics);
                Poll.within(Duration.ofMillis(200), () -> java.util.Optional.<Boolean>empty());
            }
            etcd.restart(0);
            etcd.awaitUp();
            // Changed from another client once it is back: jetcd's own resumed watch may say nothing.
            from = emp.mark();
            etcd.delete(prefix + "/vassals/gone.ini");
            etcd.put(prefix + "/vassals/added.ini", vassal(ws, "added"));
            awaitRunning(emp, from, "added");
            awaitGone(gone, WAIT);
            assertTrue(keep.isAlive(), "keep ran through the outage: " + keep);
            assertEquals(1, emp.countLog(spawned("keep")), "keep was spawned once");
            emp.awaitLogFrom(outage, Lines.emperor("etcd: reachable again after \\d+ s; listing " + q(prefix + "/")
                    + " again"), WAIT);
            assertEquals(1, emp.find(outage, Lines.emperor("etcd: unreachable")).size(), "the outage is logged once");
            assertEquals(1, emp.find(outage, Lines.emperor("etcd: reachable again")).size(),
                    "the recovery is logged once");
            String json = EmperorProcess.cli(ws.root, "status", "--json", "--socket",
                    ws.root.resolve("control.sock").toString()).stdout();
            assertTrue(json.contains("\"reachable\":true"), json);
        }
    }

    @Test
    void statusKeysArePublishedOnALeaseAndExpireAfterTheEmperorIsKilled() {
        EmperorProcess emp = fleetEmperor(ws, "n1", "etcd-ttl = 2");
        try {
            int from = emp.mark();
            etcd.put(prefix + "/vassals/app.ini", vassal(ws, "status"));
            Proc p = awaitRunning(emp, from, "app");
            String key = prefix + "/status/n1/app";
            Poll.until("the status key of app, running", WAIT, () -> {
                String v = etcd.list(key).get(key);
                return v != null && v.contains("\"state\":\"running\"") && v.contains("\"pid\":" + p.pid());
            }, () -> etcd.list(prefix + "/status/").toString());
            // emperor fleet status reads it from etcd: a table, and --json.
            EmperorProcess.CliResult table = EmperorProcess.cli(ws.root, "fleet", "status", "--config",
                    ws.root.resolve("emperor.ini").toString());
            assertEquals(0, table.exitCode(), table::toString);
            assertTrue(table.stdout().lines().anyMatch(l -> l.matches("n1\\s+app\\s+running\\s+" + p.pid() + "\\s.*")),
                    table::toString);
            EmperorProcess.CliResult json = EmperorProcess.cli(ws.root, "fleet", "status", "--json", "--config",
                    ws.root.resolve("emperor.ini").toString());
            assertTrue(json.stdout().startsWith("{\"ok\":true,") && json.stdout().contains("\"nodes\":{\"n1\":[{"),
                    json::toString);

            // Killed: the lease is not kept alive any more, and the key goes by itself.
            emp.signal("KILL");
            emp.awaitExit(WAIT);
            long killed = System.nanoTime();
            Poll.until("the status key to expire", WAIT, () -> etcd.list(key).isEmpty());
            long seconds = (System.nanoTime() - killed) / 1_000_000_000L;
            assertTrue(seconds <= 2 + 5, "expired " + seconds + " s after the kill (etcd-ttl = 2)");
        } finally {
            emp.close();
        }
    }

    @Test
    void withoutEtcdNothingOfTheClientIsLoaded() {
        Path classes = ws.root.resolve("classes.log");
        try (EmperorProcess emp = EmperorProcess.startWithJvmOptions(ws, Map.of(),
                List.of("-Xlog:class+load=info:file=" + classes), "--config",
                ws.emperorIni("vassals = " + ws.vassals).toString())) {
            int from = emp.mark();
            ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 5");
            awaitRunning(emp, from, "app");
            String loaded = Workspace.read(classes);
            assertTrue(loaded.contains("io.emperor.loop.EmperorLoop"), "the class log works");
            for (String pkg : List.of("io.etcd.", "io.grpc.", "io.netty.", "io.vertx.", "io.emperor.source.etcd.",
                    "io.emperor.source.Fleet")) {
                assertTrue(!loaded.contains(" " + pkg), () -> pkg + " was loaded without etcd");
            }
            for (Path task : list(Path.of("/proc", String.valueOf(emp.pid()), "task"))) {
                String name = Workspace.read(task.resolve("comm")).strip();
                assertTrue(!name.startsWith("emperor-etcd") && !name.startsWith("grpc"), "thread " + name);
            }
        }
    }

    private static List<Path> list(Path dir) {
        try (var s = Files.list(dir)) {
            return s.toList();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aWrongEtcdKeyIsAnErrorOfEmperorIni() {
        EmperorProcess.CliResult r = EmperorProcess.cli(ws.root, "run", "--config",
                ws.emperorIni("vassals = " + ws.vassals, "etcd = 127.0.0.1:2379", "etcd-ttl = 1").toString(),
                "--control", ws.root.resolve("c.sock").toString());
        assertNotEquals(0, r.exitCode());
        assertTrue(r.stderr().contains("expected http://HOST:PORT"), r::toString);
        assertTrue(r.stderr().contains("etcd-ttl"), r::toString);
    }
}
