package io.emperor.vassal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Problem;
import io.emperor.config.VassalSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A vassal's last problem (docs/lifecycle.md, "The last problem"): what sets it, what clears it,
 * and since when, on the lifecycle alone with the time handed in (min-uptime 10 s).
 */
class TroubleTest {
    static final long S = LifecycleTest.S;
    static final long T0 = LifecycleTest.T0;
    static final Lifecycle L = LifecycleTest.L;
    static final Duration MIN_UPTIME = LifecycleTest.POLICY.minUptime();
    static final VassalSpec SPEC = LifecycleTest.SPEC;

    /** A clock handed to each step: the lifecycle never reads one. */
    private long now = T0;

    private Vassal step(Vassal v, Event e) {
        return L.step(v, e, now).vassal();
    }

    private Vassal startedRun(Vassal v, long run) {
        v = step(v, new Event.Spawned(run, 100 + run, 0, 0));
        return step(v, new Event.ExecDone(run));
    }

    private static Trouble problem(Vassal v, long at) {
        return v.problem(at, MIN_UPTIME);
    }

    @Test
    void aMissingProgramIsTheProblemUntilARunHasStayedUpMinUptime() {
        Vassal v = step(Vassal.fresh("app"), new Event.FileValid(SPEC));
        v = step(v, new Event.Spawned(1, 101, 0, 0));
        assertNull(problem(v, now), "a fresh vassal has no problem");
        now += S / 100;
        v = step(v, new Event.ExecFailed(1, "exec /usr/local/bin/myapp: No such file or directory"));
        long failedAt = now;
        now += S / 100;
        v = step(v, new Event.Exited(1, ExitStatus.exited(127)));
        assertEquals(State.BACKOFF, v.state());
        Trouble t = problem(v, now);
        assertEquals("spawn failed: exec /usr/local/bin/myapp: No such file or directory", t.text(),
                "the exec's failure, not the exit that follows it");
        assertEquals(Trouble.Kind.RUN, t.kind());
        assertEquals(failedAt, t.since());

        // The backoff's retry runs now: still the problem while it is young...
        now = v.deadline();
        v = step(v, new Event.Tick());
        v = startedRun(v, 2);
        assertEquals(State.RUNNING, v.state());
        assertNotNull(problem(v, now + MIN_UPTIME.toNanos() - 1), "up less than min-uptime");
        // ...and gone once it has been up min-uptime.
        assertNull(problem(v, now + MIN_UPTIME.toNanos()));
    }

    @Test
    void quickExitsKeepTheFirstSinceAndTheLatestText() {
        Vassal v = startedRun(step(Vassal.fresh("app"), new Event.FileValid(SPEC)), 1);
        long first = now + S / 10;
        now = first;
        v = step(v, new Event.Exited(1, ExitStatus.exited(1)));
        assertEquals("exited status=1 after 0.10s", problem(v, now).text());
        now = v.deadline();
        v = step(v, new Event.Tick());
        v = startedRun(v, 2);
        now += 2 * S;
        v = step(v, new Event.Exited(2, ExitStatus.killed(11, true)));
        Trouble t = problem(v, now);
        assertEquals("exited signal=SEGV (core dumped) after 2s", t.text());
        assertEquals(first, t.since(), "still in trouble since the first quick exit");
        assertEquals(now, t.at());
    }

    @Test
    void anExitAfterALongRunStartsANewTroubleAndClearsAfterTheRespawnHasRunMinUptime() {
        Vassal v = startedRun(step(Vassal.fresh("app"), new Event.FileValid(SPEC)), 1);
        now += 3600 * S;
        v = step(v, new Event.Exited(1, ExitStatus.exited(0)));
        assertEquals(State.STARTING, v.state(), "respawned at once after a long run");
        Trouble t = problem(v, now);
        assertEquals("exited status=0 after 3600s", t.text());
        assertEquals(now, t.since());
        v = startedRun(v, 2);
        assertNotNull(problem(v, now + S));
        assertNull(problem(v, now + MIN_UPTIME.toNanos()));
        // The next exit, an hour later, is a new trouble: since is its own time.
        now += 3600 * S;
        v = step(v, new Event.Exited(2, ExitStatus.exited(3)));
        assertEquals(now, problem(v, now).since());
    }

