package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.DropSettings;
import io.emperor.config.DropSettings.Named;
import io.emperor.config.FakeUserDb;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What emperor.ini's uid, gid and cap mean for an emperor started as root, as that user, or as another. */
class PrivilegeDropTest {
    private static final Path INI = Path.of("/etc/uwsgi/emperor.ini");
    private final FakeUserDb users = FakeUserDb.standard().user("www-data", 33, 33).group("web", 900);

    private static DropSettings drop(String uid, String gid, List<Integer> caps) {
        return new DropSettings(INI, new Named(uid, 4), gid == null ? null : new Named(gid, 5),
                caps.isEmpty() ? null : new Named("setgid,setuid", 6), caps);
    }

    @Test
    void asRootItBecomesTheUserKeepingTheNamedCapabilitiesAndKill() {
        PrivilegeDrop.Plan plan = PrivilegeDrop.plan(drop("www-data", "www-data", List.of(6, 7)), users, 0);
        PrivilegeDrop.Target t = assertInstanceOf(PrivilegeDrop.Plan.Become.class, plan).target();
        assertEquals("www-data", t.name());
        assertEquals(33, t.uid());
        assertEquals(33, t.gid());
        assertEquals(List.of(6, 7, 5), t.caps());
        assertTrue(t.killAdded());
        assertEquals(0xe0L, t.mask());
        assertEquals(List.of("cap: CAP_KILL added to the capabilities the emperor keeps (/etc/uwsgi/emperor.ini:6:"
                        + " setgid,setuid): signalling other users' vassals needs it",
                "became www-data (uid 33): gid=33 groups=33,900 capabilities=CAP_SETGID,CAP_SETUID,CAP_KILL"
                        + " (effective, permitted, inheritable, ambient)"),
                PrivilegeDrop.lines(t, "Name:\tjava\nGroups:\t33 900\n"));
    }

    @Test
    void killNamedIsNotAddedAgainAndTheGroupDefaultsToTheUsers() {
        PrivilegeDrop.Target t = ((PrivilegeDrop.Plan.Become) PrivilegeDrop.plan(drop("bob", null, List.of(5, 7)),
                users, 0)).target();
        assertEquals(100, t.gid(), "bob's passwd group");
        assertFalse(t.killAdded());
        assertEquals(List.of(5, 7), t.caps());
        PrivilegeDrop.Target numeric = ((PrivilegeDrop.Plan.Become) PrivilegeDrop.plan(drop("4242", "web",
                List.of()), users, 0)).target();
        assertEquals(null, numeric.name(), "no passwd entry: setgroups to the gid alone");
        assertEquals(900, numeric.gid());
        assertEquals(List.of(5), numeric.caps());
    }

    @Test
    void startedAsThatUserAlreadyTheKeysAreANoOp() {
        assertInstanceOf(PrivilegeDrop.Plan.Stay.class, PrivilegeDrop.plan(drop("www-data", "www-data", List.of(6, 7)),
                users, 33));
        assertInstanceOf(PrivilegeDrop.Plan.Stay.class, PrivilegeDrop.plan(DropSettings.NONE, users, 1000));
    }

    @Test
    void anotherUserIsRefused() {
        assertEquals(new PrivilegeDrop.Plan.Refused("emperor: /etc/uwsgi/emperor.ini:4: uid = www-data: the emperor"
                + " runs as alice (uid 1000); only root can become www-data (uid 33): start it as root, or as that user"),
                PrivilegeDrop.plan(drop("www-data", null, List.of()), users, 1000));
    }

    @Test
    void unknownNamesAreErrorsWithTheirLine() {
        assertEquals(new PrivilegeDrop.Plan.Refused("emperor: /etc/uwsgi/emperor.ini:4: uid: unknown user \"wwwdata\""),
                PrivilegeDrop.plan(drop("wwwdata", null, List.of()), users, 0));
        assertEquals(new PrivilegeDrop.Plan.Refused("emperor: /etc/uwsgi/emperor.ini:5: gid: unknown group \"nogroup\""),
                PrivilegeDrop.plan(drop("www-data", "nogroup", List.of()), users, 0));
        assertEquals(new PrivilegeDrop.Plan.Refused("emperor: /etc/uwsgi/emperor.ini:4: uid: uid 4242 has no passwd"
                + " entry, so no group: set gid too"), PrivilegeDrop.plan(drop("4242", null, List.of()), users, 0));
    }
}
