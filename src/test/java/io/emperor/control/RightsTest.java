package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** Who may do what on the control socket: root, the emperor, its group; in tyrant mode, owners. */
class RightsTest {
    static final int EMPEROR = 998;
    static final Set<Integer> GROUP_MEMBERS = Set.of(1500);

    static Rights rights(boolean tyrant) {
        return new Rights(tyrant, EMPEROR, EMPEROR, "emperor", GROUP_MEMBERS::contains);
    }

    static Peer peer(int uid, int gid) {
        return new Peer(4242, uid, gid);
    }

    @Test
    void rootTheEmperorAndItsGroupReachEverything() {
        for (boolean tyrant : new boolean[] {false, true}) {
            Rights r = rights(tyrant);
            assertEquals(Rights.Scope.ALL, r.scope(peer(0, 0)));
            assertEquals(Rights.Scope.ALL, r.scope(peer(EMPEROR, EMPEROR)));
            assertEquals(Rights.Scope.ALL, r.scope(peer(1400, EMPEROR)), "primary group");
            assertEquals(Rights.Scope.ALL, r.scope(peer(1500, 1500)), "supplementary member");
            assertTrue(r.mayReach(peer(0, 0), 1001));
            assertTrue(r.mayReach(peer(1500, 1500), -1), "even a vassal whose owner is unknown");
        }
    }

    @Test
    void inTyrantModeOthersReachTheirOwnVassalsOnly() {
        Rights r = rights(true);
        Peer alice = peer(1001, 1001);
        assertEquals(Rights.Scope.OWN, r.scope(alice));
        assertTrue(r.mayReach(alice, 1001));
        assertFalse(r.mayReach(alice, 1002));
        assertFalse(r.mayReach(alice, -1), "a vassal with no known file is nobody's");
    }

    @Test
    void otherwiseOthersAreRefusedWithAReason() {
        Rights r = rights(false);
        Peer alice = peer(1001, 1001);
        assertEquals(Rights.Scope.NONE, r.scope(alice));
        assertFalse(r.mayReach(alice, 1001));
        assertEquals("permission denied: uid 1001 is not root and not in the emperor's group emperor (gid 998)",
                r.refusal(alice));
    }
}
