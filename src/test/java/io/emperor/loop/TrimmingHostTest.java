package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.vassal.Policy;
import io.emperor.vassal.Vassal;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The C heap is trimmed once, QUIET after the last change, and an idle emperor has no deadline for it. */
class TrimmingHostTest {
    long now = 1_000;
    int trims;
    long innerDeadline = Vassal.NO_DEADLINE;
    int innerDue;

    final EmperorLoop.Host inner = new EmperorLoop.Host() {
        @Override
        public Optional<Policy> reloadConfig() {
            return Optional.empty();
        }

        @Override
        public void stopWatching() {}

        @Override
        public long deadline() {
            return innerDeadline;
        }

        @Override
        public void deadlineDue(long at) {
            innerDue++;
        }
    };

    final TrimmingHost host = new TrimmingHost(inner, () -> now, () -> trims++);

    @Test
    void idleThereIsNoDeadline() {
        assertEquals(Vassal.NO_DEADLINE, host.deadline());
    }

    @Test
    void oneTrimQuietAfterTheLastChange() {
        host.ready();
        assertEquals(now + TrimmingHost.QUIET, host.deadline());
        now += TrimmingHost.QUIET / 2;
        host.countsChanged(new Counts(1, 0, 0));
        assertEquals(now + TrimmingHost.QUIET, host.deadline(), "a change pushes the trim back");
        now += TrimmingHost.QUIET - 1;
        host.deadlineDue(now);
        assertEquals(0, trims, "not before the quiet period");
        now += 1;
        host.deadlineDue(now);
        assertEquals(1, trims);
        assertEquals(Vassal.NO_DEADLINE, host.deadline(), "once, then nothing until the next change");
        host.deadlineDue(now + TrimmingHost.QUIET);
        assertEquals(1, trims);
    }

    @Test
    void theInnerHostsDeadlineStillComes() {
        innerDeadline = now + 5;
        host.countsChanged(new Counts(1, 0, 0));
        assertEquals(now + 5, host.deadline());
        host.deadlineDue(now + 5);
        assertEquals(1, innerDue);
        assertEquals(0, trims);
    }
}
