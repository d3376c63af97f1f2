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
    /** Vassal output with {@code log-tag = false}: written exactly as printed, no timestamp, no tag. */
    public static final String RAW_VASSAL_LOGGER = "vassal.raw";

    private static final Logger EMPEROR = LoggerFactory.getLogger(EMPEROR_LOGGER);
    private static final Logger VASSAL = LoggerFactory.getLogger(VASSAL_LOGGER);
    private static final Logger RAW_VASSAL = LoggerFactory.getLogger(RAW_VASSAL_LOGGER);

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
        VASSAL.info(EmperorLayout.tag(name) + line);
    }

    /**
     * The lines one read of a vassal's pipe gave, as one logging event, so that the log file gets
     * one write for them, not one per line, when they cannot be written as pre-encoded bytes
     * ({@link VassalOutput}: a user's logback.xml, another appender attached, a fallback).
     * {@link EmperorLayout} writes each line with its own prefix; any other layout gets
     * {@link #toString}.
     */
    public record OutputBatch(String name, java.util.List<String> lines, boolean tag) {
        @Override
        public String toString() {
            String prefix = tag ? EmperorLayout.tag(name) : "";
            StringBuilder sb = new StringBuilder();
            for (String line : lines) {
                if (sb.length() > 0) {
                    sb.append('\n');
                }
                sb.append(prefix).append(line);
            }
            return sb.toString();
        }
    }

    /** Several lines a vassal printed, in one event (see {@link OutputBatch}). */
    public static void output(String name, java.util.List<String> lines, boolean tag) {
        if (lines.size() == 1) {
            output(name, lines.get(0), tag);
        } else if (!lines.isEmpty()) {
            (tag ? VASSAL : RAW_VASSAL).info("{}", new OutputBatch(name, java.util.List.copyOf(lines), tag));
        }
    }

    /** One line a vassal printed; untagged ({@code log-tag = false}) it goes out as printed. */
    public static void output(String name, String line, boolean tag) {
        if (tag) {
            output(name, line);
        } else {
            RAW_VASSAL.info(line);
        }
    }
}
