package io.emperor.source.dir;

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

    /** Waits (up to {@code within}) until {@code message} has been logged; false if it was not. */
    boolean await(String message, java.time.Duration within) {
        return io.emperor.testing.Poll.within(within, () -> count(message) > 0 ? java.util.Optional.of(true)
                : java.util.Optional.<Boolean>empty()).isPresent();
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
