package io.emperor.systemd;

import java.util.Map;
import java.util.OptionalLong;

/**
 * The systemd watchdog as the environment describes it (sd_watchdog_enabled(3)): when
 * {@code WATCHDOG_USEC} is set, and {@code WATCHDOG_PID} is unset or this process's pid, a
 * {@code WATCHDOG=1} is due every half of it.
 */
public final class Watchdog {
    private Watchdog() {}

    /** Nanoseconds between two WATCHDOG=1, or empty when the watchdog is off or meant for another pid. */
    public static OptionalLong interval(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null || usec.isEmpty()) {
            return OptionalLong.empty();
        }
        String forPid = env.get("WATCHDOG_PID");
        try {
            if (forPid != null && !forPid.isEmpty() && Long.parseLong(forPid.trim()) != pid) {
                return OptionalLong.empty();
            }
            long micros = Long.parseLong(usec.trim());
            if (micros <= 0) {
                return OptionalLong.empty();
            }
            return OptionalLong.of(Math.multiplyExact(micros, 1000L) / 2);
        } catch (NumberFormatException | ArithmeticException e) {
            return OptionalLong.empty(); // what sd_watchdog_enabled does with garbage: no watchdog
        }
    }
}
