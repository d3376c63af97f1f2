package io.emperor.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** WATCHDOG_USEC and WATCHDOG_PID as sd_watchdog_enabled(3) reads them; the ping is due at half. */
class WatchdogTest {
    @Test
    void halfOfWatchdogUsecInNanos() {
        assertEquals(OptionalLong.of(15_000_000_000L), Watchdog.interval(Map.of("WATCHDOG_USEC", "30000000"), 42));
    }

    @Test
    void offWhenUnsetZeroOrGarbage() {
        assertEquals(OptionalLong.empty(), Watchdog.interval(Map.of(), 42));
        assertEquals(OptionalLong.empty(), Watchdog.interval(Map.of("WATCHDOG_USEC", "0"), 42));
        assertEquals(OptionalLong.empty(), Watchdog.interval(Map.of("WATCHDOG_USEC", "soon"), 42));
        assertEquals(OptionalLong.empty(), Watchdog.interval(Map.of("WATCHDOG_USEC", "99999999999999999999"), 42));
    }

    @Test
    void onlyForTheNamedPid() {
        assertEquals(OptionalLong.of(500_000_000L),
                Watchdog.interval(Map.of("WATCHDOG_USEC", "1000000", "WATCHDOG_PID", "42"), 42));
        assertEquals(OptionalLong.empty(),
                Watchdog.interval(Map.of("WATCHDOG_USEC", "1000000", "WATCHDOG_PID", "43"), 42));
        assertEquals(OptionalLong.empty(),
                Watchdog.interval(Map.of("WATCHDOG_USEC", "1000000", "WATCHDOG_PID", "x"), 42));
    }
}
