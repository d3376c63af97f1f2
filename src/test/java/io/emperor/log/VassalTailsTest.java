package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class VassalTailsTest {
    @Test
    void keepsTheLastLinesOfEachVassal() {
        VassalTails t = new VassalTails();
        for (int i = 0; i < 250; i++) {
            t.append("app", "line " + i);
        }
        t.append("other", "x");
        List<String> lines = t.lines("app");
        assertEquals(VassalTails.MAX_LINES, lines.size());
        assertEquals("line 50", lines.get(0));
        assertEquals("line 249", lines.get(199));
        assertEquals(List.of("x"), t.lines("other"));
        assertEquals(List.of(), t.lines("nobody"));
    }

    @Test
    void boundsBytesTooButKeepsTheNewestLine() {
        // A line of one read costs its bytes, a Line and a Chunk: "12345" is 5 + 72 bytes.
        VassalTails t = new VassalTails(200, 2 * (5 + VassalTails.LINE_COST + VassalTails.CHUNK_COST));
        t.append("app", "12345");
        t.append("app", "67890");
        assertEquals(List.of("12345", "67890"), t.lines("app"));
        t.append("app", "a");
        assertEquals(List.of("67890", "a"), t.lines("app"));
        t.append("app", "x".repeat(50));
        assertEquals(List.of("x".repeat(50)), t.lines("app"));
    }

    @Test
    void aWorstCaseTailStaysUnderItsByteBound() {
        VassalTails t = new VassalTails();
        String longest = "\\x00".repeat(LineSplitter.MAX_LINE); // a cut line of escaped bytes
        for (int i = 0; i < 300; i++) {
            t.append("app", longest);
        }
        long chars = t.lines("app").stream().mapToLong(String::length).sum();
        assertTrue(chars <= VassalTails.MAX_BYTES + longest.length(), "chars=" + chars);
    }

    @Test
    void forgetDropsTheTail() {
        VassalTails t = new VassalTails();
        t.append("app", "a");
        t.forget("app");
        assertEquals(List.of(), t.lines("app"));
        assertEquals(0, t.count(), "no tail left for it");
        assertEquals(0, t.totalBytes());
    }

    @Test
    void followersSeeLaterLinesUntilClosed() throws Exception {
        VassalTails t = new VassalTails();
        t.append("app", "before");
        List<String> seen = new ArrayList<>();
        AutoCloseable f = t.follow("app", seen::add);
        t.append("app", "one");
        t.append("other", "not mine");
        t.forget("app");
        t.append("app", "two");
        f.close();
        t.append("app", "three");
        assertEquals(List.of("one", "two"), seen);
    }

    @Test
    void aReaderOnAnotherThreadSeesConsistentSnapshots() throws Exception {
        VassalTails t = new VassalTails(200, VassalTails.MAX_BYTES);
        AtomicBoolean bad = new AtomicBoolean();
        Thread reader = new Thread(() -> {
            for (int i = 0; i < 20_000; i++) {
                List<String> lines = t.lines("app");
                for (int k = 1; k < lines.size(); k++) {
                    if (Integer.parseInt(lines.get(k)) != Integer.parseInt(lines.get(k - 1)) + 1) {
                        bad.set(true);
                    }
                }
                if (lines.size() > 200) {
                    bad.set(true);
                }
            }
        });
        reader.start();
        for (int i = 0; i < 200_000; i++) {
            t.append("app", Integer.toString(i));
        }
        reader.join();
        assertTrue(!bad.get(), "a snapshot was torn or too long");
        assertEquals("199999", t.lines("app").get(199));
    }

    @Test
    void aReadOfManyLinesKeepsItsLastLinesWithoutPrefixesAndFollowersSeeEveryLine() throws Exception {
        VassalTails t = new VassalTails(3, 1000);
        t.append("app", batch("a", "b", "c", "\u00e9t\u00e9", "e"));
        assertEquals(List.of("c", "\u00e9t\u00e9", "e"), t.lines("app"));
        List<String> seen = new ArrayList<>();
        AutoCloseable f = t.follow("app", seen::add);
        t.append("app", batch("1", "2", "3", "4"));
        f.close();
        assertEquals(List.of("1", "2", "3", "4"), seen);
        assertEquals(List.of("2", "3", "4"), t.lines("app"));
    }

    /** The lines as one read of a pipe gives them, each after a timestamp-like prefix. */
    private static LineBatch batch(String... lines) {
        byte[] prefix = "2026-11-29T13:00:00.123Z ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        LineBatch b = new LineBatch();
        b.reset(prefix, prefix.length);
        for (String l : lines) {
            byte[] bytes = l.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            b.addPlain(bytes, 0, bytes.length);
        }
        return b;
    }

    private static final int ALICE = 1001;
    private static final int BOB = 1002;

    /** alice's app.ini replaced by bob's: bob never reads alice's lines, alice's follower ends before bob's first. */
    @Test
    void aNamePassingToAnotherOwnerDropsTheTailAndEndsTheOldOwnersFollowers() {
        VassalTails t = new VassalTails();
        t.append("app", ALICE, "alice 1");
        List<String> alices = new ArrayList<>();
        List<String> alicesEnd = new ArrayList<>();
        List<String> roots = new ArrayList<>();
        List<String> bobs = new ArrayList<>();
        t.follow("app", ALICE, alices::add, alicesEnd::add);
        t.follow("app", VassalTails.ANY_OWNER, roots::add, why -> roots.add("ended"));
        t.follow("app", BOB, bobs::add, why -> bobs.add("ended"));
        t.append("app", ALICE, "alice 2"); // bob's follower, early: alice's old run still prints
        assertEquals(List.of("alice 1", "alice 2"), t.lines("app", ALICE));
        assertEquals(List.of(), t.lines("app", BOB), "not bob's lines");

        t.append("app", BOB, "bob 1");
        assertEquals(List.of("bob 1"), t.lines("app", BOB), "alice's lines were dropped");
        assertEquals(List.of(), t.lines("app", ALICE));
        assertEquals(List.of("bob 1"), t.lines("app"));
        assertEquals(List.of("alice 2"), alices, "alice's follower never sees bob's line");
        assertEquals(List.of("its lines now come from another owner"), alicesEnd);
        assertEquals(List.of("bob 1"), bobs);
        assertEquals(List.of("alice 2", "bob 1"), roots, "who may see everything follows on");
        t.append("app", ALICE, "alice again");
        assertEquals(List.of("alice 2"), alices, "an ended follower gets nothing more");
        assertEquals(List.of("bob 1", "ended"), bobs, "and back: bob's follower ends in turn");
        assertEquals("alice again".length() + VassalTails.LINE_COST + VassalTails.CHUNK_COST, t.totalBytes(),
                "all that is held is alice's one line: bob holds nothing");
    }

    /** One owner's many vassals share one bound; the largest tail pays first; other owners keep theirs. */
    @Test
    void oneOwnerCannotTakeMoreThanItsShare() {
        VassalTails.Limits limits = new VassalTails.Limits(200, 64 * 1024, 128 * 1024, 512 * 1024);
        VassalTails t = new VassalTails(limits);
        for (int i = 0; i < 20; i++) {
            t.append("bob-quiet", BOB, "a quiet line " + i);
        }
        List<String> bobsQuiet = t.lines("bob-quiet");
        long bobs = t.totalBytes(); // alice's are what is held beside them (bob's tail is untouched: below)
        String line = "x".repeat(1000);
        for (int v = 0; v < 50; v++) {
            for (int i = 0; i < 100; i++) {
                t.append("alice-" + v, ALICE, line);
                assertTrue(t.totalBytes() - bobs <= limits.ownerBytes(), "alice holds " + (t.totalBytes() - bobs));
            }
        }
        assertEquals(bobsQuiet, t.lines("bob-quiet"), "another owner's tail is untouched");
        assertTrue(t.totalBytes() <= limits.totalBytes());
        assertTrue(t.lines("alice-49").size() >= 2, "the newest vassal keeps its share: " + t.lines("alice-49").size());
        // A flood in one of alice's vassals costs that vassal, not alice's quiet one.
        t.forget("alice-0");
        for (int i = 0; i < 5; i++) {
            t.append("alice-quiet", ALICE, "quiet " + i);
        }
        for (int i = 0; i < 1000; i++) {
            t.append("alice-1", ALICE, line);
        }
        assertEquals(5, t.lines("alice-quiet").size());
    }

    /** Many owners together stay under the total; the owner holding the most loses first. */
    @Test
    void theTotalBoundHoldsWhateverTheNumberOfOwners() {
        VassalTails.Limits limits = new VassalTails.Limits(200, 64 * 1024, 128 * 1024, 512 * 1024);
        VassalTails t = new VassalTails(limits);
        t.append("small", 5000, "keep me");
        String line = "y".repeat(4000);
        for (int uid = 6000; uid < 6100; uid++) {
            for (int i = 0; i < 40; i++) {
                t.append("v" + uid, uid, line);
                assertTrue(t.totalBytes() <= limits.totalBytes(), "total " + t.totalBytes());
            }
        }
        assertEquals(List.of("keep me"), t.lines("small"), "the smallest owner is not the one that pays");
    }

    /**
     * The lines of one read share one array, counted whole while any of them is kept: many reads
     * of one long line and one short one cannot keep more arrays alive than the bound says.
     */
    @Test
    void bytesAreCountedAsHeldNotAsShown() {
        VassalTails t = new VassalTails(new VassalTails.Limits(200, 256 * 1024, 256 * 1024, 256 * 1024));
        String longLine = "z".repeat(60_000);
        for (int i = 0; i < 100; i++) {
            t.append("app", ALICE, batch(longLine, "short " + i));
        }
        assertTrue(t.totalBytes() <= 256 * 1024, "held " + t.totalBytes());
        long shown = t.lines("app").stream().mapToLong(String::length).sum();
        assertTrue(shown <= t.totalBytes(), "shown " + shown + " held " + t.totalBytes());
        assertTrue(t.lines("app").size() >= 2);
    }

    @Test
    void aFollowerThatThrowsIsEndedAndTheWriterGoesOn() {
        VassalTails t = new VassalTails();
        List<String> ended = new ArrayList<>();
        List<String> other = new ArrayList<>();
        t.follow("app", VassalTails.ANY_OWNER, line -> {
            throw new IllegalStateException("broken follower");
        }, ended::add);
        t.follow("app", other::add);
        t.append("app", ALICE, "one");
        t.append("app", ALICE, "two");
        assertEquals(List.of("internal error"), ended);
        assertEquals(List.of("one", "two"), other);
    }

    /** The emperor's lines about a vassal sit among its own in the order they came (journalctl -u), read and followed alike. */
    @Test
    void theEmperorsLinesAreInterleavedWithTheVassalsOwn() {
        VassalTails t = new VassalTails();
        List<String> followed = new ArrayList<>();
        t.follow("app", followed::add);
        t.appendEmperor("app", VassalTails.NO_OWNER, "[emperor] app: spawned pid=7 uid=0 gid=0");
        t.append("app", "hello");
        t.appendEmperor("app", VassalTails.NO_OWNER, "[emperor] app: exited status=1 uptime=0.01s");
        List<String> expected = List.of("[emperor] app: spawned pid=7 uid=0 gid=0", "hello",
                "[emperor] app: exited status=1 uptime=0.01s");
        assertEquals(expected, t.lines("app"));
        assertEquals(expected, followed);
    }

    /** Attack: a vassal prints a line that would pass for the emperor's; it is read with its [ escaped. */
    @Test
    void aVassalCannotForgeAnEmperorsLine() {
        VassalTails t = new VassalTails();
        List<String> followed = new ArrayList<>();
        t.follow("app", followed::add);
        t.append("app", "[emperor] app: exited status=0 uptime=9s");
        t.append("app", batch("[emperor] app: stopped"));
        t.appendEmperor("app", VassalTails.NO_OWNER, "[emperor] app: spawned pid=7 uid=0 gid=0");
        List<String> expected = List.of("\\x5bemperor] app: exited status=0 uptime=9s", "\\x5bemperor] app: stopped",
                "[emperor] app: spawned pid=7 uid=0 gid=0");
        assertEquals(expected, t.lines("app"));
        assertEquals(expected, followed);
        assertEquals(List.of("[emperor]x", "[emperor"), List.of(VassalTails.vassalsOwn("[emperor]x"), VassalTails.vassalsOwn("[emperor")));
    }

    /** The emperor's lines count against the same bounds: a tenant's crash loop cannot grow its tail past its share. */
    @Test
    void theEmperorsLinesAreBoundedLikeTheVassalsOwn() {
        VassalTails.Limits limits = new VassalTails.Limits(50, 64 * 1024, 128 * 1024, 512 * 1024);
        VassalTails t = new VassalTails(limits);
        String line = "[emperor] app: spawn failed: exec /" + "x".repeat(1000) + ": No such file or directory";
        for (int v = 0; v < 10; v++) {
            for (int i = 0; i < 200; i++) {
                t.appendEmperor("app" + v, ALICE, line);
                assertTrue(t.totalBytes() <= limits.ownerBytes(), "alice (all that is held) holds " + t.totalBytes());
            }
        }
        assertTrue(t.lines("app9").size() >= 2 && t.lines("app9").size() <= 50, "the line bound: " + t.lines("app9").size());
        assertTrue(t.totalBytes() <= limits.totalBytes());
    }
}
