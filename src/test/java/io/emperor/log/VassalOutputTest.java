package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.emperor.config.LogSettings;
import io.emperor.testing.Poll;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Routing of vassal lines into {@code vassal-logs} files: format, rotation, reopen, failures. */
class VassalOutputTest {
    private static final long T = 1_795_957_200_123L; // 2026-11-29T13:00:00.123Z
    private static final VassalOutput.Route APP = VassalOutput.Route.tagged("app");

    @TempDir
    Path dir;

    long now = 1_000_000_000L;
    final VassalTails tails = new VassalTails();
    final VassalOutput out = new VassalOutput(tails, () -> now, () -> T);
    final Queue<ILoggingEvent> logged = new ConcurrentLinkedQueue<>();
    final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    /** The thread the test runs in, which is the one that writes: VassalOutput logs in the writer's thread. */
    final String testThread = Thread.currentThread().getName();
    /**
     * What this test's writes logged: only the lines of its own thread, not those of threads
     * another test left running (emperor-io, emperor-gzip) or the gzip thread's warnings.
     */
    final AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            if (testThread.equals(e.getThreadName())) {
                logged.add(e);
            }
        }
    };

    {
        capture.setContext(root.getLoggerContext());
        capture.start();
        root.addAppender(capture);
    }

    /**
     * The gzip thread never outlives the test that gave it work (nor works in a deleted directory): each test that
     * rotates waits until the directory holds what it should ({@link #awaitFiles}).
     */
    @AfterEach
    void detach() {
        root.detachAppender(capture);
    }

    /**
     * Waits until the directory holds {@code expected} and nothing else: the rotated files are all renamed before
     * the gzip thread gets the first, and each is gone only once its job is done (compressed to a
     * {@code .partial} file then renamed to {@code .1.gz}, or dropped), so this is when the last job has ended.
     */
    void awaitFiles(String... expected) {
        List<String> want = java.util.Arrays.stream(expected).sorted().toList();
        Poll.until("the rotated files compressed", Poll.WAIT, () -> want.equals(filesNow()), () -> "files: " + filesNow());
    }

    private List<String> filesNow() {
        try {
            return files();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    List<String> messages() {
        return logged.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    void settings(Path logs, long maxSize, int backups) {
        out.reconfigure(new LogSettings(Optional.empty(), Optional.of(logs), maxSize, backups, 0, 5));
    }

    /** The vassal prints these lines, in one read of its pipe. */
    void print(VassalOutput.Route r, String... lines) {
        byte[] b = (String.join("\n", lines) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.write(r, new LineSplitter(), b, 0, b.length);
    }

    @Test
    void withoutVassalLogsLinesGoToTheEmperorLog() {
        print(APP, "one");
        print(new VassalOutput.Route("raw", false), "{\"a\":1}");
        assertEquals(List.of("[app] one", "{\"a\":1}"), messages());
        assertEquals(List.of("one"), tails.lines("app"));
    }

    @Test
    void vassalLogsGetTimestampedLinesOrRawOnesInAFileWithMode0640() throws IOException {
        settings(dir, 0, 5);
        print(APP, "one", "two");
        print(new VassalOutput.Route("raw", false), "{\"a\":1}");
        assertEquals("2026-11-29T13:00:00.123Z one\n2026-11-29T13:00:00.123Z two\n",
                Files.readString(dir.resolve("app.log")));
        assertEquals("{\"a\":1}\n", Files.readString(dir.resolve("raw.log")));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("app.log"))));
        assertEquals(List.of(), messages(), "nothing in the emperor's log");
        assertEquals(List.of("one", "two"), tails.lines("app"), "the tail is kept whatever the route");
    }

    @Test
    void appendsToAnExistingFile() throws IOException {
        Files.writeString(dir.resolve("app.log"), "earlier\n");
        settings(dir, 0, 5);
        print(new VassalOutput.Route("app", false), "later");
        assertEquals("earlier\nlater\n", Files.readString(dir.resolve("app.log")));
    }

    @Test
    void rotatesBySizeKeepingTheBackupsGzipped() throws Exception {
        settings(dir, 100, 2);
        VassalOutput.Route raw = new VassalOutput.Route("app", false);
        for (int i = 0; i < 10; i++) {
            print(raw, String.format("%039d", i)); // 40 bytes a line: two per file
        }
        awaitFiles("app.log", "app.log.1.gz", "app.log.2.gz");
        assertEquals(String.format("%039d\n%039d\n", 8, 9), Files.readString(dir.resolve("app.log")));
        assertEquals(String.format("%039d\n%039d\n", 6, 7), gunzip(dir.resolve("app.log.1.gz")));
        assertEquals(String.format("%039d\n%039d\n", 4, 5), gunzip(dir.resolve("app.log.2.gz")));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("app.log.1.gz"))));
        assertEquals(List.of("app.log", "app.log.1.gz", "app.log.2.gz"), files(), "nothing else left behind");
    }

    @Test
    void aChunkOfManyLinesIsSplitAcrossRotationsAtLineBoundaries() throws Exception {
        settings(dir, 100, 3);
        VassalOutput.Route raw = new VassalOutput.Route("app", false);
        String[] lines = new String[5];
        for (int i = 0; i < 5; i++) {
            lines[i] = String.format("%039d", i);
        }
        print(raw, lines); // one chunk of 200 bytes
        awaitFiles("app.log", "app.log.1.gz", "app.log.2.gz");
        assertEquals(String.format("%039d\n", 4), Files.readString(dir.resolve("app.log")));
        assertEquals(String.format("%039d\n%039d\n", 2, 3), gunzip(dir.resolve("app.log.1.gz")));
        assertEquals(String.format("%039d\n%039d\n", 0, 1), gunzip(dir.resolve("app.log.2.gz")));
        print(raw, "x".repeat(300));
        assertEquals("x".repeat(300) + "\n", Files.readString(dir.resolve("app.log")), "a long line gets its own file");
        awaitFiles("app.log", "app.log.1.gz", "app.log.2.gz", "app.log.3.gz");
    }

    @Test
    void noBackupsMeansTheFileStartsAgain() throws Exception {
        settings(dir, 50, 0);
        VassalOutput.Route raw = new VassalOutput.Route("app", false);
        for (int i = 0; i < 3; i++) {
            print(raw, String.format("%039d", i));
        }
        assertEquals(String.format("%039d\n", 2), Files.readString(dir.resolve("app.log")));
        assertEquals(List.of("app.log"), files());
    }

    /**
     * Rotations faster than the background gzip (6 MiB of random letters, slow to compress, in
     * 1 MiB files, written at once): the backups kept are still the newest and consecutive, the
     * rotated files in between are dropped, and nothing is left behind.
     */
    @Test
    void rotationsFasterThanTheGzipKeepTheNewestBackups() throws Exception {
        settings(dir, 1 << 20, 2);
        VassalOutput.Route raw = new VassalOutput.Route("app", false);
        int lines = 6 * (1 << 20) / 100;
        byte[] all = new byte[lines * 100];
        java.util.Random random = new java.util.Random(1);
        for (int i = 0; i < lines; i++) {
            byte[] number = String.format("%010d", i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            System.arraycopy(number, 0, all, i * 100, 10);
            for (int k = 10; k < 99; k++) {
                all[i * 100 + k] = (byte) ('a' + random.nextInt(26));
            }
            all[i * 100 + 99] = '\n';
        }
        for (int off = 0; off < all.length; off += 64 * 1000) { // reads of whole lines, as a pipe gives them
            out.write(raw, new LineSplitter(), all, off, Math.min(64 * 1000, all.length - off));
        }
        awaitFiles("app.log", "app.log.1.gz", "app.log.2.gz");
        assertEquals(List.of("app.log", "app.log.1.gz", "app.log.2.gz"), files());
        List<String> kept = (gunzip(dir.resolve("app.log.2.gz")) + gunzip(dir.resolve("app.log.1.gz"))
                + Files.readString(dir.resolve("app.log"))).lines().toList();
        for (int k = 0; k < kept.size(); k++) {
            assertEquals(lines - kept.size() + k, Integer.parseInt(kept.get(k).substring(0, 10)));
        }
        assertTrue(kept.size() > 2 * ((1 << 20) / 100), "two full backups and the current file: " + kept.size());
    }

    /**
     * A rotated file left by an emperor that stopped before compressing it is neither overwritten
     * nor lost (the numbers are the process's; 1 to 30 covers those this class's other tests use).
     */
    @Test
    void aRotatedFileLeftBehindIsKept() throws Exception {
        for (int i = 1; i <= 30; i++) {
            Files.writeString(dir.resolve("app.log.rotated-" + i), "old " + i + "\n");
        }
        settings(dir, 50, 1);
        VassalOutput.Route raw = new VassalOutput.Route("app", false);
        for (int i = 0; i < 2; i++) {
            print(raw, String.format("%039d", i));
        }
        List<String> expected = new java.util.ArrayList<>(List.of("app.log", "app.log.1.gz"));
        for (int i = 1; i <= 30; i++) {
            expected.add("app.log.rotated-" + i);
        }
        awaitFiles(expected.toArray(String[]::new));
        assertEquals(String.format("%039d\n", 0), gunzip(dir.resolve("app.log.1.gz")));
        for (int i = 1; i <= 30; i++) {
            assertEquals("old " + i + "\n", Files.readString(dir.resolve("app.log.rotated-" + i)));
        }
    }

    private List<String> files() throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static String gunzip(Path gz) throws IOException {
        try (java.io.InputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(gz))) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Test
    void reconfigureReopensAfterAnExternalMove() throws IOException {
        settings(dir, 0, 5);
        VassalOutput.Route raw = new VassalOutput.Route("app", false);
        print(raw, "before");
        Files.move(dir.resolve("app.log"), dir.resolve("app.log.old"));
        print(raw, "still to the moved file");
        settings(dir, 0, 5); // SIGHUP
        print(raw, "after");
        assertEquals("before\nstill to the moved file\n", Files.readString(dir.resolve("app.log.old")));
        assertEquals("after\n", Files.readString(dir.resolve("app.log")));
    }

    @Test
    void aSymlinkAtTheLastComponentIsNeverFollowed() throws IOException {
        Path victim = Files.writeString(dir.resolve("victim"), "");
        Path logs = Files.createDirectory(dir.resolve("logs"));
        Files.createSymbolicLink(logs.resolve("app.log"), victim);
        settings(logs, 0, 5);
        print(APP, "one");
        assertEquals("", Files.readString(victim));
        assertTrue(messages().get(0).startsWith("app: cannot write log file " + logs.resolve("app.log") + ": "),
                messages().toString());
        assertEquals("[app] one", messages().get(1), "the line went to the emperor's log instead");
    }

    @Test
    void aFailingTargetIsReportedOnceFallsBackAndIsRetried() throws IOException {
        Path logs = dir.resolve("gone");
        settings(logs, 0, 5);
        print(APP, "one");
        print(APP, "two");
        assertEquals(List.of("app: cannot write log file " + logs.resolve("app.log")
                + ": No such file or directory; its lines go to the emperor's log until a retry succeeds (every 2s)",
                "[app] one", "[app] two"), messages());
        Files.createDirectory(logs);
        print(APP, "three");
        assertFalse(Files.exists(logs.resolve("app.log")), "not retried before the backoff");
        now += VassalOutput.RETRY_NANOS;
        print(APP, "four");
        assertEquals("2026-11-29T13:00:00.123Z four\n", Files.readString(logs.resolve("app.log")));
        assertEquals("app: log file " + logs.resolve("app.log") + " is writable again", messages().get(4));
        assertEquals(5, messages().size());
    }

    @Test
    void aTargetThatIsNotAWritableFileIsReported() throws IOException {
        Files.createDirectory(dir.resolve("app.log")); // EISDIR, whoever we run as (root ignores modes)
        settings(dir, 0, 5);
        print(APP, "one");
        assertTrue(messages().get(0).startsWith("app: cannot write log file "), messages().toString());
        assertEquals("[app] one", messages().get(1));
    }

    @Test
    void forgetClosesTheFileAndDropsTheTail() throws IOException {
        settings(dir, 0, 5);
        print(APP, "one");
        out.forget("app");
        assertEquals(List.of(), tails.lines("app"));
        Files.delete(dir.resolve("app.log"));
        print(APP, "two");
        assertEquals("2026-11-29T13:00:00.123Z two\n", Files.readString(dir.resolve("app.log")), "a new file");
    }
}
