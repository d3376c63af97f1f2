package io.emperor.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import io.emperor.config.LogFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * Configures logback in code (its XML start-up costs ~0.4 s): everything to stderr, or appended
 * to one file, rotated by size when {@code log-maxsize} is set, before the write that would
 * cross it ({@link EmperorAppenders.Rolling}; {@code FILE.1.gz} ... {@code FILE.N.gz},
 * {@link EmperorLogRotation}). The appenders are
 * {@link EmperorAppenders}: vassal output goes to them as pre-encoded bytes ({@link #preEncoded}),
 * and a failing file is reported and retried ({@link RetryingFileStream}). A user who wants their
 * own appenders passes {@code -Dlogback.configurationFile=etc/logback.xml} and this class leaves
 * logback alone.
 */
public final class LogSetup {
    /** The most backups logback's fixed window keeps. */
    public static final int MAX_BACKUPS = 20;

    /**
     * Where and how the emperor's log goes.
     *
     * @param file    the file, or null for stderr
     * @param format  the line format
     * @param maxSize rotate when the file reaches this many bytes; 0 never
     * @param backups how many gzipped old files are kept, 1 to {@link #MAX_BACKUPS}
     */
    public record Target(Path file, LogFormat format, long maxSize, int backups) {
        public static Target of(Path file, LogFormat format) {
            return new Target(file, format, 0, 5);
        }

        /** True when an appender for this target can serve {@code other} by reopening its file. */
        boolean reopens(Target other) {
            return file != null && format == other.format && maxSize == other.maxSize && backups == other.backups
                    && (maxSize == 0 || file.equals(other.file));
        }
    }

    /** The appender this class installed last (only when it writes to a file). */
    private static volatile FileAppender<ILoggingEvent> fileAppender;
    /** What this class installed last. */
    private static volatile Target installed;
    /** The appender this class installed last, with its format, for vassal output as bytes. */
    private static volatile PreEncodedLog preEncoded;

    /**
     * The emperor's log as an appender that takes vassal output already formatted
     * ({@link VassalOutput}).
     *
     * @param appender the appender this class installed
     * @param format   the format to write in (what its {@link EmperorLayout} writes)
     * @param root     the root logger it is attached to: it must be the only appender there
     */
    record PreEncodedLog(EmperorAppenders.PreEncoded appender, LogFormat format, Logger root) {}

    private LogSetup() {}

    public static boolean userConfigured() {
        return System.getProperty("logback.configurationFile") != null;
    }

    /**
     * The emperor's log for pre-encoded vassal output, or null when lines must go through logback's
     * events: a user's logback.xml, or another appender on the root logger (a SIGHUP swapping
     * appenders, a test capturing events), which must see every line too.
     */
    static PreEncodedLog preEncoded() {
        PreEncodedLog p = preEncoded;
        if (p == null) {
            return null;
        }
        java.util.Iterator<Appender<ILoggingEvent>> it = p.root().iteratorForAppenders();
        return it.hasNext() && it.next() == p.appender() && !it.hasNext() ? p : null;
    }

    /**
     * Sends the log to {@code file} (appending; reopened if it was already the target), or to
     * stderr when it is null. When the file cannot be opened nothing changes and the reason is
     * returned.
     */
    public static Optional<String> configure(Path file) {
        return configure(Target.of(file, LogFormat.PLAIN));
    }

    /** Same, with the line format ({@link EmperorLayout}). */
    public static Optional<String> configure(Path file, LogFormat format) {
        return configure(Target.of(file, format));
    }

    /** Same, with the format and the rotation. */
    public static Optional<String> configure(Target target) {
        if (userConfigured()) {
            return Optional.empty();
        }
        Path file = target.file();
        if (file != null) {
            try {
                Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                        StandardOpenOption.WRITE).close();
            } catch (IOException e) {
                return Optional.of("cannot open log file " + file + ": " + io.emperor.config.IoReasons.of(e));
            }
        }
        FileAppender<ILoggingEvent> current = fileAppender;
        Target before = installed;
        if (file != null && current != null && current.isStarted() && before != null && before.reopens(target)) {
            // Reopen in place (SIGHUP after an external logrotate, or a new path): the appender
            // swaps its stream under its own lock, so no line is lost or written twice.
            try {
                if (!(current instanceof RollingFileAppender)) { // a rolling one keeps its path (Target.reopens)
                    current.setFile(file.toString());
                }
                current.openFile(file.toString());
                installed = target;
                return Optional.empty();
            } catch (IOException e) {
                return Optional.of("cannot open log file " + file + ": " + e.getMessage());
            }
        }
        install((LoggerContext) LoggerFactory.getILoggerFactory(), target);
        return Optional.empty();
    }

    static void configure(LoggerContext ctx, Path file) {
        install(ctx, Target.of(file, LogFormat.defaultFor(System.getenv())));
    }

    /**
     * Installs a new appender. The first time the context is reset; later (a new format or
     * rotation on SIGHUP) the new appender is attached before the old one is detached, so that
     * what another thread logs meanwhile is never lost (at worst written to both).
     */
    static void install(LoggerContext ctx, Target target) {
        Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Appender<ILoggingEvent> old = installed == null ? null : root.getAppender("emperor");
        if (installed == null) {
            ctx.reset();
        }
        EmperorLayout layout = new EmperorLayout(target.format());
        layout.setContext(ctx);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(ctx);
        encoder.setLayout(layout);
        // Vassal output is UTF-8 (or escaped) whatever the emperor's locale: never let the JVM's
        // default charset turn it into question marks.
        encoder.setCharset(java.nio.charset.StandardCharsets.UTF_8);
        encoder.start();
        OutputStreamAppender<ILoggingEvent> appender;
        FileAppender<ILoggingEvent> file = null;
        if (target.file() == null) {
            ConsoleAppender<ILoggingEvent> console = new EmperorAppenders.Console();
            console.setTarget("System.err");
            appender = console;
        } else {
            if (target.maxSize() == 0) {
                file = new EmperorAppenders.PlainFile();
                file.setFile(target.file().toString());
            } else {
                file = rolling(ctx, target); // its file is set before its policies, as logback requires
            }
            file.setAppend(true);
            file.setPrudent(false);
            appender = file;
        }
        forgetFileNames(ctx); // logback refuses a second appender on the file the old one still holds
        appender.setContext(ctx);
        appender.setName("emperor");
        appender.setEncoder(encoder);
        appender.setImmediateFlush(true);
        appender.start();
        root.setLevel(Level.INFO);
        root.addAppender(appender);
        if (old != null) {
            root.detachAppender(old);
            EmperorAppenders.handOver(old, appender); // what a failing log file keeps (docs/logging.md)
            old.stop();
        }
        fileAppender = file;
        installed = target;
        preEncoded = new PreEncodedLog((EmperorAppenders.PreEncoded) appender, target.format(), root);
    }

    /**
     * Empties logback's record of which appender writes which file: the old appender is detached
     * right after the new one starts, and the two never both write once that is done.
     */
    private static void forgetFileNames(LoggerContext ctx) {
        for (String key : new String[] {ch.qos.logback.core.CoreConstants.FA_FILENAME_COLLISION_MAP,
                ch.qos.logback.core.CoreConstants.RFA_FILENAME_PATTERN_COLLISION_MAP}) {
            if (ctx.getObject(key) instanceof java.util.Map<?, ?> m) {
                m.clear();
            }
        }
    }

    private static RollingFileAppender<ILoggingEvent> rolling(LoggerContext ctx, Target target) {
        EmperorAppenders.Rolling r = new EmperorAppenders.Rolling();
        r.setMaxSize(target.maxSize());
        r.setBackups(target.backups());
        r.setContext(ctx);
        r.setFile(target.file().toString());
        FixedWindowRollingPolicy window = new FixedWindowRollingPolicy();
        window.setContext(ctx);
        window.setParent(r);
        window.setFileNamePattern(target.file() + ".%i.gz");
        window.setMinIndex(1);
        window.setMaxIndex(target.backups());
        window.start();
        SizeBasedTriggeringPolicy<ILoggingEvent> size = new SizeBasedTriggeringPolicy<>();
        size.setContext(ctx);
        size.setMaxFileSize(new FileSize(target.maxSize())); // logback requires a policy: Rolling counts the size itself
        size.start();
        r.setRollingPolicy(window);
        r.setTriggeringPolicy(size);
        return r;
    }
}
