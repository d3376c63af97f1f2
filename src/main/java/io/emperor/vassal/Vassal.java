package io.emperor.vassal;

import io.emperor.config.VassalSpec;

/**
 * One vassal as the loop knows it; immutable, replaced on every transition.
 *
 * @param name      the vassal name
 * @param state     what an operator sees
 * @param spec      the spec of the current process, or of the next one to start; null until a
 *                  version of the file has parsed
 * @param next      the spec to start once a restart's stop completes, else null
 * @param after     what happens when a STOPPING process is gone
 * @param runId     the id of the current process run, or 0 when there is none
 * @param pid       the current process's pid, or 0
 * @param startedAt monotonic nanos of the current process's spawn
 * @param stopSince monotonic nanos of the stop signal of the current stop
 * @param execFailed the exec helper reported a failure for the current run
 * @param killed    SIGKILL already went to the group during this stop
 * @param failures  quick exits in a row (reset by a run that lasts min-uptime, or a file change)
 * @param deadline  monotonic nanos of the next timed step, or {@link #NO_DEADLINE}
 * @param restarts  how many times the process was started again after the first start
 * @param heartbeatAt monotonic nanos of the current run's last uWSGI heartbeat, or 0 while it has
 *                  sent none (heartbeat monitoring is off until the first one)
 * @param trouble   the last problem, or null ({@link Trouble}; {@link #problem} says whether it still stands)
 * @param readyAt   monotonic nanos at which the current run became ready ({@link Event.Ready}), or 0
 * @param readyBy   monotonic nanos by which the current run must be ready ({@code ready-timeout}), or
 *                  {@link #NO_DEADLINE}
 * @param readyProblem why the current run is not ready yet, as its probe last said, or null
 * @param waits     what it waits for before it may start ({@link Wait#NONE}: nothing)
 */
