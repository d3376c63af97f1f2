package io.emperor.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The emperor's log rotation: the window of gzipped backups, and a gzip that fails loses nothing. */
class EmperorLogRotationTest {
    @TempDir
    Path dir;

    @Test
    void theFileBecomesTheFirstBackupAndTheOthersShift() throws Exception {
        Path log = dir.resolve("emperor.log");
        for (int i = 1; i <= 3; i++) {
            Files.writeString(log, "file " + i + "\n");
            assertNull(EmperorLogRotation.rotate(log, 2).warning());
        }
        assertFalse(Files.exists(log), "the stream opens the path again");
        assertEquals("file 3\n", gunzip(dir.resolve("emperor.log.1.gz")));
        assertEquals("file 2\n", gunzip(dir.resolve("emperor.log.2.gz")));
        assertFalse(Files.exists(dir.resolve("emperor.log.3.gz")), "two backups");
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no partial or moved file left");
        }
    }

    /** A gzip that fails (here: its partial file cannot be created) keeps the file as it is. */
    @Test
    void aGzipThatFailsKeepsTheFileUncompressed() throws Exception {
        Path log = dir.resolve("emperor.log");
        Files.writeString(log, "every line\n");
        Files.createDirectory(dir.resolve("emperor.log.1.gz.partial"));
        String warning = EmperorLogRotation.rotate(log, 5).warning();
        Path kept = dir.resolve("emperor.log.rotated-1");
        assertTrue(warning.startsWith("cannot compress rotated log file " + kept + ": "), warning);
        assertTrue(warning.endsWith("; it is kept as it is"), warning);
        assertEquals("every line\n", Files.readString(kept));
        assertFalse(Files.exists(dir.resolve("emperor.log.1.gz.partial")), "the partial file removed");
        Files.writeString(log, "next\n");
        assertNull(EmperorLogRotation.rotate(log, 5).warning());
        assertEquals("every line\n", Files.readString(kept), "left alone by the next rotation");
        assertEquals("next\n", gunzip(dir.resolve("emperor.log.1.gz")));
    }

    private static String gunzip(Path p) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
