package io.emperor.vassal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Problem;
import io.emperor.config.ReloadMode;
import io.emperor.config.VassalSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every (state, event) pair of the lifecycle (docs/lifecycle.md has the same table), then the details. */
class LifecycleTest {
    static final long S = 1_000_000_000L;
    static final Policy POLICY = new Policy(Duration.ofSeconds(10), Duration.ofSeconds(60));
    static final Lifecycle L = new Lifecycle(POLICY);
    static final VassalSpec SPEC = Specs.program("app", "/bin/app");
    static final VassalSpec UWSGI = Specs.uwsgi("app", true, false);
    static final long T0 = 1000 * S;
    static final String GONE = "forgotten";
    static final String IMPOSSIBLE = "impossible";

    // One vassal in each state, all with run 1 (pid 100) where a process exists.
    static Vassal stopped() {
        return Vassal.fresh("app");
    }

    static Vassal failed() {
        return L.step(stopped(), new Event.FileInvalid(List.of(new Problem(Path.of("/v/app.ini"), 2, "bad"))), T0).vassal();
    }

    static Vassal starting() {
        Vassal v = L.step(stopped(), new Event.FileValid(SPEC), T0).vassal();
        return L.step(v, new Event.Spawned(1, 100, 0, 0), T0).vassal();
    }

    static Vassal running() {
        return L.step(starting(), new Event.ExecDone(1), T0).vassal();
    }

    static Vassal stopping() {
        return L.step(running(), new Event.FileRemoved(), T0 + S).vassal();
    }

    /** A uWSGI vassal with a master, running, then touched: byte 1 went out. */
    static Vassal reloading() {
        Vassal v = L.step(stopped(), new Event.FileValid(UWSGI), T0).vassal();
        v = L.step(v, new Event.Spawned(1, 100, 0, 0), T0).vassal();
        v = L.step(v, new Event.ExecDone(1), T0).vassal();
        return L.step(v, new Event.FileValid(UWSGI), T0 + S).vassal();
    }

    /** What a vassal waits for while its unix socket is being bound (the loop's Event.Binding). */
    static final Wait BINDING = new Wait(List.of("sockets (binding unix:/run/app.sock)"), false);

    /** What a vassal that requires zeo gets when zeo's file is removed. */
    static final Wait ZEO_GONE = new Wait(List.of("zeo (no such vassal)"), true);

    /** Its file parses, but it requires zeo, which is not there. */
    static Vassal waiting() {
        Vassal v = L.step(stopped(), new Event.Requirements(ZEO_GONE), T0).vassal();
        return L.step(v, new Event.FileValid(SPEC), T0).vassal();
    }

    static Vassal backoff() {
        return L.step(running(), new Event.Exited(1, ExitStatus.exited(1)), T0 + S).vassal();
    }

    /** The event of kind {@code k}; a file event carries the spec the vassal already has (else SPEC). */
    static Event event(Event.Kind k, Vassal v) {
        if (k == Event.Kind.FILE_VALID && v.spec() != null) {
            return new Event.FileValid(v.spec());
        }
        return event(k);
    }

    static Event event(Event.Kind k) {
        return switch (k) {
            case VASSAL_SAYS -> new Event.VassalSays(1, Event.VassalSays.READY);
            case CHANNEL_CLOSED -> new Event.ChannelClosed(1);
            case READY -> new Event.Ready(1, "tcp:127.0.0.1:8100 accepts");
            case NOT_READY -> new Event.NotReady(1, "connect tcp:127.0.0.1:8100: Connection refused");
            case REQUIREMENTS -> new Event.Requirements(ZEO_GONE);
            case NOTIFIED -> new Event.Notified(1, Event.Notified.What.RELOADING);
            case WATCHDOG_MISSED -> new Event.WatchdogMissed(1, Duration.ofSeconds(5));
            case FILE_VALID -> new Event.FileValid(SPEC);
            case FILE_INVALID -> new Event.FileInvalid(List.of(new Problem(Path.of("/v/app.ini"), 3, "broken")));
            case FILE_REMOVED -> new Event.FileRemoved();
            case SPAWNED -> new Event.Spawned(2, 200, 0, 0);
            case SPAWN_FAILED -> new Event.SpawnFailed("no");
            case EXEC_DONE -> new Event.ExecDone(1);
            case EXEC_FAILED -> new Event.ExecFailed(1, "chdir /x: No such file or directory");
            case EXITED -> new Event.Exited(1, ExitStatus.exited(0));
            case TICK -> new Event.Tick();
            case SHUTDOWN -> new Event.Shutdown();
            case FORCE_KILL -> new Event.ForceKill();
            case OPERATOR_STOP -> new Event.Stop();
            case OPERATOR_START -> new Event.Start();
            case OPERATOR_RESTART -> new Event.Restart();
            case OPERATOR_RELOAD -> new Event.Reload();
            case CONNECTION -> new Event.Connection();
            case BINDING -> new Event.Binding(BINDING);
        };
    }

