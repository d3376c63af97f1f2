package io.emperor.vassal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The vassal watchdog on an injected clock: armed at the spawn, restarted by each ping, fires once. */
class WatchdogsTest {
    static final long S = 1_000_000_000L;
    static final long T0 = 500 * S;

    @Test
    void firesOncePeriodAfterTheLastPing() {
        Watchdogs w = new Watchdogs();
        w.arm("app", 1, Duration.ofSeconds(5), T0);
        assertEquals(T0 + 5 * S, w.deadline());
        assertTrue(w.due(T0 + 5 * S - 1).isEmpty());
        w.ping(1, T0 + 4 * S);
        assertEquals(T0 + 9 * S, w.deadline());
        assertTrue(w.due(T0 + 8 * S).isEmpty());
        List<Watchdogs.Armed> due = w.due(T0 + 9 * S);
        assertEquals(1, due.size());
        assertEquals("app", due.get(0).name());
        assertEquals(Duration.ofSeconds(5), due.get(0).period());
        assertTrue(w.due(T0 + 100 * S).isEmpty(), "fires once");
        assertEquals(Vassal.NO_DEADLINE, w.deadline());
    }

    @Test
    void aLatePingCannotMoveTheClockBack() {
        Watchdogs w = new Watchdogs();
        w.arm("app", 1, Duration.ofSeconds(5), T0);
        w.ping(1, T0 + 3 * S);
        w.ping(1, T0 + 2 * S);
        assertEquals(T0 + 8 * S, w.deadline());
    }

    @Test
    void disarmedAndUnknownRunsNeverFire() {
        Watchdogs w = new Watchdogs();
        w.arm("a", 1, Duration.ofSeconds(1), T0);
        w.arm("b", 2, Duration.ofSeconds(2), T0);
        w.disarm(1);
        w.ping(99, T0); // not armed: nothing, not even an armed run of its own
        assertEquals(T0 + 2 * S, w.deadline(), "only b's");
        assertEquals(List.of(2L), w.due(T0 + 10 * S).stream().map(Watchdogs.Armed::runId).toList());
        assertEquals(Vassal.NO_DEADLINE, w.deadline(), "nothing left armed");
    }
}
