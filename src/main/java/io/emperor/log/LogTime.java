package io.emperor.log;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * {@code 2026-11-29T13:00:00.123Z}, formatted cheaply: the part up to the seconds is cached.
 * Not thread-safe: one per writer.
 */
final class LogTime {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private long cachedSecond = Long.MIN_VALUE;
    private String cachedPrefix = "";

    void append(StringBuilder sb, long millis) {
        long second = Math.floorDiv(millis, 1000);
        if (second != cachedSecond) {
            String full = TIME.format(Instant.ofEpochMilli(second * 1000));
            cachedPrefix = full.substring(0, full.length() - 4); // up to the seconds and the dot
            cachedSecond = second;
        }
        int ms = (int) Math.floorMod(millis, 1000);
        sb.append(cachedPrefix);
        if (ms < 100) {
            sb.append('0');
        }
        if (ms < 10) {
            sb.append('0');
        }
        sb.append(ms).append('Z');
    }
}
