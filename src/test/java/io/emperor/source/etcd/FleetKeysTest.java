package io.emperor.source.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.FakeUserDb;
import io.emperor.config.FleetSettings;
import io.emperor.config.TenantBudget;
import io.emperor.config.VassalParser;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.TyrantRules;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which keys are this node's vassals, and what each says: pure, without etcd. */
class FleetKeysTest {
    private static final FleetSettings SETTINGS = new FleetSettings(List.of("http://e:1"), "/p", "n1",
            Duration.ofSeconds(10), null, null, null, null, null);
    private final FakeUserDb users = FakeUserDb.standard().user("alice", 1000, 1000).user("toor", 0, 0);
    private final Map<String, FleetKeys.Entry> entries = new HashMap<>();
    private long revision;

    private FleetKeys keys(boolean tyrant) {
        return keys(tyrant, TenantBudget.DEFAULTS);
    }

    private FleetKeys keys(boolean tyrant, TenantBudget budget) {
        return new FleetKeys(SETTINGS, new VassalParser(users, "host", Map.of(), tyrant), users, tyrant,
                TyrantRules.EmperorGroup.NONE, budget);
    }

    private void put(String key, String value) {
        revision++;
        entries.put(key, new FleetKeys.Entry(key, value.getBytes(StandardCharsets.UTF_8), revision, revision, 1, 0));
    }

    private static String vassal(String exec) {
        return "[vassal]\nexec = " + exec + "\n";
    }

    @Test
    void keysOfThisNode() {
        assertEquals(FleetKeys.Scope.FLEET, FleetKeys.parse("/p", "n1", "/p/vassals/app.ini").orElseThrow().scope());
        assertEquals(FleetKeys.Scope.NODE, FleetKeys.parse("/p", "n1", "/p/nodes/n1/vassals/app.ini").orElseThrow().scope());
        FleetKeys.Key user = FleetKeys.parse("/p", "n1", "/p/users/alice/vassals/app.yaml").orElseThrow();
        assertEquals("alice", user.user());
        assertEquals("app", user.name());
        for (String other : List.of("/p/nodes/n2/vassals/app.ini", "/p/status/n1/app", "/p/slots/app/0",
                "/p/vassals/.app.ini", "/p/vassals/app.txt", "/p/vassals/sub/app.ini", "/q/vassals/app.ini",
                "/p/users/../vassals/app.ini", "/pvassals/app.ini")) {
            assertEquals(Optional.empty(), FleetKeys.parse("/p", "n1", other), other);
        }
    }

    @Test
    void theNodesKeyWinsAndAnotherNodesIsNotOurs() {
        put("/p/vassals/app.ini", vassal("/bin/fleet"));
        put("/p/nodes/n1/vassals/app.ini", vassal("/bin/node"));
        put("/p/nodes/n2/vassals/other.ini", vassal("/bin/other"));
        Snapshot s = keys(false).snapshot(entries, Set.of());
        assertEquals(Set.of("app"), s.files().keySet());
        assertEquals(List.of("/bin/node"), s.files().get("app").parsed().value().argv());
        assertEquals(Path.of("/p/nodes/n1/vassals/app.ini"), s.files().get("app").path());
        assertEquals(Path.of("/"), s.files().get("app").parsed().value().chdir(), "no directory: /");
    }

    @Test
    void aPutIsANewVersionAndAnUnchangedKeyKeepsItsParse() {
        FleetKeys k = keys(false);
        put("/p/vassals/app.ini", vassal("/bin/a"));
        Snapshot first = k.snapshot(entries, Set.of());
        Snapshot again = k.snapshot(entries, Set.of());
        assertTrue(first.files().get("app") == again.files().get("app"), "the same parse");
        put("/p/vassals/app.ini", vassal("/bin/a"));
        assertFalse(first.files().get("app").fingerprint().equals(k.snapshot(entries, Set.of()).files().get("app")
                .fingerprint()), "the same text put again is a change");
    }

    @Test
    void usersKeysRunAsTheirUserInTyrantModeOnly() {
        put("/p/users/alice/vassals/a.ini", vassal("/bin/a"));
        put("/p/users/toor/vassals/t.ini", vassal("/bin/t"));
        put("/p/users/nobodyhere/vassals/n.ini", vassal("/bin/n"));
        put("/p/vassals/op.ini", vassal("/bin/op"));
        Snapshot s = keys(true).snapshot(entries, Set.of());
        assertEquals(1000, s.files().get("a").parsed().value().uid());
        assertEquals(1000, s.files().get("a").fingerprint().uid(), "whose it is, for the control socket's rights");
        assertTrue(s.files().get("t").parsed().errors().get(0).message().contains("is root (uid 0)"));
        assertTrue(s.files().get("n").parsed().errors().get(0).message().startsWith("no such user 'nobodyhere'"));
        assertTrue(s.files().get("op").parsed().errors().get(0).message().startsWith("in tyrant mode"));
        Snapshot outside = keys(false).snapshot(entries, Set.of());
        assertTrue(outside.files().get("a").parsed().errors().get(0).message().contains("only in tyrant mode"));
    }