    /** state, event, resulting state (or GONE / IMPOSSIBLE), the effect kinds in order. */
    static Stream<Arguments> table() {
        List<Arguments> rows = new ArrayList<>();
        // STOPPED
        row(rows, "STOPPED", Event.Kind.FILE_VALID, "STARTING", "Spawn");
        row(rows, "STOPPED", Event.Kind.FILE_INVALID, "FAILED", "Log");
        row(rows, "STOPPED", Event.Kind.FILE_REMOVED, GONE, "Log");
        row(rows, "STOPPED", Event.Kind.SPAWNED, IMPOSSIBLE);
        row(rows, "STOPPED", Event.Kind.SPAWN_FAILED, IMPOSSIBLE);
        row(rows, "STOPPED", Event.Kind.EXEC_DONE, "STOPPED");
        row(rows, "STOPPED", Event.Kind.EXEC_FAILED, "STOPPED");
        row(rows, "STOPPED", Event.Kind.EXITED, "STOPPED");
        row(rows, "STOPPED", Event.Kind.TICK, "STOPPED");
        row(rows, "STOPPED", Event.Kind.SHUTDOWN, GONE);
        row(rows, "STOPPED", Event.Kind.FORCE_KILL, "STOPPED");
        row(rows, "STOPPED", Event.Kind.VASSAL_SAYS, "STOPPED");
        row(rows, "STOPPED", Event.Kind.CHANNEL_CLOSED, "STOPPED");
        row(rows, "STOPPED", Event.Kind.READY, "STOPPED");
        row(rows, "STOPPED", Event.Kind.NOT_READY, "STOPPED");
        row(rows, "STOPPED", Event.Kind.REQUIREMENTS, "STOPPED"); // a requirement is gone
        row(rows, "STOPPED", Event.Kind.NOTIFIED, "STOPPED"); // RELOADING=1
        row(rows, "STOPPED", Event.Kind.WATCHDOG_MISSED, "STOPPED");
        row(rows, "STOPPED", Event.Kind.CONNECTION, "STOPPED"); // late, or not on demand
        row(rows, "STOPPED", Event.Kind.BINDING, IMPOSSIBLE); // only after a Spawn (STARTING, no run yet) or a Listen (on demand)
        row(rows, "STOPPED", Event.Kind.OPERATOR_STOP, "STOPPED", "Reply");
        row(rows, "STOPPED", Event.Kind.OPERATOR_START, "STOPPED", "Reply");
        row(rows, "STOPPED", Event.Kind.OPERATOR_RESTART, "STOPPED", "Reply");
        row(rows, "STOPPED", Event.Kind.OPERATOR_RELOAD, "STOPPED", "Reply");
        // FAILED
        row(rows, "FAILED", Event.Kind.FILE_VALID, "STARTING", "Spawn");
        row(rows, "FAILED", Event.Kind.FILE_INVALID, "FAILED", "Log");
        row(rows, "FAILED", Event.Kind.FILE_REMOVED, GONE, "Log");
        row(rows, "FAILED", Event.Kind.SPAWNED, IMPOSSIBLE);
        row(rows, "FAILED", Event.Kind.SPAWN_FAILED, IMPOSSIBLE);
        row(rows, "FAILED", Event.Kind.EXEC_DONE, "FAILED");
        row(rows, "FAILED", Event.Kind.EXEC_FAILED, "FAILED");
        row(rows, "FAILED", Event.Kind.EXITED, "FAILED");
        row(rows, "FAILED", Event.Kind.TICK, "FAILED");
        row(rows, "FAILED", Event.Kind.SHUTDOWN, GONE);
        row(rows, "FAILED", Event.Kind.FORCE_KILL, "FAILED");
        row(rows, "FAILED", Event.Kind.VASSAL_SAYS, "FAILED");
        row(rows, "FAILED", Event.Kind.CHANNEL_CLOSED, "FAILED");
        row(rows, "FAILED", Event.Kind.READY, "FAILED");
        row(rows, "FAILED", Event.Kind.NOT_READY, "FAILED");
        row(rows, "FAILED", Event.Kind.REQUIREMENTS, "FAILED"); // a requirement is gone
        row(rows, "FAILED", Event.Kind.NOTIFIED, "FAILED"); // RELOADING=1
        row(rows, "FAILED", Event.Kind.WATCHDOG_MISSED, "FAILED");
        row(rows, "FAILED", Event.Kind.CONNECTION, "FAILED"); // late, or not on demand
        row(rows, "FAILED", Event.Kind.BINDING, IMPOSSIBLE); // only after a Spawn (STARTING, no run yet) or a Listen (on demand)
        row(rows, "FAILED", Event.Kind.OPERATOR_STOP, "FAILED", "Reply");
        row(rows, "FAILED", Event.Kind.OPERATOR_START, "FAILED", "Reply");
        row(rows, "FAILED", Event.Kind.OPERATOR_RESTART, "FAILED", "Reply");
        row(rows, "FAILED", Event.Kind.OPERATOR_RELOAD, "FAILED", "Reply");
        // BACKOFF (the tick row is at the deadline; before it, see backoffTickBeforeDeadline)
        row(rows, "BACKOFF", Event.Kind.FILE_VALID, "STARTING", "Log", "Spawn");
        row(rows, "BACKOFF", Event.Kind.FILE_INVALID, "FAILED", "Log");
        row(rows, "BACKOFF", Event.Kind.FILE_REMOVED, GONE, "Log");
        row(rows, "BACKOFF", Event.Kind.SPAWNED, IMPOSSIBLE);
        row(rows, "BACKOFF", Event.Kind.SPAWN_FAILED, IMPOSSIBLE);
        row(rows, "BACKOFF", Event.Kind.EXEC_DONE, "BACKOFF");
        row(rows, "BACKOFF", Event.Kind.EXEC_FAILED, "BACKOFF");
        row(rows, "BACKOFF", Event.Kind.EXITED, "BACKOFF");
        row(rows, "BACKOFF", Event.Kind.TICK, "STARTING", "Spawn");
        row(rows, "BACKOFF", Event.Kind.SHUTDOWN, GONE);
        row(rows, "BACKOFF", Event.Kind.FORCE_KILL, "BACKOFF");
        row(rows, "BACKOFF", Event.Kind.VASSAL_SAYS, "BACKOFF");
        row(rows, "BACKOFF", Event.Kind.CHANNEL_CLOSED, "BACKOFF");
        row(rows, "BACKOFF", Event.Kind.READY, "BACKOFF");
        row(rows, "BACKOFF", Event.Kind.NOT_READY, "BACKOFF");
        row(rows, "BACKOFF", Event.Kind.REQUIREMENTS, "BACKOFF"); // a requirement is gone
        row(rows, "BACKOFF", Event.Kind.NOTIFIED, "BACKOFF"); // RELOADING=1
        row(rows, "BACKOFF", Event.Kind.WATCHDOG_MISSED, "BACKOFF");
        row(rows, "BACKOFF", Event.Kind.CONNECTION, "BACKOFF"); // late, or not on demand
        row(rows, "BACKOFF", Event.Kind.BINDING, IMPOSSIBLE); // only after a Spawn (STARTING, no run yet) or a Listen (on demand)
        row(rows, "BACKOFF", Event.Kind.OPERATOR_STOP, "STOPPED", "Log", "Reply");
        row(rows, "BACKOFF", Event.Kind.OPERATOR_START, "STARTING", "Log", "Reply", "Spawn");
        row(rows, "BACKOFF", Event.Kind.OPERATOR_RESTART, "STARTING", "Log", "Reply", "Spawn");
        row(rows, "BACKOFF", Event.Kind.OPERATOR_RELOAD, "BACKOFF", "Reply");
        // STARTING (process spawned, exec not reached yet)
        row(rows, "STARTING", Event.Kind.FILE_VALID, "STARTING");
        row(rows, "STARTING", Event.Kind.FILE_INVALID, "STARTING", "Log", "Log");
        row(rows, "STARTING", Event.Kind.FILE_REMOVED, "STOPPING", "Log", "Signal");
        row(rows, "STARTING", Event.Kind.SPAWNED, IMPOSSIBLE);
        row(rows, "STARTING", Event.Kind.SPAWN_FAILED, IMPOSSIBLE);
        row(rows, "STARTING", Event.Kind.EXEC_DONE, "RUNNING");
        row(rows, "STARTING", Event.Kind.EXEC_FAILED, "STARTING", "Log");
        row(rows, "STARTING", Event.Kind.EXITED, "STARTING", "Log", "Spawn"); // ran past min-uptime
        row(rows, "STARTING", Event.Kind.TICK, "STARTING");
        row(rows, "STARTING", Event.Kind.SHUTDOWN, "STOPPING", "Log", "Signal");
        row(rows, "STARTING", Event.Kind.FORCE_KILL, "STARTING");
        row(rows, "STARTING", Event.Kind.VASSAL_SAYS, "RUNNING", "Log"); // ready
        row(rows, "STARTING", Event.Kind.CHANNEL_CLOSED, "STARTING", "Log");
        row(rows, "STARTING", Event.Kind.READY, "RUNNING", "Log");
        row(rows, "STARTING", Event.Kind.NOT_READY, "STARTING");
        row(rows, "STARTING", Event.Kind.REQUIREMENTS, "STOPPING", "Log", "Signal"); // a requirement is gone
        row(rows, "STARTING", Event.Kind.NOTIFIED, "STARTING"); // RELOADING=1
        row(rows, "STARTING", Event.Kind.WATCHDOG_MISSED, "STOPPING", "Log", "Signal");
        row(rows, "STARTING", Event.Kind.CONNECTION, "STARTING"); // late, or not on demand
        row(rows, "STARTING", Event.Kind.BINDING, IMPOSSIBLE); // only after a Spawn (STARTING, no run yet) or a Listen (on demand)
        row(rows, "STARTING", Event.Kind.OPERATOR_STOP, "STOPPING", "Log", "Signal", "Reply");
        row(rows, "STARTING", Event.Kind.OPERATOR_START, "STARTING", "Reply");
        row(rows, "STARTING", Event.Kind.OPERATOR_RESTART, "STOPPING", "Log", "Signal", "Reply");
        row(rows, "STARTING", Event.Kind.OPERATOR_RELOAD, "STARTING", "Reply");
        // RUNNING
        row(rows, "RUNNING", Event.Kind.FILE_VALID, "RUNNING", "Log", "Signal");
        row(rows, "RUNNING", Event.Kind.FILE_INVALID, "RUNNING", "Log", "Log");
        row(rows, "RUNNING", Event.Kind.FILE_REMOVED, "STOPPING", "Log", "Signal");
        row(rows, "RUNNING", Event.Kind.SPAWNED, IMPOSSIBLE);
        row(rows, "RUNNING", Event.Kind.SPAWN_FAILED, IMPOSSIBLE);
        row(rows, "RUNNING", Event.Kind.EXEC_DONE, "RUNNING");
        row(rows, "RUNNING", Event.Kind.EXEC_FAILED, "RUNNING", "Log");
        row(rows, "RUNNING", Event.Kind.EXITED, "STARTING", "Log", "Spawn"); // ran past min-uptime
        row(rows, "RUNNING", Event.Kind.TICK, "RUNNING");
        row(rows, "RUNNING", Event.Kind.SHUTDOWN, "STOPPING", "Log", "Signal");
        row(rows, "RUNNING", Event.Kind.FORCE_KILL, "RUNNING");
        row(rows, "RUNNING", Event.Kind.VASSAL_SAYS, "RUNNING", "Log"); // ready
        row(rows, "RUNNING", Event.Kind.CHANNEL_CLOSED, "RUNNING", "Log");
        row(rows, "RUNNING", Event.Kind.READY, "RUNNING");
        row(rows, "RUNNING", Event.Kind.NOT_READY, "RUNNING");
        row(rows, "RUNNING", Event.Kind.REQUIREMENTS, "STOPPING", "Log", "Signal"); // a requirement is gone
        row(rows, "RUNNING", Event.Kind.NOTIFIED, "RELOADING", "Log"); // RELOADING=1
        row(rows, "RUNNING", Event.Kind.WATCHDOG_MISSED, "STOPPING", "Log", "Signal");
        row(rows, "RUNNING", Event.Kind.CONNECTION, "RUNNING"); // late, or not on demand
        row(rows, "RUNNING", Event.Kind.BINDING, IMPOSSIBLE); // only after a Spawn (STARTING, no run yet) or a Listen (on demand)
        row(rows, "RUNNING", Event.Kind.OPERATOR_STOP, "STOPPING", "Log", "Signal", "Reply");
        row(rows, "RUNNING", Event.Kind.OPERATOR_START, "RUNNING", "Reply");
        row(rows, "RUNNING", Event.Kind.OPERATOR_RESTART, "STOPPING", "Log", "Signal", "Reply");
        row(rows, "RUNNING", Event.Kind.OPERATOR_RELOAD, "RUNNING", "Log", "Signal", "Reply");
        // STOPPING (the tick row is at the deadline)
        row(rows, "STOPPING", Event.Kind.FILE_VALID, "STOPPING", "Log");
        row(rows, "STOPPING", Event.Kind.FILE_INVALID, "STOPPING", "Log");
        row(rows, "STOPPING", Event.Kind.FILE_REMOVED, "STOPPING");
        row(rows, "STOPPING", Event.Kind.SPAWNED, IMPOSSIBLE);
        row(rows, "STOPPING", Event.Kind.SPAWN_FAILED, IMPOSSIBLE);
        row(rows, "STOPPING", Event.Kind.EXEC_DONE, "STOPPING");
        row(rows, "STOPPING", Event.Kind.EXEC_FAILED, "STOPPING", "Log");
        row(rows, "STOPPING", Event.Kind.EXITED, GONE, "Log");
        row(rows, "STOPPING", Event.Kind.TICK, "STOPPING", "Log", "KillGroup");
        row(rows, "STOPPING", Event.Kind.SHUTDOWN, "STOPPING");
        row(rows, "STOPPING", Event.Kind.FORCE_KILL, "STOPPING", "Log", "KillGroup");
        row(rows, "STOPPING", Event.Kind.VASSAL_SAYS, "STOPPING");
        row(rows, "STOPPING", Event.Kind.CHANNEL_CLOSED, "STOPPING", "Log");
        row(rows, "STOPPING", Event.Kind.READY, "STOPPING");
        row(rows, "STOPPING", Event.Kind.NOT_READY, "STOPPING");
        row(rows, "STOPPING", Event.Kind.REQUIREMENTS, "STOPPING"); // a requirement is gone
        row(rows, "STOPPING", Event.Kind.NOTIFIED, "STOPPING"); // RELOADING=1
        row(rows, "STOPPING", Event.Kind.WATCHDOG_MISSED, "STOPPING");
        row(rows, "STOPPING", Event.Kind.CONNECTION, "STOPPING"); // late, or not on demand
        row(rows, "STOPPING", Event.Kind.BINDING, IMPOSSIBLE); // only after a Spawn (STARTING, no run yet) or a Listen (on demand)
        row(rows, "STOPPING", Event.Kind.OPERATOR_STOP, "STOPPING", "Reply");
        row(rows, "STOPPING", Event.Kind.OPERATOR_START, "STOPPING", "Reply");
        row(rows, "STOPPING", Event.Kind.OPERATOR_RESTART, "STOPPING", "Reply");
        row(rows, "STOPPING", Event.Kind.OPERATOR_RELOAD, "STOPPING", "Reply");
        // RELOADING (a uWSGI vassal with a master, touched: byte 1 sent, not back yet)
        row(rows, "RELOADING", Event.Kind.FILE_VALID, "RELOADING", "Log", "Tell");
        row(rows, "RELOADING", Event.Kind.FILE_INVALID, "RELOADING", "Log", "Log");
        row(rows, "RELOADING", Event.Kind.FILE_REMOVED, "STOPPING", "Log", "Tell");
        row(rows, "RELOADING", Event.Kind.SPAWNED, IMPOSSIBLE);
        row(rows, "RELOADING", Event.Kind.SPAWN_FAILED, IMPOSSIBLE);
        row(rows, "RELOADING", Event.Kind.EXEC_DONE, "RELOADING");
        row(rows, "RELOADING", Event.Kind.EXEC_FAILED, "RELOADING", "Log");
        row(rows, "RELOADING", Event.Kind.EXITED, "STARTING", "Log", "Spawn"); // ran past min-uptime
        row(rows, "RELOADING", Event.Kind.TICK, "RELOADING"); // a touch reload has no deadline
        row(rows, "RELOADING", Event.Kind.SHUTDOWN, "STOPPING", "Log", "Tell");
        row(rows, "RELOADING", Event.Kind.FORCE_KILL, "RELOADING");
        row(rows, "RELOADING", Event.Kind.VASSAL_SAYS, "RUNNING", "Log"); // ready
        row(rows, "RELOADING", Event.Kind.CHANNEL_CLOSED, "RELOADING", "Log");
        row(rows, "RELOADING", Event.Kind.READY, "RELOADING", "Log");
        row(rows, "RELOADING", Event.Kind.NOT_READY, "RELOADING");
        row(rows, "RELOADING", Event.Kind.REQUIREMENTS, "STOPPING", "Log", "Tell"); // a requirement is gone
        row(rows, "RELOADING", Event.Kind.NOTIFIED, "RELOADING"); // RELOADING=1
        row(rows, "RELOADING", Event.Kind.WATCHDOG_MISSED, "STOPPING", "Log", "Signal");
        row(rows, "RELOADING", Event.Kind.CONNECTION, "RELOADING"); // late, or not on demand
        row(rows, "RELOADING", Event.Kind.BINDING, IMPOSSIBLE); // only after a Spawn (STARTING, no run yet) or a Listen (on demand)
        row(rows, "RELOADING", Event.Kind.OPERATOR_STOP, "STOPPING", "Log", "Tell", "Reply");
        row(rows, "RELOADING", Event.Kind.OPERATOR_START, "RELOADING", "Reply");
        row(rows, "RELOADING", Event.Kind.OPERATOR_RESTART, "STOPPING", "Log", "Tell", "Reply");
        row(rows, "RELOADING", Event.Kind.OPERATOR_RELOAD, "RELOADING", "Reply");
        // WAITING (its file parses; it requires zeo, which is not there)
        row(rows, "WAITING", Event.Kind.FILE_VALID, "WAITING");
        row(rows, "WAITING", Event.Kind.FILE_INVALID, "FAILED", "Log");
        row(rows, "WAITING", Event.Kind.FILE_REMOVED, GONE, "Log");
        row(rows, "WAITING", Event.Kind.SPAWNED, IMPOSSIBLE);
        row(rows, "WAITING", Event.Kind.SPAWN_FAILED, IMPOSSIBLE);
        row(rows, "WAITING", Event.Kind.EXEC_DONE, "WAITING");
        row(rows, "WAITING", Event.Kind.EXEC_FAILED, "WAITING");
        row(rows, "WAITING", Event.Kind.EXITED, "WAITING");
        row(rows, "WAITING", Event.Kind.TICK, "WAITING");
        row(rows, "WAITING", Event.Kind.SHUTDOWN, GONE);
        row(rows, "WAITING", Event.Kind.FORCE_KILL, "WAITING");
        row(rows, "WAITING", Event.Kind.VASSAL_SAYS, "WAITING");
        row(rows, "WAITING", Event.Kind.CHANNEL_CLOSED, "WAITING");
        row(rows, "WAITING", Event.Kind.READY, "WAITING");
        row(rows, "WAITING", Event.Kind.NOT_READY, "WAITING");
        row(rows, "WAITING", Event.Kind.NOTIFIED, "WAITING"); // RELOADING=1
        row(rows, "WAITING", Event.Kind.WATCHDOG_MISSED, "WAITING");
        row(rows, "WAITING", Event.Kind.CONNECTION, "WAITING"); // late, or not on demand
        row(rows, "WAITING", Event.Kind.BINDING, IMPOSSIBLE); // only after a Spawn (STARTING, no run yet) or a Listen (on demand)
        row(rows, "WAITING", Event.Kind.REQUIREMENTS, "WAITING"); // the same names: no new line
        row(rows, "WAITING", Event.Kind.OPERATOR_STOP, "STOPPED", "Log", "Reply");
        row(rows, "WAITING", Event.Kind.OPERATOR_START, "WAITING", "Reply");
        row(rows, "WAITING", Event.Kind.OPERATOR_RESTART, "WAITING", "Reply");
        row(rows, "WAITING", Event.Kind.OPERATOR_RELOAD, "WAITING", "Reply");
        return rows.stream();
    }

