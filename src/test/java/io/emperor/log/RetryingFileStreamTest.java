package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The emperor's log file failing (disk full) and coming back: reported once on stderr, the
 * emperor's lines kept (bounded) and written in order once it works again, vassal output dropped
 * and counted, retried, never thrown.
 */
class RetryingFileStreamTest {
    @TempDir
    Path dir;

    long now = 1_000_000_000L;
    final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    /** The retry loops the stream asked to start (not run: the tests call retry() themselves). */
    final List<Runnable> retriers = new ArrayList<>();

    /** A disk with room for {@code free} more bytes: a write takes what fits, then fails as write(2) does. */
    final class Disk implements RetryingFileStream.Opener {
        final ByteArrayOutputStream file = new ByteArrayOutputStream();
        long free = Long.MAX_VALUE;
        boolean openable = true;

        @Override
        public WritableByteChannel open(File f) throws IOException {
            if (!openable) {
                throw new IOException("Input/output error");
            }
            return new WritableByteChannel() {
                @Override
                public int write(ByteBuffer src) throws IOException {
                    if (free == 0) {
                        throw new IOException("No space left on device");
                    }
                    int n = (int) Math.min(src.remaining(), free);
                    byte[] b = new byte[n];
                    src.get(b);
                    file.write(b, 0, n);
                    free -= n;
                    return n;
                }

                @Override
                public boolean isOpen() {
                    return true;
                }

                @Override
                public void close() {}
            };
        }

        @Override
        public long length(File f) {
            return file.size();
        }

        String text() {
            return file.toString(StandardCharsets.UTF_8);
        }
    }

    private RetryingFileStream stream(Path log, RetryingFileStream.Opener opener) throws IOException {
        RetryingFileStream.Env env = new RetryingFileStream.Env(new PrintStream(stderr, true, StandardCharsets.UTF_8),
                () -> now, message -> ("WARN " + message + "\n").getBytes(StandardCharsets.UTF_8), opener,
                retriers::add, new ReentrantLock());
        return new RetryingFileStream(log.toFile(), env);
    }

    @Test
    void theEmperorsLinesAreKeptAndWrittenInOrderOnceThereIsRoomWithTheCountOfDroppedOutput() throws Exception {
        Disk disk = new Disk();
        Path log = dir.resolve("emperor.log");
        RetryingFileStream out = stream(log, disk);
        emperor(out, "ready\n");
        disk.free = 0;
        emperor(out, "app: spawned pid=7\n");
        vassal(out, "[app] hello\n[app] world\n");
        emperor(out, "app: stopped\n");
        vassal(out, "[app] more\n");
        assertEquals("ready\n", disk.text(), "nothing while the disk is full");
        assertEquals("emperor: cannot write log file " + log + ": No space left on device; until a retry succeeds"
                + " (every 2s) the emperor's lines are kept (the last 10000) and copied here, vassal output is dropped"
                + " and counted\napp: spawned pid=7\napp: stopped\n", stderr.toString(),
                "the failure once, and the emperor's lines as they come, on stderr");
        assertEquals(1, retriers.size(), "one retry thread, since lines are kept");

        disk.free = Long.MAX_VALUE;
        now += RetryingFileStream.RETRY_NANOS - 1;
        vassal(out, "[app] too early\n");
        assertEquals("ready\n", disk.text(), "not retried before its time");

        now += 1;
        vassal(out, "[app] back\n");
        String notice = "log file " + log + " is writable again after 2s (No space left on device); dropped meanwhile:"
                + " 4 lines (51 bytes) of vassal output, 0 lines (0 bytes) of the emperor's; 2 lines of the emperor's follow";
        assertEquals("ready\nWARN " + notice + "\napp: spawned pid=7\napp: stopped\n[app] back\n", disk.text());
        assertTrue(stderr.toString().endsWith("emperor: " + notice + "\n"), stderr.toString());
        assertFalse(out.retry(), "nothing left to retry for");
        out.close();
    }

    @Test
    void anIdleEmperorsKeptLinesAreWrittenByTheRetryAlone() throws Exception {
        Disk disk = new Disk();
        RetryingFileStream out = stream(dir.resolve("emperor.log"), disk);
        disk.free = 0;
        vassal(out, "[app] x\n");
        assertTrue(retriers.isEmpty(), "vassal output alone is only counted: no retry thread");
        emperor(out, "app: stopped\n");
        assertEquals(1, retriers.size());
        assertTrue(out.retry(), "not yet due, still kept");
        disk.free = Long.MAX_VALUE;
        now += RetryingFileStream.RETRY_NANOS;
        assertFalse(out.retry(), "written: the thread may end");
        assertTrue(disk.text().matches("WARN log file .* 1 lines \\(8 bytes\\) of vassal output, .* 1 lines of the"
                + " emperor's follow\napp: stopped\n"), disk.text());
    }

