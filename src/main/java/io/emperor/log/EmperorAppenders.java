package io.emperor.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
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
            return write(this, streamWriteLock, b, off, len);
        }
    }

    /** A file, never rotated by the emperor. */
    static final class PlainFile extends FileAppender<ILoggingEvent> implements PreEncoded {
        @Override
        public boolean writePreEncoded(byte[] b, int off, int len) {
            return write(this, streamWriteLock, b, off, len);
        }

        @Override
        public void openFile(String name) throws IOException {
            openRetrying(this, streamWriteLock, name);
        }
    }

    /**
     * A file rotated by size. Logback checks its triggering policy under a lock of its own that a
     * subclass cannot reach, so both paths (events and pre-encoded bytes) take {@link #rollLock}
     * around the check, the rollover and the write: one rollover per crossing of the size.
     * The check is the size-based policy's, which looks at the file, not at the event (null here).
     */
    static final class Rolling extends RollingFileAppender<ILoggingEvent> implements PreEncoded {
        private final ReentrantLock rollLock = new ReentrantLock();

        @Override
        protected void subAppend(ILoggingEvent event) {
            rollLock.lock();
            try {
                super.subAppend(event);
            } finally {
                rollLock.unlock();
            }
        }

        @Override
        public boolean writePreEncoded(byte[] b, int off, int len) {
            rollLock.lock();
            try {
                if (isStarted() && getTriggeringPolicy().isTriggeringEvent(new File(getFile()), null)) {
                    rollover();
                }
                return write(this, streamWriteLock, b, off, len);
            } finally {
                rollLock.unlock();
            }
        }

        @Override
        public void openFile(String name) throws IOException {
            openRetrying(this, streamWriteLock, name);
        }
    }

    private static boolean write(OutputStreamAppender<ILoggingEvent> appender, ReentrantLock lock, byte[] b, int off,
            int len) {
        lock.lock();
        try {
            if (!appender.isStarted()) {
                return false;
            }
            OutputStream out = appender.getOutputStream();
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

    /** What FileAppender.openFile does (under the stream lock), with a {@link RetryingFileStream}. */
    private static void openRetrying(FileAppender<ILoggingEvent> appender, ReentrantLock lock, String name)
            throws IOException {
        lock.lock();
        try {
            LoggerContext ctx = (LoggerContext) appender.getContext();
            appender.setOutputStream(new RetryingFileStream(new File(name), System.err, System::nanoTime,
                    message -> warning(appender, ctx, message)));
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
