package io.emperor.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.LayoutBase;

/**
 * {@code 2026-11-29T13:00:00.123Z [emperor] app: spawned pid=42 uid=1000 gid=1000} for the
 * emperor's lines and {@code 2026-11-29T13:00:00.123Z [app] what the vassal printed} for vassal
 * output. Hand-written rather than a PatternLayout: it runs once per vassal line. Untagged vassal
 * output ({@link EmperorLog#RAW_VASSAL_LOGGER}) goes out as printed. The journal format drops the
 * timestamp and starts each line with its syslog priority: {@code <3>} error, {@code <4>} warning,
 * {@code <6>} info and vassal output.
 */
public final class EmperorLayout extends LayoutBase<ILoggingEvent> {
    private final boolean journal;
    private final LogTime time = new LogTime();

    public EmperorLayout() {
        this(io.emperor.config.LogFormat.PLAIN);
    }

    public EmperorLayout(io.emperor.config.LogFormat format) {
        this.journal = format == io.emperor.config.LogFormat.JOURNAL;
    }

    @Override
    public synchronized String doLayout(ILoggingEvent event) {
        String logger = event.getLoggerName();
        boolean raw = EmperorLog.RAW_VASSAL_LOGGER.equals(logger);
        boolean vassal = raw || EmperorLog.VASSAL_LOGGER.equals(logger);
        String priority = journal ? priority(event, vassal) : "";
        Object[] args = event.getArgumentArray();
        if (vassal && args != null && args.length == 1 && args[0] instanceof EmperorLog.OutputBatch batch) {
            return batch(event, batch, priority);
        }
        StringBuilder sb = new StringBuilder(128);
        sb.append(priority);
        if (!journal && !raw) {
            appendTime(sb, event.getTimeStamp());
            sb.append(' ');
        }
        if (!vassal) {
            sb.append("[emperor] ");
        }
        sb.append(event.getFormattedMessage()).append('\n');
        IThrowableProxy t = event.getThrowableProxy();
        while (t != null) {
            sb.append(priority).append("    ").append(t.getClassName()).append(": ").append(t.getMessage()).append('\n');
            for (StackTraceElementProxy e : t.getStackTraceElementProxyArray()) {
                sb.append(priority).append("        at ").append(e.getStackTraceElement()).append('\n');
            }
            t = t.getCause();
        }
        return sb.toString();
    }

    /** Each line of the batch as if it had been logged alone. */
    private String batch(ILoggingEvent event, EmperorLog.OutputBatch batch, String priority) {
        StringBuilder sb = new StringBuilder(batch.lines().size() * 160);
        String tag = batch.tag() ? "[" + batch.name() + "] " : "";
        int timeStart = -1;
        int timeEnd = -1;
        for (String line : batch.lines()) {
            sb.append(priority);
            if (!journal && batch.tag()) {
                if (timeStart < 0) {
                    timeStart = sb.length();
                    appendTime(sb, event.getTimeStamp());
                    timeEnd = sb.length();
                } else {
                    sb.append(sb, timeStart, timeEnd); // the same time for every line of the batch
                }
                sb.append(' ');
            }
            sb.append(tag).append(line).append('\n');
        }
        return sb.toString();
    }

    private static String priority(ILoggingEvent event, boolean vassal) {
        if (vassal) {
            return "<6>";
        }
        int level = event.getLevel().toInt();
        return level >= ch.qos.logback.classic.Level.ERROR_INT ? "<3>"
                : level >= ch.qos.logback.classic.Level.WARN_INT ? "<4>" : "<6>";
    }

    private void appendTime(StringBuilder sb, long millis) {
        time.append(sb, millis);
    }
}
