package io.emperor.vassal;

import java.nio.charset.StandardCharsets;

/**
 * What a vassal said in sd_notify datagrams on the emperor's notify socket (sd_notify(3); docs/vassal.ini.5.md,
 * "ready = notify"), parsed purely, and coalesced: one {@code NotifyMessage} may stand for several datagrams of
 * one run ({@link #then}), so that a vassal that floods the socket costs the loop one event, not one per datagram.
 *
 * <p>A datagram is newline-separated {@code KEY=VALUE} assignments. Honoured: {@code READY=1},
 * {@code RELOADING=1}, {@code STOPPING=1}, {@code WATCHDOG=1}, {@code STATUS=text}. Everything else is ignored
 * and counted ({@link #ignored}): unknown keys, other values ({@code READY=0}), {@code MAINPID=} (never
 * honoured: a vassal could name any process as its main one), {@code WATCHDOG_USEC=},
 * {@code EXTEND_TIMEOUT_USEC=}, {@code FDSTORE=1} and {@code BARRIER=1} (whose fds the socket closes, which is
 * the barrier's answer), {@code ERRNO=}, lines without {@code =}.
 *
 * @param ready      READY=1 came (the vassal is ready, or back after a reload)
 * @param reloading  RELOADING=1 came after the last READY=1 in these datagrams
 * @param stopping   STOPPING=1 came
 * @param pings      WATCHDOG=1 came
 * @param status     the last STATUS= text ({@link #MAX_STATUS} chars at most, control characters escaped), or null
 * @param ignored    assignments ignored, for the counters
 */
public record NotifyMessage(boolean ready, boolean reloading, boolean stopping, boolean pings, String status,
                            int ignored) {
    /** The longest STATUS= text kept (in chars, after escaping); longer ones are cut and end in {@code …}. */
    public static final int MAX_STATUS = 200;
    /** The largest datagram read; a longer one is dropped whole (its end would be lost). */
    public static final int MAX_DATAGRAM = 4096;

    public static final NotifyMessage NOTHING = new NotifyMessage(false, false, false, false, null, 0);

    /** Parses one datagram ({@code len} bytes of {@code b} from 0); invalid UTF-8 becomes U+FFFD. */
    public static NotifyMessage parse(byte[] b, int len) {
        return parse(new String(b, 0, Math.min(len, b.length), StandardCharsets.UTF_8));
    }

    public static NotifyMessage parse(String datagram) {
        boolean ready = false;
        boolean reloading = false;
        boolean stopping = false;
        boolean pings = false;
        String status = null;
        int ignored = 0;
        for (String line : datagram.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            String key = eq < 0 ? line : line.substring(0, eq);
            String value = eq < 0 ? null : line.substring(eq + 1);
            switch (key) {
                case "READY" -> {
                    if ("1".equals(value)) {
                        ready = true;
                        reloading = false;
                    } else {
                        ignored++;
                    }
                }
                case "RELOADING" -> {
                    if ("1".equals(value)) {
                        reloading = true;
                    } else {
                        ignored++;
                    }
                }
                case "STOPPING" -> {
                    if ("1".equals(value)) {
                        stopping = true;
                    } else {
                        ignored++;
                    }
                }
                case "WATCHDOG" -> {
                    if ("1".equals(value)) {
                        pings = true;
                    } else {
                        ignored++;
                    }
                }
                case "STATUS" -> {
                    if (value != null) {
                        status = escape(value);
                    } else {
                        ignored++;
                    }
                }
                default -> ignored++;
            }
        }
        return new NotifyMessage(ready, reloading, stopping, pings, status, ignored);
    }

    /** Whether there is anything for the loop (ignored assignments alone are not). */
    public boolean isEmpty() {
        return !ready && !reloading && !stopping && !pings && status == null;
    }

    /**
     * These datagrams, then {@code later} ones, as one: READY=1 and STOPPING=1 stay said; RELOADING=1 stands
     * when it came after the last READY=1 ({@code RELOADING=1} then {@code READY=1} is a finished reload);
     * the later STATUS= wins.
     */
    public NotifyMessage then(NotifyMessage later) {
        return new NotifyMessage(ready || later.ready,
                later.reloading || (reloading && !later.ready),
                stopping || later.stopping,
                pings || later.pings,
                later.status != null ? later.status : status,
                ignored + later.ignored);
    }

    /**
     * A STATUS= text as shown: control characters and backslashes as {@code \xNN} and {@code \\}, so one line
     * of the table stays one line and no terminal escape reaches an operator's terminal; cut at
     * {@link #MAX_STATUS} chars.
     */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), MAX_STATUS) + 8);
        int i = 0;
        for (; i < s.length() && sb.length() <= MAX_STATUS; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                sb.append("\\\\");
            } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
                sb.append(String.format(java.util.Locale.ROOT, "\\x%02x", (int) c & 0xff));
            } else {
                sb.append(c);
            }
        }
        if (sb.length() > MAX_STATUS || i < s.length()) {
            sb.setLength(MAX_STATUS - 1);
            if (Character.isHighSurrogate(sb.charAt(sb.length() - 1))) {
                sb.setLength(sb.length() - 1);
            }
            sb.append('…');
        }
        return sb.toString();
    }
}