    private static void row(List<Arguments> rows, String state, Event.Kind kind, String next, String... effects) {
        rows.add(Arguments.of(state, kind, next, List.of(effects)));
    }

    static Vassal inState(String state) {
        return switch (state) {
            case "STOPPED" -> stopped();
            case "FAILED" -> failed();
            case "BACKOFF" -> backoff();
            case "STARTING" -> starting();
            case "RUNNING" -> running();
            case "STOPPING" -> stopping();
            case "RELOADING" -> reloading();
            case "WAITING" -> waiting();
            default -> throw new IllegalArgumentException(state);
        };
    }

    @Test
    void theTableCoversEveryPair() {
        assertEquals(State.values().length * Event.Kind.values().length, table().count());
        for (State s : State.values()) {
            for (Event.Kind k : Event.Kind.values()) {
                assertTrue(table().anyMatch(a -> a.get()[0].equals(s.name()) && a.get()[1] == k), s + " x " + k);
            }
        }
    }

    @ParameterizedTest(name = "{0} + {1} -> {2} {3}")
    @MethodSource("table")
    void everyStateAndEvent(String state, Event.Kind kind, String next, List<String> effects) {
        Vassal v = inState(state);
        assertEquals(state, v.state().name(), "fixture");
        // A time past every deadline a fixture can have: ticks act.
        long now = T0 + 1000 * S;
        if (next.equals(IMPOSSIBLE)) {
            assertThrows(IllegalStateException.class, () -> L.step(v, event(kind, v), now));
            return;
        }
        Transition t = L.step(v, event(kind, v), now);
        if (next.equals(GONE)) {
            assertNull(t.vassal());
        } else {
            assertEquals(next, t.vassal().state().name());
        }
        assertEquals(effects, t.effects().stream().map(e -> e.getClass().getSimpleName()).toList(), t.effects().toString());
    }