    /** Issue 15: a user's key gets tyrant mode's socket rules with its line, as a tenant's file does. */
    @Test
    void aUsersKeyGetsNoPrivilegedPortNorAnAddressOutsideTenantListen() {
        put("/p/users/alice/vassals/low.ini", vassal("/bin/a") + "listen = 127.0.0.1:80\n");
        put("/p/users/alice/vassals/wide.ini", vassal("/bin/a") + "listen = 10.0.0.1:8080\n");
        put("/p/users/alice/vassals/ok.ini", vassal("/bin/a") + "listen = 127.0.0.1:8080\n");
        FleetKeys k = new FleetKeys(SETTINGS, new VassalParser(users, "host", Map.of(), true)
                .withTenantListen(io.emperor.config.TenantListen.parse("127.0.0.1:*").value()), users, true,
                TyrantRules.EmperorGroup.NONE, TenantBudget.DEFAULTS);
        Snapshot s = k.snapshot(entries, Set.of());
        assertEquals("3: listen: port 80 is below 1024: refused in tyrant mode (a tenant may not take a privileged"
                + " port); use a port from 1024 up", s.files().get("low").parsed().errors().get(0).line() + ": "
                + s.files().get("low").parsed().errors().get(0).message());
        assertEquals("listen: 10.0.0.1:8080 is not allowed to tenants: tenant-listen allows only 127.0.0.1:*",
                s.files().get("wide").parsed().errors().get(0).message());
        assertTrue(s.files().get("ok").parsed().isOk(), s.files().get("ok").parsed().errors()::toString);
    }

    /**
     * A tenant with write access to its prefix cannot fill the emperor's heap with keys: its keys
     * count against the tenant budget as its files do in the directories, the oldest first, refused
     * unread past it; another tenant's key still runs; a refused key is read once it fits again.
     */
    @Test
    void aUsersKeysPastTheTenantBudgetAreRefusedUnreadTheOldestKeepTheirPlace() {
        users.user("bob", 1001, 1001);
        FleetKeys k = keys(true, new TenantBudget(2, 64 << 10, 1 << 20));
        put("/p/users/alice/vassals/z.ini", vassal("/bin/z")); // the oldest, though last by name
        put("/p/users/alice/vassals/a.ini", vassal("/bin/a"));
        put("/p/users/alice/vassals/b.ini", vassal("/bin/b"));
        put("/p/users/bob/vassals/c.ini", vassal("/bin/c"));
        Snapshot s = k.snapshot(entries, Set.of());
        assertTrue(s.files().get("z").parsed().isOk(), "the oldest keeps its place");
        assertTrue(s.files().get("a").parsed().isOk());
        assertTrue(s.files().get("b").parsed().errors().get(0).message()
                .startsWith("owner alice (uid 1000) has more than 2 vassal files (tenant-max-vassals)"),
                s.files().get("b").parsed().errors()::toString);
        assertTrue(s.files().get("c").parsed().isOk(), "another tenant's key runs");

        put("/p/users/bob/vassals/huge.ini", vassal("/bin/h") + "# " + "x".repeat(70 << 10) + "\n");
        assertTrue(k.snapshot(entries, Set.of()).files().get("huge").parsed().errors().get(0).message()
                .contains("(tenant-max-bytes)"));

        entries.remove("/p/users/alice/vassals/z.ini");
        Snapshot after = k.snapshot(entries, Set.of());
        assertEquals(List.of("/bin/b"), after.files().get("b").parsed().value().argv(), "read once it fits");
    }

    @Test
    void aUwsgiVassalAndAHugeValueAreRefused() {
        put("/p/vassals/u.ini", "[uwsgi]\nhttp = :8080\n");
        put("/p/vassals/big.ini", vassal("/bin/a") + "# " + "x".repeat(1024 * 1024) + "\n");
        Snapshot s = keys(false).snapshot(entries, Set.of());
        assertTrue(s.files().get("u").parsed().errors().get(0).message().startsWith("a [uwsgi] vassal cannot come from etcd"));
        assertEquals("value is larger than 1 MiB", s.files().get("big").parsed().errors().get(0).message());
    }

    @Test
    void aPlacedVassalRunsOnlyWhereItsSlotIsHeld() {
        FleetKeys k = keys(false);
        put("/p/vassals/one.ini", vassal("/bin/one") + "[fleet]\nreplicas = 2\nnodes = n*\n");
        assertEquals(Set.of(), k.snapshot(entries, Set.of()).files().keySet());
        assertEquals(new FleetKeys.Placement(2, "n*"), k.placements().get("one"));
        assertTrue(k.placements().get("one").matches("n1"));
        assertFalse(k.placements().get("one").matches("web1"));
        Snapshot held = k.snapshot(entries, Set.of("one"));
        assertEquals(Set.of("one"), held.files().keySet());
        assertEquals(List.of(), held.files().get("one").parsed().warnings(), "[fleet] is not an ignored section here");
    }

    @Test
    void aWrongFleetSectionIsTheVassalsRefusal() {
        put("/p/vassals/a.ini", vassal("/bin/a") + "[fleet]\nreplicas = 0\n");
        put("/p/vassals/b.ini", vassal("/bin/b") + "[fleet]\nreplica = 1\n");
        put("/p/vassals/c.ini", vassal("/bin/c") + "[fleet]\nnodes = n1\n");
        Snapshot s = keys(false).snapshot(entries, Set.of());
        assertEquals("/p/vassals/a.ini:4: replicas: expected a whole number from 1 to 1000: \"0\"",
                s.files().get("a").parsed().errors().get(0).toString());
        assertTrue(s.files().get("b").parsed().errors().get(0).message().startsWith("replica: unknown key of [fleet]"));
        assertEquals("[fleet] needs replicas = N", s.files().get("c").parsed().errors().get(0).message());
    }

    @Test
    void slotKeys() {
        assertEquals(new FleetKeys.Slot("one", 3), FleetKeys.slot("/p/slots/", "/p/slots/one/3"));
        assertEquals(null, FleetKeys.slot("/p/slots/", "/p/slots/one/x"));
        assertEquals(null, FleetKeys.slot("/p/slots/", "/p/slots/one"));
        assertEquals(null, FleetKeys.slot("/p/slots/", "/p/status/n1/one"));
    }
}
