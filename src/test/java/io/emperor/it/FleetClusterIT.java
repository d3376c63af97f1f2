package io.emperor.it;

import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.EtcdServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet on a 3-member etcd cluster: the leader SIGKILLed stops nothing, and a key added while it is
 * down (the two others keep a quorum) is applied. The emperor knows every member's endpoint.
 */
class FleetClusterIT extends ItSupport {
    @TempDir
    Path etcdDir;

    @Test
    void losingTheLeaderStopsNothingAndAPutMeanwhileIsApplied() {
        try (EtcdServer etcd = EtcdServer.start(etcdDir, 3);
             EmperorProcess emp = EmperorProcess.start(ws, "--config", ws.emperorIni("vassals = " + ws.vassals,
                     "etcd = " + etcd.endpoints(), "etcd-prefix = /cl", "node = n1").toString())) {
            emp.awaitLog(Lines.emperor(q("etcd: listed /cl/ at revision")));
            int from = emp.mark();
            etcd.put("/cl/vassals/keep.ini", "[vassal]\nexec = " + ws.exec("sleeps.sh", "keep") + "\nstop-timeout = 5\n");
            Proc keep = awaitRunning(emp, from, "keep");

            int leader = etcd.leader();
            etcd.kill(leader);
            from = emp.mark();
            etcd.put("/cl/vassals/added.ini", "[vassal]\nexec = " + ws.exec("sleeps.sh", "added") + "\nstop-timeout = 5\n");
            awaitRunning(emp, from, "added");
            assertTrue(keep.isAlive(), "keep runs on: " + keep);
            assertEquals(1, emp.countLog(spawned("keep")), "keep was spawned once");
            etcd.restart(leader);
        }
    }
}