    @Test
    void aRefusedFileIsTheProblemUntilAVersionIsAccepted() {
        Problem owned = new Problem(Path.of("/v/app.ini"), 0, "owned by root (uid 0): chown it to the user");
        Vassal v = step(Vassal.fresh("app"), new Event.FileInvalid(List.of(owned, new Problem(Path.of("/v/app.ini"), 0, "x"))));
        assertEquals(State.FAILED, v.state());
        Trouble t = problem(v, now + 1000 * S);
        assertEquals("refused: " + owned + " (and 1 more)", t.text());
        assertEquals(Trouble.Kind.FILE, t.kind());
        assertEquals(T0, t.since());
        assertTrue(t.text().contains("owned by root"));
        now += S;
        v = step(v, new Event.FileValid(SPEC));
        assertNull(problem(v, now), "the file is fixed");
    }

    @Test
    void aRefusedNewVersionOfARunningVassalStandsWhileItRunsAndClearsWhenFixed() {
        Vassal v = startedRun(step(Vassal.fresh("app"), new Event.FileValid(SPEC)), 1);
        now += 100 * S;
        v = step(v, new Event.FileInvalid(List.of(new Problem(Path.of("/v/app.ini"), 3, "exec: needs a command"))));
        assertEquals(State.RUNNING, v.state(), "kept running");
        assertEquals("refused: /v/app.ini:3: exec: needs a command", problem(v, now + 100 * S).text(),
                "a refusal does not clear with uptime");
        v = step(v, new Event.FileValid(SPEC));
        assertNull(problem(v, now));
    }

    @Test
    void aSpawnThatCouldNotBeMadeIsTheProblem() {
        Vassal v = step(Vassal.fresh("app"), new Event.FileValid(SPEC));
        v = step(v, new Event.SpawnFailed("fork: Resource temporarily unavailable"));
        assertEquals("spawn failed: fork: Resource temporarily unavailable", problem(v, now).text());
    }

    @Test
    void aStopThatNeededSigkillIsTheProblem() {
        Vassal v = startedRun(step(Vassal.fresh("app"), new Event.FileValid(SPEC)), 1);
        v = step(v, new Event.Stop());
        now = v.deadline();
        v = step(v, new Event.Tick());
        assertTrue(problem(v, now).text().startsWith("stop-timeout "), problem(v, now).text());
    }

    @Test
    void anOperatorStopIsNoProblem() {
        Vassal v = startedRun(step(Vassal.fresh("app"), new Event.FileValid(SPEC)), 1);
        v = step(v, new Event.Stop());
        now += S;
        v = step(v, new Event.Exited(1, ExitStatus.exited(0)));
        assertEquals(State.STOPPED, v.state());
        assertNull(problem(v, now));
    }

    @Test
    void aUwsgiVassalsExitNamesTheCode() {
        Vassal v = startedRun(step(Vassal.fresh("app"), new Event.FileValid(LifecycleTest.UWSGI)), 1);
        now += S / 10;
        Transition t = L.step(v, new Event.Exited(1, ExitStatus.exited(30)), now);
        assertEquals("exited status=30 (uWSGI: end requested) after 0.10s", problem(t.vassal(), now).text());
        assertTrue(t.effects().contains(new Effect.Log(Effect.Level.WARN, "exited status=30 (uWSGI: end requested) uptime=0.10s")),
                t.effects().toString());
        // Not for a program that is not uWSGI: its 30 means what that program says.
        Vassal p = startedRun(step(Vassal.fresh("app"), new Event.FileValid(SPEC)), 1);
        Transition q = L.step(p, new Event.Exited(1, ExitStatus.exited(30)), now + S / 10);
        assertTrue(q.effects().contains(new Effect.Log(Effect.Level.WARN, "exited status=30 uptime=0.10s")),
                q.effects().toString());
    }
}
