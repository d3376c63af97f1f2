package io.emperor.log;

import io.emperor.config.IoReasons;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;

/**
 * One vassal's {@code vassal-logs} file, {@code DIR/NAME.log}: a path the emperor's config chose,
 * so the emperor opens it (DESIGN §5), {@code O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW}, mode 0640
 * (less the umask): a symlink planted at the last component is refused, never followed. Not
 * thread-safe: its owner ({@link VassalOutput}) serializes the calls.
 *
 * <p>Rotated by size: {@code NAME.log} becomes {@code NAME.log.1.gz}, {@code .1.gz} becomes
 * {@code .2.gz} ... up to the number of backups, and a new {@code NAME.log} is created. Only the
 * rename of the full file is done by the writer (the I/O thread, which must not stall every
 * vassal's output for a gzip): it becomes {@code NAME.log.rotated-N}, and the shift of the backups
 * and the gzip are queued to {@link #COMPRESSOR}, one thread for all vassals, which does each
 * file's jobs in the order of its rotations.
 */
final class VassalLogFile {
    /**
     * Compresses rotated files, for every vassal, one at a time in submission order. Its one thread
     * exists only while there is work (it ends after 10 s idle): the thread count does not grow
     * with the number of vassals.
     */
    private static final ThreadPoolExecutor COMPRESSOR = compressor();
    private static final AtomicLong ROTATIONS = new AtomicLong();
    /** How many rotations of each file wait for {@link #COMPRESSOR} (entries go at zero). */
    private static final Map<Path, Integer> QUEUED = new ConcurrentHashMap<>();

    private static final Set<java.nio.file.OpenOption> OPEN = Set.of(StandardOpenOption.WRITE,
            StandardOpenOption.APPEND, StandardOpenOption.CREATE, LinkOption.NOFOLLOW_LINKS);
    private static final java.nio.file.attribute.FileAttribute<?> MODE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----"));
    private static final int GZIP_BUFFER = 64 * 1024;

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
            Path rotated = moveAside();
            QUEUED.merge(path, 1, Integer::sum);
            COMPRESSOR.execute(() -> shiftAndCompress(rotated, backups));
        }
        open();
    }

    /** Renames the full file to a name no other rotation uses, even one left by an earlier emperor. */
    private Path moveAside() throws IOException {
        while (true) {
            Path rotated = path.resolveSibling(path.getFileName() + ".rotated-" + ROTATIONS.incrementAndGet());
            try {
                return Files.move(path, rotated);
            } catch (FileAlreadyExistsException e) {
                // left by an emperor that stopped before compressing it: take the next number
            }
        }
    }

    /**
     * On {@link #COMPRESSOR}: {@code .k.gz} becomes {@code .k+1.gz}, then {@code rotated} becomes
     * {@code .1.gz}. When a flood rotates the file faster than gzip keeps up, a rotated file with
     * {@code backups} or more rotations queued after it would only be shifted out of the window by
     * them: it is deleted at once, so the work (and the disk used meanwhile) stays that of the
     * backups kept.
     */
    private void shiftAndCompress(Path rotated, int backups) {
        Path partial = path.resolveSibling(backup(1).getFileName() + ".partial");
        int later = QUEUED.merge(path, -1, Integer::sum);
        QUEUED.remove(path, 0);
        try {
            if (later >= backups) {
                Files.delete(rotated);
                return;
            }
            Files.deleteIfExists(backup(backups));
            for (int i = backups - 1; i >= 1; i--) {
                if (Files.exists(backup(i), LinkOption.NOFOLLOW_LINKS)) {
                    Files.move(backup(i), backup(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try (InputStream in = Files.newInputStream(rotated);
                    OutputStream out = new GZIPOutputStream(Channels.newOutputStream(Files.newByteChannel(partial,
                            Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                                    StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS), MODE)),
                            GZIP_BUFFER)) {
                in.transferTo(out);
            }
            Files.move(partial, backup(1), StandardCopyOption.REPLACE_EXISTING);
            Files.delete(rotated);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // the warning below is what matters
            }
            String reason = e instanceof IOException io ? IoReasons.of(io) : e.toString();
            EmperorLog.warn("cannot compress rotated log file " + rotated + ": " + reason + "; it is kept as it is");
        }
    }

    private Path backup(int i) {
        return path.resolveSibling(path.getFileName() + "." + i + ".gz");
    }

    private static ThreadPoolExecutor compressor() {
        ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "emperor-gzip");
            t.setDaemon(true);
            return t;
        });
        e.allowCoreThreadTimeOut(true);
        return e;
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
