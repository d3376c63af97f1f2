package io.emperor.vassal;

import static io.emperor.vassal.LifecycleTest.L;
import static io.emperor.vassal.LifecycleTest.S;
import static io.emperor.vassal.LifecycleTest.T0;
import static io.emperor.vassal.LifecycleTest.logs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Order;
import io.emperor.config.Readiness;
import io.emperor.config.VassalSpec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Readiness and waiting in the pure lifecycle (issue 17), with an injected clock: when a run is
 * ready, the ready-timeout, and the WAITING state with what it waits for.
 */
class ReadinessLifecycleTest {
    static final Readiness TCP = new Readiness.Tcp("127.0.0.1", 8100);
    static final Wait ZEO_MISSING = new Wait(List.of("zeo (no such vassal)"), true);
    static final Wait ZEO_NOT_READY = new Wait(List.of("zeo (backoff)"), false);

    static VassalSpec spec(Readiness ready, int timeoutSeconds) {
        return Specs.program("plone", "/bin/plone").withOrder(
                new Order(List.of("zeo"), List.of(), ready, Duration.ofSeconds(timeoutSeconds), Duration.ZERO));
    }

    /** FileValid, Spawned (run 1, pid 100) and ExecDone at T0. */
    static Vassal execd(VassalSpec spec) {
        Vassal v = L.step(Vassal.fresh(spec.name()), new Event.FileValid(spec), T0).vassal();
        v = L.step(v, new Event.Spawned(1, 100, 1000, 1000), T0).vassal();
        return L.step(v, new Event.ExecDone(1), T0).vassal();
    }

    @Test
    void startedIsReadyAtExecWithoutALine() {
        Vassal v = L.step(Vassal.fresh("a"), new Event.FileValid(Specs.program("a", "/bin/a")), T0).vassal();
        v = L.step(v, new Event.Spawned(1, 100, 0, 0), T0).vassal();
        assertFalse(v.isReady());
        Transition t = L.step(v, new Event.ExecDone(1), T0 + S);
        assertEquals(State.RUNNING, t.vassal().state());
        assertTrue(t.vassal().isReady());
        assertEquals(List.of(), t.effects());
    }

    @Test
    void aTcpVassalIsProbedAfterExecAndStartingUntilReady() {
        Vassal v = L.step(Vassal.fresh("plone"), new Event.FileValid(spec(TCP, 0)), T0).vassal();
        v = L.step(v, new Event.Spawned(1, 100, 1000, 1000), T0).vassal();
        Transition t = L.step(v, new Event.ExecDone(1), T0);
        assertEquals(List.of(new Effect.Probe(1, TCP, -1)), t.effects());
        assertEquals(State.STARTING, t.vassal().state());
        assertFalse(t.vassal().isReady());
        t = L.step(t.vassal(), new Event.Ready(1, "tcp:127.0.0.1:8100 accepts"), T0 + 2 * S);
        assertEquals(State.RUNNING, t.vassal().state());
        assertTrue(t.vassal().isReady());
        assertEquals(List.of("ready (tcp:127.0.0.1:8100 accepts)"), logs(t));
        // Once per run: a second report changes nothing.
        assertEquals(List.of(), L.step(t.vassal(), new Event.Ready(1, "READY=1"), T0 + 3 * S).effects());
    }

    @Test
    void aReadyOfAnEarlierRunIsALateEvent() {
        Vassal v = execd(spec(TCP, 0));
        Transition t = L.step(v, new Event.Ready(7, "tcp:127.0.0.1:8100 accepts"), T0 + S);
        assertEquals(State.STARTING, t.vassal().state());
        assertFalse(t.vassal().isReady());
    }

    @Test
    void aUwsgiVassalIsReadyWhenItAcceptsNotWhenItIsLoaded() {
        VassalSpec uwsgi = Specs.uwsgi("web", true, false);
        Vassal v = execd(uwsgi);
        assertEquals(State.RUNNING, v.state());
        assertFalse(v.isReady());
        v = L.step(v, new Event.VassalSays(1, Event.VassalSays.READY), T0 + S).vassal();
        assertFalse(v.isReady());
        Transition t = L.step(v, new Event.VassalSays(1, Event.VassalSays.ACCEPTING), T0 + 2 * S);
        assertTrue(t.vassal().isReady());
        assertEquals(List.of("accepting"), logs(t));
    }

    @Test
    void readyTimeoutFailsTheRunWithTheProbesLastProblemThenBacksOff() {
        Vassal v = execd(spec(TCP, 30));
        assertEquals(T0 + 30 * S, v.wakeAt());
        v = L.step(v, new Event.NotReady(1, "connect tcp:127.0.0.1:8100: Connection refused"), T0 + S).vassal();
        assertEquals(State.STARTING, L.step(v, new Event.Tick(), T0 + 29 * S).vassal().state());
        Transition t = L.step(v, new Event.Tick(), T0 + 30 * S);
        String what = "not ready within 30s (ready = tcp:127.0.0.1:8100): connect tcp:127.0.0.1:8100: Connection refused";
        assertEquals(List.of(what, "stopping: not ready in time signal=TERM pid=100 timeout=30s"), logs(t));
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(what, t.vassal().trouble().text());
        t = L.step(t.vassal(), new Event.Exited(1, ExitStatus.killed(15, false)), T0 + 31 * S);
        assertEquals(State.BACKOFF, t.vassal().state());
        assertEquals(1, t.vassal().failures());
        assertEquals(T0 + 32 * S, t.vassal().wakeAt());
    }

