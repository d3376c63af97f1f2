package io.emperor.vassal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Problem;
import io.emperor.config.VassalSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** On-demand vassals (issue 15, docs/lifecycle.md "On demand"): no process until a connection. */
class OnDemandLifecycleTest {
    static final long S = 1_000_000_000L;
    static final Lifecycle L = new Lifecycle(new Policy(Duration.ofSeconds(10), Duration.ofSeconds(60)));
    static final VassalSpec OD = Specs.onDemand(Specs.program("app", "/bin/app"), 8080);
    static final VassalSpec OD_UWSGI = Specs.onDemand(Specs.uwsgi("app", true, false), 8080);
    static final long T0 = 1000 * S;

    static Vassal waiting(VassalSpec spec) {
        return L.step(Vassal.fresh("app"), new Event.FileValid(spec), T0).vassal();
    }

    /** Started by a connection at T0, exec reached: run 1, pid 100. */
    static Vassal running(VassalSpec spec) {
        Vassal v = L.step(waiting(spec), new Event.Connection(), T0).vassal();
        v = L.step(v, new Event.Spawned(1, 100, 0, 0), T0).vassal();
        return L.step(v, new Event.ExecDone(1), T0).vassal();
    }

    static List<String> kinds(Transition t) {
        return t.effects().stream().map(e -> e.getClass().getSimpleName()).toList();
    }

    /** The lines, the one a Listen logs once the sockets are held included. */
    static List<String> logs(Transition t) {
        return t.effects().stream().map(e -> e instanceof Effect.Log l ? l.message()
                : e instanceof Effect.Listen l ? l.line() : null).filter(java.util.Objects::nonNull).toList();
    }

    static Effect.Reply reply(Transition t) {
        return t.effects().stream().filter(Effect.Reply.class::isInstance).map(Effect.Reply.class::cast).findFirst().orElseThrow();
    }

    @Test
    void aNewOnDemandFileWaitsForAConnectionWithNoProcess() {
        Transition t = L.step(Vassal.fresh("app"), new Event.FileValid(OD), T0);
        assertEquals(State.WAITING, t.vassal().state());
        assertEquals(List.of("Listen"), kinds(t));
        assertEquals(List.of("waiting for a connection on 127.0.0.1:8080"), logs(t));
        assertEquals(new Effect.Listen(OD, "waiting for a connection on 127.0.0.1:8080"), t.effects().get(0));
        assertTrue(t.vassal().waitsForConnection());
        assertEquals("a connection on 127.0.0.1:8080", t.vassal().waitingFor());
        assertEquals(0, t.vassal().runId());
    }

    /**
     * Its unix socket is being bound as the vassal (the loop's Event.Binding after the Listen): it waits for that
     * first, unwatched (a connection now is late news); the answer lets it wait for a connection, with its line.
     */
    @Test
    void whileItsSocketIsBeingBoundItWaitsForThatThenForAConnection() {
        Wait binding = new Wait(List.of("sockets (binding unix:/run/app.sock)"), false);
        Transition t = L.step(waiting(OD), new Event.Binding(binding), T0);
        assertEquals(State.WAITING, t.vassal().state());
        assertFalse(t.vassal().waitsForConnection());
        assertEquals("sockets (binding unix:/run/app.sock)", t.vassal().waitingFor());
        assertEquals(List.of("waiting for sockets (binding unix:/run/app.sock)"), logs(t));
        assertEquals(t.vassal(), L.step(t.vassal(), new Event.Connection(), T0 + S).vassal());
        Transition held = L.step(t.vassal(), new Event.Requirements(Wait.NONE), T0 + S);
        assertEquals(List.of(new Effect.Log(Effect.Level.INFO, "done waiting for sockets"),
                new Effect.Listen(OD, "waiting for a connection on 127.0.0.1:8080")), held.effects());
        assertTrue(held.vassal().waitsForConnection());
    }

