package io.emperor.systemd;

import io.emperor.loop.Counts;

/** The sd_notify(3) assignments the emperor sends; each is one datagram. */
public final class Messages {
    private Messages() {}

    public static final String READY = "READY=1";
    public static final String STOPPING = "STOPPING=1";
    public static final String WATCHDOG = "WATCHDOG=1";

    /** {@code STATUS=2 running, 1 backing off, 0 failed}: what {@code systemctl status} shows. */
    public static String status(Counts c) {
        return "STATUS=" + c.running() + " running, " + c.backoff() + " backing off, " + c.failed() + " failed";
    }

    /**
     * SIGHUP: systemd (since v253, for Type=notify-reload and ExecReload alike) matches the reload
     * to the moment it began by CLOCK_MONOTONIC in microseconds.
     */
    public static String reloading(long monotonicMicros) {
        return "RELOADING=1\nMONOTONIC_USEC=" + monotonicMicros;
    }
}
