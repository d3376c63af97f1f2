package io.emperor.source.dir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Problem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryScannerTest {
    @TempDir Path tmp;
    Path one;
    Path two;
    final CountingParser parser = new CountingParser();
    LogCapture logs;

    @BeforeEach
    void setUp() throws IOException {
        one = Files.createDirectory(tmp.resolve("one"));
        two = Files.createDirectory(tmp.resolve("two"));
        logs = new LogCapture();
    }

    @AfterEach
    void tearDown() {
        logs.close();
    }

    private static Path write(Path dir, String fileName) throws IOException {
        return Files.writeString(dir.resolve(fileName), "[vassal]\nexec = /bin/true\n");
    }

    @Test
    void parsesAnUnchangedFileOnce() throws IOException {
        Path app = write(one, "app.ini");
        write(one, ".app.ini.swp");
        write(one, "notes.txt");
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), parser);

        Snapshot first = scanner.scan();
        assertEquals(Set.of("app"), first.files().keySet());
        VassalFile file = first.files().get("app");
        assertEquals(app, file.path());
        assertEquals(List.of(new Problem(app, 0, "x")), file.parsed().errors());
        assertEquals(Set.of(), first.unreadableDirs());
        assertEquals(first, scanner.scan());
        assertEquals(1, parser.calls());

        FingerprintsTest.touch(app);
        Snapshot touched = scanner.scan();
        assertNotEquals(file.fingerprint(), touched.files().get("app").fingerprint());
        assertEquals(2, parser.calls());
    }

    @Test
    void thousandUnchangedFilesAreNotReadAgain() throws IOException {
        for (int i = 0; i < 1000; i++) {
            write(one, "app" + i + ".ini");
        }
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), parser);
        assertEquals(1000, scanner.scan().files().size());
        assertEquals(1000, parser.calls());
        assertEquals(1000, scanner.scan().files().size());
        assertEquals(1000, parser.calls());
    }

    @Test
    void theFirstDirectoryWinsAClashLoggedOnce() throws IOException {
        Path first = write(one, "app.ini");
        Path second = write(two, "app.ini");
        write(two, "other.ini");
        DirectoryScanner scanner = new DirectoryScanner(List.of(one, two), parser);
        String clash = "app: ignored: " + second + " has the same name as " + first;

        Snapshot snapshot = scanner.scan();
        scanner.scan();
        assertEquals(first, snapshot.files().get("app").path());
        assertEquals(Set.of("app", "other"), snapshot.files().keySet());
        assertEquals(1, logs.count(clash));
        assertEquals(0, parser.calls(second), "the ignored file is not parsed");

        Files.delete(first);
        assertEquals(second, scanner.scan().files().get("app").path());
        Files.writeString(first, "[vassal]\n");
        assertEquals(first, scanner.scan().files().get("app").path());
        assertEquals(2, logs.count(clash), "a clash that comes back is logged again");

        scanner.setDirectories(List.of(two, one));
        assertEquals(second, scanner.scan().files().get("app").path());
    }

    /**
     * NAME.ini beside NAME.yaml (and .js, .json, .xml, .yml): one name, one vassal. The first file
     * name in sort order wins (.ini, .js, .json, .xml, .yaml, .yml), each other is ignored with
     * the clash line, as a clash between directories; but a file added later does not take the
     * name from the one that has it (in a shared tyrant directory, another tenant's NAME.ini
     * beside a running NAME.yaml); the winner's directory keeps the name, with its file, while the
     * directory cannot be read.
     */
    @Test
    void sameStemDifferentExtensionsAreOneNameTheFirstFileNameWins() throws IOException {
        List<String> names = List.of("app.yml", "app.yaml", "app.xml", "app.json", "app.js", "app.ini");
        for (String name : names) {
            write(one, name);
        }
        Path yamlElsewhere = write(two, "app.yaml");
        DirectoryScanner scanner = new DirectoryScanner(List.of(one, two), parser);
        Snapshot snapshot = scanner.scan();
        assertEquals(Set.of("app"), snapshot.files().keySet());
        assertEquals(one.resolve("app.ini"), snapshot.files().get("app").path());
        for (String ignored : List.of("app.js", "app.json", "app.xml", "app.yaml", "app.yml")) {
            assertEquals(1, logs.count("app: ignored: " + one.resolve(ignored) + " has the same name as "
                    + one.resolve("app.ini")), ignored);
            assertEquals(0, parser.calls(one.resolve(ignored)));
        }
        Files.delete(one.resolve("app.ini"));
        assertEquals(one.resolve("app.js"), scanner.scan().files().get("app").path());
        // A file that sorts first, added later, does not take the name from the one that has it.
        Path lateIni = write(one, "app.ini");
        assertEquals(one.resolve("app.js"), scanner.scan().files().get("app").path());
        assertEquals(1, logs.count("app: ignored: " + lateIni + " has the same name as " + one.resolve("app.js")));
        Files.delete(lateIni);

        // The unreadable directory's name stays, with the file that had it.
        for (String name : List.of("app.js", "app.json", "app.xml", "app.yaml")) {
            Files.delete(one.resolve(name));
        }
        scanner.scan();
        deleteTree(one);
        Files.writeString(one, "not a directory");
        scanner.scan();
        assertEquals(1, logs.count("app: ignored: " + yamlElsewhere + " has the same name as " + one.resolve("app.yml")));
    }

    @Test
    void aMissingDirectoryIsWaitedFor() throws IOException {
        Path later = tmp.resolve("later");
        DirectoryScanner scanner = new DirectoryScanner(List.of(later), parser);
        String waiting = "vassal directory " + later + " does not exist; waiting for it";
        String appeared = "vassal directory " + later + " appeared";

        assertEquals(new Snapshot(java.util.Map.of(), Set.of()), scanner.scan());
        scanner.scan();
        assertEquals(1, logs.count(waiting));
        assertEquals(0, logs.count(appeared));

        Files.createDirectory(later);
        write(later, "app.ini");
        assertEquals(Set.of("app"), scanner.scan().files().keySet());
        scanner.scan();
        assertEquals(1, logs.count(appeared));

        deleteTree(later);
        assertEquals(Set.of(), scanner.scan().files().keySet(), "its vassals are removed");
        assertEquals(2, logs.count(waiting), "logged once per disappearance");
    }

    @Test
    void anUnreadableDirectoryKeepsItsVassalsAndTheirNames() throws IOException {
        write(one, "app.ini");
        Path shadowed = write(two, "app.ini");
        DirectoryScanner scanner = new DirectoryScanner(List.of(one, two), parser);
        Snapshot before = scanner.scan();

        // Root may list a mode-000 directory, so "cannot be listed" is a file in its place.
        deleteTree(one);
        Files.writeString(one, "not a directory");
        Snapshot unreadable = scanner.scan();
        scanner.scan();
        assertEquals(Set.of(one), unreadable.unreadableDirs());
        assertFalse(unreadable.files().containsKey("app"), "the name stays with the unreadable directory");
        assertEquals(0, parser.calls(shadowed));
        assertEquals(List.of(), SnapshotDiff.diff(before.files(), unreadable));
        assertEquals(1, logs.count("vassal directory " + one + " cannot be read: Not a directory"));

        Files.delete(one);
        Snapshot missing = scanner.scan();
        assertEquals(shadowed, missing.files().get("app").path());
        assertEquals(Set.of(), missing.unreadableDirs());
    }

    @Test
    void followsASymlinkIntoAnotherDirectory() throws IOException {
        Path target = write(two, "real.conf");
        Path link = Files.createSymbolicLink(one.resolve("app.ini"), target);
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), parser);

        VassalFile before = scanner.scan().files().get("app");
        assertEquals(link, before.path());
        assertEquals(1, parser.calls(link), "the parser is given the link");
        assertEquals(Fingerprints.of(target, true).orElseThrow(), before.fingerprint());

        Files.writeString(target, "; edited\n", StandardOpenOption.APPEND);
        VassalFile after = scanner.scan().files().get("app");
        assertNotEquals(before.fingerprint(), after.fingerprint());
        assertEquals(2, parser.calls(link));
    }

    @Test
    void withNofollowTheLinkItselfIsJudged() throws IOException {
        Path target = write(two, "real.conf");
        Files.createSymbolicLink(one.resolve("app.ini"), target);
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), parser, false);

        VassalFile before = scanner.scan().files().get("app");
        Files.writeString(target, "; edited\n", StandardOpenOption.APPEND);
        assertEquals(before.fingerprint(), scanner.scan().files().get("app").fingerprint());
    }

    @Test
    void ignoresWhatIsNotARegularFile() throws IOException {
        Files.createDirectory(one.resolve("x.ini"));
        Files.createSymbolicLink(one.resolve("dangling.ini"), tmp.resolve("nowhere"));
        Files.createDirectory(one.resolve("app.ini"));
        Path real = write(two, "app.ini");
        DirectoryScanner scanner = new DirectoryScanner(List.of(one, two), parser);

        Snapshot snapshot = scanner.scan();
        assertEquals(Set.of("app"), snapshot.files().keySet());
        assertEquals(real, snapshot.files().get("app").path(), "a directory named app.ini claims no name");
        assertTrue(logs.messages().stream().noneMatch(m -> m.contains("same name")));
        assertEquals(1, parser.calls());
    }

    @Test
    void anUnstatableFileKeepsItsLastVersion() throws IOException {
        Path app = write(one, "app.ini");
        Path loop = one.resolve("loop.ini");
        Files.createSymbolicLink(loop, loop);
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), parser);

        VassalFile before = scanner.scan().files().get("app");
        Files.delete(app);
        Files.createSymbolicLink(app, app);
        Snapshot snapshot = scanner.scan();
        scanner.scan();
        assertEquals(Set.of("app"), snapshot.files().keySet(), "a new unstatable file is absent");
        assertEquals(before, snapshot.files().get("app"));
        assertEquals(1, logs.count("app: cannot stat " + app + ": Too many levels of symbolic links"
                + " or unable to access attributes of symbolic link"));
        assertEquals(1, logs.messages().stream().filter(m -> m.startsWith("loop: cannot stat ")).count());
    }

    /** Issue 11: a StackOverflowError in one file ended the watcher thread; now it is that file's refusal. */
    @Test
    void aStackOverflowFailsOnlyThatFile() throws IOException {
        Path bad = write(one, "bad.ini");
        Path good = write(one, "good.ini");
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), (file, content) -> {
            if (file.equals(bad)) {
                throw new StackOverflowError();
            }
            return parser.parse(file, content);
        });
        Snapshot snapshot = scanner.scan();
        assertEquals(List.of(bad + ": internal error while reading: java.lang.StackOverflowError"), errors(snapshot, "bad"));
        assertEquals(List.of(good + ": x"), errors(snapshot, "good"));
        assertEquals(1, logs.count("bad: reading " + bad + " failed: java.lang.StackOverflowError"));
    }

    @Test
    void aParserThatThrowsFailsOnlyThatFile() throws IOException {
        Path bad = write(one, "bad.ini");
        write(one, "good.ini");
        DirectoryScanner scanner = new DirectoryScanner(List.of(one), (file, content) -> {
            if (file.equals(bad)) {
                throw new IllegalStateException("bug");
            }
            return parser.parse(file, content);
        });
        Snapshot snapshot = scanner.scan();
        assertEquals(Set.of("bad", "good"), snapshot.files().keySet());
        assertFalse(snapshot.files().get("bad").parsed().isOk());
        assertEquals(1, logs.count("bad: reading " + bad + " failed: java.lang.IllegalStateException: bug"));
    }

    static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /**
     * Issue 11: a FIFO blocked open(), a link to /proc/kmsg blocked the read for ever. What is not
     * a regular file on disk is refused with a reason, unread, and the scan goes on to the others.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void fifosDevicesAndKernelFilesAreRefusedUnread() throws IOException {
        Path fifo = one.resolve("fifo.ini");
        assertEquals(0, io.emperor.testing.Fifo.make(fifo), "mkfifo");
        Path kmsg = Files.createSymbolicLink(one.resolve("kmsg.ini"), Path.of("/proc/kmsg"));
        Path zero = Files.createSymbolicLink(one.resolve("zero.ini"), Path.of("/dev/zero"));
        Path status = Files.createSymbolicLink(one.resolve("status.ini"), Path.of("/proc/self/status"));
        Path sys = Files.createSymbolicLink(one.resolve("sys.ini"), Path.of("/sys/kernel/uevent_seqnum"));
        Path good = write(one, "good.ini");
        for (boolean follow : List.of(true, false)) {
            CountingParser counting = new CountingParser();
            Snapshot snapshot = new DirectoryScanner(List.of(one), counting, follow).scan();
            assertEquals(List.of(fifo + ": is a FIFO, not a regular file"), errors(snapshot, "fifo"));
            if (follow) {
                String kernel = ": is on a %s file system (a kernel interface), not a regular file on disk";
                assertEquals(List.of(kmsg + kernel.formatted("proc")), errors(snapshot, "kmsg"));
                assertEquals(List.of(zero + ": is a character device, not a regular file"), errors(snapshot, "zero"));
                assertEquals(List.of(status + kernel.formatted("proc")), errors(snapshot, "status"));
                assertEquals(List.of(sys + kernel.formatted("sysfs")), errors(snapshot, "sys"));
                assertEquals(1, counting.calls(), "only good.ini was read");
            }
            assertEquals(List.of(good + ": x"), errors(snapshot, "good"), "the good file was read (and parsed)");
            assertEquals(1, counting.calls(good));
        }
    }

    private static List<String> errors(Snapshot snapshot, String name) {
        return snapshot.files().get(name).parsed().errors().stream().map(Problem::toString).toList();
    }
}
