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
    final LineBatch batch = new LineBatch();
    final List<String> out = new ArrayList<>();

    void feed(String text) {
        feed(text.getBytes(StandardCharsets.UTF_8));
    }

    void feed(byte[] b) {
        batch.reset(new byte[0], 0);
        s.feed(b, 0, b.length, batch);
        out.addAll(batch.lines());
    }

    void flush() {
        batch.reset(new byte[0], 0);
        s.flush(batch);
        out.addAll(batch.lines());
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
        flush();
        assertEquals(List.of("no newline at the end"), out);
        flush();
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
    void c1ControlsAreEscapedLikeTheirBytes() {
        feed("a\u009b2Jb\u0085c\u00a0d\n"); // CSI and NEL are controls; the no-break space is text
        feed("\u009b\u00e9\n"); // and in a line that is not plain ASCII from the start
        assertEquals(List.of("a\\xc2\\x9b2Jb\\xc2\\x85c\u00a0d", "\\xc2\\x9b\u00e9"), out);
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
        flush();
        // 0x0a splits: the bytes before and after it.
        assertEquals(2, out.size());
        for (String line : out) {
            assertTrue(line.chars().noneMatch(c -> c < 0x20 && c != '\t' || c == 0x7f), line);
        }
    }

    @Test
    void eachLineGetsThePrefixOfItsBatchAndTheBytesAreExactlyTheLines() {
        byte[] prefix = "P: ".getBytes(StandardCharsets.US_ASCII);
        batch.reset(prefix, prefix.length);
        byte[] in = "a\tb\r\n\u00e9\u0001\nlast".getBytes(StandardCharsets.UTF_8);
        s.feed(in, 0, in.length, batch);
        s.flush(batch);
        assertEquals("P: a\tb\nP: \u00e9\\x01\nP: last\n",
                new String(batch.bytes, 0, batch.size, StandardCharsets.UTF_8));
        assertEquals(List.of("a\tb", "\u00e9\\x01", "last"), batch.lines());
    }

    /**
     * Whatever the bytes and however they are cut into reads, the lines are those of a plain
     * byte-by-byte reference ({@link #reference}): the eight-bytes-at-a-time scan finds every
     * newline and every byte that needs escaping, at every position in a word.
     */
    @Test
    void randomBytesInRandomReadsGiveTheReferenceLines() {
        java.util.Random random = new java.util.Random(42);
        byte[][] pieces = {{'x'}, {'y'}, {' '}, {'~'}, {'\n'}, {'\r'}, {'\r', '\n'}, {'\t'}, {0}, {0x7f}, {0x1b},
                {(byte) 0xff}, {(byte) 0x80}, "\u00e9".getBytes(StandardCharsets.UTF_8),
                "\u20ac".getBytes(StandardCharsets.UTF_8), "\ud834\udd1e".getBytes(StandardCharsets.UTF_8),
                {(byte) 0xe2, (byte) 0x82}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                {(byte) 0xe0, (byte) 0x80, (byte) 0x80}, {(byte) 0xf0, (byte) 0x80, (byte) 0x80, (byte) 0x80},
                {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xf4, (byte) 0x8f, (byte) 0xbf, (byte) 0xbf},
                {(byte) 0xef, (byte) 0xbf, (byte) 0xbf}, {(byte) 0xdf, (byte) 0xbf}, {(byte) 0xc2, 'x'},
                {(byte) 0xc2, (byte) 0x9b}, {(byte) 0xc2, (byte) 0x80}, {(byte) 0xc2, (byte) 0xa0}};
        for (int round = 0; round < 300; round++) {
            java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
            int size = random.nextInt(round % 50 == 0 ? 200_000 : 2_000);
            while (data.size() < size) {
                if (random.nextInt(4) > 0) {
                    data.write('a' + random.nextInt(26)); // mostly plain text, in runs longer than a word
                } else {
                    data.writeBytes(pieces[random.nextInt(pieces.length)]);
                }
                if (round % 50 == 0 && random.nextInt(1000) == 0) {
                    data.writeBytes(new byte[70_000]); // a line to cut
                }
            }
            byte[] all = data.toByteArray();
            out.clear();
            for (int off = 0; off < all.length; ) {
                int n = Math.min(all.length - off, 1 + random.nextInt(random.nextBoolean() ? 20 : 70_000));
                feed(Arrays.copyOfRange(all, off, off + n));
                off += n;
            }
            flush();
            assertEquals(reference(all), out, "round " + round);
        }
    }

    /** What the lines of {@code all} must be, the slow and obvious way. */
    private static List<String> reference(byte[] all) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= all.length; i++) {
            if (i < all.length && all[i] != '\n' || i == all.length && start == all.length) {
                continue;
            }
            int end = i;
            if (end - start > LineSplitter.MAX_LINE) {
                lines.add(decode(all, start, start + LineSplitter.MAX_LINE) + LineSplitter.CUT_MARK);
            } else {
                lines.add(decode(all, start, end > start && all[end - 1] == '\r' ? end - 1 : end));
            }
            start = i + 1;
        }
        return lines;
    }

    private static String decode(byte[] b, int from, int to) {
        StringBuilder sb = new StringBuilder();
        java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
        int i = from;
        while (i < to) {
            int c = b[i] & 0xff;
            int n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            String ch = null;
            if (i + n <= to) {
                try {
                    ch = utf8.decode(java.nio.ByteBuffer.wrap(b, i, n)).toString();
                } catch (java.nio.charset.CharacterCodingException e) {
                    ch = null;
                }
            }
            if (ch == null || c < 0x20 && c != '\t' || c == 0x7f) {
                sb.append(String.format("\\x%02x", c));
                i++;
            } else if (ch.charAt(0) >= 0x80 && ch.charAt(0) <= 0x9f) {
                sb.append(String.format("\\x%02x\\x%02x", c, b[i + 1] & 0xff)); // a C1 control
                i += n;
            } else {
                sb.append(ch);
                i += n;
            }
        }
        return sb.toString();
    }
}