    // ---- the details behind the rows ----

    static List<String> logs(Transition t) {
        return t.effects().stream().filter(e -> e instanceof Effect.Log).map(e -> ((Effect.Log) e).message()).toList();
    }

    @Test
    void spawnedLogsPidAndIdentity() {
        Vassal v = L.step(stopped(), new Event.FileValid(SPEC), T0).vassal();
        Transition t = L.step(v, new Event.Spawned(7, 4242, 1000, 100), T0);
        assertEquals(List.of("spawned pid=4242 uid=1000 gid=100"), logs(t));
        assertEquals(7, t.vassal().runId());
        assertEquals(T0, t.vassal().startedAt());
    }

    @Test
    void spawnFailureBacksOff() {
        Vassal v = L.step(stopped(), new Event.FileValid(SPEC), T0).vassal();
        Transition t = L.step(v, new Event.SpawnFailed("posix_spawn: Resource temporarily unavailable"), T0);
        assertEquals(State.BACKOFF, t.vassal().state());
        assertEquals(T0 + S, t.vassal().deadline());
        assertEquals("spawn failed: posix_spawn: Resource temporarily unavailable", logs(t).get(0));
    }

    /**
     * A spawn whose unix socket is being bound as the vassal (the loop never waits for that child): STARTING
     * with no run yet -> WAITING for it, one line; its answer (a Requirements without it) spawns.
     */
    @Test
    void aSpawnWhoseSocketIsBeingBoundWaitsForItThenSpawns() {
        Vassal v = L.step(stopped(), new Event.FileValid(SPEC), T0).vassal();
        Transition t = L.step(v, new Event.Binding(BINDING), T0);
        assertEquals(State.WAITING, t.vassal().state());
        assertEquals(0, t.vassal().runId());
        assertEquals("sockets (binding unix:/run/app.sock)", t.vassal().waitingFor());
        assertEquals(List.of("waiting for sockets (binding unix:/run/app.sock)"), logs(t));
        assertEquals(List.of(), t.effects().stream().filter(e -> !(e instanceof Effect.Log)).toList());
        Transition go = L.step(t.vassal(), new Event.Requirements(Wait.NONE), T0 + S);
        assertEquals(State.STARTING, go.vassal().state());
        assertEquals(List.of(new Effect.Spawn(SPEC)), go.effects().stream().filter(Effect.Spawn.class::isInstance)
                .toList());
        assertEquals(List.of("starting: done waiting for sockets"), logs(go));
    }

