package io.emperor.vassal;

import io.emperor.config.VassalSpec;

/** What the lifecycle asks the loop to do; data only, so the lifecycle stays a pure function. */
public sealed interface Effect {

    /** Start a process for this spec; the loop answers with Spawned or SpawnFailed. */
    record Spawn(VassalSpec spec) implements Effect {}

    /** Send a signal to the main process of a run. */
    record Signal(long runId, int signal) implements Effect {}

    /** SIGKILL a run's whole process group (its session), leftovers included. */
    record KillGroup(long runId) implements Effect {}

    /** Write a log line; the loop prefixes the vassal name. */
    record Log(Level level, String message) implements Effect {}

    enum Level { INFO, WARN, ERROR }
}
