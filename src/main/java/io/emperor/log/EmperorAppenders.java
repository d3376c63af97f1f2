package io.emperor.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The appenders {@link LogSetup} installs: logback's console, file and rolling file appenders
 * with two additions. They take bytes that are already formatted and encoded
 * ({@link PreEncoded}, for vassal output: one read of a pipe, formatted by {@link VassalOutput}
 * exactly as {@link EmperorLayout} would, is one write under the appender's lock, without a
 * logging event, a {@code String} per line or an encoder; docs/performance.md). And the file ones
 * write through a {@link RetryingFileStream}, so a failing emperor.log is reported and retried.
 */
final class EmperorAppenders {
    private EmperorAppenders() {}

    /** An appender that also writes pre-encoded bytes. */
    interface PreEncoded {
        /**
         * Writes {@code b[off, off + len)} (whole lines in the appender's format) as one write,
         * under the appender's lock; false when the appender has been stopped (nothing written).
         */
        boolean writePreEncoded(byte[] b, int off, int len);
    }

    /** stderr. */
    static final class Console extends ConsoleAppender<ILoggingEvent> implements PreEncoded {
        @Override
        public boolean writePreEncoded(byte[] b, int off, int len) {
            return write(this, streamWriteLock, b, off, len, false);
        }
    }

    /** A file, never rotated by the emperor. */
    static final class PlainFile extends FileAppender<ILoggingEvent> implements PreEncoded {
        @Override
        protected void subAppend(ILoggingEvent event) {
            appendEvent(this, streamWriteLock, event);
        }

        @Override
        public boolean writePreEncoded(byte[] b, int off, int len) {
            return write(this, streamWriteLock, b, off, len, false);
        }

        @Override
        public void openFile(String name) throws IOException {
            openRetrying(this, streamWriteLock, name);
        }

        ReentrantLock lock() {
            return streamWriteLock;
        }
    }

    /**
     * A file rotated by size, before the write that would take it past the size: a write (one
     * event, or one read of a vassal's pipe as pre-encoded lines) that does not fit is cut at its
     * last newline that fits, that part is written, the file rotated, and the rest written to the
     * new file (cut again if needed), so no file is more than one line over the size (a line
     * alone longer than it goes whole into a file of its own) and no line is split. The size is
     * counted by the {@link RetryingFileStream}, per write that reached the file, not looked up by
     * logback's size-based policy (which looks at the file at most every so often: a burst passes
     * it by megabytes). The stream rotates under the appender's lock ({@link EmperorLogRotation},
     * not logback's window policy, whose gzip deletes the file when compressing fails), then opens
     * the path again itself; logback's policies are set only because it requires them.
     */
    static final class Rolling extends RollingFileAppender<ILoggingEvent> implements PreEncoded {
        /** Rotate before a write that would take the file past this many bytes. */
        private long maxSize = Long.MAX_VALUE;

        /** How many gzipped files are kept. */
        private int backups = 5;

        void setMaxSize(long maxSize) {
            this.maxSize = maxSize;
        }

        void setBackups(int backups) {
            this.backups = backups;
        }

        ReentrantLock lock() {
            return streamWriteLock;
        }

        @Override
        protected void subAppend(ILoggingEvent event) {
            appendEvent(this, streamWriteLock, event);
        }

        @Override
        public boolean writePreEncoded(byte[] b, int off, int len) {
            return write(this, streamWriteLock, b, off, len, false);
        }

        @Override
        public void openFile(String name) throws IOException {
            streamWriteLock.lock();
            try {
                RetryingFileStream s = openRetrying(this, streamWriteLock, name);
                s.rotateBefore(maxSize, () -> EmperorLogRotation.rotate(Path.of(name), backups));
            } finally {
                streamWriteLock.unlock();
            }
        }
    }

    /** The length of the longest prefix of {@code b[off, off + max)} that ends with a newline; 0 when none. */
    static int lastLineEnd(byte[] b, int off, int max) {
        for (int i = off + max - 1; i >= off; i--) {
            if (b[i] == '\n') {
                return i - off + 1;
            }
        }
        return 0;
    }

