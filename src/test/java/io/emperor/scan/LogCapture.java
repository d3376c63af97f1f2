package io.emperor.scan;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/** Records what the "emperor" logger says while open (thread-safe: the watcher logs too). */
final class LogCapture implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger("emperor");
    private final Level levelBefore = logger.getLevel();
    private final Queue<ILoggingEvent> events = new ConcurrentLinkedQueue<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            events.add(event);
        }
    };

    LogCapture() {
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.setLevel(Level.DEBUG);
        logger.addAppender(appender);
    }

    List<String> messages() {
        return events.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    long count(String message) {
        return messages().stream().filter(message::equals).count();
    }

    /** Waits (polling every 10 ms, up to {@code within}) until {@code message} has been logged. */
    boolean await(String message, java.time.Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (count(message) == 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    List<ILoggingEvent> events() {
        return List.copyOf(events);
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(levelBefore);
        appender.stop();
    }
}
