package io.emperor.config;

import java.util.Map;

/** {@code log-format} in {@code [emperor]}: how the emperor's log lines look (docs/logging.md). */
public enum LogFormat {
    /** {@code 2026-11-29T13:00:00.123Z [emperor] app: spawned pid=42 ...} */
    PLAIN,
    /**
     * For journald (which adds its own timestamps): no timestamp, and a syslog priority prefix,
     * {@code <3>} errors, {@code <4>} warnings, {@code <6>} info and vassal output.
     */
    JOURNAL;

    /** {@link #JOURNAL} when {@code JOURNAL_STREAM} is set (systemd connected stderr to journald), else {@link #PLAIN}. */
    public static LogFormat defaultFor(Map<String, String> environment) {
        String stream = environment.get("JOURNAL_STREAM");
        return stream != null && !stream.isEmpty() ? JOURNAL : PLAIN;
    }

    /** {@code plain} or {@code journal}; null for anything else. */
    public static LogFormat parse(String value) {
        return switch (value) {
            case "plain" -> PLAIN;
            case "journal" -> JOURNAL;
            default -> null;
        };
    }
}
