package io.emperor.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * One vassal's {@code vassal-logs} file, {@code DIR/NAME.log}: a path the emperor's config chose,
 * so the emperor opens it (DESIGN §5), {@code O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW}, mode 0640
 * (less the umask): a symlink planted at the last component is refused, never followed. Rotated by
 * size: {@code NAME.log} becomes {@code NAME.log.1}, {@code .1} becomes {@code .2} ... up to the
 * number of backups, and a new {@code NAME.log} is created. Not thread-safe: its owner
 * ({@link VassalOutput}) serializes the calls.
 */
final class VassalLogFile {
    private static final Set<java.nio.file.OpenOption> OPEN = Set.of(StandardOpenOption.WRITE,
            StandardOpenOption.APPEND, StandardOpenOption.CREATE, LinkOption.NOFOLLOW_LINKS);
    private static final java.nio.file.attribute.FileAttribute<?> MODE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----"));

    private final Path path;
    private FileChannel channel;
    private long size;

    VassalLogFile(Path path) {
        this.path = path;
    }

    Path path() {
        return path;
    }

    boolean isOpen() {
        return channel != null;
    }

    void open() throws IOException {
        if (channel == null) {
            channel = FileChannel.open(path, OPEN, MODE);
            size = channel.size();
        }
    }

    /**
     * Appends {@code data[0, len)} (whole lines), rotating before a line that would take a
     * non-empty file past {@code maxSize} (0: never rotate); a line longer than maxSize gets a
     * file of its own.
     */
    void write(byte[] data, int len, long maxSize, int backups) throws IOException {
        open();
        if (maxSize <= 0 || size + len <= maxSize) {
            writeFully(data, 0, len);
            return;
        }
        int start = 0;
        int end = 0; // data[start, end) fits into the current file
        while (end < len) {
            int next = end;
            while (next < len && data[next] != '\n') {
                next++;
            }
            next = Math.min(next + 1, len); // through the newline
            if (size + (next - start) > maxSize && size + (end - start) > 0) {
                writeFully(data, start, end - start);
                start = end;
                rotate(backups);
            }
            end = next;
        }
        writeFully(data, start, end - start);
    }

    private void writeFully(byte[] data, int off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data, off, len);
        while (b.hasRemaining()) {
            size += channel.write(b);
        }
    }

    private void rotate(int backups) throws IOException {
        close();
        if (backups == 0) {
            Files.deleteIfExists(path);
        } else {
            Files.deleteIfExists(backup(backups));
            for (int i = backups - 1; i >= 1; i--) {
                if (Files.exists(backup(i), LinkOption.NOFOLLOW_LINKS)) {
                    Files.move(backup(i), backup(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(path, backup(1), StandardCopyOption.REPLACE_EXISTING);
        }
        open();
    }

    private Path backup(int i) {
        return path.resolveSibling(path.getFileName() + "." + i);
    }

    void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // Nothing was buffered here (every write went straight to the channel): no line is lost.
            }
            channel = null;
        }
    }
}