    @Test
    void theFirstConnectionStartsIt() {
        Transition t = L.step(waiting(OD), new Event.Connection(), T0 + S);
        assertEquals(State.STARTING, t.vassal().state());
        assertEquals(List.of("Log", "Spawn"), kinds(t));
        assertEquals(List.of("starting: a connection is waiting (on demand)"), logs(t));
        assertFalse(t.vassal().waitsForConnection());
    }

    @Test
    void anIdleExitZeroGoesBackToWaitingWithoutBackoffOrProblem() {
        Transition t = L.step(running(OD), new Event.Exited(1, ExitStatus.exited(0)), T0 + 30 * S);
        assertEquals(State.WAITING, t.vassal().state());
        assertEquals(List.of("Log", "Listen"), kinds(t));
        assertEquals(List.of("exited status=0 uptime=30s (on demand: back to waiting)",
                "waiting for a connection on 127.0.0.1:8080"), logs(t));
        assertEquals(0, t.vassal().failures());
        assertNull(t.vassal().problem(T0 + 30 * S, Duration.ofSeconds(10)));
        assertEquals(Vassal.NO_DEADLINE, t.vassal().deadline());
        // and the next connection wakes it
        assertEquals(State.STARTING, L.step(t.vassal(), new Event.Connection(), T0 + 40 * S).vassal().state());
    }

    /** Attack: a program that exits 0 at once, never accepting: the connection still waits, so no busy loop of spawns. */
    @Test
    void aQuickExitZeroBacksOffThenWaitsAgain() {
        Transition t = L.step(running(OD), new Event.Exited(1, ExitStatus.exited(0)), T0 + S / 2);
        assertEquals(State.BACKOFF, t.vassal().state());
        assertEquals(1, t.vassal().failures());
        assertTrue(logs(t).get(1).startsWith("backoff retry in 1s"), logs(t).toString());
        Transition early = L.step(t.vassal(), new Event.Tick(), T0 + S);
        assertEquals(State.BACKOFF, early.vassal().state());
        Transition after = L.step(t.vassal(), new Event.Tick(), T0 + 2 * S);
        assertEquals(State.WAITING, after.vassal().state());
        assertEquals(List.of("Listen"), kinds(after));
        assertEquals(1, after.vassal().failures(), "a quick exit counted");
    }

    @Test
    void aCrashIsACrashButTheStartAfterItWaitsForAConnection() {
        Transition t = L.step(running(OD), new Event.Exited(1, ExitStatus.exited(3)), T0 + 30 * S);
        assertEquals(State.WAITING, t.vassal().state());
        assertEquals("exited status=3 uptime=30s", logs(t).get(0));
        assertEquals("exited status=3 after 30s", t.vassal().trouble().text());
        assertEquals(List.of("Log", "Listen"), kinds(t));
        assertEquals(0, t.vassal().restarts(), "no process started: not counted as a restart");
    }

    @Test
    void aChangeWhileWaitingKeepsTheNewVersionAndRebindsNothingElse() {
        VassalSpec changed = Specs.onDemand(Specs.program("app", "/bin/app", "--new"), 8080);
        Transition t = L.step(waiting(OD), new Event.FileValid(changed), T0 + S);
        assertEquals(State.WAITING, t.vassal().state());
        assertEquals(changed, t.vassal().spec());
        assertEquals(List.of("Listen"), kinds(t), "no line, no process; the loop holds the same sockets again");
        VassalSpec moved = Specs.onDemand(Specs.program("app", "/bin/app"), 8081);
        Transition m = L.step(t.vassal(), new Event.FileValid(moved), T0 + 2 * S);
        assertEquals(List.of(new Effect.Listen(moved, null)), m.effects(), "a listen change: the loop rebinds");
        assertEquals("a connection on 127.0.0.1:8081", m.vassal().waitingFor());
    }

