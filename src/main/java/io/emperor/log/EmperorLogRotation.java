package io.emperor.log;

import io.emperor.config.IoReasons;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPOutputStream;

/**
 * The rotation of the emperor's log file ({@code log-maxsize}), in place of logback's
 * {@code FixedWindowRollingPolicy}, whose gzip deletes the file even when compressing it failed
 * (a disk full at that moment lost the whole current log). Here the file is first moved aside
 * ({@code FILE.rotated-N}), the backups shifted ({@code FILE.k.gz} → {@code FILE.k+1.gz}, the
 * last one deleted), and the moved file gzipped into {@code FILE.1.gz} through a
 * {@code .partial} file; only when that worked is the moved file deleted. When it fails the
 * partial file is deleted and the moved file kept as it is, uncompressed.
 *
 * <p>Run by the thread whose write crossed the size, under the appender's lock (as logback's was).
 */
final class EmperorLogRotation {
    private EmperorLogRotation() {}

    /** Rotates {@code file}, keeping {@code backups} gzipped files. */
    static RetryingFileStream.Rotated rotate(Path file, int backups) {
        Path rotated;
        try {
            rotated = moveAside(file);
        } catch (IOException e) {
            return new RetryingFileStream.Rotated(false, "cannot rotate log file " + file + ": " + IoReasons.of(e)
                    + "; it grows past log-maxsize");
        }
        Path partial = backup(file, 1).resolveSibling(backup(file, 1).getFileName() + ".partial");
        try {
            Files.deleteIfExists(backup(file, backups));
            for (int i = backups - 1; i >= 1; i--) {
                if (Files.exists(backup(file, i), LinkOption.NOFOLLOW_LINKS)) {
                    Files.move(backup(file, i), backup(file, i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try (InputStream in = Files.newInputStream(rotated);
                    OutputStream out = new GZIPOutputStream(Files.newOutputStream(partial, StandardOpenOption.CREATE,
                            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                            64 * 1024)) {
                in.transferTo(out);
            }
            Files.move(partial, backup(file, 1), StandardCopyOption.REPLACE_EXISTING);
            Files.delete(rotated);
            return new RetryingFileStream.Rotated(true, null);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // the warning is what matters
            }
            String reason = e instanceof IOException io ? IoReasons.of(io) : e.toString();
            return new RetryingFileStream.Rotated(true, "cannot compress rotated log file " + rotated + ": " + reason
                    + "; it is kept as it is");
        }
    }

    /** Renames the full file to a name no other rotation uses (one may be left by an earlier failure). */
    private static Path moveAside(Path file) throws IOException {
        for (int n = 1;; n++) {
            Path rotated = file.resolveSibling(file.getFileName() + ".rotated-" + n);
            if (Files.exists(rotated, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try {
                return Files.move(file, rotated);
            } catch (FileAlreadyExistsException e) {
                // taken meanwhile: the next number
            }
        }
    }

    static Path backup(Path file, int i) {
        return file.resolveSibling(file.getFileName() + "." + i + ".gz");
    }
}
