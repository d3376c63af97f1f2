package io.emperor.vassal;

import static io.emperor.vassal.LifecycleTest.L;
import static io.emperor.vassal.LifecycleTest.S;
import static io.emperor.vassal.LifecycleTest.T0;
import static io.emperor.vassal.LifecycleTest.logs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Order;
import io.emperor.config.Readiness;
import io.emperor.config.VassalSpec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RELOADING=1, STOPPING=1 and the watchdog in the lifecycle (docs/lifecycle.md, "ready = notify and the watchdog"). */
class NotifyLifecycleTest {
    static final VassalSpec NOTIFY = Specs.program("app", "/bin/app").withOrder(
            new Order(List.of(), List.of(), Readiness.NOTIFY, Duration.ZERO, Duration.ofSeconds(5)));

    /** A notify vassal spawned at T0 as run 1 (pid 100), exec reached. */
    static Vassal starting() {
        Vassal v = L.step(Vassal.fresh("app"), new Event.FileValid(NOTIFY), T0).vassal();
        v = L.step(v, new Event.Spawned(1, 100, 1000, 1000), T0).vassal();
        return L.step(v, new Event.ExecDone(1), T0).vassal();
    }

    static Vassal running(long at) {
        return L.step(starting(), new Event.Ready(1, "READY=1"), at).vassal();
    }

    @Test
    void itIsStartingUntilReadyOne() {
        Vassal v = starting();
        assertEquals(State.STARTING, v.state(), "exec reached, but not ready");
        Transition t = L.step(v, new Event.Ready(1, "READY=1"), T0 + 2 * S);
        assertEquals(State.RUNNING, t.vassal().state());
        assertEquals(List.of("ready (READY=1)"), logs(t));
    }

    @Test
    void reloadingOneUntilTheNextReadyOne() {
        Vassal v = running(T0 + S);
        Transition t = L.step(v, new Event.Notified(1, Event.Notified.What.RELOADING), T0 + 20 * S);
        assertEquals(State.RELOADING, t.vassal().state());
        assertEquals(List.of("reloading (RELOADING=1)"), logs(t));
        assertTrue(t.effects().stream().noneMatch(e -> e instanceof Effect.Signal || e instanceof Effect.Tell));
        Transition back = L.step(t.vassal(), new Event.Ready(1, "READY=1"), T0 + 21 * S);
        assertEquals(State.RUNNING, back.vassal().state());
        assertEquals(List.of("reloaded (READY=1)"), logs(back));
        assertEquals(Vassal.NO_DEADLINE, back.vassal().deadline());
        // Still starting: RELOADING=1 changes nothing; its READY=1 ends both.
        assertEquals(State.STARTING, L.step(starting(), new Event.Notified(1, Event.Notified.What.RELOADING), T0).vassal().state());
    }

    @Test
    void stoppingOneIsItsOwnStopAndItsExitRespawnsWithoutAProblem() {
        Vassal v = running(T0 + S);
        Transition t = L.step(v, new Event.Notified(1, Event.Notified.What.STOPPING), T0 + 20 * S);
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(Vassal.After.RESPAWN, t.vassal().after());
        assertEquals(List.of("stopping: the vassal says so (STOPPING=1) pid=100 timeout=30s"), logs(t));
        assertTrue(t.effects().stream().noneMatch(e -> e instanceof Effect.Signal), "no signal: it stops by itself");
        assertEquals(T0 + 50 * S, t.vassal().deadline(), "SIGKILL to the group after stop-timeout");
        Transition exit = L.step(t.vassal(), new Event.Exited(1, ExitStatus.exited(0)), T0 + 21 * S);
        assertEquals(State.STARTING, exit.vassal().state(), "ran min-uptime: at once");
        assertEquals(List.of("stopped status=0 after 1s"), logs(exit));
        assertTrue(exit.effects().get(exit.effects().size() - 1) instanceof Effect.Spawn);
        assertNull(exit.vassal().problem(T0 + 21 * S, LifecycleTest.POLICY.minUptime()), "not a problem");
        assertEquals(1, exit.vassal().restarts());
    }

    @Test
    void stoppingOneSoonAfterTheStartBacksOff() {
        Vassal v = running(T0 + S);
        Vassal stopping = L.step(v, new Event.Notified(1, Event.Notified.What.STOPPING), T0 + 2 * S).vassal();
        Transition exit = L.step(stopping, new Event.Exited(1, ExitStatus.exited(0)), T0 + 3 * S);
        assertEquals(State.BACKOFF, exit.vassal().state(), "no busy loop of a vassal that stops at once");
        assertEquals(List.of("stopped status=0 after 1s", "backoff retry in 1s (1 quick exit)"), logs(exit));
    }

    @Test
    void aMissedWatchdogAbortsThenItsExitIsACrashWithTheReason() {
        Vassal v = running(T0 + S);
        Transition t = L.step(v, new Event.WatchdogMissed(1, Duration.ofSeconds(5)), T0 + 30 * S);
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(Vassal.After.WATCHDOG, t.vassal().after());
        assertEquals(List.of("watchdog: no WATCHDOG=1 in the last 5s: SIGABRT pid=100 timeout=30s"), logs(t));
        assertTrue(t.effects().contains(new Effect.Signal(1, 6)));
        assertEquals("watchdog: no WATCHDOG=1 in the last 5s", t.vassal().problem(T0 + 30 * S, LifecycleTest.POLICY.minUptime()).text());
        Transition exit = L.step(t.vassal(), new Event.Exited(1, ExitStatus.killed(6, true)), T0 + 31 * S);
        assertEquals(State.STARTING, exit.vassal().state(), "it ran min-uptime: respawned at once, like a crash");
        assertEquals("exited signal=ABRT (core dumped) uptime=31s (watchdog)", logs(exit).get(0));
        Trouble problem = exit.vassal().problem(T0 + 31 * S, LifecycleTest.POLICY.minUptime());
        assertEquals("watchdog: no WATCHDOG=1 in the last 5s; exited signal=ABRT (core dumped) after 31s", problem.text());
        assertEquals(T0 + 30 * S, problem.since());
    }

    @Test
    void aWatchdogAbortThatIsIgnoredGetsTheGroupKilledAtStopTimeout() {
        Vassal v = L.step(running(T0 + S), new Event.WatchdogMissed(1, Duration.ofSeconds(5)), T0 + 30 * S).vassal();
        Transition t = L.step(v, new Event.Tick(), T0 + 60 * S);
        assertTrue(t.effects().contains(new Effect.KillGroup(1)));
        assertEquals(List.of("stop-timeout 30s passed: SIGKILL to process group 100"), logs(t));
    }

    @Test
    void anOperatorStopDuringAWatchdogAbortKeepsItStopped() {
        Vassal v = L.step(running(T0 + S), new Event.WatchdogMissed(1, Duration.ofSeconds(5)), T0 + 30 * S).vassal();
        Transition t = L.step(v, new Event.Stop(), T0 + 31 * S);
        assertEquals(Vassal.After.NOTHING, t.vassal().after());
        Transition exit = L.step(t.vassal(), new Event.Exited(1, ExitStatus.killed(6, false)), T0 + 32 * S);
        assertEquals(State.STOPPED, exit.vassal().state());
    }

    @Test
    void lateNotificationsOfAnEarlierRunChangeNothing() {
        Vassal v = running(T0 + S);
        assertEquals(v, L.step(v, new Event.Notified(7, Event.Notified.What.STOPPING), T0 + 2 * S).vassal());
        assertEquals(v, L.step(v, new Event.WatchdogMissed(7, Duration.ofSeconds(5)), T0 + 2 * S).vassal());
    }
}