    /** A failed bind comes as the next spawn's SpawnFailed: the usual backoff, the reason in the line. */
    @Test
    void aBindThatFailsBacksOffAtTheSpawnAfterItsAnswer() {
        Vassal v = L.step(stopped(), new Event.FileValid(SPEC), T0).vassal();
        v = L.step(v, new Event.Binding(BINDING), T0).vassal();
        v = L.step(v, new Event.Requirements(Wait.NONE), T0 + S).vassal();
        Transition t = L.step(v, new Event.SpawnFailed("listen unix:/run/app.sock: the exec helper did not answer"
                + " within 30.0 s (stopped, or hung on the path?); it was killed"), T0 + S);
        assertEquals(State.BACKOFF, t.vassal().state());
        assertTrue(logs(t).get(0).startsWith("spawn failed: listen unix:/run/app.sock: the exec helper did not answer"),
                logs(t).toString());
    }

    @Test
    void quickExitsBackOffExponentiallyUpToTheCap() {
        Policy p = new Policy(Duration.ofSeconds(10), Duration.ofSeconds(60));
        Lifecycle l = new Lifecycle(p);
        Vassal v = L.step(stopped(), new Event.FileValid(SPEC), T0).vassal();
        long now = T0;
        long[] expected = {1, 2, 4, 8, 16, 32, 60, 60};
        for (int i = 0; i < expected.length; i++) {
            long run = i + 1;
            v = l.step(v, new Event.Spawned(run, 100 + run, 0, 0), now).vassal();
            now += S / 2; // dies after half a second: a quick exit
            Transition t = l.step(v, new Event.Exited(run, ExitStatus.exited(1)), now);
            v = t.vassal();
            assertEquals(State.BACKOFF, v.state());
            assertEquals(expected[i] * S, v.deadline() - now, "delay after exit " + (i + 1));
            assertTrue(logs(t).contains("backoff retry in " + expected[i] + "s ("
                    + (i == 0 ? "1 quick exit)" : (i + 1) + " quick exits in a row)")), logs(t).toString());
            // Nothing happens before the deadline ...
            assertEquals(v, l.step(v, new Event.Tick(), v.deadline() - 1).vassal());
            // ... and at the deadline the next try starts.
            now = v.deadline();
            t = l.step(v, new Event.Tick(), now);
            assertEquals(List.of(new Effect.Spawn(SPEC)), t.effects());
            v = t.vassal();
        }
        assertEquals(expected.length, v.restarts());
    }

    @Test
    void backoffArithmetic() {
        Policy p = new Policy(Duration.ofSeconds(10), Duration.ofSeconds(5));
        assertEquals(S, p.backoffNanos(1));
        assertEquals(2 * S, p.backoffNanos(2));
        assertEquals(4 * S, p.backoffNanos(3));
        assertEquals(5 * S, p.backoffNanos(4));
        assertEquals(5 * S, p.backoffNanos(1_000_000));
    }

    @Test
    void aRunPastMinUptimeIsRespawnedAtOnceAndResetsTheBackoff() {
        Vassal v = L.step(backoff(), new Event.Tick(), T0 + 100 * S).vassal(); // second try
        assertEquals(1, v.failures());
        v = L.step(v, new Event.Spawned(2, 101, 0, 0), T0 + 100 * S).vassal();
        Transition t = L.step(v, new Event.Exited(2, ExitStatus.killed(9, false)), T0 + 110 * S);
        assertEquals(State.STARTING, t.vassal().state());
        assertEquals(0, t.vassal().failures());
        assertEquals(List.of("exited signal=KILL uptime=10s"), logs(t));
        assertEquals(new Effect.Spawn(SPEC), t.effects().get(t.effects().size() - 1));
    }

