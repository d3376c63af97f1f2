package io.emperor.source.dir;

import io.emperor.config.IoReasons;

import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.TenantBudget;
import io.emperor.config.UserDb;
import io.emperor.config.VassalFileParser;
import io.emperor.config.VassalSpec;
import io.emperor.os.OpenedFile;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lists the vassal directories and turns them into a {@link Snapshot}. No threads: it runs on
 * whichever thread calls it (the {@code emperor-watcher}) and is not safe for concurrent use.
 *
 * <p>One {@link #scan()}:
 * <ol>
 *   <li>lists each directory in order (not recursive) and keeps the names {@link VassalNames}
 *       accepts;</li>
 *   <li>stats each one ({@link Fingerprints}; following symlinks unless {@code followLinks} is
 *       false); a directory, or what vanished since the listing, is absent;</li>
 *   <li>gives a name to the first directory that has it; a later file with the same name is
 *       ignored and logged once: {@code NAME: ignored: DIR2/NAME.ini has the same name as
 *       DIR1/NAME.ini}; within one directory, of {@code NAME.ini}, {@code NAME.js}, {@code NAME.json},
 *       {@code NAME.xml}, {@code NAME.yaml} and {@code NAME.yml} the one that had the name at the
 *       last listing keeps it while it is there, else the first in that (byte) order, and the
 *       others are ignored the same way;</li>
 *   <li>reads a file only when its fingerprint differs from the last scan's (a cache by path,
 *       which forgets files that are gone), so an unchanged directory costs one {@code readdir}
 *       and one {@code stat} per file; it reads through {@link VassalReader}: opened once,
 *       judged on that descriptor's {@code fstat} (a FIFO, a device, a {@code /proc} file is
 *       refused unread), then read; a throwable from one file (a stack overflow included) is
 *       that file's refusal, any other {@link Error} goes up;</li>
 *   <li>in tyrant mode, stats both ends of a symlink ({@link Fingerprints#ends}; a followed link's
 *       own fingerprint is part of the version, so {@code chown -h} counts as a change), applies
 *       {@link TyrantRules} to the open file's {@code fstat} before reading it (a refused file is
 *       not read) and to what it parsed, and stats again after reading: a file that changed
 *       while it was read is not used (the last version stays, or it is left out of this scan),
 *       since its content might not be the one the verdict was about;</li>
 *   <li>in tyrant mode, holds each owner's files to the {@link TenantBudget} (docs/tyrant.md, "The
 *       tenant budget"): in an order that does not flap ({@link #take}), each file counts against
 *       its owner's files (past {@code maxVassals} it is refused unread) and what its parse holds
 *       ({@link HeldBytes}) against its owner's bytes and the total; a refused file keeps only its
 *       version and that refusal;</li>
 *   <li>a directory that does not exist contributes nothing (its vassals are removed) and is
 *       logged once per disappearance: {@code vassal directory DIR does not exist; waiting for
 *       it}, then {@code vassal directory DIR appeared}; a directory that exists but cannot be
 *       listed is logged once per reason ({@code vassal directory DIR cannot be read: REASON})
 *       and goes into {@link Snapshot#unreadableDirs()}, so its vassals are kept as they were;
 *       the names it had at its last listing keep shadowing later directories meanwhile.</li>
 * </ol>
 * A file that exists but cannot be stat'ed (permission denied, a symlink loop) keeps its last
 * known version, if any, and is logged once per reason: {@code NAME: cannot stat PATH: REASON}.
 */
public final class DirectoryScanner {
    private static final Logger log = LoggerFactory.getLogger("emperor");

    private final VassalFileParser parser;
    private final boolean followLinks;
    /** Scanning thread only: {@link #sawSymlink()}. */
    private boolean sawSymlink;
    /** The user database in tyrant mode; empty outside it. */
    private final Optional<UserDb> tyrant;
    private final TyrantRules.EmperorGroup emperorGroup;
    /** In tyrant mode, what the files of one owner, and of all, may hold. */
    private final TenantBudget budget;
    private List<Path> directories;
    /** The last scan's view of each file: what was parsed for which version. */
    private Map<Path, Cached> cache = new HashMap<>();
    private final Map<Path, DirState> dirStates = new HashMap<>();
    /** The vassal names each directory had at its last successful listing, with the file that had each. */
    private final Map<Path, Map<String, Path>> lastListed = new HashMap<>();
    private Set<Clash> loggedClashes = Set.of();
    private Map<Path, String> statProblems = Map.of();

    /**
     * One file's version and what became of it.
     *
     * @param weight     in tyrant mode, what {@code parsed} holds ({@link HeldBytes} plus
     *                   {@link TenantBudget#PER_FILE}); for a file refused over the budget, what its
     *                   parse would hold, or -1 when it was never read
     * @param overBudget refused by the {@link TenantBudget}: {@code parsed} is only that refusal (the
     *                   content is not kept)
     * @param carried    the weight of the last version that ran, when this one does not: the loop
     *                   keeps that spec (a running vassal goes on with it), so it stays charged
     */
    private record Cached(Version version, Parsed<VassalSpec> parsed, long weight, boolean overBudget,
                          long carried) {
        Cached(Version version, Parsed<VassalSpec> parsed) {
            this(version, parsed, 0, false, 0);
        }

        /** What this entry costs the owner now. */
        long charge() {
            return (overBudget ? TenantBudget.PER_FILE : weight) + carried;
        }

        /** What a next version carries: this one's spec if it may run, else what this one carried. */
        long toCarry() {
            return parsed.isOk() ? weight : carried;
        }
    }

    /** A file a scan will take, in the order it was found. */
    private record Candidate(String name, Path file, Version version, int order) {}

    /**
     * What was stat'ed of one file: its fingerprint; in tyrant mode also, for a symlink, the
     * link's own fingerprint ({@code link}), and the file that is read ({@code target}); else null.
     */
    private record Version(Fingerprint fingerprint, Fingerprint link, Fingerprint target) {
        /**
         * The same version for change detection: a followed link's owner counts (with nofollow the
         * link is the fingerprint already), a nofollow link's target does not.
         */
        boolean sameAs(Version other) {
            return fingerprint.equals(other.fingerprint) && Objects.equals(link, other.link);
        }
    }

    private record Clash(Path ignored, Path winner) {}

    private enum State { LISTED, MISSING, UNREADABLE }

    private record DirState(State state, String reason) {}

    /** Scans {@code directories}, following symlinks (DESIGN §2). */
    public DirectoryScanner(List<Path> directories, VassalFileParser parser) {
        this(directories, parser, true);
    }

    /**
     * @param directories the vassal directories, highest priority first; made absolute
     * @param parser      reads a file whose fingerprint changed
     * @param followLinks false for {@code nofollow}: a symlink is judged by the link itself
     */
    public DirectoryScanner(List<Path> directories, VassalFileParser parser, boolean followLinks) {
        this(directories, parser, followLinks, Optional.empty());
    }

    /**
     * @param tyrant the user database in tyrant mode ({@link TyrantRules} judges every file),
     *               empty outside it
     */
    public DirectoryScanner(List<Path> directories, VassalFileParser parser, boolean followLinks,
                            Optional<UserDb> tyrant) {
        this(directories, parser, followLinks, tyrant, TyrantRules.EmperorGroup.NONE);
    }

    /** @param emperorGroup in tyrant mode, the group a vassal must not run with (TyrantRules) */
    public DirectoryScanner(List<Path> directories, VassalFileParser parser, boolean followLinks,
                            Optional<UserDb> tyrant, TyrantRules.EmperorGroup emperorGroup) {
        this(directories, parser, followLinks, tyrant, emperorGroup, TenantBudget.DEFAULTS);
    }

    /** @param budget in tyrant mode, what the files of one owner, and of all owners, may hold */
    public DirectoryScanner(List<Path> directories, VassalFileParser parser, boolean followLinks,
                            Optional<UserDb> tyrant, TyrantRules.EmperorGroup emperorGroup, TenantBudget budget) {
        this.parser = parser;
        this.followLinks = followLinks;
        this.tyrant = tyrant;
        this.emperorGroup = emperorGroup;
        this.budget = Objects.requireNonNull(budget);
        setDirectories(directories);
    }

    /** Replaces the directories (SIGHUP); the cache is kept, so unchanged files are not re-parsed. */
    public void setDirectories(List<Path> directories) {
        Set<Path> unique = new LinkedHashSet<>();
        for (Path dir : directories) {
            unique.add(dir.toAbsolutePath().normalize());
        }
        this.directories = List.copyOf(unique);
        dirStates.keySet().retainAll(unique);
        lastListed.keySet().retainAll(unique);
    }

    /** The directories, absolute, highest priority first. */
    /**
     * Whether the last scan found a vassal file that is a symlink followed to its target (not with
     * {@code nofollow}): an edit of the target, in another directory, reaches no watch of the
     * vassal directories, only a rescan sees it ({@link DirectoryWatcher}).
     */
    public boolean sawSymlink() {
        return sawSymlink;
    }

    public List<Path> directories() {
        return directories;
    }

    /** Lists, stats and (where changed) parses every vassal file now. */
    public Snapshot scan() {
        Scan scan = new Scan();
        for (Path dir : directories) {
            scanDirectory(dir, scan);
        }
        take(scan);
        for (Clash clash : scan.clashes) {
            if (!loggedClashes.contains(clash)) {
                String name = VassalNames.vassalName(clash.ignored().getFileName().toString()).orElseThrow();
                log.warn("{}: ignored: {} has the same name as {}", name, clash.ignored(), clash.winner());
            }
        }
        loggedClashes = scan.clashes;
        statProblems = scan.statProblems;
        sawSymlink = scan.sawSymlink;
        cache = scan.cache;
        return new Snapshot(scan.files, scan.unreadable);
    }

    /** What one scan builds. */
    private static final class Scan {
        final Map<String, VassalFile> files = new HashMap<>();
        /** Names taken so far, with the path that took them (also names of unreadable directories). */
        final Map<String, Path> claimed = new HashMap<>();
        final Set<Path> unreadable = new HashSet<>();
        final Map<Path, Cached> cache = new HashMap<>();
        final Set<Clash> clashes = new HashSet<>();
        final Map<Path, String> statProblems = new HashMap<>();
        /** A vassal file was a symlink that is followed (inotify does not see its target change). */
        boolean sawSymlink;
        /** The files to take, in the order they were found (directories by priority, names sorted). */
        final List<Candidate> candidates = new ArrayList<>();
    }

    /** A vassal file found by a listing: its name worked out once (the sort below compares it often). */
    private record Listed(String name, String fileName, Path file, boolean hadTheName) {}

    private void scanDirectory(Path dir, Scan scan) {
        Map<String, Path> before = lastListed.getOrDefault(dir, Map.of());
        List<Listed> listed = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String fileName = entry.getFileName().toString();
                Optional<String> name = VassalNames.vassalName(fileName);
                if (name.isPresent()) {
                    Path file = dir.resolve(fileName);
                    listed.add(new Listed(name.get(), fileName, file, file.equals(before.get(name.get()))));
                }
            }
        } catch (NoSuchFileException e) {
            report(dir, new DirState(State.MISSING, null));
            lastListed.remove(dir);
            return;
        } catch (IOException e) {
            unreadable(dir, IoReasons.of(e), scan);
            return;
        } catch (DirectoryIteratorException e) {
            unreadable(dir, IoReasons.of(e.getCause()), scan);
            return;
        }
        report(dir, new DirState(State.LISTED, null));
        // By name; of one name's files (NAME.ini, NAME.yaml …), the one that had the name at the
        // last listing first while it is there, then by file name: a file added later with an
        // extension that sorts first (another tenant's NAME.ini beside a running NAME.yaml) does
        // not take the name from a running vassal.
        listed.sort(Comparator.comparing(Listed::name)
                .thenComparing(l -> !l.hadTheName())
                .thenComparing(Listed::fileName));
        Map<String, Path> present = new HashMap<>();
        for (Listed l : listed) {
            String name = l.name();
            Path file = l.file();
            Optional<Version> version = version(name, file, scan);
            if (version.isEmpty()) {
                continue;
            }
            present.putIfAbsent(name, file);
            Path winner = scan.claimed.putIfAbsent(name, file);
            if (winner != null) {
                scan.clashes.add(new Clash(file, winner));
                continue;
            }
            scan.candidates.add(new Candidate(name, file, version.get(), scan.candidates.size()));
        }
        lastListed.put(dir, present);
    }

    /**
     * Reads (where changed) and keeps every candidate. In tyrant mode each one first asks the
     * {@link TenantBudget}, in an order that does not flap between scans: the files that ran
     * unchanged since the last scan, then the changed ones that ran, then the rest, each group in
     * the order found. So a file that was taken keeps its place when another of its owner
     * appears, and of new files the first by directory and name are taken.
     */
    private void take(Scan scan) {
        List<Candidate> order = new ArrayList<>(scan.candidates);
        TenantBudget.Tally tally = null;
        if (tyrant.isPresent()) {
            UserDb users = tyrant.get();
            tally = budget.tally(uid -> TyrantRules.who(uid, users));
            // What unreadable directories keep stays held.
            for (Cached kept : scan.cache.values()) {
                tally.charge(kept.version().fingerprint().uid(), kept.charge());
            }
            order.sort(Comparator.comparingInt(this::rank).thenComparingInt(Candidate::order));
        }
        Map<Candidate, Cached> taken = new HashMap<>();
        for (Candidate c : order) {
            Cached cached = tally == null ? parsed(c.name(), c.file(), c.version()) : budgeted(c, tally);
            if (cached != null) {
                taken.put(c, cached);
            }
            // null: a new file that changed while it was read: the next scan reads it again
        }
        for (Candidate c : scan.candidates) {
            Cached cached = taken.get(c);
            if (cached == null) {
                continue;
            }
            scan.cache.put(c.file(), cached);
            Version v = cached.version();
            scan.files.put(c.name(), new VassalFile(c.name(), c.file(), v.fingerprint(), followLinks ? v.link() : null,
                    cached.parsed()));
        }
    }

    /** 0: it ran and is unchanged; 1: it ran (or its last runnable version did) and changed; 2: the rest. */
    private int rank(Candidate c) {
        Cached before = cache.get(c.file());
        if (before == null) {
            return 2;
        }
        boolean ran = !before.overBudget() && before.parsed().isOk();
        if (ran && before.version().sameAs(c.version())) {
            return 0;
        }
        return ran || before.carried() > 0 ? 1 : 2;
    }

    /**
     * Tyrant mode: the file counts against its owner's files; if there are too many it is refused
     * unread, else it is read (unless unchanged) and kept if what it holds fits the owner's bytes
     * and the total. A refused file keeps only its version and the refusal.
     */
    private Cached budgeted(Candidate c, TenantBudget.Tally tally) {
        int uid = c.version().fingerprint().uid();
        Cached before = cache.get(c.file());
        boolean same = before != null && before.version().sameAs(c.version());
        // What the loop may still hold of this name if this version does not run.
        long carried = before == null ? 0 : same && before.overBudget() ? before.carried() : before.toCarry();
        String tooMany = tally.count(uid);
        if (tooMany != null) {
            return overBudget(c, before, same && before.overBudget() ? before.weight() : -1, tooMany, carried,
                    tally);
        }
        Cached read;
        if (same && !before.overBudget()) {
            read = before;
        } else {
            if (same && before.weight() >= 0) {
                // Refused over the budget before: read it again only if it now fits.
                String refusal = tally.fits(uid, before.weight());
                if (refusal != null) {
                    return overBudget(c, before, before.weight(), refusal, carried, tally);
                }
            }
            read = parsed(c.name(), c.file(), c.version());
            if (read == null) {
                return null;
            }
            if (read != before) {
                read = new Cached(read.version(), read.parsed(),
                        TenantBudget.PER_FILE + HeldBytes.of(read.parsed()), false,
                        read.parsed().isOk() ? 0 : carried);
            }
        }
        String refusal = tally.fits(uid, read.charge());
        if (refusal != null) {
            return overBudget(c, before, read.weight(), refusal, carried, tally);
        }
        tally.charge(uid, read.charge());
        return read;
    }

    /** The refusal, which alone is kept (the same entry as before when nothing changed, so it is logged once). */
    private Cached overBudget(Candidate c, Cached before, long weight, String refusal, long carried,
                              TenantBudget.Tally tally) {
        Cached refused = new Cached(c.version(), Parsed.failed(List.of(new Problem(c.file(), 0, refusal)), List.of()),
                weight, true, carried);
        if (before != null && before.overBudget() && before.version().sameAs(c.version())
                && before.parsed().errors().equals(refused.parsed().errors()) && before.weight() == weight) {
            refused = before;
        }
        tally.charge(c.version().fingerprint().uid(), refused.charge());
        return refused;
    }

    /** The directory exists but cannot be listed: keep what we knew about it. */
    private void unreadable(Path dir, String reason, Scan scan) {
        report(dir, new DirState(State.UNREADABLE, reason));
        scan.unreadable.add(dir);
        for (Map.Entry<Path, Cached> entry : cache.entrySet()) {
            if (dir.equals(entry.getKey().getParent())) {
                scan.cache.put(entry.getKey(), entry.getValue());
            }
        }
        lastListed.getOrDefault(dir, Map.of()).forEach(scan.claimed::putIfAbsent);
    }

    private Optional<Version> version(String name, Path file, Scan scan) {
        try {
            return stat(file, scan);
        } catch (IOException e) {
            String reason = IoReasons.of(e);
            scan.statProblems.put(file, reason);
            if (!reason.equals(statProblems.get(file))) {
                log.warn("{}: cannot stat {}: {}", name, file, reason);
            }
            return Optional.ofNullable(cache.get(file)).map(Cached::version);
        }
    }

    private Optional<Version> stat(Path file, Scan scan) throws IOException {
        if (tyrant.isEmpty() && !followLinks) {
            return Fingerprints.of(file, false).map(f -> new Version(f, null, null));
        }
        // lstat, and stat only for a symlink: as many calls as a plain stat for a regular file,
        // and the scan learns whether any vassal file is a followed symlink.
        Optional<Fingerprints.Ends> found = Fingerprints.ends(file);
        if (scan != null && found.isPresent() && found.get().link() != null && followLinks) {
            scan.sawSymlink = true;
        }
        if (tyrant.isEmpty()) {
            return found.map(ends -> new Version(ends.target(), null, null));
        }
        return found.map(ends -> new Version(
                ends.link() == null || followLinks ? ends.target() : ends.link(),
                ends.link(),
                ends.target()));
    }

    /**
     * The parse of this version of the file: from the cache when the version is unchanged. Null
     * in tyrant mode for a file without an earlier version that changed while it was read.
     */
    private Cached parsed(String name, Path file, Version version) {
        Cached before = cache.get(file);
        if (before != null && before.version().sameAs(version) && !before.overBudget()) {
            return before;
        }
        // The fingerprint was taken before reading: if the file changes in between, the next
        // scan sees a newer fingerprint and parses again (the other order could miss an edit).
        Parsed<VassalSpec> parsed;
        try {
            parsed = VassalReader.read(file, opensAsItself(version), judge(file, version), parser);
            if (tyrant.isPresent() && !unchangedSince(file, version)) {
                log.debug("{}: {} changed while it was read; reading it again at the next scan", name, file);
                return before;
            }
        } catch (RuntimeException | StackOverflowError e) {
            // One file's bug is that file's refusal; the watcher goes on with the others. Any
            // other Error (out of memory …) leaves the state unknown: it ends the emperor.
            log.error("{}: reading {} failed: {}", name, file, e.toString(), e);
            parsed = Parsed.failed(List.of(new Problem(file, 0, "internal error while reading: " + e)), List.of());
        }
        return new Cached(version, parsed);
    }

    /**
     * True when the path itself was stat'ed as a file, not a symlink, so it is opened with
     * {@code O_NOFOLLOW} (a symlink put there since is refused, not followed). Outside tyrant mode
     * a followed path's own type is not known: it is opened following links.
     */
    private boolean opensAsItself(Version version) {
        if (tyrant.isPresent()) {
            return version.link() == null;
        }
        return !followLinks && (version.fingerprint().mode() & 0170000) != 0120000;
    }

    /** Tyrant mode: {@link TyrantRules} on the {@code fstat} of what is read (and the link's {@code lstat}). */
    private VassalReader.Judge judge(Path file, Version version) {
        if (tyrant.isEmpty()) {
            return VassalReader.Judge.NONE;
        }
        UserDb users = tyrant.get();
        return new VassalReader.Judge() {
            @Override
            public List<Problem> refusals(OpenedFile.Status status) {
                return TyrantRules.refusals(subject(status), users, emperorGroup);
            }

            @Override
            public int owner(OpenedFile.Status status) {
                // $(VAR) reads only what the owner's vassal gets (docs/tyrant.md).
                return subject(status).owner().uid();
            }

            @Override
            public Parsed<VassalSpec> verdict(OpenedFile.Status status, Parsed<VassalSpec> parsed) {
                return TyrantRules.judge(parsed, subject(status), users, emperorGroup);
            }

            private TyrantRules.Subject subject(OpenedFile.Status status) {
                long links = status.nlink();
                if (version.link() != null && !followLinks) {
                    links = Math.max(links, linkCount(file));
                }
                return new TyrantRules.Subject(file, version.link(), VassalReader.fingerprint(status), followLinks, links);
            }
        };
    }

    /** {@code st_nlink} of the symlink itself; 1 if it cannot be read (it then changed, and is read again). */
    private static long linkCount(Path file) {
        try {
            return ((Number) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS)).longValue();
        } catch (IOException | RuntimeException e) {
            return 1;
        }
    }

    /**
     * Tyrant mode: the verdict is about the owner and mode stat'ed before the read, so the content
     * must be that file's. A second stat that finds every end unchanged shows it was (a swapped
     * symlink or a renamed-over file has another inode).
     */
    private boolean unchangedSince(Path file, Version version) {
        try {
            return stat(file, null).equals(Optional.of(version));
        } catch (IOException e) {
            return false;
        }
    }

    private void report(Path dir, DirState now) {
        DirState before = dirStates.put(dir, now);
        if (now.equals(before)) {
            return;
        }
        switch (now.state()) {
            case MISSING -> log.warn("vassal directory {} does not exist; waiting for it", dir);
            case UNREADABLE -> log.error("vassal directory {} cannot be read: {}", dir, now.reason());
            case LISTED -> {
                if (before != null && before.state() == State.MISSING) {
                    log.info("vassal directory {} appeared", dir);
                }
            }
        }
    }
}