    @Test
    void aChangeToNotOnDemandStartsIt() {
        Transition t = L.step(waiting(OD), new Event.FileValid(Specs.program("app", "/bin/app")), T0 + S);
        assertEquals(State.STARTING, t.vassal().state());
        assertEquals(List.of("Spawn"), kinds(t));
    }

    @Test
    void aBadEditWhileWaitingKeepsItWaitingOnTheLastGoodVersion() {
        Transition t = L.step(waiting(OD), new Event.FileInvalid(List.of(new Problem(Path.of("/v/app.ini"), 3, "broken"))),
                T0 + S);
        assertEquals(State.WAITING, t.vassal().state());
        assertEquals(OD, t.vassal().spec());
        assertTrue(t.vassal().waitsForConnection());
        assertEquals(List.of("refused: /v/app.ini:3: broken", "kept waiting (last good version of the file)"), logs(t));
        assertEquals(State.STARTING, L.step(t.vassal(), new Event.Connection(), T0 + 2 * S).vassal().state());
    }

    @Test
    void operatorStopThenStartGoesBackToWaiting() {
        Transition stop = L.step(waiting(OD), new Event.Stop(), T0 + S);
        assertEquals(State.STOPPED, stop.vassal().state());
        assertFalse(stop.vassal().waitsForConnection());
        assertEquals(State.STOPPED, L.step(stop.vassal(), new Event.Connection(), T0 + S).vassal().state(), "late");
        Transition start = L.step(stop.vassal(), new Event.Start(), T0 + 2 * S);
        assertEquals(State.WAITING, start.vassal().state());
        assertEquals(List.of("Reply", "Listen"), kinds(start));
        assertEquals(new Effect.Reply(true, "waiting for a connection on 127.0.0.1:8080"), reply(start));
    }

    @Test
    void operatorStopOfARunGoesToStopped() {
        Transition t = L.step(running(OD), new Event.Stop(), T0 + S);
        Transition exit = L.step(t.vassal(), new Event.Exited(1, ExitStatus.exited(0)), T0 + 2 * S);
        assertEquals(State.STOPPED, exit.vassal().state());
    }

    @Test
    void startRestartAndReloadWhileWaitingSayWhatItWaitsFor() {
        Vassal w = waiting(OD);
        assertEquals(new Effect.Reply(true, "waiting for a connection on 127.0.0.1:8080"),
                reply(L.step(w, new Event.Start(), T0)));
        assertEquals(new Effect.Reply(true, "waiting for a connection on 127.0.0.1:8080"),
                reply(L.step(w, new Event.Restart(), T0)));
        assertEquals(new Effect.Reply(false, "not reloaded: not running (waiting for a connection on 127.0.0.1:8080)"),
                reply(L.step(w, new Event.Reload(), T0)));
    }

    @Test
    void byte22OfAnOnDemandUwsgiVassalStopsItBackToWaiting() {
        Transition t = L.step(running(OD_UWSGI), new Event.VassalSays(1, Event.VassalSays.VOLUNTARY_STOP), T0 + 60 * S);
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(List.of("stopping: back to on demand (byte 22) byte=0 pid=100 timeout=30s"), logs(t));
        assertEquals(new Effect.Tell(1, Effect.Tell.STOP), t.effects().get(1));
        Transition exit = L.step(t.vassal(), new Event.Exited(1, ExitStatus.exited(0)), T0 + 61 * S);
        assertEquals(State.WAITING, exit.vassal().state());
        assertEquals(List.of("stopped status=0 after 1s", "waiting for a connection on 127.0.0.1:8080"), logs(exit));
        assertEquals(List.of("Log", "Listen"), kinds(exit));
        assertNull(exit.vassal().problem(T0 + 61 * S, Duration.ofSeconds(10)));
    }