    @Test
    void aReadyRunHasNoReadyTimeout() {
        Vassal v = execd(spec(TCP, 30));
        v = L.step(v, new Event.Ready(1, "tcp:127.0.0.1:8100 accepts"), T0 + S).vassal();
        assertEquals(Vassal.NO_DEADLINE, v.wakeAt());
        assertEquals(State.RUNNING, L.step(v, new Event.Tick(), T0 + 60 * S).vassal().state());
    }

    @Test
    void aVassalWhoseRequirementIsMissingWaitsAndSaysForWhat() {
        Vassal v = L.step(Vassal.fresh("plone"), new Event.Requirements(ZEO_MISSING), T0).vassal();
        Transition t = L.step(v, new Event.FileValid(spec(TCP, 0)), T0);
        assertEquals(State.WAITING, t.vassal().state());
        assertEquals(List.of("waiting for zeo (no such vassal)"), logs(t));
        assertTrue(t.effects().stream().noneMatch(Effect.Spawn.class::isInstance));
        // Another reason for the same names: no new line.
        t = L.step(t.vassal(), new Event.Requirements(new Wait(List.of("zeo (starting)"), false)), T0 + S);
        assertEquals(List.of(), t.effects());
        // zeo is ready: it starts.
        t = L.step(t.vassal(), new Event.Requirements(Wait.NONE), T0 + 2 * S);
        assertEquals(State.STARTING, t.vassal().state());
        assertEquals(List.of("starting: done waiting for zeo"), logs(t));
        assertTrue(t.effects().get(t.effects().size() - 1) instanceof Effect.Spawn);
    }

    @Test
    void anOperatorsStartOfAWaitingOrBlockedVassalIsToldWhatItWaitsFor() {
        Vassal v = L.step(Vassal.fresh("plone"), new Event.Requirements(ZEO_MISSING), T0).vassal();
        v = L.step(v, new Event.FileValid(spec(TCP, 0)), T0).vassal();
        assertEquals(List.of(new Effect.Reply(true, "waiting for zeo (no such vassal)")),
                L.step(v, new Event.Start(), T0).effects());
        Vassal stopped = L.step(v, new Event.Stop(), T0).vassal();
        assertEquals(State.STOPPED, stopped.state());
        Transition t = L.step(stopped, new Event.Start(), T0 + S);
        assertEquals(State.WAITING, t.vassal().state());
        assertTrue(t.effects().contains(new Effect.Reply(true, "waiting for zeo (no such vassal)")), t.effects().toString());
    }

    @Test
    void aRequirementGoneStopsARunningDependentWhichThenWaits() {
        Vassal v = execd(Specs.program("plone", "/bin/plone"));
        Transition t = L.step(v, new Event.Requirements(ZEO_MISSING), T0 + 20 * S);
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(List.of("stopping: requirement gone: zeo (no such vassal) signal=TERM pid=100 timeout=30s"), logs(t));
        t = L.step(t.vassal(), new Event.Exited(1, ExitStatus.killed(15, false)), T0 + 21 * S);
        assertEquals(State.WAITING, t.vassal().state());
        assertEquals(List.of("stopped signal=TERM after 1s", "waiting for zeo (no such vassal)"), logs(t));
        assertEquals(0, t.vassal().restarts());
        t = L.step(t.vassal(), new Event.Requirements(Wait.NONE), T0 + 40 * S);
        assertEquals(State.STARTING, t.vassal().state());
    }

    @Test
    void aRequirementThatIsOnlyNotReadyLeavesARunningDependentAlone() {
        Vassal v = execd(Specs.program("plone", "/bin/plone"));
        Transition t = L.step(v, new Event.Requirements(ZEO_NOT_READY), T0 + 20 * S);
        assertEquals(State.RUNNING, t.vassal().state());
        assertEquals(List.of(), t.effects());
        // ... but its own crash waits for zeo before the respawn.
        t = L.step(t.vassal(), new Event.Exited(1, ExitStatus.exited(1)), T0 + 40 * S);
        assertEquals(State.WAITING, t.vassal().state());
        assertEquals(List.of("exited status=1 uptime=40s", "waiting for zeo (backoff)"), logs(t));
    }

    @Test
    void aBackoffRetryWaitsForItsRequirements() {
        Vassal v = execd(Specs.program("plone", "/bin/plone"));
        v = L.step(v, new Event.Exited(1, ExitStatus.exited(1)), T0 + S).vassal();
        assertEquals(State.BACKOFF, v.state());
        v = L.step(v, new Event.Requirements(ZEO_NOT_READY), T0 + S).vassal();
        Transition t = L.step(v, new Event.Tick(), T0 + 3 * S);
        assertEquals(State.WAITING, t.vassal().state());
    }
}
