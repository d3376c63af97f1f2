package io.emperor.source.dir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Parsed;
import io.emperor.config.ReloadMode;
import io.emperor.config.TenantBudget;
import io.emperor.config.FakeUserDb;
import io.emperor.config.UserDb;
import io.emperor.config.VassalFileParser;
import io.emperor.config.VassalSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scanner in tyrant mode: {@link TyrantRules} applied to every version, once per version, with
 * a followed symlink's own owner part of the version. Needs root (files of other owners).
 */
class DirectoryScannerTyrantTest {
    /** No passwd entries: every owner is numeric. */
    private static final UserDb NO_USERS = new FakeUserDb();

    @TempDir Path tmp;
    Path one;
    Path other;
    LogCapture logs;
    final AtomicInteger parses = new AtomicInteger();
    /** Parses every file into a spec that runs /bin/true (identity unset). */
    final VassalFileParser parser = (file, content) -> {
        parses.incrementAndGet();
        return Parsed.ok(new VassalSpec(VassalNames.vassalName(file.getFileName().toString()).orElse("x"), file,
                VassalSpec.Kind.PROGRAM, List.of("/bin/true"), file.getParent(), List.of(), 0022, null, -1, -1, null,
                15, Duration.ofSeconds(30), ReloadMode.SIGNAL, 1, List.of()), List.of());
    };

    @BeforeEach
    void setUp() throws IOException {
        Assumptions.assumeTrue(isRoot(), "needs root: creates files owned by other uids");
        one = Files.createDirectory(tmp.resolve("one"));
        other = Files.createDirectory(tmp.resolve("other"));
        logs = new LogCapture();
    }

    @AfterEach
    void tearDown() {
        if (logs != null) {
            logs.close();
        }
    }

    static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static Path write(Path dir, String name, int uid, int gid) throws IOException {
        Path f = Files.writeString(dir.resolve(name), "[vassal]\nexec = /bin/true\n");
        chown(f, uid, gid);
        return f;
    }

    private static void chown(Path p, int uid, int gid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }

    private DirectoryScanner tyrant(boolean followLinks) {
        return new DirectoryScanner(List.of(one), parser, followLinks, Optional.of(NO_USERS));
    }

    @Test
    void aRootOwnedFileIsRefusedOncePerVersionAndAChownStartsIt() throws IOException {
        Path app = write(one, "app.ini", 0, 0);
        DirectoryScanner scanner = tyrant(true);

        Snapshot first = scanner.scan();
        VassalFile refused = first.files().get("app");
        assertFalse(refused.parsed().isOk());
        assertEquals(app + ": owned by root (uid 0): chown it to the user that should run it",
                refused.parsed().errors().get(0).toString());
        assertEquals(first, scanner.scan(), "a rescan gives the same version: the loop sees no change");
        assertEquals(List.of(), SnapshotDiff.diff(first.files(), scanner.scan()));
        assertEquals(0, parses.get(), "a refused file is not even read");

        chown(app, 12345, 12346);
        VassalFile accepted = scanner.scan().files().get("app");
        assertTrue(accepted.parsed().isOk(), () -> accepted.parsed().errors().toString());
        assertEquals(12345, accepted.parsed().value().uid());
        assertEquals(12346, accepted.parsed().value().gid());
        assertNull(accepted.parsed().value().user());
        assertNull(accepted.link(), "not a symlink");
        assertEquals(1, parses.get());
    }