    @Test
    void aLineCutByTheFailureIsWrittenAgainWholeAfterANewline() throws Exception {
        Disk disk = new Disk();
        RetryingFileStream out = stream(dir.resolve("emperor.log"), disk);
        disk.free = 10;
        emperor(out, "one\ntwo three\nfour\n");
        vassal(out, "[a] lost\n");
        assertEquals("one\ntwo th", disk.text());
        disk.free = Long.MAX_VALUE;
        now += RetryingFileStream.RETRY_NANOS;
        emperor(out, "five\n");
        assertTrue(disk.text().matches("one\ntwo th\nWARN log file .* 1 lines \\(9 bytes\\) of vassal output, 0 lines"
                + " \\(0 bytes\\) of the emperor's; 2 lines of the emperor's follow\ntwo three\nfour\nfive\n"), disk.text());
    }

    @Test
    void aFailureWhileWritingTheKeptLinesKeepsTheRestInOrder() throws Exception {
        Disk disk = new Disk();
        RetryingFileStream out = stream(dir.resolve("emperor.log"), disk);
        disk.free = 0;
        emperor(out, "a\n");
        emperor(out, "b\n");
        emperor(out, "c\n");
        now += RetryingFileStream.RETRY_NANOS;
        disk.free = 1; // room for almost nothing: the notice is cut
        emperor(out, "d\n");
        assertEquals("W", disk.text());
        now += RetryingFileStream.RETRY_NANOS;
        disk.free = Long.MAX_VALUE;
        assertFalse(out.retry());
        String text = disk.text();
        assertTrue(text.matches("W\nWARN log file [^\n]*; 4 lines of the emperor's follow\na\nb\nc\nd\n"), text);
        assertEquals(1, stderr.toString().lines().filter(l -> l.startsWith("emperor: cannot write")).count());
        assertEquals(1, stderr.toString().lines().filter(l -> l.contains("is writable again")).count(),
                "said once it was true");
    }

    @Test
    void overTheBoundTheOldestOfTheEmperorsLinesAreDroppedAndCounted() throws Exception {
        Disk disk = new Disk();
        RetryingFileStream out = stream(dir.resolve("emperor.log"), disk);
        disk.free = 0;
        for (int i = 0; i < LogBacklog.MAX_LINES + 5; i++) {
            emperor(out, "line " + i + "\n");
        }
        disk.free = Long.MAX_VALUE;
        now += RetryingFileStream.RETRY_NANOS;
        out.retry();
        List<String> lines = disk.text().lines().toList();
        assertTrue(lines.get(0).endsWith("0 lines (0 bytes) of vassal output, 5 lines (35 bytes) of the emperor's;"
                + " 10000 lines of the emperor's follow"), lines.get(0));
        assertEquals("line 5", lines.get(1));
        assertEquals("line 10004", lines.get(lines.size() - 1));
        assertEquals(LogBacklog.MAX_LINES + 1, lines.size());
    }

    @Test
    void aFileThatCannotBeReopenedStaysFailingWithoutAnotherReport() throws Exception {
        Disk disk = new Disk();
        RetryingFileStream out = stream(dir.resolve("emperor.log"), disk);
        disk.free = 0;
        emperor(out, "a\n");
        disk.openable = false;
        for (int i = 0; i < 3; i++) {
            now += RetryingFileStream.RETRY_NANOS;
            emperor(out, "b\n");
            assertTrue(out.retry());
        }
        assertEquals(1, stderr.toString().lines().filter(l -> l.startsWith("emperor: cannot write")).count(),
                stderr.toString());
        assertEquals(4, out.backlog().lines());
        disk.openable = true;
        disk.free = Long.MAX_VALUE;
        out.close(); // a last try at close
        assertTrue(disk.text().endsWith("follow\na\nb\nb\nb\n"), disk.text());
    }

    /** A real ENOSPC: /dev/full behind the log's path, then a real file in its place. */
    @Test
    void aRealFullDeviceAndThenAFile() throws Exception {
        Path full = Path.of("/dev/full"); // every write: ENOSPC
        Assumptions.assumeTrue(Files.isWritable(full), "needs a writable /dev/full");
        Path log = dir.resolve("emperor.log");
        Files.createSymbolicLink(log, full);
        RetryingFileStream out = stream(log, RetryingFileStream.Env.of(m -> null, null).opener());
        emperor(out, "kept 1\n");
        vassal(out, "lost 2\n");
        Files.delete(log); // the disk has room again
        Files.writeString(log, "before\n");
        now += RetryingFileStream.RETRY_NANOS;
        emperor(out, "kept 3\n");
        assertEquals("before\nWARN log file " + log + " is writable again after 2s (No space left on device); dropped"
                + " meanwhile: 1 lines (7 bytes) of vassal output, 0 lines (0 bytes) of the emperor's; 1 lines of the"
                + " emperor's follow\nkept 1\nkept 3\n", Files.readString(log));
        out.close();
    }

