package io.emperor.log;

import io.emperor.vassal.Effect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The emperor's log lines (docs/emperor.8.md lists them; they are an interface). Lifecycle lines
 * are {@code NAME: verb ...} on the {@code emperor} logger; vassal output lines go to the
 * {@code vassal} logger already tagged {@code [NAME] }. {@link EmperorLayout} adds the timestamp
 * and the {@code [emperor]} tag.
 */
public final class EmperorLog {
    public static final String EMPEROR_LOGGER = "emperor";
    public static final String VASSAL_LOGGER = "vassal";

    private static final Logger EMPEROR = LoggerFactory.getLogger(EMPEROR_LOGGER);
    private static final Logger VASSAL = LoggerFactory.getLogger(VASSAL_LOGGER);

    private EmperorLog() {}

    /** A lifecycle line about one vassal: {@code NAME: MESSAGE}. */
    public static void vassal(Effect.Level level, String name, String message) {
        emperor(level, name + ": " + message);
    }

    /** A line about the emperor itself. */
    public static void emperor(Effect.Level level, String message) {
        switch (level) {
            case INFO -> EMPEROR.info(message);
            case WARN -> EMPEROR.warn(message);
            case ERROR -> EMPEROR.error(message);
        }
    }

    public static void info(String message) {
        EMPEROR.info(message);
    }

    public static void warn(String message) {
        EMPEROR.warn(message);
    }

    public static void error(String message, Throwable t) {
        EMPEROR.error(message, t);
    }

    /** One line a vassal printed. */
    public static void output(String name, String line) {
        VASSAL.info("[" + name + "] " + line);
    }
}
