package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The emperor's log file failing (disk full) and coming back: reported once on stderr, retried, never thrown. */
class RetryingFileStreamTest {
    @TempDir
    Path dir;

    long now = 1_000_000_000L;
    final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    @Test
    void aFailingWriteIsReportedOnceAndRetriedUntilTheFileWorksAgain() throws Exception {
        Path full = Path.of("/dev/full"); // every write: ENOSPC
        Assumptions.assumeTrue(Files.isWritable(full), "needs a writable /dev/full");
        Path log = dir.resolve("emperor.log");
        Files.createSymbolicLink(log, full);
        RetryingFileStream out = new RetryingFileStream(log.toFile(), new PrintStream(stderr, true, StandardCharsets.UTF_8),
                () -> now, message -> ("WARN " + message + "\n").getBytes(StandardCharsets.UTF_8));

        out.write(bytes("lost 1\n"), 0, 7);
        out.write(bytes("lost 2\n"), 0, 7);
        assertEquals("emperor: cannot write log file " + log
                + ": No space left on device; its lines are lost until a retry succeeds (every 2s)\n", stderr.toString(),
                "reported once");

        Files.delete(log); // the disk has room again
        Files.writeString(log, "before\n");
        now += RetryingFileStream.RETRY_NANOS - 1;
        out.write(bytes("lost 3\n"), 0, 7);
        assertEquals("before\n", Files.readString(log), "not retried before its time");

        now += 1;
        out.write(bytes("kept\n"), 0, 5);
        assertEquals("before\nWARN log file " + log + " is writable again; 21 bytes of log lines were lost\nkept\n",
                Files.readString(log), "reopened by path, the loss said in the log itself");
        assertTrue(stderr.toString().endsWith("emperor: log file " + log
                + " is writable again; 21 bytes of log lines were lost\n"), stderr.toString());
        out.close();
    }

    @Test
    void aFileThatCannotBeReopenedStaysFailingWithoutAnotherReport() throws Exception {
        Path full = Path.of("/dev/full");
        Assumptions.assumeTrue(Files.isWritable(full), "needs a writable /dev/full");
        Path log = dir.resolve("emperor.log");
        Files.createSymbolicLink(log, full);
        RetryingFileStream out = new RetryingFileStream(log.toFile(), new PrintStream(stderr, true, StandardCharsets.UTF_8),
                () -> now, message -> new byte[0]);
        out.write(bytes("a\n"), 0, 2);
        Files.delete(log);
        Files.createDirectory(log); // cannot be opened as a file any more
        for (int i = 0; i < 3; i++) {
            now += RetryingFileStream.RETRY_NANOS;
            out.write(bytes("b\n"), 0, 2);
        }
        assertEquals(1, stderr.toString().lines().count(), stderr.toString());
        out.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