    @Test
    void byte22OfAnOtherUwsgiVassalIsAStopAndAStartAgain() {
        Vassal v = L.step(Vassal.fresh("app"), new Event.FileValid(Specs.uwsgi("app", true, false)), T0).vassal();
        v = L.step(v, new Event.Spawned(1, 100, 0, 0), T0).vassal();
        Transition t = L.step(v, new Event.VassalSays(1, Event.VassalSays.VOLUNTARY_STOP), T0 + S);
        Transition exit = L.step(t.vassal(), new Event.Exited(1, ExitStatus.exited(0)), T0 + 2 * S);
        assertEquals(State.STARTING, exit.vassal().state());
    }

    @Test
    void aChangeDuringTheWayBackToOnDemandIsKeptForTheNextConnection() {
        Transition t = L.step(running(OD_UWSGI), new Event.VassalSays(1, Event.VassalSays.VOLUNTARY_STOP), T0 + 60 * S);
        VassalSpec changed = Specs.onDemand(Specs.uwsgi("app", true, true), 8080);
        Transition c = L.step(t.vassal(), new Event.FileValid(changed), T0 + 60 * S);
        assertEquals(State.STOPPING, c.vassal().state());
        assertEquals(List.of(), c.effects());
        Transition exit = L.step(c.vassal(), new Event.Exited(1, ExitStatus.exited(0)), T0 + 61 * S);
        assertEquals(State.WAITING, exit.vassal().state());
        assertEquals(changed, exit.vassal().spec());
        // An operator's stop meanwhile makes it stay stopped
        Transition s = L.step(t.vassal(), new Event.Stop(), T0 + 60 * S);
        assertEquals(State.STOPPED, L.step(s.vassal(), new Event.Exited(1, ExitStatus.exited(0)), T0 + 61 * S).vassal().state());
    }

    @Test
    void socketsThatCannotBeHeldBackOffThenTryAgain() {
        Transition t = L.step(waiting(OD), new Event.SpawnFailed("bind 127.0.0.1:8080: Address already in use"), T0);
        assertEquals(State.BACKOFF, t.vassal().state());
        assertEquals("sockets not held: bind 127.0.0.1:8080: Address already in use", logs(t).get(0));
        Transition again = L.step(t.vassal(), new Event.Tick(), T0 + 2 * S);
        assertEquals(State.WAITING, again.vassal().state());
        assertEquals(List.of("Listen"), kinds(again));
    }

    @Test
    void aConnectionThatComesLateChangesNothing() {
        Vassal r = running(OD);
        assertEquals(r, L.step(r, new Event.Connection(), T0 + S).vassal());
    }

    @Test
    void aMissingRequirementComesFirstThenTheConnection() {
        Wait zeo = new Wait(List.of("zeo (no such vassal)"), true);
        Vassal v = L.step(Vassal.fresh("app"), new Event.Requirements(zeo), T0).vassal();
        Transition t = L.step(v, new Event.FileValid(OD), T0);
        assertEquals(State.WAITING, t.vassal().state());
        assertFalse(t.vassal().waitsForConnection(), "its sockets are not watched yet");
        assertEquals("zeo (no such vassal)", t.vassal().waitingFor());
        assertEquals(t.vassal(), L.step(t.vassal(), new Event.Connection(), T0).vassal());
        Transition open = L.step(t.vassal(), new Event.Requirements(Wait.NONE), T0 + S);
        assertEquals(State.WAITING, open.vassal().state());
        assertTrue(open.vassal().waitsForConnection());
        assertEquals(List.of("done waiting for zeo", "waiting for a connection on 127.0.0.1:8080"), logs(open));
        assertEquals(List.of("Log", "Listen"), kinds(open));
    }

    @Test
    void aVassalThatRequiresAnOnDemandOneDoesNotWaitForItsConnection() {
        Vassal w = waiting(OD);
        Wait verdict = Dependencies.of(new io.emperor.config.Order(List.of("app"), List.of("app"),
                io.emperor.config.Readiness.STARTED, Duration.ZERO, Duration.ZERO), n -> n.equals("app") ? w : null,
                n -> true);
        assertTrue(verdict.open(), verdict.text());
    }
}
