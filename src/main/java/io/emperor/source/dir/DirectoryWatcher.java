package io.emperor.source.dir;

import io.emperor.config.IoReasons;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code emperor-watcher} thread: turns directory changes into {@link Snapshot}s for the
 * emperor loop (DESIGN §3, §7).
 *
 * <p>Watch events are only hints that mean "rescan" (STYLE 5). The thread:
 * <ol>
 *   <li>watches (inotify, through the JDK {@link WatchService}) every vassal directory for
 *       created, modified and deleted entries; for a directory that does not exist it watches the
 *       nearest existing ancestor, for the one name that leads towards it, so its creation is
 *       seen at once;</li>
 *   <li>rescans on an event about a possible vassal file (a name {@link VassalNames} accepts)
 *       or about that leading name, on {@code OVERFLOW}, on an invalid key (a watched directory
 *       deleted or replaced), on {@link #rescanNow()} and {@link #reconfigure}, and when nothing
 *       caused a scan for {@code rescanPeriod} (the safety net for what inotify cannot see:
 *       symlink targets, NFS);</li>
 *   <li>before scanning, drains further events for a moment (until 2 ms pass without one, at
 *       most 50 ms), so a burst costs one scan;</li>
 *   <li>re-registers its watches (so a directory that appeared, or was replaced, is watched),
 *       runs {@link DirectoryScanner#scan()} on this thread, and hands the snapshot to the sink;
 *       with {@code publishUnchanged} false (the daemon's), not when a periodic rescan finds
 *       the same snapshot as the last one handed over.</li>
 * </ol>
 * The sink is called on this thread and must not block (the loop's queue). A failing scan is
 * logged ({@code emperor: scan failed: ...}) and the thread goes on; so does any other turn that
 * fails ({@code directory watcher: ...; going on}). One file that fails is that file's refusal
 * ({@link DirectoryScanner}). An {@link Error} other than a stack overflow ends the thread and,
 * through the default uncaught-exception handler, the emperor (exit 70): never a silent death. A directory that cannot be
 * watched is logged once per reason ({@code vassal directory DIR cannot be watched: REASON}) and is
 * left to the periodic rescan.
 *
 * <p>Threads: {@link #start()}, {@link #rescanNow()}, {@link #reconfigure} and {@link #close()}
 * may be called from any thread; the scanner is touched only by the watcher thread once started.
 */
public final class DirectoryWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("emperor");
    private static final WatchEvent.Kind<?>[] KINDS = {ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY};
    private static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    private static final long BURST_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final Duration LONGEST_PERIOD = Duration.ofDays(10_000);
    /**
     * The full rescan's period while inotify sees every change ({@link #inotifySeesAll}); each
     * {@code rescan} period in between only checks that the watched directories are still the same
     * ones (one stat each). A change inotify could not report (a full queue) is announced by an
     * overflow event, which rescans at once; what is left for the full rescan is a kernel or JDK
     * failure to report, caught within this period (docs/emperor.8.md, {@code rescan}).
     */
    static final long SEEN_PERIOD_NANOS = TimeUnit.MINUTES.toNanos(5);
    /** File systems whose changes made elsewhere (another host, a FUSE daemon) inotify does not see. */
    private static final Set<String> REMOTE_FILE_SYSTEMS = Set.of("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p",
            "ceph", "afs", "lustre", "glusterfs", "gfs2", "ocfs2", "virtiofs");
    private static final long JOIN_MILLIS = 10_000;

    private final DirectoryScanner scanner;
    private final Consumer<Snapshot> sink;
    private final boolean publishUnchanged;
    private final AtomicLong scans = new AtomicLong();

    private final Object lock = new Object();
    // Guarded by lock.
    private Thread thread;
    private WatchService watchService;
    private boolean closed;
    private boolean waiting;
    private boolean rescanRequested;
    private Reconfiguration pendingReconfiguration;

    // Watcher thread only.
    private long periodNanos;
    /** The last snapshot given to the sink; null before the first. */
    private Snapshot published;
    private Map<Path, WatchKey> watches = new HashMap<>();
    /** The file key (device and inode) each watched path had when it was registered. */
    private Map<Path, Object> watchedFileKeys = new HashMap<>();
    /** Keys on vassal directories: any vassal-like name matters. */
    private Set<WatchKey> directoryKeys = new HashSet<>();
    /** Keys on ancestors of missing directories: only the names leading to them matter. */
    private Map<WatchKey, Set<String>> ancestorKeys = new HashMap<>();
    private final Map<Path, String> watchProblems = new HashMap<>();
    /** Watched paths on a file system in {@link #REMOTE_FILE_SYSTEMS} (or of a type unknown). */
    private Set<Path> remoteWatches = new HashSet<>();

    private record Reconfiguration(List<Path> directories, Duration rescanPeriod) {}

    /**
     * @param scanner      scans the directories; from {@link #start()} on, only the watcher thread
     *                     uses it
     * @param rescanPeriod how long without any scan before a full rescan anyway (positive)
     * @param sink         receives every snapshot, on the watcher thread; must not block
     */
    public DirectoryWatcher(DirectoryScanner scanner, Duration rescanPeriod, Consumer<Snapshot> sink) {
        this(scanner, rescanPeriod, sink, true);
    }

    /**
     * @param publishUnchanged false: a periodic rescan that finds the same snapshot as the last one
     *                         given to the sink gives it nothing (an idle emperor's loop is not
     *                         woken every period for nothing). Scans asked for ({@link #rescanNow()},
     *                         {@link #reconfigure}, the first) and those caused by a watch event
     *                         always reach the sink.
     */
    public DirectoryWatcher(DirectoryScanner scanner, Duration rescanPeriod, Consumer<Snapshot> sink,
            boolean publishUnchanged) {
        this.scanner = scanner;
        this.sink = sink;
        this.publishUnchanged = publishUnchanged;
        this.periodNanos = nanos(rescanPeriod);
    }

    /** How many scans the watcher thread has finished (published or not); any thread. */
    public long scans() {
        return scans.get();
    }

    /** Opens the watch service and starts the thread, which scans at once. Once only. */
    public void start() throws IOException {
        synchronized (lock) {
            if (thread != null || closed) {
                throw new IllegalStateException("the directory watcher can be started once");
            }
            watchService = FileSystems.getDefault().newWatchService();
            rescanRequested = true;
            thread = new Thread(this::run, "emperor-watcher");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** Asks for a scan as soon as possible (after the one running, if any). */
    public void rescanNow() {
        synchronized (lock) {
            rescanRequested = true;
            wakeUp();
        }
    }

    /** New directories and period (SIGHUP): applied by the watcher thread, followed by a scan. */
    public void reconfigure(List<Path> directories, Duration rescanPeriod) {
        nanos(rescanPeriod); // rejects a bad period here, in the caller's thread
        Reconfiguration reconfiguration = new Reconfiguration(List.copyOf(directories), rescanPeriod);
        synchronized (lock) {
            pendingReconfiguration = reconfiguration;
            wakeUp();
        }
    }

    /** Stops the thread (waits for a running scan to end) and closes the watch service. */
    @Override
    public void close() {
        Thread running;
        synchronized (lock) {
            closed = true;
            wakeUp();
            running = thread;
        }
        if (running != null && running != Thread.currentThread()) {
            try {
                running.join(JOIN_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (running.isAlive()) {
                log.warn("the directory watcher did not stop within {} ms", JOIN_MILLIS);
            }
        }
        closeWatchService();
    }

    private static long nanos(Duration period) {
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("the rescan period must be positive: " + period);
        }
        return period.compareTo(LONGEST_PERIOD) > 0 ? LONGEST_PERIOD.toNanos() : period.toNanos();
    }

    /*
     * Waking the thread: it interrupts only a thread blocked in poll() (waiting == true, set and
     * cleared under the lock, and the flag cleared under the lock too), never one that is
     * scanning, because an interrupt closes any FileChannel the parser is reading.
     */
    private void wakeUp() {
        if (waiting) {
            thread.interrupt();
        }
    }

    private void run() {
        long lastScan = System.nanoTime();
        long lastFullScan = lastScan;
        try {
            while (true) {
                try {
                    boolean rescan = takeRequests();
                    if (isClosed()) {
                        return;
                    }
                    boolean periodic = false;
                    if (!rescan) {
                        long wait = lastScan + periodNanos - System.nanoTime();
                        if (wait > 0) {
                            WatchKey key = await(wait);
                            if (key == null || !drain(key)) {
                                continue; // woken up, or nothing relevant: the loop head decides
                            }
                        } else {
                            periodic = true;
                        }
                    }
                    if (periodic && System.nanoTime() - lastFullScan < SEEN_PERIOD_NANOS && inotifySeesAll()
                            && sameDirectoriesWatched()) {
                        // inotify sees everything a rescan could find, and still watches the same
                        // directories (one stat each): the full rescan waits for the longer period.
                        lastScan = System.nanoTime();
                        continue;
                    }
                    scanAndPublish(periodic);
                    lastFullScan = System.nanoTime();
                } catch (ClosedWatchServiceException e) {
                    throw e;
                } catch (RuntimeException | StackOverflowError e) {
                    // A bug in one turn: logged; the next turn waits for the next event or period.
                    log.error("directory watcher: {}; going on", e.toString(), e);
                }
                // Any other Error (out of memory …) ends the thread, and the emperor with it
                // (the default uncaught-exception handler: exit 70).
                lastScan = System.nanoTime();
            }
        } catch (ClosedWatchServiceException e) {
            // closed under us by close(): done
        } finally {
            closeWatchService();
        }
    }

    /**
     * Whether every vassal directory is still the directory (device and inode) its watch was
     * registered on: one stat each. A directory replaced by a rename under the same path leaves
     * the old watch valid and silent; the full rescan this returns false for registers the new one.
     */
    private boolean sameDirectoriesWatched() {
        for (Path dir : scanner.directories()) {
            Object key = fileKey(dir);
            if (key == null || !key.equals(watchedFileKeys.get(dir))) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when the last scan's watches cover everything: every vassal directory exists and is
     * watched itself (not through an ancestor, no watch refused), none is on a network or FUSE
     * file system, and no vassal file is a followed symlink (its target's edits reach no watch).
     */
    boolean inotifySeesAll() {
        if (scans.get() == 0 || scanner.sawSymlink() || !watchProblems.isEmpty() || !remoteWatches.isEmpty()) {
            return false;
        }
        for (Path dir : scanner.directories()) {
            WatchKey key = watches.get(dir);
            if (key == null || !key.isValid() || !directoryKeys.contains(key)) {
                return false;
            }
        }
        return true;
    }

    /** Applies a pending reconfiguration; true when a scan is due because of a request. */
    private boolean takeRequests() {
        Reconfiguration reconfiguration;
        boolean requested;
        synchronized (lock) {
            reconfiguration = pendingReconfiguration;
            requested = rescanRequested || reconfiguration != null;
            pendingReconfiguration = null;
            rescanRequested = false;
        }
        if (reconfiguration != null) {
            scanner.setDirectories(reconfiguration.directories());
            periodNanos = nanos(reconfiguration.rescanPeriod());
        }
        return requested;
    }

    private boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** The next signalled key, or null after the timeout or when woken up. */
    private WatchKey await(long timeoutNanos) {
        WatchService service;
        synchronized (lock) {
            if (closed || rescanRequested || pendingReconfiguration != null) {
                return null;
            }
            waiting = true;
            service = watchService;
        }
        try {
            return service.poll(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            return null;
        } finally {
            synchronized (lock) {
                waiting = false;
                Thread.interrupted(); // a wake-up that came after poll() returned
            }
        }
    }

    /** Takes {@code first} and whatever else a burst brings; true when any of it calls for a scan. */
    private boolean drain(WatchKey first) {
        boolean rescan = handle(first);
        long end = System.nanoTime() + BURST_NANOS;
        WatchService service;
        synchronized (lock) {
            service = watchService;
        }
        for (long left = BURST_NANOS; left > 0; left = end - System.nanoTime()) {
            WatchKey next;
            try {
                next = service.poll(Math.min(QUIET_NANOS, left), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                break; // nobody interrupts outside await(); stop draining and scan
            }
            if (next == null) {
                break;
            }
            rescan |= handle(next);
        }
        return rescan;
    }

    private boolean handle(WatchKey key) {
        boolean known = directoryKeys.contains(key) || ancestorKeys.containsKey(key);
        boolean rescan = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            rescan |= known && relevant(key, event);
        }
        if (!key.reset() && known) {
            rescan = true; // the directory was deleted or replaced: re-register, rescan
        }
        return rescan;
    }

    private boolean relevant(WatchKey key, WatchEvent<?> event) {
        if (event.kind() == OVERFLOW) {
            log.info("watch events were lost (overflow); rescanning");
            return true;
        }
        if (!(event.context() instanceof Path child)) {
            return true;
        }
        String name = child.getFileName().toString();
        return (directoryKeys.contains(key) && VassalNames.vassalName(name).isPresent())
                || ancestorKeys.getOrDefault(key, Set.of()).contains(name);
    }

    private void scanAndPublish(boolean periodic) {
        try {
            updateWatches();
            Snapshot snapshot = scanner.scan();
            scans.incrementAndGet();
            // Unchanged files keep their parse (the same instance), so this compares little more
            // than names, paths and fingerprints.
            if (publishUnchanged || !periodic || !snapshot.equals(published)) {
                sink.accept(snapshot);
                published = snapshot;
            }
        } catch (ClosedWatchServiceException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            log.error("scan failed: {}", e.toString(), e);
        }
    }

    /** Watches each directory, or its nearest existing ancestor; cancels watches no longer needed. */
    private void updateWatches() {
        Map<Path, WatchKey> nextWatches = new HashMap<>();
        Map<Path, Object> nextFileKeys = new HashMap<>();
        Set<WatchKey> nextDirectoryKeys = new HashSet<>();
        Map<WatchKey, Set<String>> nextAncestorKeys = new HashMap<>();
        for (Path dir : scanner.directories()) {
            Path at = watch(dir, nextWatches, nextFileKeys);
            if (at == null) {
                continue;
            }
            WatchKey key = nextWatches.get(at);
            if (at.equals(dir)) {
                nextDirectoryKeys.add(key);
            } else {
                String towards = at.relativize(dir).getName(0).toString();
                nextAncestorKeys.computeIfAbsent(key, k -> new HashSet<>()).add(towards);
            }
        }
        for (WatchKey old : watches.values()) {
            if (!nextWatches.containsValue(old)) {
                old.cancel();
            }
        }
        watchProblems.keySet().retainAll(scanner.directories());
        remoteWatches.retainAll(nextWatches.keySet());
        watches = nextWatches;
        watchedFileKeys = nextFileKeys;
        directoryKeys = nextDirectoryKeys;
        ancestorKeys = nextAncestorKeys;
    }

    /**
     * Registers {@code dir}, or its nearest existing ancestor, into {@code into}; returns the path
     * registered, or null when registration failed. After registering an ancestor it looks again,
     * because the next level may have been created just before the watch existed.
     */
    private Path watch(Path dir, Map<Path, WatchKey> into, Map<Path, Object> fileKeys) {
        WatchService service;
        synchronized (lock) {
            service = watchService;
        }
        for (int attempt = 0; attempt <= dir.getNameCount() + 2; attempt++) {
            Path at = nearestDirectory(dir);
            WatchKey key;
            try {
                if (into.containsKey(at)) {
                    key = into.get(at);
                } else {
                    // The same directory (device and inode) still watched: keep its key. Registering
                    // it again would only wake the JDK's poller thread at every periodic rescan; a
                    // directory replaced under the same path has another inode and is registered.
                    Object fileKey = fileKey(at);
                    WatchKey old = watches.get(at);
                    boolean same = old != null && old.isValid() && fileKey != null && fileKey.equals(watchedFileKeys.get(at));
                    key = same ? old : at.register(service, KINDS);
                    if (!same) {
                        if (remote(at)) {
                            remoteWatches.add(at);
                        } else {
                            remoteWatches.remove(at);
                        }
                    }
                    if (fileKey != null) {
                        fileKeys.put(at, fileKey);
                    }
                }
            } catch (NoSuchFileException | NotDirectoryException e) {
                continue; // it went away meanwhile: look again
            } catch (IOException e) {
                String reason = IoReasons.of(e);
                if (!reason.equals(watchProblems.put(dir, reason))) {
                    log.warn("vassal directory {} cannot be watched: {}", dir, reason);
                }
                return null;
            }
            into.put(at, key);
            if (nearestDirectory(dir).equals(at)) {
                watchProblems.remove(dir);
                return at;
            }
        }
        return null; // the path keeps changing under us; the next scan tries again
    }

    /** Whether {@code dir} is on a network or FUSE file system (or one whose type cannot be read). */
    static boolean remote(Path dir) {
        try {
            String type = Files.getFileStore(dir).type();
            return REMOTE_FILE_SYSTEMS.contains(type) || type.startsWith("fuse");
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    /** The path's file key (device and inode), null when it cannot be read. */
    private static Object fileKey(Path dir) {
        try {
            return Files.readAttributes(dir, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static Path nearestDirectory(Path dir) {
        Path at = dir;
        while (at.getParent() != null && !Files.isDirectory(at)) {
            at = at.getParent();
        }
        return at;
    }

    private void closeWatchService() {
        WatchService service;
        synchronized (lock) {
            service = watchService;
        }
        if (service == null) {
            return;
        }
        try {
            service.close();
        } catch (IOException e) {
            log.warn("closing the directory watch service failed: {}", IoReasons.of(e));
        }
    }
}
