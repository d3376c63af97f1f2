package io.emperor.source.dir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FingerprintsTest {
    @TempDir Path dir;

    private static Fingerprint of(Path file) throws IOException {
        return Fingerprints.of(file, true).orElseThrow();
    }

    /** A touch within the same clock tick: the mtime moves by one nanosecond. */
    static void touch(Path file) throws IOException {
        long mtime = Files.getLastModifiedTime(file).to(TimeUnit.NANOSECONDS);
        Files.setLastModifiedTime(file, FileTime.from(mtime + 1, TimeUnit.NANOSECONDS));
    }

    static boolean root() throws IOException {
        return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    }

    @Test
    void readsTheFile() throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"), "[vassal]\n");
        Fingerprint fingerprint = of(file);
        assertEquals(9, fingerprint.size());
        assertEquals(Files.getAttribute(file, "unix:ino"), fingerprint.inode());
        assertEquals(Files.getLastModifiedTime(file).to(TimeUnit.NANOSECONDS), fingerprint.mtimeNanos());
        assertEquals(0100000, fingerprint.mode() & 0170000);
    }

    @Test
    void unchangedByReading() throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"), "[vassal]\n");
        Fingerprint before = of(file);
        Files.readString(file);
        assertEquals(before, of(file));
    }

    @Test
    void changesOnTouchWithinTheSameSecond() throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"), "[vassal]\n");
        Fingerprint before = of(file);
        touch(file);
        Fingerprint after = of(file);
        assertNotEquals(before, after);
        assertEquals(before.mtimeNanos() + 1, after.mtimeNanos());
    }

    @Test
    void changesOnChmod() throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"), "[vassal]\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Fingerprint before = of(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertNotEquals(before.mode(), of(file).mode());
    }

    @Test
    void changesOnChown() throws IOException {
        assumeTrue(root(), "chown needs root");
        Path file = Files.writeString(dir.resolve("app.ini"), "[vassal]\n");
        Fingerprint before = of(file);
        Files.setAttribute(file, "unix:uid", 4321);
        Files.setAttribute(file, "unix:gid", 4321);
        Fingerprint after = of(file);
        assertEquals(4321, after.uid());
        assertEquals(4321, after.gid());
        assertNotEquals(before, after);
    }

    @Test
    void changesOnRenameOver() throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"), "[vassal]\n");
        Fingerprint before = of(file);
        Path replacement = Files.writeString(dir.resolve(".app.ini.tmp"), "[vassal]\n");
        Files.setLastModifiedTime(replacement, Files.getLastModifiedTime(file));
        Files.move(replacement, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Fingerprint after = of(file);
        assertEquals(before.size(), after.size());
        assertNotEquals(before.inode(), after.inode());
        assertNotEquals(before, after);
    }

    @Test
    void absentWhenMissingOrNotARegularFile() throws IOException {
        assertEquals(Optional.empty(), Fingerprints.of(dir.resolve("gone.ini"), true));
        Path directory = Files.createDirectory(dir.resolve("x.ini"));
        assertEquals(Optional.empty(), Fingerprints.of(directory, true));
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.ini"), dir.resolve("nowhere"));
        assertEquals(Optional.empty(), Fingerprints.of(dangling, true));
        assertEquals(Optional.empty(), Fingerprints.of(dangling, false));
        Path toDirectory = Files.createSymbolicLink(dir.resolve("dirlink.ini"), directory);
        assertEquals(Optional.empty(), Fingerprints.of(toDirectory, true));
        assertEquals(Optional.empty(), Fingerprints.of(toDirectory, false));
    }

    @Test
    void followsSymlinksUnlessTold() throws IOException {
        Path target = Files.writeString(dir.resolve("target"), "[vassal]\n");
        Path link = Files.createSymbolicLink(dir.resolve("app.ini"), target);
        assertEquals(of(target), of(link));
        Fingerprint linkItself = Fingerprints.of(link, false).orElseThrow();
        assertEquals(0120000, linkItself.mode() & 0170000);
        assertEquals(Files.getAttribute(link, "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS),
                linkItself.inode());
    }

    @Test
    void aSymlinkLoopIsAnError() throws IOException {
        Path loop = dir.resolve("loop.ini");
        Files.createSymbolicLink(loop, loop);
        IOException e = assertThrows(IOException.class, () -> Fingerprints.of(loop, true));
        assertTrue(e.getMessage().contains("loop.ini"), e.getMessage());
    }
}
