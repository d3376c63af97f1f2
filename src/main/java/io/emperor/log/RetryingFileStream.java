package io.emperor.log;

import io.emperor.config.IoReasons;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The stream under the emperor's log file (LogSetup's file appenders), in place of logback's
 * {@code ResilientFileOutputStream}, which reports a failed write only to logback's status
 * manager (nobody sees it) and retries with a back-off that grows to five minutes.
 *
 * <p>A write that fails (disk full, I/O error) is reported once on stderr, since the log itself
 * is what fails; the file is then reopened by path and written again at the first write
 * {@link #RETRY_NANOS} or more later, and so on until that works. Lines written meanwhile are
 * lost (and counted); when writing works again that is said on stderr and, first, in the log
 * itself. It never throws and never waits: a failed write is one failed {@code write(2)}.
 * Callers hold the appender's lock.
 */
final class RetryingFileStream extends OutputStream {
    /** How long after a failure the file is tried again. */
    static final long RETRY_NANOS = 2_000_000_000L;

    private final File file;
    private final PrintStream stderr;
    private final LongSupplier nanoTime;
    private final Function<String, byte[]> logLine;
    private FileChannel channel;
    private boolean failing;
    private long retryAt;
    private long lostBytes;
    /** The last failed write stopped inside a line: the next write starts with a newline. */
    private boolean midLine;

    /**
     * Opens {@code file} for appending.
     *
     * @param logLine formats a warning of the emperor's as a line of this log (its layout)
     */
    RetryingFileStream(File file, PrintStream stderr, LongSupplier nanoTime, Function<String, byte[]> logLine)
            throws IOException {
        this.file = file;
        this.stderr = stderr;
        this.nanoTime = nanoTime;
        this.logLine = logLine;
        this.channel = open();
    }

    private FileChannel open() throws IOException {
        return FileChannel.open(file.toPath(), StandardOpenOption.WRITE, StandardOpenOption.APPEND,
                StandardOpenOption.CREATE);
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (channel == null && !failing) {
            return; // closed: the appender is stopping
        }
        if (failing && !recovered()) {
            lostBytes += len;
            return;
        }
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        try {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        } catch (IOException e) {
            fail(e, buf.position() > off && buf.position() < off + len && b[buf.position() - 1] != '\n');
            lostBytes += buf.remaining();
        }
    }

    /** Tries the file again once the retry time has come; true when it can be written. */
    private boolean recovered() {
        if (nanoTime.getAsLong() - retryAt < 0) {
            return false;
        }
        try {
            close();
            channel = open();
            String message = "log file " + file + " is writable again; " + lostBytes
                    + " bytes of log lines were lost";
            ByteBuffer notice = ByteBuffer.wrap(concat(midLine ? new byte[] {'\n'} : new byte[0],
                    logLine.apply(message)));
            while (notice.hasRemaining()) {
                channel.write(notice);
            }
            stderr.println("emperor: " + message);
            failing = false;
            midLine = false;
            lostBytes = 0;
            return true;
        } catch (IOException e) {
            retryAt = nanoTime.getAsLong() + RETRY_NANOS;
            return false;
        }
    }

    private void fail(IOException e, boolean torn) {
        if (!failing) {
            stderr.println("emperor: cannot write log file " + file + ": " + IoReasons.of(e)
                    + "; its lines are lost until a retry succeeds (every " + RETRY_NANOS / 1_000_000_000L + "s)");
            failing = true;
        }
        midLine |= torn;
        retryAt = nanoTime.getAsLong() + RETRY_NANOS;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Override
    public void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // Nothing is buffered here: every write went to the channel.
            }
            channel = null;
        }
    }
}
