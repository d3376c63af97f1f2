package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import jnr.posix.POSIXFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class OpenedFileTest {
    @TempDir Path dir;

    @Test
    void aRegularFileIsStatedFromItsDescriptorAndReadBounded() throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"), "[vassal]\nexec = x\n");
        Files.createLink(dir.resolve("second.ini"), file);
        try (OpenedFile f = OpenedFile.open(file, true)) {
            OpenedFile.Status s = f.status();
            assertNull(s.notAFile());
            assertEquals(18, s.size());
            assertEquals(2, s.nlink());
            assertEquals(Files.getAttribute(file, "unix:ino"), s.inode());
            assertEquals(Files.getLastModifiedTime(file).to(TimeUnit.NANOSECONDS), s.mtimeNanos());
            assertEquals(Files.getAttribute(file, "unix:uid"), s.uid());
            assertArrayEquals("[vassal]\nexec = x\n".getBytes(StandardCharsets.UTF_8), f.read(100));
        }
        try (OpenedFile f = OpenedFile.open(file, true)) {
            assertEquals(5, f.read(4).length, "max + 1 bytes at most");
        }
    }

    /** O_PATH: a FIFO without a writer does not block the open, and is never read. */
    @Test
    @Timeout(30)
    void aFifoDeviceOrProcFileIsNotAFile() throws IOException {
        Path fifo = dir.resolve("fifo.ini");
        assertEquals(0, POSIXFactory.getNativePOSIX().mkfifo(fifo.toString(), 0644));
        try (OpenedFile f = OpenedFile.open(fifo, true)) {
            assertEquals("a FIFO, not a regular file", f.status().notAFile());
            assertThrows(IllegalStateException.class, () -> f.read(10));
        }
        try (OpenedFile f = OpenedFile.open(Path.of("/dev/zero"), false)) {
            assertEquals("a character device, not a regular file", f.status().notAFile());
        }
        try (OpenedFile f = OpenedFile.open(Path.of("/proc/self/status"), false)) {
            assertEquals("on a proc file system (a kernel interface), not a regular file on disk", f.status().notAFile());
        }
    }

    /** O_NOFOLLOW with O_PATH opens a symlink as itself: refused as a symlink, its target untouched. */
    @Test
    void noFollowOpensASymlinkAsItself() throws IOException {
        Path target = Files.writeString(dir.resolve("target"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("app.ini"), target);
        try (OpenedFile f = OpenedFile.open(link, true)) {
            assertEquals("a symlink, not a regular file", f.status().notAFile());
            assertEquals(Files.getAttribute(link, "unix:ino", LinkOption.NOFOLLOW_LINKS), f.status().inode());
        }
        try (OpenedFile f = OpenedFile.open(link, false)) {
            assertNull(f.status().notAFile());
        }
    }

    @Test
    void aMissingFileIsAnIoErrorWithTheSystemsReason() {
        IOException e = assertThrows(IOException.class, () -> OpenedFile.open(dir.resolve("gone.ini"), true));
        assertEquals("No such file or directory", e.getMessage());
    }

    @Test
    void descriptorsAreClosed() throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"), "x");
        long before = fds();
        for (int i = 0; i < 100; i++) {
            try (OpenedFile f = OpenedFile.open(file, true)) {
                f.read(10);
            }
        }
        assertTrue(fds() <= before + 2, "fds before " + before + ", after " + fds());
    }

    private static long fds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
