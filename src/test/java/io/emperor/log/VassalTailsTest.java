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
    void boundsCharactersTooButKeepsTheNewestLine() {
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
    void aWorstCaseTailStaysUnderItsCharacterBound() {
        VassalTails t = new VassalTails();
        String longest = "\\x00".repeat(LineSplitter.MAX_LINE); // a cut line of escaped bytes
        for (int i = 0; i < 300; i++) {
            t.append("app", longest);
        }
        long chars = t.lines("app").stream().mapToLong(String::length).sum();
        assertTrue(chars <= VassalTails.MAX_CHARS + longest.length(), "chars=" + chars);
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
        VassalTails t = new VassalTails(200, VassalTails.MAX_CHARS);
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
}
