package io.emperor.log;

import io.emperor.config.IoReasons;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The stream under the emperor's log file (LogSetup's file appenders), in place of logback's
 * {@code ResilientFileOutputStream}, which reports a failed write only to logback's status
 * manager (nobody sees it) and retries with a back-off that grows to five minutes.
 *
 * <p>A write that fails (disk full, quota, I/O error) is reported once on stderr, since the log
 * itself is what fails. From then on (docs/logging.md "A full disk") the emperor's own lines are
 * kept in a {@link LogBacklog} (bounded: the newest {@link LogBacklog#MAX_LINES} lines and
 * {@link LogBacklog#MAX_BYTES} bytes) and copied to stderr as they come; vassal output is dropped
 * and counted. The file is reopened by path and tried again at the first write
 * {@link #RETRY_NANOS} or more after the failure, and, only while lines are kept, by a thread
 * ({@code emperor-log-retry}) that exists for that. When that works, the first lines written are
 * a notice of what was dropped, then the kept lines in order, then the new ones.
 *
 * <p>It also rotates, when given a size ({@link #rotateBefore}): a write (one event, or one read
 * of a vassal's pipe) that would take the file past the size is cut at its last newline that
 * fits, that part is written, the file rotated, and the rest written to the new file; so the
 * kept lines go through the same rotation as any other. Only the bytes that reached the file
 * count, so nothing is rotated while nothing can be written.
 *
 * <p>It never throws and never waits: a failed write is one failed {@code write(2)}. Callers
 * hold the appender's lock ({@link Env#lock}), which the retry thread takes too.
 */
final class RetryingFileStream extends OutputStream {
    /** How long after a failure the file is tried again. */
    static final long RETRY_NANOS = 2_000_000_000L;
    /** How long after a rotation that could not move the file away it is tried again. */
    static final long ROTATION_RETRY_NANOS = 60_000_000_000L;

    /** Opens the log file for appending. */
    interface Opener {
        WritableByteChannel open(File file) throws IOException;

        /** The file's length (0 when there is none). */
        default long length(File file) {
            return file.length();
        }
    }

    /** What a rotating appender does to rotate ({@link EmperorLogRotation}). */
    interface Rotator {
        /** Renames the file away (gzipped); the stream then opens the path again. */
        Rotated rollover();
    }

    /**
     * What a rotation did.
     *
     * @param moved   the file was moved away (else it stays, and grows past the size)
     * @param warning a line to log, or null
     */
    record Rotated(boolean moved, String warning) {}

    /**
     * The stream's surroundings.
     *
     * @param stderr       where failures, recoveries and the emperor's lines kept meanwhile are said
     * @param nanoTime     monotonic clock
     * @param logLine      formats a warning of the emperor's as a line of this log (its layout)
     * @param opener       opens the file
     * @param startRetrier starts a thread running the given loop (only while lines are kept)
     * @param lock         the appender's lock, held by every caller and taken by the retry thread
     */
    record Env(PrintStream stderr, LongSupplier nanoTime, Function<String, byte[]> logLine, Opener opener,
            Consumer<Runnable> startRetrier, ReentrantLock lock) {
        static Env of(Function<String, byte[]> logLine, ReentrantLock lock) {
            return new Env(System.err, System::nanoTime, logLine, RetryingFileStream::append, r -> {
                Thread t = new Thread(r, "emperor-log-retry");
                t.setDaemon(true);
                t.start();
            }, lock);
        }
    }

    private final Env env;
    private final LogBacklog backlog;
    private File file;
    private WritableByteChannel channel;
    /** Bytes in the current file: its length when opened, plus what reached it since. */
    private long size;
    private boolean closed;
    private boolean failing;
    private String reason;
    private long failedAt;
    private long retryAt;
    /** A failed write stopped inside a line: the next write starts with a newline. */
    private boolean midLine;
    private boolean retrierRunning;
    private long maxSize = Long.MAX_VALUE;
    private Rotator rotator;
    /** A rotation that could not move the file is not tried again before this. */
    private long noRotationUntil;
    private boolean rotationFailed;

    /** Opens {@code file} for appending; fails (nothing opened) when it cannot be. */
    RetryingFileStream(File file, Env env) throws IOException {
        this(file, env, new LogBacklog());
    }

    RetryingFileStream(File file, Env env, LogBacklog backlog) throws IOException {
        this.file = file;
        this.env = env;
        this.backlog = backlog;
        this.channel = env.opener().open(file);
        this.size = env.opener().length(file);
    }

    private static WritableByteChannel append(File file) throws IOException {
        return FileChannel.open(file.toPath(), StandardOpenOption.WRITE, StandardOpenOption.APPEND,
                StandardOpenOption.CREATE);
    }

    /** Rotates before a write that would take a non-empty file past {@code maxSize} bytes. */
    void rotateBefore(long maxSize, Rotator rotator) {
        this.maxSize = maxSize;
        this.rotator = rotator;
    }

    /** Opens {@code next} (SIGHUP) in place of the current file; on failure nothing changes. */
    void reopen(File next) throws IOException {
        WritableByteChannel c = env.opener().open(next);
        closeChannel();
        file = next;
        channel = c;
        size = env.opener().length(next);
        retryAt = now(); // if failing: the next write tries this file
    }

    /**
     * Takes over what {@code old} (the stream of the appender this one's replaces, SIGHUP) kept
     * and counted, and its failure: this stream then tries its file at the next write and writes
     * that first. The caller holds both appenders' locks.
     */
    void takeOver(RetryingFileStream old) {
        if (old == this || (!old.failing && old.backlog.isEmpty())) {
            return;
        }
        backlog.takeOver(old.backlog);
        if (!failing) {
            failing = true;
            reason = old.reason;
            failedAt = old.failedAt;
        }
        midLine |= old.midLine && old.file.equals(file);
        retryAt = now();
        old.failing = false;
        if (!backlog.isEmpty() && !retrierRunning) {
            retrierRunning = true;
            env.startRetrier().accept(this::retryLoop);
        }
    }

    /** Bytes in the current file, as counted. */
    long size() {
        return size;
    }

    LogBacklog backlog() {
        return backlog;
    }

    boolean failing() {
        return failing;
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    /** A line of the emperor's (logback's own path through the stream). */
    @Override
    public void write(byte[] b, int off, int len) {
        write(b, off, len, true);
    }

    /**
     * Writes whole lines: the emperor's ({@code emperor}: kept while the file cannot be written)
     * or a vassal's (dropped and counted meanwhile).
     */
    void write(byte[] b, int off, int len, boolean emperor) {
        if (closed || len == 0) {
            return;
        }
        catchUp();
        if (failing) {
            if (emperor) {
                keep(b, off, len);
            } else {
                backlog.dropVassal(b, off, len);
            }
            return;
        }
        writeLines(b, off, len, emperor ? Kind.EMPEROR : Kind.VASSAL);
    }

    /** What was written where; decides what becomes of the part a failure did not write. */
    private enum Kind {
        EMPEROR, VASSAL, BACKLOG
    }

    /** Tries the file again if its time has come, then writes what is kept; true when writable. */
    private boolean catchUp() {
        if (failing && now() - retryAt >= 0) {
            recover();
        }
        while (!failing && !backlog.isEmpty()) {
            byte[] e = backlog.poll();
            writeLines(e, 0, e.length, Kind.BACKLOG);
        }
        return !failing;
    }

    /**
     * One turn of the retry thread (or a last try at close): true while lines are kept, i.e.
     * while there is a reason to come back.
     */
    boolean retry() {
        if (!closed) {
            catchUp();
        }
        return !closed && !backlog.isEmpty();
    }

    /**
     * Reopens the file by path and writes the notice of what was dropped (after a newline if one
     * is owed); only when all of it is in the file is the file working again (said on stderr,
     * the counts start again). Otherwise it stays failing, without another report.
     */
    private void recover() {
        WritableByteChannel c;
        try {
            c = env.opener().open(file);
        } catch (IOException e) {
            retryAt = now() + RETRY_NANOS;
            return;
        }
        closeChannel();
        channel = c;
        size = env.opener().length(file);
        String message = "log file " + file + " is writable again after " + (now() - failedAt) / 1_000_000_000L
                + "s (" + reason + "); dropped meanwhile: " + backlog.vassalLines() + " lines ("
                + backlog.vassalBytes() + " bytes) of vassal output, " + backlog.droppedLines() + " lines ("
                + backlog.droppedBytes() + " bytes) of the emperor's; " + backlog.lines()
                + " lines of the emperor's follow";
        byte[] line = env.logLine().apply(message);
        byte[] notice = midLine ? concat(new byte[] {'\n'}, line) : line;
        if (size > 0 && size + notice.length > maxSize) {
            rotate();
            if (channel == null) { // rotated, the new file not opened
                retryAt = now() + RETRY_NANOS;
                return;
            }
        }
        ByteBuffer buf = ByteBuffer.wrap(notice);
        try {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        } catch (IOException e) {
            size += buf.position();
            midLine |= buf.position() > 0 && notice[buf.position() - 1] != '\n';
            retryAt = now() + RETRY_NANOS;
            return;
        }
        size += notice.length;
        failing = false;
        midLine = false;
        backlog.resetCounts();
        env.stderr().println("emperor: " + message);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Writes {@code b[off, off + len)}, rotating between lines when the size says so. */
    private void writeLines(byte[] b, int off, int len, Kind kind) {
        int start = off;
        int end = off + len;
        boolean stuck = false; // no (second) rotation for this write: the rest goes into this file
        while (off < end) {
            int n = end - off;
            if (size + n > maxSize && !stuck && !(rotationFailed && now() - noRotationUntil < 0)) {
                int fit = EmperorAppenders.lastLineEnd(b, off, (int) Math.min(n, Math.max(0, maxSize - size)));
                if (fit > 0) {
                    n = fit; // the lines that fit
                } else if (size > 0) {
                    long length = env.opener().length(file); // truncated by another (copytruncate)?
                    if (length < size) {
                        size = length;
                        continue;
                    }
                    stuck = !rotate() || size > 0;
                    if (failing) {
                        failed(b, start, off, end, kind);
                        return;
                    }
                    continue;
                } else {
                    // An empty file and a line longer than the size: that line alone.
                    n = EmperorAppenders.firstLineEnd(b, off, n);
                }
            }
            int written = raw(b, off, n);
            size += written;
            off += written;
            if (written < n) {
                failed(b, start, off, end, kind);
                return;
            }
        }
    }

    /** Writes {@code b[off, off + n)}; the bytes that reached the file (fewer on a failure, then failing). */
    private int raw(byte[] b, int off, int n) {
        if (channel == null) { // a rotation could not open the new file
            fail("cannot open it after rotating");
            return 0;
        }
        ByteBuffer buf = ByteBuffer.wrap(b, off, n);
        try {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        } catch (IOException e) {
            fail(IoReasons.of(e));
        }
        return buf.position() - off;
    }

    /** {@code b[from, end)} of a write that began at {@code start} did not reach the file. */
    private void failed(byte[] b, int start, int from, int end, Kind kind) {
        int lineStart = from;
        while (lineStart > start && b[lineStart - 1] != '\n') {
            lineStart--;
        }
        midLine |= lineStart < from; // that line's beginning is in the file
        switch (kind) {
            case VASSAL -> backlog.dropVassal(b, from, end - from);
            case EMPEROR -> keep(b, lineStart, end - lineStart); // the torn line again, whole
            case BACKLOG -> backlog.putBack(Arrays.copyOfRange(b, lineStart, end));
        }
    }

    /** Keeps one write of the emperor's for later, says it on stderr now, and makes sure it is retried. */
    private void keep(byte[] b, int off, int len) {
        backlog.keep(b, off, len);
        env.stderr().write(b, off, len);
        env.stderr().flush();
        if (!retrierRunning) {
            retrierRunning = true;
            env.startRetrier().accept(this::retryLoop);
        }
    }

    /** The retry thread: wakes when a retry is due, ends when nothing is kept any more. */
    private void retryLoop() {
        while (true) {
            long wait;
            env.lock().lock();
            try {
                wait = failing ? retryAt - now() : 0;
            } finally {
                env.lock().unlock();
            }
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            env.lock().lock();
            try {
                if (!retry()) {
                    retrierRunning = false;
                    return;
                }
            } finally {
                env.lock().unlock();
            }
        }
    }

    private void fail(String why) {
        long now = now();
        if (!failing) {
            failing = true;
            reason = why;
            failedAt = now;
            env.stderr().println("emperor: cannot write log file " + file + ": " + why
                    + "; until a retry succeeds (every " + RETRY_NANOS / 1_000_000_000L + "s) the emperor's lines are"
                    + " kept (the last " + LogBacklog.MAX_LINES + ") and copied here, vassal output is dropped and counted");
        }
        retryAt = now + RETRY_NANOS;
    }

    /**
     * Rotates the file and opens the path again; true when it did. A failure to open the new file
     * makes the stream fail; a warning of the rotation's (a gzip that failed) is written first
     * into the new file.
     */
    private boolean rotate() {
        Rotated r = rotator.rollover();
        String warning = r.warning();
        if (!r.moved()) { // not again for a while
            rotationFailed = true;
            noRotationUntil = now() + ROTATION_RETRY_NANOS;
        }
        try {
            WritableByteChannel c = env.opener().open(file);
            closeChannel();
            channel = c;
            size = env.opener().length(file);
        } catch (IOException e) {
            closeChannel(); // the old file is gone from the path: nothing more goes into it
            fail(IoReasons.of(e));
            return false;
        }
        if (warning != null) {
            byte[] line = env.logLine().apply(warning);
            writeLines(line, 0, line.length, Kind.EMPEROR);
        }
        return !failing;
    }

    private long now() {
        return env.nanoTime().getAsLong();
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // Nothing is buffered here: every write went to the channel.
            }
            channel = null;
        }
    }

    /** Closes the file, after a last try to write what is kept (the emperor stopping, a new appender). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (!backlog.isEmpty()) {
            retryAt = now();
            catchUp();
        }
        closed = true;
        closeChannel();
    }
}
