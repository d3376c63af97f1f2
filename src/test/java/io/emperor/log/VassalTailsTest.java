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
        VassalTails t = new VassalTails(200, 10);
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
        assertEquals(java.util.Set.of(), t.names());
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
}
