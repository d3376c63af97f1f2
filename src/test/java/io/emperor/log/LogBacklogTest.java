package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the emperor's log keeps while its file cannot be written: bound, order, counts (no I/O). */
class LogBacklogTest {
    @Test
    void theNewestLinesAreKeptInOrderAndTheOldestOverTheLineBoundAreCounted() {
        LogBacklog b = new LogBacklog(3, 1000);
        for (int i = 1; i <= 5; i++) {
            keep(b, "line " + i + "\n");
        }
        assertEquals(List.of("line 3\n", "line 4\n", "line 5\n"), drain(b));
        assertEquals(2, b.droppedLines());
        assertEquals(14, b.droppedBytes());
    }

    @Test
    void theByteBoundHoldsToo() {
        LogBacklog b = new LogBacklog(1000, 20);
        keep(b, "0123456789\n"); // 11
        keep(b, "abcdefghi\n"); // 10: 21 > 20, the first goes
        assertEquals(10, b.bytes());
        assertEquals(1, b.lines());
        assertEquals(1, b.droppedLines());
        assertEquals(11, b.droppedBytes());
        keep(b, "x".repeat(30) + "\n"); // alone over the bound: it goes too, and the one before it
        assertTrue(b.isEmpty());
        assertEquals(0, b.bytes());
        assertEquals(3, b.droppedLines());
    }

    @Test
    void anEntryOfSeveralLinesCountsEachAndGoesWhole() {
        LogBacklog b = new LogBacklog(4, 1000);
        keep(b, "error\n\tat a\n\tat b\n"); // a stack trace: one event, three lines
        keep(b, "next\n");
        assertEquals(4, b.lines());
        keep(b, "last\n");
        assertEquals(List.of("next\n", "last\n"), drain(b));
        assertEquals(3, b.droppedLines());
    }

    @Test
    void whatAWriteDidNotWriteGoesBackInFrontOutsideTheBound() {
        LogBacklog b = new LogBacklog(2, 1000);
        keep(b, "a\n");
        keep(b, "b\n");
        byte[] first = b.poll();
        b.putBack(first);
        b.putBack(bytes("notice\n"));
        assertEquals(3, b.lines(), "over the bound, nothing dropped");
        assertEquals(0, b.droppedLines());
        assertEquals(List.of("notice\n", "a\n", "b\n"), drain(b));
    }

    @Test
    void vassalOutputIsOnlyCountedAPartOfALineAsOne() {
        LogBacklog b = new LogBacklog();
        byte[] out = bytes("one\ntwo\nthr");
        b.dropVassal(out, 0, out.length);
        b.dropVassal(out, 4, 4);
        assertEquals(4, b.vassalLines());
        assertEquals(15, b.vassalBytes());
        assertTrue(b.isEmpty());
        b.resetCounts();
        assertEquals(0, b.vassalLines());
        assertEquals(0, b.vassalBytes());
    }

    /** A tenant's flood of output while the disk is full costs no memory; the emperor's lines stay within the bound. */
    @Test
    void aFloodKeepsTheBacklogWithinItsBound() {
        LogBacklog b = new LogBacklog();
        byte[] chunk = bytes(("x".repeat(99) + "\n").repeat(655)); // one read of a pipe, ~64 KiB
        for (int i = 0; i < 1600; i++) { // ~100 MiB
            b.dropVassal(chunk, 0, chunk.length);
        }
        assertTrue(b.isEmpty());
        assertEquals(1600L * 655, b.vassalLines());
        assertEquals(1600L * chunk.length, b.vassalBytes());
        for (int i = 0; i < 100_000; i++) {
            keep(b, "app: exited status=1 uptime=0.01s " + i + "\n");
        }
        assertEquals(LogBacklog.MAX_LINES, b.lines());
        assertTrue(b.bytes() <= LogBacklog.MAX_BYTES);
        assertEquals(100_000 - LogBacklog.MAX_LINES, b.droppedLines());
        assertEquals("app: exited status=1 uptime=0.01s 90000\n", new String(b.poll(), StandardCharsets.UTF_8));
        byte[] wide = bytes("w".repeat(1023) + "\n");
        for (int i = 0; i < 10_000; i++) {
            b.keep(wide, 0, wide.length);
        }
        assertEquals(LogBacklog.MAX_BYTES / wide.length, b.lines(), "2 MiB of 1 KiB lines");
    }

    private static void keep(LogBacklog b, String s) {
        byte[] x = bytes(s);
        b.keep(x, 0, x.length);
    }

    private static List<String> drain(LogBacklog b) {
        List<String> out = new ArrayList<>();
        for (byte[] e = b.poll(); e != null; e = b.poll()) {
            out.add(new String(e, StandardCharsets.UTF_8));
        }
        assertNull(b.poll());
        assertEquals(0, b.lines());
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
