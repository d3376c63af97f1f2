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
 *
 * <p><b>Every line is one line.</b> The emperor's own messages carry values of vassal files
 * (a name, an {@code exec}, a parse error quoting the file) that a tenant chose: their control
 * characters are escaped here, once, for every message and exception text of the emperor's
 * ({@link #escape}), and so is the vassal name in a {@code [NAME]} tag. A tenant's value can then
 * neither start a second, forged line ({@code \n}, {@code \r}) nor send terminal escapes
 * ({@code ESC}, C1 controls) to whoever reads the log. Vassal output is not escaped again: the
 * {@link LineSplitter} already did.
 */
public final class EmperorLayout extends LayoutBase<ILoggingEvent> {
    private final boolean journal;
    private final LinePrefix prefix = new LinePrefix();

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
        String priority = journal ? priority(event, vassal) : ""; // the journal's prefix: no time
        Object[] args = event.getArgumentArray();
        if (vassal && args != null && args.length == 1 && args[0] instanceof EmperorLog.OutputBatch batch) {
            return batch(event, batch, priority);
        }
        StringBuilder sb = new StringBuilder(128);
        prefix.append(sb, priority, !raw, vassal ? null : EMPEROR_TAG, event.getTimeStamp());
        if (!vassal) {
            escape(event.getFormattedMessage(), sb);
        } else {
            sb.append(event.getFormattedMessage()); // EmperorLog escaped the tag; the LineSplitter the line
        }
        sb.append('\n');
        IThrowableProxy t = event.getThrowableProxy();
        while (t != null) {
            sb.append(priority).append("    ").append(t.getClassName()).append(": ");
            escape(t.getMessage(), sb);
            sb.append('\n');
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
        StringBuilder first = new StringBuilder(64);
        prefix.append(first, priority, batch.tag(), batch.tag() ? tag(batch.name()) : null, event.getTimeStamp());
        String before = first.toString(); // the same time for every line of the batch
        for (String line : batch.lines()) {
            sb.append(before).append(line).append('\n');
        }
        return sb.toString();
    }

    /** The tag of the emperor's own lines. */
    static final String EMPEROR_TAG = "[emperor] ";

    /** {@code [NAME] }, the tag of a vassal's lines, with the name escaped. */
    static String tag(String name) {
        StringBuilder sb = new StringBuilder(name.length() + 3).append('[');
        escape(name, sb);
        return sb.append("] ").toString();
    }

    /**
     * Appends {@code text} with every control character escaped as the {@link LineSplitter}
     * escapes vassal output: ASCII controls but tab, and DEL, as {@code \xNN}; the C1 controls
     * (U+0080 to U+009F, which terminals may read as escape sequences) as the {@code \xNN\xNN} of
     * their UTF-8 bytes. Everything else, and a {@code null} (as "null"), is appended as it is.
     */
    public static void escape(String text, StringBuilder sb) {
        if (text == null) {
            sb.append("null");
            return;
        }
        int n = text.length();
        int clean = 0;
        while (clean < n && !control(text.charAt(clean))) {
            clean++;
        }
        if (clean == n) {
            sb.append(text); // the usual case: nothing to escape, one copy
            return;
        }
        sb.append(text, 0, clean);
        for (int i = clean; i < n; i++) {
            char c = text.charAt(i);
            if (!control(c)) {
                sb.append(c);
            } else if (c < 0x80) {
                hex(sb, c);
            } else {
                hex(sb, 0xc2);
                hex(sb, c);
            }
        }
    }

    /** {@link #escape} as a new string. */
    /**
     * An emperor's line about vassal {@code name} as its in-memory tail keeps it, beside the lines
     * the vassal printed: {@code [emperor] NAME: MESSAGE}, the log line without its timestamp,
     * escaped like the log's.
     */
    public static String tailLine(String name, String message) {
        StringBuilder sb = new StringBuilder(16 + name.length() + message.length());
        sb.append(VassalTails.EMPEROR_PREFIX);
        escape(name + ": " + message, sb);
        return sb.toString();
    }

    public static String escape(String text) {
        StringBuilder sb = new StringBuilder(text == null ? 4 : text.length() + 8);
        escape(text, sb);
        return sb.toString();
    }

    private static boolean control(char c) {
        return c < 0x20 && c != '\t' || c >= 0x7f && c <= 0x9f;
    }

    private static void hex(StringBuilder sb, int b) {
        sb.append("\\x").append(HEX[b >> 4]).append(HEX[b & 0xf]);
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private static String priority(ILoggingEvent event, boolean vassal) {
        if (vassal) {
            return LinePrefix.JOURNAL_INFO;
        }
        int level = event.getLevel().toInt();
        return level >= ch.qos.logback.classic.Level.ERROR_INT ? "<3>"
                : level >= ch.qos.logback.classic.Level.WARN_INT ? "<4>" : "<6>";
    }

}
