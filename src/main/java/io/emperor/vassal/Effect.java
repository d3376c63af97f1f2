package io.emperor.vassal;

import io.emperor.config.VassalSpec;

/** What the lifecycle asks the loop to do; data only, so the lifecycle stays a pure function. */
public sealed interface Effect {

    /** Start a process for this spec; the loop answers with Spawned or SpawnFailed. */
    record Spawn(VassalSpec spec) implements Effect {}

    /**
     * An on-demand vassal now waits for a connection (issue 15): hold the spec's sockets
     * ({@code Launcher#hold}; the loop answers a failure with {@link Event.SpawnFailed}), and watch
     * them on the I/O thread until the first connection ({@link Event.Connection}).
     */
    record Listen(VassalSpec spec) implements Effect {}

    /** Send a signal to the main process of a run. */
    record Signal(long runId, int signal) implements Effect {}

    /** SIGKILL a run's whole process group (its session), leftovers included. */
    record KillGroup(long runId) implements Effect {}

    /**
     * Write one byte on a uWSGI run's emperor channel (0 stop, 1 reload, 2 graceful stop); never
     * blocks: a full channel is logged and the byte dropped.
     */
    record Tell(long runId, int message) implements Effect {
        public static final int STOP = 0;
        public static final int RELOAD = 1;
        public static final int GRACEFUL_STOP = 2;
    }

    /**
     * Start probing whether a run is ready ({@code ready = tcp:…} or {@code unix:…}) on the I/O
     * thread, which posts {@link Event.Ready} when a connection succeeds (and {@link Event.NotReady}
     * when the reason it fails changes). The probe ends with the run.
     *
     * @param uid the uid the run runs as (-1: the emperor's): a unix socket probed must be that user's
     */
    record Probe(long runId, io.emperor.config.Readiness how, int uid) implements Effect {}

    /** Write a log line; the loop prefixes the vassal name. */
    record Log(Level level, String message) implements Effect {}

    /**
     * The answer to an operator's command ({@link Event.Operator}): {@code ok} is false when the
     * command cannot apply (a reload of a vassal that does not run, a start of a broken file).
     */
    record Reply(boolean ok, String message) implements Effect {}

    enum Level { INFO, WARN, ERROR }
}
