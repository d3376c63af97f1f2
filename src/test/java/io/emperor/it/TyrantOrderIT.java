package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.it.TyrantSupport.User;
import io.emperor.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Order and readiness in tyrant mode, attacked by a tenant (docs/tyrant.md, "Order and
 * readiness"): a probe aimed at the emperor's own control socket, and a requirement on another
 * tenant's vassal. Real users, a root emperor.
 */
class TyrantOrderIT extends UsersItSupport {
    private static User alice;
    private static User bob;

    @BeforeAll
    static void createUsers() {
        alice = accounts.user("oa");
        bob = accounts.user("ob");
    }

    private EmperorProcess tyrant() {
        EmperorProcess emp = emperor("tyrant = true");
        emp.awaitLogFrom(0, Lines.emperor(q("tyrant mode: every vassal runs as the owner of its file")), WAIT);
        return emp;
    }

    private Path vassal(String name, User owner, String... lines) {
        return TyrantSupport.vassal(ws, ws.vassals, name, owner.uid(), owner.gid(), "rw-r--r--", lines);
    }

    @Test
    void aTenantsProbeOfTheEmperorsControlSocketIsNeverConnectedAndFailsTheRun() {
        Path control = ws.root.resolve("control.sock");
        try (EmperorProcess emp = tyrant()) {
            int from = emp.mark();
            vassal("evil", alice, "exec = " + ws.exec("sleeps.sh"), "ready = unix:" + control, "ready-timeout = 2",
                    "stop-timeout = 2");
            emp.awaitLogFrom(from, spawned("evil"), WAIT);
            emp.awaitLogFrom(from, lifecycle("evil", q("not ready within 2s (ready = unix:" + control + "): connect unix:"
                    + control + ": no socket of uid " + alice.uid() + " there (a vassal that runs as another user is"
                    + " probed only on a socket of its own)") + "$"), WAIT);
            emp.awaitLogFrom(from, lifecycle("evil", q("backoff retry in 1s (1 quick exit)")), WAIT);
        }
    }

    @Test
    void aTenantsRequirementOnAnotherTenantsVassalIsNoSuchVassal() {
        try (EmperorProcess emp = tyrant()) {
            int from = emp.mark();
            vassal("bobdb", bob, "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            emp.awaitLogFrom(from, spawned("bobdb"), WAIT);
            vassal("aliceapp", alice, "exec = " + ws.exec("sleeps.sh"), "requires = bobdb", "stop-timeout = 2");
            emp.awaitLogFrom(from, lifecycle("aliceapp", q("waiting for bobdb (no such vassal)") + "$"), WAIT);
            assertEquals(Optional.empty(), Poll.within(Duration.ofSeconds(2), () -> emp.first(from, spawned("aliceapp"))));
            // Her own db is another matter.
            vassal("alicedb", alice, "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            vassal("aliceapp", alice, "exec = " + ws.exec("sleeps.sh"), "requires = alicedb", "stop-timeout = 2");
            emp.awaitLogFrom(from, spawned("aliceapp"), WAIT);
        }
    }
}