    /** The length of the first line of {@code b[off, off + len)} with its newline; {@code len} when it has none. */
    static int firstLineEnd(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                return i - off + 1;
            }
        }
        return len;
    }

    /**
     * A new appender replaces {@code old} (SIGHUP: a new format or rotation): what old's stream
     * keeps for a failing file, and its counts, go to the new one's, so that they are written
     * there, in front, once the file works, rather than lost when old stops.
     */
    static void handOver(Appender<ILoggingEvent> old, Appender<ILoggingEvent> next) {
        if (old instanceof OutputStreamAppender<ILoggingEvent> o && next instanceof OutputStreamAppender<ILoggingEvent> n
                && (o instanceof PlainFile || o instanceof Rolling) && (n instanceof PlainFile || n instanceof Rolling)) {
            ReentrantLock oldLock = lock(o);
            ReentrantLock nextLock = lock(n);
            oldLock.lock();
            nextLock.lock();
            try {
                if (o.getOutputStream() instanceof RetryingFileStream os
                        && n.getOutputStream() instanceof RetryingFileStream ns) {
                    ns.takeOver(os);
                }
            } finally {
                nextLock.unlock();
                oldLock.unlock();
            }
        }
    }

    private static ReentrantLock lock(OutputStreamAppender<ILoggingEvent> a) {
        return a instanceof PlainFile p ? p.lock() : ((Rolling) a).lock();
    }

    /** An event: a line of the emperor's, or of a vassal's when it comes by its logger (logback's path). */
    private static void appendEvent(OutputStreamAppender<ILoggingEvent> appender, ReentrantLock lock, ILoggingEvent e) {
        if (!appender.isStarted()) {
            return;
        }
        byte[] b = appender.getEncoder().encode(e); // as OutputStreamAppender.subAppend does, then our write
        String logger = e.getLoggerName();
        boolean vassal = EmperorLog.VASSAL_LOGGER.equals(logger) || EmperorLog.RAW_VASSAL_LOGGER.equals(logger);
        write(appender, lock, b, 0, b.length, !vassal);
    }

    /**
     * Writes whole lines under the appender's lock: the emperor's ({@code emperor}) or vassal
     * output, which a failing {@link RetryingFileStream} keeps or drops.
     */
    private static boolean write(OutputStreamAppender<ILoggingEvent> appender, ReentrantLock lock, byte[] b, int off,
            int len, boolean emperor) {
        lock.lock();
        try {
            if (!appender.isStarted()) {
                return false;
            }
            OutputStream out = appender.getOutputStream();
            if (out instanceof RetryingFileStream r) {
                r.write(b, off, len, emperor);
                return true;
            }
            out.write(b, off, len);
            if (appender.isImmediateFlush()) {
                out.flush();
            }
            return true;
        } catch (IOException e) {
            // Not from System.err or a RetryingFileStream, which report their failures themselves.
            appender.addError("IO failure in appender " + appender.getName(), e);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * What FileAppender.openFile does (under the stream lock), with a {@link RetryingFileStream}:
     * a new one the first time; later (SIGHUP) the same one opens the path again, so what it keeps
     * for a failing file is not lost.
     */
    private static RetryingFileStream openRetrying(FileAppender<ILoggingEvent> appender, ReentrantLock lock,
            String name) throws IOException {
        lock.lock();
        try {
            if (appender.getOutputStream() instanceof RetryingFileStream current) {
                current.reopen(new File(name));
                return current;
            }
            LoggerContext ctx = (LoggerContext) appender.getContext();
            RetryingFileStream s = new RetryingFileStream(new File(name),
                    RetryingFileStream.Env.of(message -> warning(appender, ctx, message), lock));
            appender.setOutputStream(s);
            return s;
        } finally {
            lock.unlock();
        }
    }

    /** {@code message} as a warning line of the emperor's, in the appender's format. */
    private static byte[] warning(OutputStreamAppender<ILoggingEvent> appender, LoggerContext ctx, String message) {
        LoggingEvent e = new LoggingEvent(EmperorAppenders.class.getName(), ctx.getLogger(EmperorLog.EMPEROR_LOGGER),
                Level.WARN, message, null, null);
        return appender.getEncoder().encode(e);
    }
}
