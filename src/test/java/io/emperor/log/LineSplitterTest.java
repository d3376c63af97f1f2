package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {
    final LineSplitter s = new LineSplitter();
    final List<String> out = new ArrayList<>();

    void feed(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        s.feed(b, 0, b.length, out::add);
    }

    void feed(byte[] b) {
        s.feed(b, 0, b.length, out::add);
    }

    @Test
    void splitsOnNewlinesAndDropsCr() {
        feed("one\ntwo\r\nthr");
        assertEquals(List.of("one", "two"), out);
        feed("ee\n");
        assertEquals(List.of("one", "two", "three"), out);
    }

    @Test
    void emptyLinesAreKept() {
        feed("\n\na\n");
        assertEquals(List.of("", "", "a"), out);
    }

    @Test
    void flushEmitsAnUnfinishedLastLine() {
        feed("no newline at the end");
        assertTrue(out.isEmpty());
        s.flush(out::add);
        assertEquals(List.of("no newline at the end"), out);
        s.flush(out::add);
        assertEquals(1, out.size());
    }

    @Test
    void aLongLineIsCutAndTheRestOfItDropped() {
        byte[] big = new byte[200 * 1024];
        Arrays.fill(big, (byte) 'x');
        feed(big);
        feed("tail\nnext\n");
        assertEquals(2, out.size());
        assertEquals("x".repeat(LineSplitter.MAX_LINE) + LineSplitter.CUT_MARK, out.get(0));
        assertEquals("next", out.get(1));
    }

    @Test
    void aLongLineInSmallPiecesIsCutToo() {
        for (int i = 0; i < 1000; i++) {
            feed("y".repeat(100));
        }
        feed("\nafter\n");
        assertEquals(List.of("y".repeat(LineSplitter.MAX_LINE) + LineSplitter.CUT_MARK, "after"), out);
    }

    @Test
    void aLineOfExactlyTheLimitIsNotCut() {
        feed("z".repeat(LineSplitter.MAX_LINE) + "\n");
        assertEquals(List.of("z".repeat(LineSplitter.MAX_LINE)), out);
        feed("z".repeat(10));
        feed("z".repeat(LineSplitter.MAX_LINE - 10) + "\n");
        assertEquals(2, out.size());
        assertEquals(LineSplitter.MAX_LINE, out.get(1).length());
    }

    @Test
    void invalidUtf8AndControlCharactersAreEscaped() {
        feed(new byte[] {'a', (byte) 0xff, 'b', 0x1b, '[', '3', '1', 'm', '\t', 0x00, 0x7f, '\n'});
        assertEquals(List.of("a\\xffb\\x1b[31m\t\\x00\\x7f"), out);
    }

    @Test
    void validUtf8PassesThrough() {
        feed("héllo wörld € 𝄞\n");
        assertEquals(List.of("héllo wörld € 𝄞"), out);
    }

    @Test
    void overlongAndSurrogateSequencesAreEscaped() {
        feed(new byte[] {(byte) 0xc0, (byte) 0xaf, (byte) 0xed, (byte) 0xa0, (byte) 0x80, (byte) 0xe2, (byte) 0x82, '\n'});
        assertEquals(List.of("\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82"), out);
    }

    @Test
    void everyByteValueGivesOneLineWithoutBreakingIt() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        feed(all);
        s.flush(out::add);
        // 0x0a splits: the bytes before and after it.
        assertEquals(2, out.size());
        for (String line : out) {
            assertTrue(line.chars().noneMatch(c -> c < 0x20 && c != '\t' || c == 0x7f), line);
        }
    }
}