public record Vassal(
        String name,
        State state,
        VassalSpec spec,
        VassalSpec next,
        After after,
        long runId,
        long pid,
        long startedAt,
        long stopSince,
        boolean execFailed,
        boolean killed,
        int failures,
        long deadline,
        int restarts,
        long heartbeatAt,
        Trouble trouble,
        long readyAt,
        long readyBy,
        String readyProblem,
        Wait waits) {

    public static final long NO_DEADLINE = Long.MAX_VALUE;

    /** What to do once a stopping process has exited. */
    public enum After {
        NOTHING, RESTART, FORGET,
        /** The run failed (not ready within ready-timeout): back off, then start again. */
        BACKOFF,
        /** The vassal stops by itself (STOPPING=1): respawned as after any exit, without a problem. */
        RESPAWN,
        /** Its watchdog expired (SIGABRT went out): respawned as after a crash, the watchdog its problem. */
        WATCHDOG,
        /**
         * An on-demand vassal asked to stop (uWSGI's byte 22, idle): back to waiting for a connection,
         * without a problem ({@code Listen#onDemand}).
         */
        ON_DEMAND
    }

    /** A vassal the emperor has just learned about: nothing runs yet. */
    public static Vassal fresh(String name) {
        return new Vassal(name, State.STOPPED, null, null, After.NOTHING, 0, 0, 0, 0, false, false, 0,
                NO_DEADLINE, 0, 0, null, 0, NO_DEADLINE, null, Wait.NONE);
    }

    Vassal withState(State s) {
        return new Vassal(name, s, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, deadline, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }

    Vassal withSpec(VassalSpec sp) {
        return new Vassal(name, state, sp, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, deadline, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }

    Vassal withDeadline(long d) {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, d, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }

    Vassal withFailures(int f) {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                f, deadline, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }

    /** Waiting for a Spawned answer: the state is STARTING, no process known yet. */
    Vassal starting(VassalSpec sp) {
        return new Vassal(name, State.STARTING, sp, null, After.NOTHING, 0, 0, 0, 0, false, false,
                failures, NO_DEADLINE, restarts, 0, trouble, 0, NO_DEADLINE, null, waits);
    }

    Vassal withRun(long id, long p, long now) {
        return new Vassal(name, state, spec, next, after, id, p, now, 0, false, false, failures,
                deadline, restarts, 0, trouble, 0, NO_DEADLINE, null, waits);
    }

    Vassal withExecFailed() {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, true, killed,
                failures, deadline, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }

    Vassal stopping(After a, VassalSpec nextSpec, long dl) {
        return new Vassal(name, State.STOPPING, spec, nextSpec, a, runId, pid, startedAt, stopSince, execFailed,
                killed, failures, dl, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }

    /** The stop signal goes out now: STOPPING until the exit. */
    Vassal stoppingSince(After a, VassalSpec nextSpec, long now, long dl) {
        return new Vassal(name, State.STOPPING, spec, nextSpec, a, runId, pid, startedAt, now, execFailed,
                killed, failures, dl, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }

    Vassal withKilled(long dl) {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, true,
                failures, dl, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }

    /** No process any more. */
    Vassal withoutProcess(State s, long dl) {
        return new Vassal(name, s, spec, null, After.NOTHING, 0, 0, 0, 0, false, false, failures, dl,
                restarts, 0, trouble, 0, NO_DEADLINE, null, waits);
    }

    /** A uWSGI heartbeat came at {@code at}; the next one is due at {@code dl}. */
    Vassal withHeartbeat(long at, long dl) {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, dl, restarts, at, trouble, readyAt, readyBy, readyProblem, waits);
    }

    /** A uWSGI reload goes out now: RELOADING until the vassal says it is back (or {@code dl}). */
    Vassal reloading(VassalSpec sp, long dl) {
        return new Vassal(name, State.RELOADING, sp, next, after, runId, pid, startedAt, stopSince, execFailed,
                false, failures, dl, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }

    Vassal withReadyAt(long at) {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, deadline, restarts, heartbeatAt, trouble, at, readyBy, readyProblem, waits);
    }

    /** The current run must be ready by {@code by} (monotonic nanos; {@link #NO_DEADLINE}: no limit). */
    Vassal withReadyBy(long by) {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, deadline, restarts, heartbeatAt, trouble, readyAt, by, readyProblem, waits);
    }

    Vassal withReadyProblem(String problem) {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, deadline, restarts, heartbeatAt, trouble, readyAt, readyBy, problem, waits);
    }

    Vassal withWaits(Wait w) {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, deadline, restarts, heartbeatAt, trouble, readyAt, readyBy, readyProblem, w);
    }

    /**
     * Whether it waits for a connection on its sockets (an on-demand vassal, issue 15): {@code waiting},
     * nothing missing among its requirements, and its spec {@code on-demand}. The loop keeps its
     * listening fds in the I/O thread's epoll set exactly while this holds.
     */
    public boolean waitsForConnection() {
        return state == State.WAITING && waits.open() && spec != null && spec.listen().onDemand();
    }

    /**
     * What a vassal in state {@code waiting} waits for, as {@code status} shows it: its requirements
     * ({@code zeo (not ready)}), else, on demand, {@code a connection on 127.0.0.1:8080}; empty otherwise.
     */
    public String waitingFor() {
        if (!waits.open()) {
            return waits.text();
        }
        if (spec != null && spec.listen().onDemand()) {
            return connectionText(spec);
        }
        return "";
    }

    /** {@code a connection on 127.0.0.1:8080, unix:/run/app.sock}. */
    static String connectionText(VassalSpec spec) {
        return "a connection on " + String.join(", ",
                spec.listen().addresses().stream().map(io.emperor.config.Listen.Address::text).toList());
    }

    /** Whether the current run is ready for the vassals that wait for it. */
    public boolean isReady() {
        return readyAt != 0 && (state == State.RUNNING || state == State.RELOADING);
    }

    /** The next time the loop must step it ({@link Event.Tick}): its deadline or its ready-timeout. */
    public long wakeAt() {
        return Math.min(deadline, readyBy);
    }

    Vassal withTrouble(Trouble t) {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, deadline, restarts, heartbeatAt, t, readyAt, readyBy, readyProblem, waits);
    }

    /** The last problem if it still stands at {@code now} ({@link Trouble#standing}), else null. */
    public Trouble problem(long now, java.time.Duration minUptime) {
        return trouble == null ? null : trouble.standing(this, now, minUptime);
    }

    Vassal countRestart() {
        return new Vassal(name, state, spec, next, after, runId, pid, startedAt, stopSince, execFailed, killed,
                failures, deadline, restarts + 1, heartbeatAt, trouble, readyAt, readyBy, readyProblem, waits);
    }
}
