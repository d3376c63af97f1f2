package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Who a notify datagram is from: the attribution by pid and uid, on a fake /proc. */
class NotifySendersTest {
    static final int ALICE = 1001;
    static final int BOB = 1002;

    final Map<Long, Long> groups = new HashMap<>();
    final Map<Long, String> cgroups = new HashMap<>();
    final Map<Long, Long> marks = new HashMap<>();
    final NotifySenders senders = new NotifySenders(new NotifySenders.Proc() {
        @Override
        public long processGroup(long pid) {
            return groups.getOrDefault(pid, -1L);
        }

        @Override
        public Optional<String> cgroup(long pid) {
            return Optional.ofNullable(cgroups.get(pid));
        }

        @Override
        public OptionalLong markedRun(long pid) {
            Long run = marks.get(pid);
            return run == null ? OptionalLong.empty() : OptionalLong.of(run);
        }
    });

    NotifySenders.Verdict from(long pid, int uid) {
        return senders.attribute(pid, uid);
    }

    @Test
    void theMainPidWithItsUid() {
        senders.started("bobs", 7, 500, BOB);
        assertEquals(7, from(500, BOB).run().runId());
        assertEquals(NotifySenders.Refusal.WRONG_UID, from(500, ALICE).refusal(), "a reused pid of another user");
    }

    @Test
    void aProcessOfItsGroupOrCgroupOrMark() {
        senders.started("bobs", 7, 500, BOB);
        groups.put(501L, 500L); // systemd-notify, a child of the vassal's shell
        assertEquals(7, from(501, BOB).run().runId());
        cgroups.put(502L, "bobs.vassal"); // a setsid daemon, still in the cgroup
        assertEquals(7, from(502, BOB).run().runId());
        marks.put(503L, 7L);
        assertEquals(7, from(503, BOB).run().runId());
    }

    @Test
    void aCopiedMarkOrAnotherUidIsRefused() {
        senders.started("bobs", 7, 500, BOB);
        senders.started("alices", 8, 600, ALICE);
        marks.put(601L, 7L); // Alice's process carrying Bob's run's mark
        assertEquals(NotifySenders.Refusal.WRONG_UID, from(601, ALICE).refusal());
        groups.put(602L, 600L);
        assertEquals(8, from(602, ALICE).run().runId(), "her own group is hers");
        assertEquals(NotifySenders.Refusal.NO_VASSAL, from(999, ALICE).refusal());
        assertEquals(NotifySenders.Refusal.NO_VASSAL, from(0, ALICE).refusal());
    }

    @Test
    void anEndedRunIsNobodys() {
        senders.started("bobs", 7, 500, BOB);
        cgroups.put(502L, "bobs.vassal");
        senders.ended(7);
        assertNull(from(500, BOB).run());
        assertNull(from(502, BOB).run());
        senders.started("bobs", 9, 700, BOB);
        assertEquals(9, from(502, BOB).run().runId(), "the cgroup is the vassal's current run's");
    }
}
