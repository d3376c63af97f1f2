package io.emperor.log;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * {@code 2026-11-29T13:00:00.123Z}, formatted cheaply: the part up to the seconds is cached, and
 * the bytes of the last millisecond too (a flood of vassal output asks for the same millisecond
 * many times). Not thread-safe: one per writer.
 */
final class LogTime {
    /** The length of a timestamp, in characters and (ASCII) bytes. */
    static final int LENGTH = 24;
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private long cachedSecond = Long.MIN_VALUE;
    private String cachedPrefix = "";
    private byte[] cachedPrefixBytes = new byte[0];
    private long cachedMillis = Long.MIN_VALUE;
    private final byte[] cachedBytes = new byte[LENGTH];

    void append(StringBuilder sb, long millis) {
        prefix(millis);
        int ms = Math.floorMod(millis, 1000);
        sb.append(cachedPrefix);
        if (ms < 100) {
            sb.append('0');
        }
        if (ms < 10) {
            sb.append('0');
        }
        sb.append(ms).append('Z');
    }

    /** Writes the {@link #LENGTH} bytes of the timestamp at {@code dst[pos]}; returns the position after it. */
    int put(byte[] dst, int pos, long millis) {
        if (millis != cachedMillis) {
            prefix(millis);
            int n = cachedPrefixBytes.length;
            System.arraycopy(cachedPrefixBytes, 0, cachedBytes, 0, n);
            int ms = Math.floorMod(millis, 1000);
            cachedBytes[n] = (byte) ('0' + ms / 100);
            cachedBytes[n + 1] = (byte) ('0' + ms / 10 % 10);
            cachedBytes[n + 2] = (byte) ('0' + ms % 10);
            cachedBytes[n + 3] = 'Z';
            cachedMillis = millis;
        }
        System.arraycopy(cachedBytes, 0, dst, pos, LENGTH);
        return pos + LENGTH;
    }

    private void prefix(long millis) {
        long second = Math.floorDiv(millis, 1000);
        if (second != cachedSecond) {
            String full = TIME.format(Instant.ofEpochMilli(second * 1000));
            cachedPrefix = full.substring(0, full.length() - 4); // up to the seconds and the dot
            cachedPrefixBytes = cachedPrefix.getBytes(StandardCharsets.US_ASCII);
            cachedSecond = second;
        }
    }
}