    @Test
    void aFollowedSymlinkNeedsTheOwnerOfItsTargetAndChownHIsAChange() throws IOException {
        Path target = write(other, "real.conf", 12345, 12345);
        Path link = Files.createSymbolicLink(one.resolve("app.ini"), target);
        chown(link, 12346, 12346);
        DirectoryScanner scanner = tyrant(true);

        VassalFile mismatch = scanner.scan().files().get("app");
        assertEquals(List.of(link + ": symlink owned by uid 12346 points to a file owned by uid 12345: the link and"
                + " its target must have the same owner"), mismatch.parsed().errors().stream().map(Object::toString).toList());
        assertEquals(12346, mismatch.link().uid());
        assertEquals(12345, mismatch.fingerprint().uid(), "the fingerprint is the target's");

        chown(link, 12345, 12346);
        Snapshot fixed = scanner.scan();
        VassalFile accepted = fixed.files().get("app");
        assertEquals(List.of(new Change.Changed(accepted)), SnapshotDiff.diff(java.util.Map.of("app", mismatch), fixed),
                "chown -h of the link alone is a new version");
        assertTrue(accepted.parsed().isOk(), () -> accepted.parsed().errors().toString());
        assertEquals(12345, accepted.parsed().value().uid());
        assertEquals(12345, accepted.parsed().value().gid(), "the target's group");
    }

