package io.emperor.loop;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.emperor.config.VassalSpec;
import io.emperor.vassal.Lifecycle;
import io.emperor.vassal.Policy;
import io.emperor.vassal.Specs;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.slf4j.LoggerFactory;

/**
 * A loop on a fake launcher and a hand-moved clock, with the messages of the {@code emperor}
 * logger captured in {@link #lines}: what the loop says about the files it is given.
 */
abstract class LoopWithLog {
    long now = 1000L * 1_000_000_000L;
    final LoopTest.FakeLauncher launcher = new LoopTest.FakeLauncher();
    final EmperorLoop loop = new EmperorLoop(new Lifecycle(new Policy(Duration.ofSeconds(10), Duration.ofSeconds(60))),
            launcher, () -> now, ScanFeed.HOST);
    final ScanFeed feed = new ScanFeed(loop);
    final VassalSpec spec = Specs.program("app", "/bin/app");
    final Logger logger = (Logger) LoggerFactory.getLogger("emperor");
    final Queue<String> lines = new ConcurrentLinkedQueue<>();
    final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            lines.add(event.getFormattedMessage());
        }
    };

    @BeforeEach
    void capture() {
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void release() {
        logger.detachAppender(appender);
    }
}
