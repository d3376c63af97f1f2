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
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
        assertEquals(0, io.emperor.testing.Fifo.make(fifo));
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

    /**
     * Every field of the status is what the JDK's own stat says of the same file (the fingerprint
     * taken from a directory listing is compared with it): a regular file with a known mtime, a
     * directory, a symlink itself, a character device (whose st_dev and st_rdev differ), /proc.
     */
    @Test
    void everyFieldIsTheJdksStat() throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"), "[vassal]\nexec = x\n");
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(
                java.time.Instant.parse("2024-02-29T12:34:56.123456789Z")));
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        Path link = Files.createSymbolicLink(dir.resolve("link.ini"), file);
        for (Path p : List.of(file, dir, link, Path.of("/dev/null"), Path.of("/proc"), Path.of("/"))) {
            try (OpenedFile f = OpenedFile.open(p, true)) {
                Map<String, Object> jdk = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
                OpenedFile.Status s = f.status();
                String what = p + ": " + s + " vs " + jdk;
                assertEquals(jdk.get("dev"), s.device(), what);
                assertEquals(jdk.get("ino"), s.inode(), what);
                assertEquals(jdk.get("mode"), s.mode(), what);
                assertEquals(((Integer) jdk.get("nlink")).longValue(), s.nlink(), what);
                assertEquals(jdk.get("uid"), s.uid(), what);
                assertEquals(jdk.get("gid"), s.gid(), what);
                assertEquals(jdk.get("size"), s.size(), what);
                assertEquals(((FileTime) jdk.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS), s.mtimeNanos(), what);
                assertEquals(((FileTime) jdk.get("ctime")).to(TimeUnit.NANOSECONDS), s.ctimeNanos(), what);
            }
        }
        try (OpenedFile f = OpenedFile.open(file, true)) {
            assertEquals(1709210096_123456789L, f.status().mtimeNanos(), "nanoseconds kept");
            assertEquals(0100640, f.status().mode());
        }
    }

    /** The fstat(2) fallback (no statx: an old kernel or seccomp filter) says what statx says. */
    @Test
    void theFstatFallbackAgreesWithStatx() throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"), "x".repeat(1234));
        Files.createLink(dir.resolve("second.ini"), file);
        for (Path p : List.of(file, Path.of("/dev/null"), dir)) {
            int fd = Native.libc().open(p.toString(), Native.O_CLOEXEC, 0);
            assertTrue(fd >= 0, p + ": " + Native.strerror(Native.errno()));
            try {
                jnr.ffi.Pointer buf = jnr.ffi.Memory.allocateDirect(Native.runtime(), 256);
                OpenedFile.Status fallback = OpenedFile.fstatSyscall(fd, buf);
                org.junit.jupiter.api.Assumptions.assumeTrue(fallback != null, "no fstat layout for this architecture");
                try (OpenedFile f = OpenedFile.open(p, true)) {
                    assertEquals(f.status().withFileSystem(0), fallback, p.toString());
                }
            } finally {
                Native.libc().close(fd);
            }
        }
    }

    @Test
    void makedevIsGlibcs() {
        assertEquals(0x0801, OpenedFile.makedev(8, 1));
        assertEquals(0x103, OpenedFile.makedev(1, 3));
        // Minors over 255 and majors over 4095 go to glibc's high bits.
        assertEquals(0x12345000L << 32 | 0x678L << 8 | 0xabcde00L << 12 | 0xf0L, OpenedFile.makedev(0x12345678L, 0xabcdef0L));
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