    @Test
    void withNofollowTheLinkIsTheOwner() throws IOException {
        Path target = write(other, "real.conf", 12345, 12345);
        Files.setPosixFilePermissions(target, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Path link = Files.createSymbolicLink(one.resolve("app.ini"), target);
        chown(link, 12346, 12347);
        DirectoryScanner scanner = tyrant(false);

        VassalFile file = scanner.scan().files().get("app");
        assertTrue(file.parsed().isOk(), () -> file.parsed().errors().toString());
        assertEquals(12346, file.parsed().value().uid());
        assertEquals(12347, file.parsed().value().gid());
        assertNull(file.link(), "the fingerprint already is the link's");
        assertEquals(12346, file.fingerprint().uid());

        // A target its owner could not read: refused when the link changes.
        Files.setPosixFilePermissions(target, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Files.delete(link);
        Files.createSymbolicLink(link, target);
        chown(link, 12346, 12347);
        VassalFile refused = scanner.scan().files().get("app");
        assertFalse(refused.parsed().isOk());
        assertTrue(refused.parsed().errors().get(0).message().contains("that others may not read (mode 0600)"),
                refused.parsed().errors()::toString);
    }

    @Test
    void aFileReplacedWhileItIsReadIsNotUsed() throws IOException {
        Path app = write(one, "app.ini", 12345, 12345);
        Path evil = write(other, "evil.ini", 12346, 12346);
        AtomicInteger calls = new AtomicInteger();
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), (file, content) -> {
            if (calls.incrementAndGet() == 1) {
                // Between the stat and the read, the file is replaced by another owner's.
                try {
                    Files.move(evil, app, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            return parser.parse(file, content);
        }, true, Optional.of(NO_USERS));

        assertEquals(java.util.Set.of(), scanner.scan().files().keySet(), "the first read is not used");
        VassalFile next = scanner.scan().files().get("app");
        assertEquals(12346, next.parsed().value().uid(), "the next scan judges what it read");
        assertEquals(2, calls.get());
    }

    @Test
    void aChangeWhileReadingKeepsTheLastVersion() throws IOException {
        Path app = write(one, "app.ini", 12345, 12345);
        AtomicInteger calls = new AtomicInteger();
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), (file, content) -> {
            if (calls.incrementAndGet() == 2) {
                try {
                    chown(app, 12346, 12346);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            return parser.parse(file, content);
        }, true, Optional.of(NO_USERS));

        VassalFile first = scanner.scan().files().get("app");
        FingerprintsTest.touch(app);
        assertEquals(first, scanner.scan().files().get("app"), "changed while read: the last version stays");
        VassalFile third = scanner.scan().files().get("app");
        assertNotEquals(first.fingerprint(), third.fingerprint());
        assertEquals(12346, third.parsed().value().uid());
    }

    @Test
    void outsideTyrantModeNothingIsJudged() throws IOException {
        write(one, "app.ini", 0, 0);
        VassalFile file = new DirectoryScanner(List.of(one), parser, true).scan().files().get("app");
        assertTrue(file.parsed().isOk());
        assertEquals(-1, file.parsed().value().uid());
        assertNull(file.link());
    }

    /** Issue 11: someone else's file hard-linked into the directory would run with this %d and chdir. */
    @Test
    void aFileWithMoreThanOneHardLinkIsRefusedUnread() throws IOException {
        Path original = write(other, "mine.ini", 12345, 12345);
        Path linked = Files.createLink(one.resolve("app.ini"), original);
        DirectoryScanner scanner = tyrant(true);

        VassalFile refused = scanner.scan().files().get("app");
        assertEquals(List.of(linked + ": has 2 hard links: a file linked in from elsewhere would run with this directory"
                + " as %d and its working directory; copy it instead of linking it (cp, not ln)"),
                refused.parsed().errors().stream().map(Object::toString).toList());
        assertEquals(0, parses.get(), "not read");

        Files.delete(original);
        VassalFile accepted = scanner.scan().files().get("app");
        assertTrue(accepted.parsed().isOk(), () -> accepted.parsed().errors().toString());
        assertEquals(12345, accepted.parsed().value().uid());
    }

    // The tenant budget (issue 11, item 9): what one owner's files, and all owners', may hold.

    /** Parses a file into a spec whose env keeps the file's content: what the file holds is its size. */
    final VassalFileParser keepsContent = (file, content) -> {
        parses.incrementAndGet();
        return Parsed.ok(new VassalSpec(VassalNames.vassalName(file.getFileName().toString()).orElse("x"), file,
                VassalSpec.Kind.PROGRAM, List.of("/bin/true"), file.getParent(),
                List.of("V=" + new String(content, java.nio.charset.StandardCharsets.ISO_8859_1)), 0022, null, -1, -1,
                null, 15, Duration.ofSeconds(30), ReloadMode.SIGNAL, 1, List.of()), List.of());
    };

    private DirectoryScanner budgeted(TenantBudget budget) {
        return new DirectoryScanner(List.of(one), keepsContent, true, Optional.of(FakeUserDb.standard()),
                TyrantRules.EmperorGroup.NONE, budget);
    }

    private static Path sized(Path dir, String name, int uid, int bytes) throws IOException {
        Path f = Files.writeString(dir.resolve(name), "x".repeat(bytes));
        chown(f, uid, uid);
        return f;
    }

    private static List<String> ok(Snapshot s) {
        return s.files().values().stream().filter(f -> f.parsed().isOk()).map(VassalFile::name).sorted().toList();
    }

    private static String error(Snapshot s, String name) {
        return s.files().get(name).parsed().errors().stream().map(Object::toString)
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    @Test
    void pastMaxVassalsAnOwnersNewFilesAreRefusedUnreadAndTakenFilesKeepTheirPlace() throws IOException {
        for (String n : List.of("b1", "b2", "b3", "b4")) {
            sized(one, n + ".ini", 1000, 10);
        }
        sized(one, "other.ini", 1001, 10);
        DirectoryScanner scanner = budgeted(new TenantBudget(3, 1L << 20, 4L << 20));

        Snapshot first = scanner.scan();
        assertEquals(List.of("b1", "b2", "b3", "other"), ok(first), "by name; another owner counts apart");
        assertEquals(one.resolve("b4.ini") + ": owner alice (uid 1000) has more than 3 vassal files"
                + " (tenant-max-vassals); this one is not read: remove some of the owner's files, or raise the limit",
                error(first, "b4"));
        assertEquals(4, parses.get(), "b4 is not read");

        sized(one, "a0.ini", 1000, 10);
        Snapshot second = scanner.scan();
        assertEquals(List.of("b1", "b2", "b3", "other"), ok(second),
                "a0 comes first by name, but the files taken keep their place: no running vassal is stopped");
        assertEquals(List.of("a0"), SnapshotDiff.diff(first.files(), second).stream().map(Change::name).toList(),
                "only the new file is a change (its refusal)");
        assertEquals(List.of(), SnapshotDiff.diff(second.files(), scanner.scan()), "a rescan: no change, no new log");
        assertEquals(4, parses.get(), "nothing read again");

        Files.delete(one.resolve("b2.ini"));
        Snapshot third = scanner.scan();
        assertEquals(List.of("a0", "b1", "b3", "other"), ok(third), "the first refused file by name takes the place");
        List<Change> changes = SnapshotDiff.diff(second.files(), third);
        assertEquals(List.of("a0", "b2"), changes.stream().map(Change::name).toList());
        assertTrue(changes.get(0) instanceof Change.Changed, "the same version, now taken: the loop starts it");
        assertFalse(third.files().get("b4").parsed().isOk());
    }

    @Test
    void anOwnersBytesAndAllOwnersBytesAreBoundedAndARefusedFileKeepsOnlyItsRefusal() throws IOException {
        sized(one, "a1.ini", 1000, 20_000);
        sized(one, "a2.ini", 1000, 20_000);
        sized(one, "a3.ini", 1000, 20_000);
        sized(one, "b1.ini", 1001, 20_000);
        sized(one, "b2.ini", 1001, 20_000);
        // About 24 KiB a file: two fit an owner's 64 KiB, three fit the 80 KiB of all.
        DirectoryScanner scanner = budgeted(new TenantBudget(200, 64 << 10, 80 << 10));

        Snapshot first = scanner.scan();
        assertEquals(List.of("a1", "a2", "b1"), ok(first));
        assertTrue(error(first, "a3").matches(java.util.regex.Pattern.quote(one.resolve("a3.ini")
                + ": owner alice (uid 1000) would hold more than 64 KiB of parsed vassal files with this one (")
                + "2\\d KiB\\) \\(tenant-max-bytes\\): make the owner's files smaller or fewer, or raise the limit"),
                () -> error(first, "a3"));
        assertTrue(error(first, "b2").startsWith(one.resolve("b2.ini") + ": the vassal files of all owners would hold"
                + " more than 80 KiB with this one ("), () -> error(first, "b2"));
        assertTrue(error(first, "b2").endsWith(", owner bob (uid 1001)) (tenant-max-total-bytes): the administrator"
                + " may raise it with the heap"), () -> error(first, "b2"));
        VassalFile refused = first.files().get("a3");
        assertNull(refused.parsed().value(), "the content is not kept");
        assertEquals(1, refused.parsed().errors().size());
        assertEquals(List.of(), refused.parsed().warnings());
        assertEquals(5, parses.get(), "each file read once to know what it holds");

        assertEquals(List.of(), SnapshotDiff.diff(first.files(), scanner.scan()));
        assertEquals(5, parses.get(), "a refused file that still does not fit is not read again");

        Files.delete(one.resolve("a1.ini"));
        Snapshot after = scanner.scan();
        assertEquals(List.of("a2", "a3", "b1"), ok(after), "once it fits, the refused file is read again and taken");
        assertEquals(6, parses.get());
        assertTrue(after.files().get("a3").parsed().value().env().get(0).length() > 20_000);
    }

    @Test
    void aTakenFileThatGrowsPastTheBudgetIsTheOneRefused() throws IOException {
        sized(one, "a1.ini", 1000, 20_000);
        sized(one, "a2.ini", 1000, 20_000);
        DirectoryScanner scanner = budgeted(new TenantBudget(200, 64 << 10, 1L << 20));
        assertEquals(List.of("a1", "a2"), ok(scanner.scan()));

        sized(one, "a1.ini", 1000, 40_000);
        Snapshot grown = scanner.scan();
        assertEquals(List.of("a2"), ok(grown), "a2, unchanged, keeps its place; a1's new version does not fit");
        assertTrue(error(grown, "a1").contains("(tenant-max-bytes)"), () -> error(grown, "a1"));

        // The loop still runs a1's old version: it stays charged, so a new file does not fit either.
        sized(one, "a3.ini", 1000, 10_000);
        assertFalse(scanner.scan().files().get("a3").parsed().isOk());
    }

    @Test
    void outsideTyrantModeThereIsNoBudget() throws IOException {
        for (int i = 0; i < 5; i++) {
            sized(one, "f" + i + ".ini", 1000, 20_000);
        }
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), keepsContent, true, Optional.empty(),
                TyrantRules.EmperorGroup.NONE, new TenantBudget(1, 4 << 10, 4 << 10));
        assertEquals(5, ok(scanner.scan()).size());
    }
}