    @Test
    void anExecFailureBacksOffEvenAfterALongWait() {
        Vassal v = L.step(starting(), new Event.ExecFailed(1, "chdir /srv: No such file or directory"), T0).vassal();
        Transition t = L.step(v, new Event.Exited(1, ExitStatus.exited(127)), T0 + 100 * S);
        assertEquals(State.BACKOFF, t.vassal().state());
    }

    @Test
    void aTouchCutsTheBackoffShort() {
        Vassal v = backoff();
        assertTrue(v.deadline() > T0 + S);
        Transition t = L.step(v, new Event.FileValid(SPEC), T0 + S + 1);
        assertEquals(State.STARTING, t.vassal().state());
        assertEquals(0, t.vassal().failures());
        assertEquals(List.of("retrying now: file changed"), logs(t));
    }

    @Test
    void aChangeOfSpawnSettingsRestarts() {
        for (VassalSpec changed : List.of(Specs.withArgv(SPEC, "/bin/other"), Specs.withEnv(SPEC, "A=1"),
                Specs.withReload(SPEC, ReloadMode.RESTART))) {
            Transition t = L.step(running(), new Event.FileValid(changed), T0 + S);
            assertEquals(State.STOPPING, t.vassal().state(), changed.toString());
            assertEquals(Vassal.After.RESTART, t.vassal().after());
            assertEquals(new Effect.Signal(1, 15), t.effects().get(1));
            assertTrue(logs(t).get(0).startsWith("restarting: "), logs(t).toString());
            // The exit of the old process starts the new spec.
            Transition done = L.step(t.vassal(), new Event.Exited(1, ExitStatus.exited(0)), T0 + 2 * S);
            assertEquals(State.STARTING, done.vassal().state());
            assertEquals(new Effect.Spawn(changed), done.effects().get(done.effects().size() - 1));
        }
    }

    @Test
    void aChangeOfStopSettingsOnlyReloads() {
        VassalSpec changed = Specs.withStop(SPEC, 2, Duration.ofSeconds(5));
        Transition t = L.step(running(), new Event.FileValid(changed), T0 + S);
        assertEquals(State.RUNNING, t.vassal().state());
        assertEquals(changed, t.vassal().spec());
        assertEquals(List.of("reloading signal=HUP pid=100"), logs(t));
        assertEquals(new Effect.Signal(1, 1), t.effects().get(1));
    }

    @Test
    void aBrokenEditKeepsTheRunningVassal() {
        Vassal v = running();
        Transition t = L.step(v, event(Event.Kind.FILE_INVALID), T0 + S);
        assertEquals(v, t.vassal().withTrouble(null), "the same run, only its last problem set (TroubleTest)");
        assertEquals(List.of("refused: /v/app.ini:3: broken", "kept running pid=100 (last good version of the file)"), logs(t));
    }

    @Test
    void stopEscalatesToSigkillOfTheGroupAfterTheTimeout() {
        VassalSpec spec = Specs.withStop(SPEC, 2, Duration.ofSeconds(3));
        Vassal v = L.step(stopped(), new Event.FileValid(spec), T0).vassal();
        v = L.step(v, new Event.Spawned(1, 100, 0, 0), T0).vassal();
        Transition t = L.step(v, new Event.FileRemoved(), T0 + S);
        assertEquals(List.of("stopping: file removed signal=INT pid=100 timeout=3s"), logs(t));
        v = t.vassal();
        assertEquals(T0 + 4 * S, v.deadline());
        assertEquals(v, L.step(v, new Event.Tick(), T0 + 4 * S - 1).vassal());
        t = L.step(v, new Event.Tick(), T0 + 4 * S);
        assertEquals(List.of(new Effect.Log(Effect.Level.WARN, "stop-timeout 3s passed: SIGKILL to process group 100"),
                new Effect.KillGroup(1)), t.effects());
        // Still there after the grace: said once, then it waits without a deadline.
        t = L.step(t.vassal(), new Event.Tick(), T0 + 4 * S + Lifecycle.KILL_GRACE);
        assertEquals(1, logs(t).size());
        assertEquals(Vassal.NO_DEADLINE, t.vassal().deadline());
        t = L.step(t.vassal(), new Event.Exited(1, ExitStatus.killed(9, false)), T0 + 20 * S);
        assertNull(t.vassal());
        assertEquals(List.of("stopped signal=KILL after 19s"), logs(t)); // since the stop signal at T0 + 1 s
    }

    @Test
    void aFileThatComesBackDuringItsStopStartsAgain() {
        Transition t = L.step(stopping(), new Event.FileValid(SPEC), T0 + S);
        assertEquals(Vassal.After.RESTART, t.vassal().after());
        t = L.step(t.vassal(), new Event.Exited(1, ExitStatus.exited(0)), T0 + 2 * S);
        assertEquals(State.STARTING, t.vassal().state());
    }

    @Test
    void eventsOfAnEarlierRunChangeNothing() {
        Vassal v = running();
        for (Event e : List.of(new Event.Exited(99, ExitStatus.exited(0)), new Event.ExecDone(99),
                new Event.ExecFailed(99, "x"), new Event.Exited(0, ExitStatus.exited(0)))) {
            Transition t = L.step(v, e, T0 + S);
            assertEquals(v, t.vassal());
            assertTrue(t.effects().isEmpty());
        }
    }

    @Test
    void aChangeWhileStartingNeedsNoSignal() {
        VassalSpec changed = Specs.withStop(SPEC, 2, Duration.ofSeconds(5));
        Transition t = L.step(starting(), new Event.FileValid(changed), T0);
        assertEquals(changed, t.vassal().spec());
        assertTrue(t.effects().isEmpty());
    }

    // ---- uWSGI vassals: the emperor channel ----

    static Vassal runningUwsgi(VassalSpec spec) {
        Vassal v = L.step(stopped(), new Event.FileValid(spec), T0).vassal();
        v = L.step(v, new Event.Spawned(1, 100, 0, 0), T0).vassal();
        return L.step(v, new Event.ExecDone(1), T0).vassal();
    }

    static Event says(int b) {
        return new Event.VassalSays(1, b);
    }

    @Test
    void aTouchedUwsgiVassalWithMasterReloadsWithByteOneAndComesBackWhenItSaysSo() {
        Transition t = L.step(runningUwsgi(UWSGI), new Event.FileValid(UWSGI), T0 + S);
        assertEquals(State.RELOADING, t.vassal().state());
        assertEquals(List.of(new Effect.Log(Effect.Level.INFO, "reloading byte=1 pid=100"), new Effect.Tell(1, 1)), t.effects());
        // uWSGI 2.0 sends "ready" only at its first start; after a reload worker 1 says "accepting".
        Transition back = L.step(t.vassal(), says(5), T0 + 2 * S);
        assertEquals(State.RUNNING, back.vassal().state());
        assertEquals(List.of("accepting"), logs(back));
        assertEquals(100, back.vassal().pid());
    }

