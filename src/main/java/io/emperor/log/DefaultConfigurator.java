package io.emperor.log;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Found by logback through META-INF/services before it looks for XML: the emperor's default
 * configuration (stderr, INFO) without the XML start-up cost. {@link LogSetup} replaces it once
 * emperor.ini is read.
 */
public final class DefaultConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (LogSetup.userConfigured()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        LogSetup.configure(context, null);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
