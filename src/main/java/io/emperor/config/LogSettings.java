package io.emperor.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The log keys of {@code [emperor]} besides {@code log} (docs/logging.md).
 *
 * @param format           {@code log-format}; empty when not given: {@link LogFormat#defaultFor} the
 *                         emperor's environment decides
 * @param vassalLogs       {@code vassal-logs}: the directory of the per-vassal files {@code NAME.log}
 *                         (absolute), or empty: vassal output goes to the emperor's log
 * @param vassalLogMaxSize {@code vassal-log-maxsize}: rotate a vassal's file when a line would take it
 *                         past this many bytes; 0 never (default 0)
 * @param vassalLogBackups {@code vassal-log-backups}: how many rotated files ({@code NAME.log.1} ...) are
 *                         kept (default 5)
 * @param logMaxSize       {@code log-maxsize}: rotate the emperor's log file at this many bytes; 0 never
 *                         (default 0)
 * @param logBackups       {@code log-backups}: how many gzipped old emperor logs are kept, 1 to
 *                         {@value #MAX_LOG_BACKUPS} (default 5)
 */
public record LogSettings(Optional<LogFormat> format, Optional<Path> vassalLogs, long vassalLogMaxSize,
                          int vassalLogBackups, long logMaxSize, int logBackups) {
    public static final int DEFAULT_BACKUPS = 5;
    public static final int MAX_BACKUPS = 1000;
    /** logback's fixed window keeps at most 20 files. */
    public static final int MAX_LOG_BACKUPS = 20;
    public static final LogSettings DEFAULTS =
            new LogSettings(Optional.empty(), Optional.empty(), 0, DEFAULT_BACKUPS, 0, DEFAULT_BACKUPS);

    /** The format to use, given the emperor's environment. */
    public LogFormat formatFor(Map<String, String> environment) {
        return format.orElseGet(() -> LogFormat.defaultFor(environment));
    }
}