    @Test
    void aUwsgiVassalWithoutMasterIsRestartedOnATouchAndStoppedWithByteZeroAndSigint() {
        VassalSpec noMaster = Specs.uwsgi("app", false, false);
        Transition t = L.step(runningUwsgi(noMaster), new Event.FileValid(noMaster), T0 + S);
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(Vassal.After.RESTART, t.vassal().after());
        assertEquals(List.of("restarting: reload of a uWSGI vassal without master byte=0 signal=INT pid=100 timeout=30s"), logs(t));
        assertEquals(List.of(new Effect.Tell(1, 0), new Effect.Signal(1, 2)), t.effects().subList(1, 3));
        t = L.step(runningUwsgi(noMaster), new Event.FileRemoved(), T0 + S);
        assertEquals(List.of("stopping: file removed byte=0 signal=INT pid=100 timeout=30s"), logs(t));
        assertEquals(3, t.effects().size());
    }

    @Test
    void aUwsgiVassalWithMasterIsStoppedWithByteZeroOrTwoOnly() {
        Transition t = L.step(runningUwsgi(UWSGI), new Event.FileRemoved(), T0 + S);
        assertEquals(List.of(new Effect.Log(Effect.Level.INFO, "stopping: file removed byte=0 pid=100 timeout=30s"),
                new Effect.Tell(1, 0)), t.effects());
        VassalSpec graceful = Specs.uwsgi("app", true, true);
        t = L.step(runningUwsgi(graceful), new Event.Shutdown(), T0 + S);
        assertEquals(List.of(new Effect.Log(Effect.Level.INFO, "stopping: emperor stopping byte=2 pid=100 timeout=30s"),
                new Effect.Tell(1, 2)), t.effects());
    }

    @Test
    void gainingOrLosingTheMasterRestarts() {
        Transition t = L.step(runningUwsgi(UWSGI), new Event.FileValid(Specs.uwsgi("app", false, false)), T0 + S);
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(Vassal.After.RESTART, t.vassal().after());
        // graceful-shutdown alone is no spawn setting: a plain reload
        t = L.step(runningUwsgi(UWSGI), new Event.FileValid(Specs.uwsgi("app", true, true)), T0 + S);
        assertEquals(State.RELOADING, t.vassal().state());
    }

    @Test
    void whatTheVassalSaysIsLogged() {
        Vassal v = runningUwsgi(UWSGI);
        assertEquals(List.of("ready"), logs(L.step(v, says(1), T0)));
        assertEquals(List.of("accepting"), logs(L.step(v, says(5), T0)));
        assertEquals(List.of("loyal"), logs(L.step(v, says(17), T0)));
        assertEquals(List.of("asks for more workers (byte 30; broodlord mode is not supported)"), logs(L.step(v, says(30), T0)));
        assertEquals(List.of("unknown byte 99 on the emperor channel"), logs(L.step(v, says(99), T0)));
        // what the I/O thread counted in a minute of unknown bytes: one line
        assertEquals(List.of("unknown byte 99 on the emperor channel (48213 unknown bytes since the last such line)"),
                logs(L.step(v, new Event.VassalSays(1, 99, 48213), T0)));
        assertEquals(List.of("going (emperor channel closed)"), logs(L.step(v, new Event.ChannelClosed(1), T0)));
        // late news of another run changes nothing
        assertEquals(v, L.step(v, new Event.VassalSays(2, 1), T0).vassal());
    }

    @Test
    void aVoluntaryStopRestartsTheVassal() {
        Transition t = L.step(runningUwsgi(UWSGI), says(22), T0 + S);
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(Vassal.After.RESTART, t.vassal().after());
        assertEquals(List.of("restarting: the vassal asked to stop (byte 22) byte=0 pid=100 timeout=30s"), logs(t));
    }

    @Test
    void aMissedHeartbeatReloadsThenKillsAndTheExitRespawns() {
        long hb = POLICY.requiredHeartbeat().toNanos();
        Vassal v = runningUwsgi(UWSGI);
        assertEquals(Vassal.NO_DEADLINE, v.deadline(), "no monitoring before the first heartbeat");
        Transition t = L.step(v, says(26), T0 + S);
        assertEquals(List.of("heartbeat: from now on required every 30s"), logs(t));
        assertEquals(T0 + S + hb, t.vassal().deadline());
        t = L.step(t.vassal(), says(26), T0 + 2 * S);
        assertTrue(logs(t).isEmpty(), "only the first heartbeat is logged");
        v = t.vassal();
        assertEquals(v, L.step(v, new Event.Tick(), T0 + 2 * S + hb - 1).vassal());
        t = L.step(v, new Event.Tick(), T0 + 2 * S + hb);
        assertEquals(State.RELOADING, t.vassal().state());
        assertEquals(List.of(new Effect.Log(Effect.Level.WARN, "no heartbeat in the last 30s: reloading byte=1 pid=100"),
                new Effect.Tell(1, 1)), t.effects());
        v = t.vassal();
        t = L.step(v, new Event.Tick(), T0 + 2 * S + 2 * hb);
        assertEquals(List.of(new Effect.Log(Effect.Level.WARN, "no heartbeat 30s after the reload: SIGKILL to process group 100"),
                new Effect.KillGroup(1)), t.effects());
        assertEquals(Vassal.NO_DEADLINE, t.vassal().deadline());
        t = L.step(t.vassal(), new Event.Exited(1, ExitStatus.killed(9, false)), T0 + 2 * S + 2 * hb);
        assertEquals(State.STARTING, t.vassal().state());
        assertEquals(new Effect.Spawn(UWSGI), t.effects().get(t.effects().size() - 1));
    }

    @Test
    void aHeartbeatAfterTheReloadEndsIt() {
        long hb = POLICY.requiredHeartbeat().toNanos();
        Vassal v = L.step(runningUwsgi(UWSGI), says(26), T0).vassal();
        v = L.step(v, new Event.Tick(), T0 + hb).vassal();
        assertEquals(State.RELOADING, v.state());
        Transition t = L.step(v, says(26), T0 + hb + S);
        assertEquals(State.RUNNING, t.vassal().state());
        assertEquals(List.of("back (heartbeat)"), logs(t));
        assertEquals(T0 + hb + S + hb, t.vassal().deadline());
    }

