package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The unsent answer bytes of the control socket, per uid and in all (no sockets). */
class OutputBudgetTest {
    private static final int ALICE = 1001;
    private static final int BOB = 1002;
    private static final int ROOT = 0;

    @Test
    void oneUidCannotTakeMoreThanItsShareAndOthersStillGetTheirs() {
        OutputBudget b = new OutputBudget(100, 250);
        assertNull(b.take(ALICE, true, 60));
        assertNull(b.take(ALICE, true, 40));
        assertEquals(OutputBudget.Refusal.USER, b.take(ALICE, true, 1), "alice's connections together hold 100");
        assertNull(b.take(BOB, true, 100), "bob is not held back by alice");
        assertEquals(200, b.total());
        b.give(ALICE, 60);
        assertNull(b.take(ALICE, true, 50), "what was written is free again");
        assertEquals(90, b.of(ALICE));
    }

    @Test
    void theTotalBoundsEveryoneRootIncluded() {
        OutputBudget b = new OutputBudget(100, 250);
        assertNull(b.take(ROOT, false, 200), "root is not held to the per-uid share");
        assertEquals(OutputBudget.Refusal.TOTAL, b.take(ROOT, false, 51));
        assertEquals(OutputBudget.Refusal.TOTAL, b.take(ALICE, true, 51));
        assertNull(b.take(ALICE, true, 50));
        b.give(ROOT, 200);
        b.give(ALICE, 50);
        assertEquals(0, b.total());
        assertEquals(0, b.of(ROOT));
    }
}