    /** A rotation's warning (its gzip failed) is the first line of the new file. */
    @Test
    void aRotationsWarningIsWrittenIntoTheNewFile() throws Exception {
        Disk disk = new Disk();
        List<String> rotated = new ArrayList<>();
        RetryingFileStream out = stream(dir.resolve("emperor.log"), disk);
        out.rotateBefore(40, () -> {
            rotated.add(disk.text());
            disk.file.reset();
            return new RetryingFileStream.Rotated(true,
                    "cannot compress rotated log file X: No space left on device; it is kept as it is");
        });
        for (int i = 1; i <= 4; i++) {
            emperor(out, "line " + i + "....\n");
        }
        assertEquals(List.of("line 1....\nline 2....\nline 3....\n"), rotated);
        assertEquals("WARN cannot compress rotated log file X: No space left on device; it is kept as it is\nline 4....\n",
                disk.text());
    }

    /** A file that cannot be moved away grows past the size, said once, tried again a minute later. */
    @Test
    void aFileThatCannotBeMovedIsNotTriedAgainForAMinute() throws Exception {
        Disk disk = new Disk();
        int[] tries = {0};
        RetryingFileStream out = stream(dir.resolve("emperor.log"), disk);
        out.rotateBefore(20, () -> {
            tries[0]++;
            return new RetryingFileStream.Rotated(false, "cannot rotate log file X: Permission denied; it grows past log-maxsize");
        });
        for (int i = 0; i < 10; i++) {
            emperor(out, "0123456789\n");
        }
        assertEquals(1, tries[0]);
        assertEquals(1, disk.text().lines().filter(l -> l.startsWith("WARN cannot rotate")).count(), disk.text());
        assertEquals(10, disk.text().lines().filter(l -> l.equals("0123456789")).count(), "every line");
        now += RetryingFileStream.ROTATION_RETRY_NANOS;
        emperor(out, "0123456789\n");
        assertEquals(2, tries[0]);
    }

    /** Kept lines written after a failure go through the rotation: no file over the size but a line alone. */
    @Test
    void theKeptLinesAreCutAndRotatedAtTheSize() throws Exception {
        Disk disk = new Disk();
        List<String> rotated = new ArrayList<>();
        RetryingFileStream out = stream(dir.resolve("emperor.log"), disk);
        out.rotateBefore(40, () -> {
            rotated.add(disk.text());
            disk.file.reset();
            return new RetryingFileStream.Rotated(true, null);
        });
        disk.free = 0;
        for (int i = 1; i <= 5; i++) {
            emperor(out, "line " + i + "....\n"); // 11 bytes
        }
        vassal(out, "[app] dropped\n");
        assertEquals(List.of(), rotated, "nothing reached the file: nothing to rotate");
        disk.free = Long.MAX_VALUE;
        now += RetryingFileStream.RETRY_NANOS;
        emperor(out, "line 6....\n");
        assertEquals(2, rotated.size(), rotated.toString());
        assertTrue(rotated.get(0).matches("WARN log file [^\n]* 5 lines of the emperor's follow\n"), "alone: " + rotated);
        assertEquals("line 1....\nline 2....\nline 3....\n", rotated.get(1));
        assertEquals("line 4....\nline 5....\nline 6....\n", disk.text());
    }

    /** SIGHUP with a new log-format: the new appender's stream takes over what the old one kept. */
    @Test
    void aNewStreamTakesOverWhatTheOldOneKeptAndCounted() throws Exception {
        Disk disk = new Disk();
        Path log = dir.resolve("emperor.log");
        RetryingFileStream old = stream(log, disk);
        disk.free = 0;
        emperor(old, "kept\n");
        vassal(old, "[a] x\n");
        RetryingFileStream next = stream(log, disk);
        next.takeOver(old);
        old.close(); // nothing left for its last try
        assertEquals("", disk.text());
        emperor(next, "after\n");
        disk.free = Long.MAX_VALUE;
        now += RetryingFileStream.RETRY_NANOS;
        assertFalse(next.retry());
        assertTrue(disk.text().matches("WARN log file .* 1 lines \\(6 bytes\\) of vassal output, .* 2 lines of the"
                + " emperor's follow\nkept\nafter\n"), disk.text());
        assertEquals(2, retriers.size(), "the new stream retries by itself");
    }

    private static void emperor(RetryingFileStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length, true);
    }

    private static void vassal(RetryingFileStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length, false);
    }
}
