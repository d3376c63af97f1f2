package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Order;
import io.emperor.config.Parsed;
import io.emperor.config.Readiness;
import io.emperor.config.VassalSpec;
import io.emperor.source.dir.Fingerprint;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Event;
import io.emperor.vassal.NotifyMessage;
import io.emperor.vassal.State;
import io.emperor.vassal.Vassal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the loop does with the notify socket's events and the watchdog, on a fake launcher and a hand-moved clock. */
class VassalNotifyLoopTest extends LoopWithLog {
    static final long S = 1_000_000_000L;

    void start(VassalSpec s) {
        VassalFile f = new VassalFile(s.name(), s.file(), new Fingerprint(1, 1, 0, 1, 1, 0, 0, 0100644), null,
                Parsed.ok(s, List.of()));
        loop.handle(new LoopEvent.Scanned(new Snapshot(Map.of(s.name(), f), Set.of())));
        loop.handle(new LoopEvent.ForVassal(s.name(), new Event.ExecDone(run(s.name()))));
    }

    long run(String name) {
        return loop.vassals().get(name).runId();
    }

    Vassal app() {
        return loop.vassals().get("app");
    }

    void said(long runId, String datagram) {
        loop.handle(new LoopEvent.Notified("app", runId, () -> NotifyMessage.parse(datagram)));
    }

    VassalSpec with(Readiness ready, Duration watchdog) {
        return spec.withOrder(new Order(List.of(), List.of(), ready, Duration.ZERO, watchdog));
    }

    @Test
    void readyOneMakesANotifyVassalReadyAndItsStatusIsKept() {
        start(with(Readiness.NOTIFY, Duration.ZERO));
        assertEquals(State.STARTING, app().state());
        said(run("app"), "READY=1\nSTATUS=up");
        assertEquals(State.RUNNING, app().state());
        assertEquals("up", loop.tally().entry("app").status());
        assertTrue(lines.contains("app: ready (READY=1)"), lines::toString);
    }

    @Test
    void readyOneDoesNotMakeATcpVassalReady() {
        start(with(new Readiness.Tcp("127.0.0.1", 8100), Duration.ZERO));
        said(run("app"), "READY=1\nSTATUS=claims");
        assertEquals(State.STARTING, app().state(), "its readiness is its port");
        assertEquals("claims", loop.tally().entry("app").status());
    }

    @Test
    void aLateNoticeOfAnEarlierRunChangesNothing() {
        start(with(Readiness.NOTIFY, Duration.ZERO));
        said(run("app") + 5, "READY=1\nSTATUS=old");
        assertEquals(State.STARTING, app().state());
        assertNull(loop.tally().entry("app").status());
    }

    /** That the watchdog of run {@code r} fires at {@code deadline} and not a nanosecond before, on the loop's clock. */
    void assertWatchdogFiresAt(long r, long deadline) {
        String abort = "signal run=" + r + " sig=6";
        now = deadline - 1;
        loop.fireDue();
        assertTrue(!launcher.calls.contains(abort), "not yet: " + launcher.calls);
        now = deadline;
        loop.fireDue();
        assertEquals(State.STOPPING, app().state());
        assertTrue(launcher.calls.contains(abort), launcher.calls::toString);
    }

    @Test
    void theWatchdogIsArmedAtTheSpawn() {
        start(with(Readiness.NOTIFY, Duration.ofSeconds(5)));
        assertWatchdogFiresAt(run("app"), now + 5 * S);
    }

    @Test
    void theWatchdogIsArmedAtTheSpawnPingedAndFiresOnTheLoopsClock() {
        start(with(Readiness.NOTIFY, Duration.ofSeconds(5)));
        long r = run("app");
        now += 3 * S;
        said(r, "READY=1");
        now += 4 * S;
        said(r, "WATCHDOG=1");
        now += 4 * S;
        loop.fireDue();
        assertEquals(State.RUNNING, app().state(), "pinged 4 s ago");
        now += 1 * S;
        loop.fireDue();
        assertEquals(State.STOPPING, app().state());
        assertTrue(launcher.calls.contains("signal run=" + r + " sig=6"), launcher.calls::toString);
        assertTrue(lines.contains("app: watchdog: no WATCHDOG=1 in the last 5s: SIGABRT pid=100 timeout=30s"), lines::toString);
        loop.handle(new LoopEvent.Ended("app", r));
        assertEquals(State.STARTING, app().state(), "respawned at once: it ran min-uptime");
        assertWatchdogFiresAt(run("app"), now + 5 * S); // the new run is armed
    }

    @Test
    void stoppingOneDisarmsTheWatchdog() {
        start(with(Readiness.NOTIFY, Duration.ofSeconds(5)));
        long r = run("app");
        said(r, "READY=1\nSTOPPING=1");
        assertEquals(State.STOPPING, app().state());
        now += 10 * S; // past the watchdog's 5 s, before the stop-timeout's 30 s
        loop.fireDue();
        assertTrue(launcher.calls.stream().noneMatch(c -> c.endsWith(" sig=6")), launcher.calls::toString);
        assertTrue(lines.stream().noneMatch(l -> l.contains("watchdog")), lines::toString);
    }
}
