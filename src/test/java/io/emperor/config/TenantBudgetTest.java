package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The tenant budget's accounting, without files: counts, bytes an owner, bytes in all. */
class TenantBudgetTest {
    private static String who(int uid) {
        return uid == 1001 ? "alice (uid 1001)" : "uid " + uid;
    }

    @Test
    void anOwnerMayHaveAtMostMaxVassalsFilesWhateverTheOthersHave() {
        TenantBudget.Tally tally = new TenantBudget(2, 1L << 20, 4L << 20).tally(TenantBudgetTest::who);
        assertNull(tally.count(1001));
        assertNull(tally.count(1001));
        assertEquals("owner alice (uid 1001) has more than 2 vassal files (tenant-max-vassals); this one is not read:"
                + " remove some of the owner's files, or raise the limit", tally.count(1001));
        assertEquals("owner alice (uid 1001) has more than 2 vassal files (tenant-max-vassals); this one is not read:"
                + " remove some of the owner's files, or raise the limit", tally.count(1001), "and every one after");
        assertNull(tally.count(1002), "another owner has its own count");
        assertNull(tally.count(1002));
    }

    @Test
    void whatAnOwnerHoldsIsBoundedThenWhatAllHold() {
        TenantBudget.Tally tally = new TenantBudget(200, 100_000, 150_000).tally(TenantBudgetTest::who);
        assertNull(tally.fits(1001, 60_000));
        tally.charge(1001, 60_000);
        assertNull(tally.fits(1001, 40_000), "exactly the budget fits");
        assertEquals("owner alice (uid 1001) would hold more than 98 KiB of parsed vassal files with this one (40 KiB)"
                + " (tenant-max-bytes): make the owner's files smaller or fewer, or raise the limit",
                tally.fits(1001, 40_001));
        assertEquals(60_000, tally.bytes(1001), "fits charges nothing");
        assertNull(tally.fits(1002, 90_000));
        tally.charge(1002, 90_000);
        assertEquals(150_000, tally.total());
        assertEquals("the vassal files of all owners would hold more than 147 KiB with this one (1 B, owner uid 1003)"
                + " (tenant-max-total-bytes): the administrator may raise it with the heap", tally.fits(1003, 1));
        tally.charge(1003, 5_000);
        assertEquals(155_000, tally.total(), "what is held is charged, fitting or not");
    }

    @Test
    void sizesAreWholeUnitsRoundedUp() {
        assertEquals("4 MiB", TenantBudget.size(4L << 20));
        assertEquals("5 MiB", TenantBudget.size((4L << 20) + 1));
        assertEquals("1 KiB", TenantBudget.size(1024));
        assertEquals("1023 B", TenantBudget.size(1023));
    }

    @Test
    void aBudgetHoldsAtLeastOneFileAndTheTotalAnOwners() {
        assertThrows(IllegalArgumentException.class, () -> new TenantBudget(0, 1L << 20, 1L << 20));
        assertThrows(IllegalArgumentException.class, () -> new TenantBudget(1, 100, 1L << 20));
        assertThrows(IllegalArgumentException.class, () -> new TenantBudget(1, 2L << 20, 1L << 20));
    }
}