    @Test
    void aTouchReloadSuspendsHeartbeatMonitoringUntilTheVassalIsBack() {
        Vassal v = L.step(runningUwsgi(UWSGI), says(26), T0).vassal();
        v = L.step(v, new Event.FileValid(UWSGI), T0 + S).vassal();
        assertEquals(State.RELOADING, v.state());
        assertEquals(Vassal.NO_DEADLINE, v.deadline());
        Transition t = L.step(v, says(5), T0 + 2 * S);
        assertEquals(T0 + 2 * S + POLICY.requiredHeartbeat().toNanos(), t.vassal().deadline());
    }

    @Test
    void aMissedHeartbeatWithoutMasterRestarts() {
        VassalSpec noMaster = Specs.uwsgi("app", false, false);
        Vassal v = L.step(runningUwsgi(noMaster), says(26), T0).vassal();
        Transition t = L.step(v, new Event.Tick(), T0 + POLICY.requiredHeartbeat().toNanos());
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(List.of("restarting: no heartbeat in the last 30s byte=0 signal=INT pid=100 timeout=30s"), logs(t));
    }

    @Test
    void durationsInLogLines() {
        assertEquals("2s", Lifecycle.seconds(2 * S));
        assertEquals("0.25s", Lifecycle.seconds(S / 4));
        assertEquals("1.50s", Lifecycle.seconds(3 * S / 2));
    }

    // ---- operator commands (the control socket) ----

    static List<Effect.Reply> replies(Transition t) {
        return t.effects().stream().filter(e -> e instanceof Effect.Reply).map(e -> (Effect.Reply) e).toList();
    }

    @Test
    void everyOperatorCommandGetsExactlyOneAnswerInEveryState() {
        for (State s : State.values()) {
            for (Event.Kind k : List.of(Event.Kind.OPERATOR_STOP, Event.Kind.OPERATOR_START,
                    Event.Kind.OPERATOR_RESTART, Event.Kind.OPERATOR_RELOAD)) {
                assertEquals(1, replies(L.step(inState(s.name()), event(k), T0 + 1000 * S)).size(), s + " x " + k);
            }
        }
        // and no other event ever answers
        for (Event.Kind k : Event.Kind.values()) {
            if (event(k) instanceof Event.Operator) {
                continue;
            }
            Vassal v = running();
            if (k != Event.Kind.SPAWNED && k != Event.Kind.SPAWN_FAILED && k != Event.Kind.BINDING) {
                assertEquals(List.of(), replies(L.step(v, event(k, v), T0 + 1000 * S)), k.toString());
            }
        }
    }

    @Test
    void anOperatorStopStaysStoppedUntilAStart() {
        Transition t = L.step(running(), new Event.Stop(), T0 + S);
        assertEquals(State.STOPPING, t.vassal().state());
        assertEquals(List.of(new Effect.Reply(true, "stopping")), replies(t));
        assertEquals(List.of("stopping: operator signal=TERM pid=100 timeout=30s"), logs(t));
        Vassal stopped = L.step(t.vassal(), new Event.Exited(1, ExitStatus.killed(15, false)), T0 + 2 * S).vassal();
        assertEquals(State.STOPPED, stopped.state());
        assertEquals(SPEC, stopped.spec());
        assertEquals(Vassal.NO_DEADLINE, stopped.deadline());
        // time passes: nothing starts it
        assertEquals(State.STOPPED, L.step(stopped, new Event.Tick(), T0 + 1000 * S).vassal().state());
        Transition start = L.step(stopped, new Event.Start(), T0 + 3 * S);
        assertEquals(State.STARTING, start.vassal().state());
        assertEquals(new Effect.Spawn(SPEC), start.effects().get(start.effects().size() - 1));
        assertEquals(List.of(new Effect.Reply(true, "starting")), replies(start));
    }

    @Test
    void aChangeOfTheFileStartsAStoppedVassal() {
        Vassal stopped = L.step(L.step(running(), new Event.Stop(), T0 + S).vassal(),
                new Event.Exited(1, ExitStatus.exited(0)), T0 + 2 * S).vassal();
        Transition t = L.step(stopped, new Event.FileValid(SPEC), T0 + 3 * S);
        assertEquals(State.STARTING, t.vassal().state());
    }

    @Test
    void aStopDuringARestartWinsAndAStartDuringAStopRestarts() {
        Vassal restarting = L.step(running(), new Event.Restart(), T0 + S).vassal();
        assertEquals(Vassal.After.RESTART, restarting.after());
        Vassal stopping = L.step(restarting, new Event.Stop(), T0 + S).vassal();
        assertEquals(Vassal.After.NOTHING, stopping.after());
        Vassal again = L.step(stopping, new Event.Start(), T0 + S).vassal();
        assertEquals(Vassal.After.RESTART, again.after());
        Transition t = L.step(again, new Event.Exited(1, ExitStatus.exited(0)), T0 + 2 * S);
        assertEquals(State.STARTING, t.vassal().state());
        assertEquals(1, t.vassal().restarts());
    }

    @Test
    void aStopOfABackingOffVassalCancelsTheRetry() {
        Transition t = L.step(backoff(), new Event.Stop(), T0 + 2 * S);
        assertEquals(State.STOPPED, t.vassal().state());
        assertEquals(Vassal.NO_DEADLINE, t.vassal().deadline());
        Transition start = L.step(t.vassal(), new Event.Start(), T0 + 3 * S);
        assertEquals(State.STARTING, start.vassal().state());
        assertEquals(0, start.vassal().failures());
    }

    @Test
    void refusedCommandsSayWhy() {
        assertEquals(List.of(new Effect.Reply(false, "not started: its file has errors (see emperor.log or 'emperor check')")),
                replies(L.step(failed(), new Event.Start(), T0)));
        assertEquals(List.of(new Effect.Reply(false, "not reloaded: not running (backoff)")),
                replies(L.step(backoff(), new Event.Reload(), T0 + 2 * S)));
        assertEquals(List.of(new Effect.Reply(false, "not reloaded: still starting")),
                replies(L.step(starting(), new Event.Reload(), T0)));
        assertEquals(List.of(new Effect.Reply(false, "not started: its file is gone")),
                replies(L.step(stopping(), new Event.Start(), T0 + 2 * S)));
    }

    @Test
    void anOperatorReloadIsWhatATouchDoes() {
        Transition t = L.step(running(), new Event.Reload(), T0 + S);
        assertEquals(List.of("reloading signal=HUP pid=100"), logs(t));
        assertEquals(new Effect.Signal(1, 1), t.effects().get(1));
        Transition u = L.step(runningUwsgi(UWSGI), new Event.Reload(), T0 + S);
        assertEquals(State.RELOADING, u.vassal().state());
        Transition n = L.step(runningUwsgi(Specs.uwsgi("app", false, false)), new Event.Reload(), T0 + S);
        assertEquals(State.STOPPING, n.vassal().state());
        assertEquals(Vassal.After.RESTART, n.vassal().after());
    }
}
