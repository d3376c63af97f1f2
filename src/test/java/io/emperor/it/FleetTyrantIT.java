package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.it.TyrantSupport.User;
import io.emperor.testing.EtcdServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenants in the fleet (docs/fleet.md): in tyrant mode {@code PREFIX/users/USER/vassals/FILE} runs as
 * USER; root, a user that does not exist and the operator's fleet-wide keys are refused with a reason.
 * Root and useradd, and etcd, or skipped.
 */
class FleetTyrantIT extends UsersItSupport {
    @TempDir
    static Path etcdDir;
    static EtcdServer etcd;
    static User alice;

    @BeforeAll
    static void startEtcd() {
        alice = accounts.user("a");
        etcd = EtcdServer.start(etcdDir, 1);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    @Test
    void aUsersKeyRunsAsThatUserAndRootAndStrangersAreRefused() {
        String prefix = "/ty";
        try (EmperorProcess emp = emperor("tyrant = true", "etcd = " + etcd.endpoints(), "etcd-prefix = " + prefix,
                "node = n1")) {
            emp.awaitLog(Lines.emperor(q("etcd: listed " + prefix + "/ at revision")));
            int from = emp.mark();
            String text = "[vassal]\nexec = " + ws.exec("sleeps.sh", "tenant") + "\nstop-timeout = 5\n";
            // A tenant that names root in its own text still runs as itself.
            etcd.put(prefix + "/users/" + alice.name() + "/vassals/app.ini", text.replace("[vassal]\n",
                    "[vassal]\nuid = root\ngid = root\n"));
            etcd.put(prefix + "/users/root/vassals/rooted.ini", text);
            etcd.put(prefix + "/users/nosuchuser" + alice.uid() + "/vassals/stranger.ini", text);
            etcd.put(prefix + "/vassals/operator.ini", text);

            Proc p = awaitRunning(emp, from, "app");
            assertEquals(alice.uid() + "\t" + alice.uid() + "\t" + alice.uid() + "\t" + alice.uid(),
                    Procs.status(p.pid(), "Uid").orElseThrow(), "runs as alice");
            assertEquals(alice.gid() + "\t" + alice.gid() + "\t" + alice.gid() + "\t" + alice.gid(),
                    Procs.status(p.pid(), "Gid").orElseThrow(), "with alice's group");
            emp.awaitLog(lifecycle("rooted", q("refused: " + prefix + "/users/root/vassals/rooted.ini: user root is"
                    + " root (uid 0): no vassal from etcd runs as root")));
            emp.awaitLog(lifecycle("stranger", q("refused: " + prefix + "/users/nosuchuser" + alice.uid()
                    + "/vassals/stranger.ini: no such user")));
            emp.awaitLog(lifecycle("operator", q("refused: " + prefix + "/vassals/operator.ini: in tyrant mode a"
                    + " vassal from etcd runs as the user of its key")));
            assertEquals(1, emp.countLog(Lines.anySpawned()), emp::diagnostics);
            assertTrue(p.isAlive());
        }
    }
}
