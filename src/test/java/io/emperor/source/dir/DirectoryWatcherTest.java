package io.emperor.source.dir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import io.emperor.testing.Poll;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryWatcherTest {
    /** Long enough that only a watch event (or a request) can explain a snapshot. */
    private static final Duration NO_RESCAN = Duration.ofSeconds(60);
    private static final Duration PROMPTLY = Duration.ofSeconds(2);

    @TempDir Path tmp;
    Path vassals;
    final BlockingQueue<Snapshot> snapshots = new LinkedBlockingQueue<>();
    final CountingParser parser = new CountingParser();
    LogCapture logs;
    DirectoryWatcher watcher;

    @BeforeEach
    void setUp() throws IOException {
        vassals = Files.createDirectory(tmp.resolve("vassals"));
        logs = new LogCapture();
    }

    @AfterEach
    void tearDown() {
        if (watcher != null) {
            watcher.close();
        }
        logs.close();
    }

    private DirectoryWatcher start(List<Path> dirs, Duration period) throws IOException {
        watcher = new DirectoryWatcher(new DirectoryScanner(dirs, parser), period, snapshots::add);
        watcher.start();
        return watcher;
    }

    /** The first snapshot that satisfies {@code condition}, arriving within {@code within}. */
    private Snapshot await(Duration within, Predicate<Snapshot> condition) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        Snapshot last = null;
        while (true) {
            long left = deadline - System.nanoTime();
            Snapshot next = left > 0 ? snapshots.poll(left, TimeUnit.NANOSECONDS) : null;
            if (next == null) {
                return fail("no matching snapshot within " + within + "; last: " + describe(last));
            }
            if (condition.test(next)) {
                return next;
            }
            last = next;
        }
    }

    private static String describe(Snapshot snapshot) {
        return snapshot == null ? "none" : snapshot.files().size() + " files " + snapshot.files().keySet();
    }

    private static Predicate<Snapshot> has(String name) {
        return s -> s.files().containsKey(name);
    }

    private static Path write(Path dir, String fileName) throws IOException {
        return Files.writeString(dir.resolve(fileName), "[vassal]\nexec = /bin/true\n");
    }

    @Test
    void seesCreateTouchAndDelete() throws Exception {
        start(List.of(vassals), NO_RESCAN);
        await(PROMPTLY, s -> s.files().isEmpty());

        Path app = write(vassals, "app.ini");
        Fingerprint written = Fingerprints.of(app, true).orElseThrow();
        await(PROMPTLY, s -> s.files().containsKey("app") && written.equals(s.files().get("app").fingerprint()));

        FingerprintsTest.touch(app);
        Fingerprint touched = Fingerprints.of(app, true).orElseThrow();
        assertNotEquals(written, touched);
        await(PROMPTLY, s -> s.files().containsKey("app") && touched.equals(s.files().get("app").fingerprint()));

        Files.delete(app);
        await(PROMPTLY, s -> !s.files().containsKey("app"));
    }

    @Test
    void ignoredNamesCauseNoScan() throws Exception {
        start(List.of(vassals), NO_RESCAN);
        await(PROMPTLY, s -> true);
        write(vassals, ".app.ini.swp");
        write(vassals, "app.ini~");
        Files.createDirectory(vassals.resolve("sub"));
        // A negative: nothing may arrive; 300 ms is ample for a watch event (sub-millisecond here).
        assertEquals(null, snapshots.poll(300, TimeUnit.MILLISECONDS));
        write(vassals, "app.ini");
        assertEquals(Set.of("app"), await(PROMPTLY, s -> true).files().keySet());
    }

    @Test
    void aDirectoryCreatedAfterStartIsSeenThroughItsParent() throws Exception {
        Path later = tmp.resolve("later");
        start(List.of(later), NO_RESCAN);
        await(PROMPTLY, s -> s.files().isEmpty());

        Files.createDirectory(later);
        write(later, "app.ini");
        await(PROMPTLY, has("app"));
        write(later, "second.ini");
        await(PROMPTLY, has("second"));
        assertEquals(1, logs.count("vassal directory " + later + " appeared"));
    }

    @Test
    void aDirectoryCreatedSeveralLevelsDownIsSeen() throws Exception {
        Path deep = tmp.resolve("a/b/c");
        start(List.of(deep), NO_RESCAN);
        await(PROMPTLY, s -> true);

        Files.createDirectories(deep);
        write(deep, "app.ini");
        await(PROMPTLY, has("app"));
    }

    @RepeatedTest(3)
    void aDirectoryDeletedAndRecreatedKeepsWorking() throws Exception {
        write(vassals, "first.ini");
        start(List.of(vassals), NO_RESCAN);
        await(PROMPTLY, has("first"));

        DirectoryScannerTest.deleteTree(vassals);
        await(PROMPTLY, s -> s.files().isEmpty());

        Files.createDirectory(vassals);
        write(vassals, "second.ini");
        await(PROMPTLY, has("second"));
        write(vassals, "third.ini");
        await(PROMPTLY, has("third"));
    }

    /**
     * A periodic rescan keeps the watch of a directory that is still the same (device and inode)
     * and registers again one that was replaced under the same path (renamed away, another renamed
     * in): what is then written into the new one is seen by inotify, not only by the next rescan.
     */
    @Test
    void aDirectoryReplacedByRenameIsWatchedAgainAfterTheNextRescan() throws Exception {
        write(vassals, "first.ini");
        Duration period = Duration.ofMillis(500);
        start(List.of(vassals), period);
        await(PROMPTLY, has("first"));

        Path replacement = Files.createDirectory(tmp.resolve("replacement"));
        write(replacement, "second.ini");
        Files.move(vassals, tmp.resolve("old"));
        Files.move(replacement, vassals);
        await(PROMPTLY, s -> s.files().containsKey("second") && !s.files().containsKey("first"));
        // The scan that saw the new directory registered it first (its watches are updated before
        // each scan); the periodic tick now finds the watch on the same directory and does no full
        // rescan (whileInotifySeesEverything... below).
        watcher.reconfigure(List.of(vassals), NO_RESCAN); // from now on only inotify can tell
        await(PROMPTLY, has("second"));
        write(vassals, "third.ini");
        await(PROMPTLY, has("third"));
    }

    @Test
    void aBurstEndsInOneCompleteSnapshot() throws Exception {
        start(List.of(vassals), NO_RESCAN);
        await(PROMPTLY, s -> true);
        for (int i = 0; i < 1000; i++) {
            write(vassals, "app" + i + ".ini");
        }
        await(Duration.ofSeconds(10), s -> s.files().size() == 1000);
        // A scan may catch a file between its creation and its write, so some are parsed twice.
        assertTrue(parser.calls() <= 2000, parser.calls() + " parses");
    }

    @Test
    void anOverflowMeansRescan() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean hold = new AtomicBoolean();
        watcher = new DirectoryWatcher(new DirectoryScanner(List.of(vassals), parser), NO_RESCAN, s -> {
            boolean held = hold.getAndSet(false);
            snapshots.add(s);
            if (held) {
                try {
                    release.await(); // the watcher stops polling while the kernel queues events
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        watcher.start();
        try {
            await(PROMPTLY, s -> true);
            hold.set(true);
            watcher.rescanNow();
            await(PROMPTLY, s -> true);

            // More than 512 events the watcher ignores, then the vassals: only OVERFLOW remains of them.
            for (int i = 0; i < 600; i++) {
                Files.createFile(vassals.resolve("junk" + i + ".tmp"));
            }
            for (int i = 0; i < 1000; i++) {
                Files.createFile(vassals.resolve("app" + i + ".ini"));
            }
        } finally {
            release.countDown();
        }
        await(Duration.ofSeconds(10), s -> s.files().size() == 1000);
        assertTrue(logs.count("watch events were lost (overflow); rescanning") >= 1);
    }

    @Test
    void thePeriodicRescanSeesWhatInotifyCannot() throws Exception {
        Path elsewhere = Files.createDirectory(tmp.resolve("app"));
        Path target = write(elsewhere, "uwsgi.ini");
        Files.createSymbolicLink(vassals.resolve("app.ini"), target);
        start(List.of(vassals), Duration.ofMillis(200));
        Fingerprint before = await(PROMPTLY, has("app")).files().get("app").fingerprint();

        Files.writeString(target, "; edited\n", StandardOpenOption.APPEND);
        await(PROMPTLY, s -> !before.equals(s.files().get("app").fingerprint()));
    }

    /**
     * While inotify sees every change (plain files in a watched local directory), a period that
     * passes without a scan costs one stat per directory, not a full rescan (an idle emperor's
     * CPU); a followed symlink (its target's edits reach no watch) brings the full periodic
     * rescan back, which then sees an edit of the target that inotify missed.
     */
    @Test
    void whileInotifySeesEverythingThePeriodDoesNoFullRescanUntilASymlinkAppears() throws Exception {
        write(vassals, "plain.ini");
        watcher = new DirectoryWatcher(new DirectoryScanner(List.of(vassals), parser), Duration.ofMillis(50),
                snapshots::add, false);
        watcher.start();
        await(PROMPTLY, has("plain"));
        long scans = watcher.scans();
        assertEquals(java.util.Optional.empty(),
                Poll.within(Duration.ofSeconds(1), () -> java.util.Optional.of(watcher.scans()).filter(n -> n > scans)),
                "twenty periods of 50 ms without a full rescan");
        write(vassals, "second.ini");
        await(PROMPTLY, has("second")); // inotify, as always

        Path elsewhere = Files.createDirectory(tmp.resolve("app"));
        Path target = write(elsewhere, "uwsgi.ini");
        Files.createSymbolicLink(vassals.resolve("app.ini"), target);
        Fingerprint before = await(PROMPTLY, has("app")).files().get("app").fingerprint();
        long withLink = watcher.scans();
        Poll.until("periodic full rescans again", Duration.ofSeconds(30), () -> watcher.scans() >= withLink + 3);
        Files.writeString(target, "; edited\n", StandardOpenOption.APPEND); // inotify cannot see it
        await(PROMPTLY, s -> !before.equals(s.files().get("app").fingerprint()));
    }

    /** A vassal directory that does not exist yet is watched through its parent: full rescans go on. */
    @Test
    void aMissingDirectoryKeepsTheFullPeriodicRescan() throws Exception {
        Path missing = tmp.resolve("missing");
        watcher = new DirectoryWatcher(new DirectoryScanner(List.of(missing), parser), Duration.ofMillis(50),
                snapshots::add, false);
        watcher.start();
        long scans = watcher.scans();
        Poll.until("periodic full rescans", Duration.ofSeconds(30), () -> watcher.scans() >= scans + 3);
    }

    /**
     * The daemon's watcher (publishUnchanged false): a periodic rescan that finds nothing changed
     * gives the loop nothing, so an idle emperor's loop is not woken every period; what a periodic
     * rescan does find still arrives, and a scan asked for arrives even when nothing changed (the
     * control command {@code rescan} waits for it).
     */
    @Test
    void anUnchangedPeriodicRescanGivesTheSinkNothing() throws Exception {
        Path elsewhere = Files.createDirectory(tmp.resolve("app"));
        Path target = write(elsewhere, "uwsgi.ini");
        Files.createSymbolicLink(vassals.resolve("app.ini"), target);
        watcher = new DirectoryWatcher(new DirectoryScanner(List.of(vassals), parser), Duration.ofMillis(50),
                snapshots::add, false);
        watcher.start();
        Snapshot first = await(PROMPTLY, has("app"));
        long scansBefore = watcher.scans();
        Poll.until("five more periodic rescans", Duration.ofSeconds(30), () -> watcher.scans() >= scansBefore + 5);
        assertEquals(List.of(), List.copyOf(snapshots), "unchanged periodic rescans publish nothing");

        watcher.rescanNow();
        assertEquals(first, await(PROMPTLY, s -> true), "a rescan asked for arrives, unchanged");

        Files.writeString(target, "; edited\n", StandardOpenOption.APPEND); // inotify cannot see it
        await(PROMPTLY, s -> !first.files().get("app").fingerprint().equals(s.files().get("app").fingerprint()));
    }

    @Test
    void rescanNowScansAtOnce() throws Exception {
        Path elsewhere = Files.createDirectory(tmp.resolve("app"));
        Path target = write(elsewhere, "uwsgi.ini");
        Files.createSymbolicLink(vassals.resolve("app.ini"), target);
        start(List.of(vassals), NO_RESCAN);
        Fingerprint before = await(PROMPTLY, has("app")).files().get("app").fingerprint();

        Files.writeString(target, "; edited\n", StandardOpenOption.APPEND);
        watcher.rescanNow();
        await(PROMPTLY, s -> !before.equals(s.files().get("app").fingerprint()));
    }

    @Test
    void reconfigureMovesTheWatches() throws Exception {
        Path other = Files.createDirectory(tmp.resolve("other"));
        write(vassals, "old.ini");
        start(List.of(vassals), NO_RESCAN);
        await(PROMPTLY, has("old"));

        watcher.reconfigure(List.of(other), NO_RESCAN);
        await(PROMPTLY, s -> s.files().isEmpty());
        write(other, "new.ini");
        await(PROMPTLY, has("new"));
        write(vassals, "unwatched.ini");
        watcher.rescanNow();
        Snapshot last = await(PROMPTLY, s -> true);
        assertEquals(Set.of("new"), last.files().keySet());
    }

    @Test
    void aFailingScanIsLoggedAndTheThreadGoesOn() throws Exception {
        AtomicBoolean failOnce = new AtomicBoolean(true);
        watcher = new DirectoryWatcher(new DirectoryScanner(List.of(vassals), parser), NO_RESCAN, s -> {
            if (failOnce.getAndSet(false)) {
                throw new IllegalStateException("boom");
            }
            snapshots.add(s);
        });
        watcher.start();
        String failed = "scan failed: java.lang.IllegalStateException: boom";
        assertTrue(logs.await(failed, PROMPTLY));
        write(vassals, "app.ini");
        await(PROMPTLY, has("app"));
        var failure = logs.events().stream()
                .filter(e -> e.getFormattedMessage().equals(failed))
                .findFirst().orElseThrow();
        assertEquals(Level.ERROR, failure.getLevel());
        assertTrue(failure.getThrowableProxy() != null, "with the stack trace");
    }

    @Test
    void closeStopsTheThreadAndTheWatchService() throws Exception {
        long inotifyBefore = inotifyDescriptors();
        Set<Thread> threadsBefore = watcherThreads().collect(Collectors.toSet());
        start(List.of(vassals, tmp.resolve("missing")), NO_RESCAN);
        await(PROMPTLY, s -> true);
        assertEquals(inotifyBefore + 1, inotifyDescriptors());
        List<Thread> started = watcherThreads().filter(t -> !threadsBefore.contains(t)).toList();
        assertEquals(1, started.size());
        Thread thread = started.get(0);
        assertTrue(thread.isDaemon());

        watcher.close();
        assertFalse(thread.isAlive());
        assertEquals(threadsBefore, watcherThreads().collect(Collectors.toSet()));
        assertEquals(inotifyBefore, inotifyDescriptors());
        watcher.close(); // twice is harmless
    }

    @Test
    void closeWithoutStartIsHarmless() {
        new DirectoryWatcher(new DirectoryScanner(List.of(vassals), parser), NO_RESCAN, snapshots::add).close();
    }

    private static Stream<Thread> watcherThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("emperor-watcher"));
    }

    private static long inotifyDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals("anon_inode:inotify");
                } catch (IOException e) {
                    return false; // the listing's own descriptor, closed meanwhile
                }
            }).count();
        }
    }
}
