package io.emperor.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * Configures logback in code (its XML start-up costs ~0.4 s): everything to stderr, or appended
 * to one file. A user who wants their own appenders (rotation, say) passes
 * {@code -Dlogback.configurationFile=etc/logback.xml} and this class leaves logback alone.
 */
public final class LogSetup {
    /** The appender this class installed last (only when it writes to a file). */
    private static volatile FileAppender<ILoggingEvent> fileAppender;

    private LogSetup() {}

    public static boolean userConfigured() {
        return System.getProperty("logback.configurationFile") != null;
    }

    /**
     * Sends the log to {@code file} (appending; reopened if it was already the target), or to
     * stderr when it is null. When the file cannot be opened nothing changes and the reason is
     * returned.
     */
    public static Optional<String> configure(Path file) {
        if (userConfigured()) {
            return Optional.empty();
        }
        if (file != null) {
            try {
                Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                        StandardOpenOption.WRITE).close();
            } catch (IOException e) {
                return Optional.of("cannot open log file " + file + ": " + io.emperor.config.IoReasons.of(e));
            }
        }
        FileAppender<ILoggingEvent> current = fileAppender;
        if (file != null && current != null && current.isStarted()) {
            // Reopen in place (SIGHUP after an external logrotate, or a new path): the appender
            // swaps its stream under its own lock, so no line is lost or written twice.
            try {
                current.setFile(file.toString());
                current.openFile(file.toString());
                return Optional.empty();
            } catch (IOException e) {
                return Optional.of("cannot open log file " + file + ": " + e.getMessage());
            }
        }
        configure((LoggerContext) LoggerFactory.getILoggerFactory(), file);
        return Optional.empty();
    }

    static void configure(LoggerContext ctx, Path file) {
        fileAppender = null;
        ctx.reset();
        EmperorLayout layout = new EmperorLayout();
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
        if (file == null) {
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setTarget("System.err");
            appender = console;
        } else {
            FileAppender<ILoggingEvent> fa = new FileAppender<>();
            fa.setFile(file.toString());
            fa.setAppend(true);
            fa.setPrudent(false);
            appender = fa;
            fileAppender = fa;
        }
        appender.setContext(ctx);
        appender.setName("emperor");
        appender.setEncoder(encoder);
        appender.setImmediateFlush(true);
        appender.start();
        Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(appender);
    }
}
