package io.emperor.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * {@code 2026-11-29T13:00:00.123Z [emperor] app: spawned pid=42 uid=1000 gid=1000} for the
 * emperor's lines and {@code 2026-11-29T13:00:00.123Z [app] what the vassal printed} for vassal
 * output. Hand-written rather than a PatternLayout: it runs once per vassal line.
 */
public final class EmperorLayout extends LayoutBase<ILoggingEvent> {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private long cachedSecond = Long.MIN_VALUE;
    private String cachedPrefix = "";

    @Override
    public synchronized String doLayout(ILoggingEvent event) {
        long millis = event.getTimeStamp();
        StringBuilder sb = new StringBuilder(128);
        appendTime(sb, millis);
        sb.append(' ');
        if (!EmperorLog.VASSAL_LOGGER.equals(event.getLoggerName())) {
            sb.append("[emperor] ");
        }
        sb.append(event.getFormattedMessage()).append('\n');
        IThrowableProxy t = event.getThrowableProxy();
        while (t != null) {
            sb.append("    ").append(t.getClassName()).append(": ").append(t.getMessage()).append('\n');
            for (StackTraceElementProxy e : t.getStackTraceElementProxyArray()) {
                sb.append("        at ").append(e.getStackTraceElement()).append('\n');
            }
            t = t.getCause();
        }
        return sb.toString();
    }

    private void appendTime(StringBuilder sb, long millis) {
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
