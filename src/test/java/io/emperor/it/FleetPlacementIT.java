package io.emperor.it;

import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.EtcdServer;
import io.emperor.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Placement (docs/fleet.md): {@code [fleet] replicas = 1} on two nodes runs one copy, never two at once
 * (sampled), and fails over within etcd-ttl + 5 s when the holder dies; a holder cut off from etcd stops it
 * (fencing), while an unplaced vassal from etcd runs on. One etcd per test (one is stopped).
 */
class FleetPlacementIT extends ItSupport {
    private static final int TTL = 6;
    @TempDir
    Path etcdDir;

    private EmperorProcess node(Workspace w, EtcdServer etcd, String node) {
        EmperorProcess emp = EmperorProcess.start(w, "--config", w.emperorIni("vassals = " + w.vassals,
                "etcd = " + etcd.endpoints(), "etcd-prefix = /pl", "node = " + node, "etcd-ttl = " + TTL).toString());
        emp.awaitLog(Lines.emperor(q("etcd: listed /pl/ at revision")));
        return emp;
    }

    private String placed(String arg) {
        return "[vassal]\nexec = " + ws.exec("sleeps.sh", arg) + "\nstop-timeout = 5\n[fleet]\nreplicas = 1\n";
    }

    /**
     * The live copies of the vassal whose argument is {@code arg}, on any node. The shell of a copy forks
     * before it execs {@code sleep}, and for that moment the fork has the same command line: a process whose
     * parent is itself a copy is that fork, not a second copy.
     */
    private List<Proc> copies(String arg) {
        List<Proc> shells = Procs.withMarker(ws.marker).stream()
                .filter(p -> p.isAlive() && p.cmdline().contains(arg) && p.cmdline().get(0).equals("/bin/sh")).toList();
        return shells.stream().filter(p -> shells.stream().noneMatch(s -> s.pid() == p.ppid())).toList();
    }

    private void assertNeverTwo(String arg, Duration during) {
        long end = System.nanoTime() + during.toNanos();
        while (System.nanoTime() < end) {
            List<Proc> c = copies(arg);
            assertTrue(c.size() <= 1, () -> "two copies at once: " + c);
            Poll.within(Duration.ofMillis(100), Optional::<Boolean>empty);
        }
    }

    @Test
    void oneReplicaOnTwoNodesRunsOnceAndFailsOverWhenTheHolderDies() {
        Workspace other = new Workspace(tmp.resolve("n2"));
        TyrantSupport.openUp(tmp, ws);
        try (EtcdServer etcd = EtcdServer.start(etcdDir, 1);
             EmperorProcess n1 = node(ws, etcd, "n1"); EmperorProcess n2 = node(other, etcd, "n2")) {
            etcd.put("/pl/vassals/one.ini", placed("one"));
            Proc first = Poll.until("one copy", WAIT, () -> copies("one").stream().findFirst(), () -> n1.diagnostics()
                    + n2.diagnostics());
            assertNeverTwo("one", Duration.ofSeconds(3));
            String holder = etcd.list("/pl/slots/one/0").get("/pl/slots/one/0");
            EmperorProcess dying = "n1".equals(holder) ? n1 : n2;
            EmperorProcess surviving = dying == n1 ? n2 : n1;
            assertTrue(first.ppid() == dying.pid(), "the slot's holder runs it: " + holder);

            // The holder's machine dies: the emperor and its vassal, at once.
            int from = surviving.mark();
            dying.signal("KILL");
            Procs.kill(first.pid(), "KILL");
            long died = System.nanoTime();
            awaitGone(first, WAIT);
            Proc next = Poll.until("the failover", WAIT, () -> copies("one").stream().findFirst(),
                    surviving::diagnostics);
            long seconds = (System.nanoTime() - died) / 1_000_000_000L;
            assertTrue(seconds <= TTL + 5, "failed over after " + seconds + " s (etcd-ttl = " + TTL + ")");
            assertTrue(next.ppid() == surviving.pid(), "on the surviving node");
            surviving.awaitLogFrom(from, Lines.emperor(q("fleet: one: took slot /pl/slots/one/0")), WAIT);
            assertNeverTwo("one", Duration.ofSeconds(2));
        }
    }

    @Test
    void aHolderCutOffFromEtcdStopsItsPlacedVassalAndKeepsTheOthers() {
        try (EtcdServer etcd = EtcdServer.start(etcdDir, 1); EmperorProcess n1 = node(ws, etcd, "n1")) {
            int from = n1.mark();
            etcd.put("/pl/vassals/one.ini", placed("one"));
            etcd.put("/pl/vassals/plain.ini", "[vassal]\nexec = " + ws.exec("sleeps.sh", "plain") + "\n");
            Proc one = awaitRunning(n1, from, "one");
            Proc plain = awaitRunning(n1, from, "plain");

            // Cut off: etcd stops answering (SIGSTOP), so the lease cannot be kept.
            Procs.kill(etcd.pid(0), "STOP");
            try {
                long cut = System.nanoTime();
                n1.awaitLog(Lines.emperor(q("fleet: the lease of node n1 was not kept alive for " + TTL
                        + " s; stopping the placed vassals (another node may take their slots)")));
                awaitGone(one, WAIT);
                long seconds = (System.nanoTime() - cut) / 1_000_000_000L;
                assertTrue(seconds <= TTL + 2, "fenced after " + seconds + " s");
                assertTrue(plain.isAlive(), "an unplaced vassal from etcd runs on through the outage");
            } finally {
                Procs.kill(etcd.pid(0), "CONT");
            }
            // Back: the node takes its slot again.
            from = n1.mark();
            awaitRunning(n1, from, "one");
            assertTrue(plain.isAlive());
        }
    }
}
