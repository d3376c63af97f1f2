package io.emperor.loop;

import io.emperor.config.VassalSpec;
import io.emperor.vassal.ExitStatus;

/**
 * The port through which the loop starts, signals and reaps vassal processes. Only the loop
 * thread calls it. What happens to a process afterwards (exec reached or failed, output, exit)
 * comes back as {@link LoopEvent}s posted to the loop.
 */
public interface Launcher {

    /** The outcome of a spawn. */
    sealed interface SpawnResult {
        /** A process exists, with the identity it runs as. */
        record Started(long pid, int uid, int gid) implements SpawnResult {}

        /** No process could be created (helper missing, out of processes, ...). */
        record Failed(String reason) implements SpawnResult {}
    }

    SpawnResult spawn(String name, long runId, VassalSpec spec);

    /** What {@link #hold} did. */
    sealed interface Hold {
        /** The sockets are held (or it has none). */
        Hold HELD = new Held();

        record Held() implements Hold {}

        /** They could not be held: why (what the loop logs; the vassal backs off). */
        record Failed(String reason) implements Hold {}

        /**
         * Unix sockets of it are being bound as the vassal, by a child nobody waits for: the vassal waits for what
         * {@link #binding} names until {@link #answered}, then holds again.
         */
        Hold BINDING = new Binding();

        record Binding() implements Hold {}
    }

    /**
     * Binds and listens on the vassal's sockets ({@link io.emperor.config.Listen}, issue 15), or keeps
     * those already held when their settings did not change, so that every later {@link #spawn} of the
     * vassal gets them; a spec without sockets releases any held. Held until this or {@link #forget}.
     * Never waits for a vassal's bind child: {@link Hold.Binding} then.
     */
    default Hold hold(String name, VassalSpec spec) {
        return Hold.HELD;
    }

    /**
     * What of the spec's sockets is being bound for the vassal now ({@code unix:/run/app.sock}; what it
     * waits for), empty when nothing is.
     */
    default java.util.Optional<String> binding(String name, VassalSpec spec) {
        return java.util.Optional.empty();
    }

    /** A bind child answered, or its time is up ({@link LoopEvent.BindAnswer}): the next {@link #hold} takes it. */
    default void answered(String name, long id) {
    }

    /** The listening fds held for the vassal (the I/O thread watches them while it waits on demand); empty if none. */
    default int[] held(String name) {
        return new int[0];
    }

    /**
     * Starts delivering the run's output, exec report and exit as events. The loop calls it right
     * after it has logged the spawn, so that a vassal's first lines never come before its
     * {@code spawned} line; until then the kernel's pipe buffers hold them.
     */
    void watch(long runId);

    /** Sends {@code signal} to the main process of a run that has not been reaped yet. */
    void signal(long runId, int signal);

    /**
     * Writes one byte on a uWSGI run's emperor channel without blocking; empty when it went out,
     * else why not (no channel, channel full, vassal gone).
     */
    java.util.Optional<String> tell(long runId, int message);

    /** SIGKILL to the run's whole process group. */
    void killGroup(long runId);

    /**
     * Called once the run has ended ({@link LoopEvent.Ended}): SIGKILLs what the main process left
     * in its process group while its zombie still holds the pid (so the id cannot have been
     * reused), then reaps it and releases everything held for the run.
     */
    ExitStatus reap(long runId);

    /**
     * SIGCHLD: reaps the orphans the emperor adopted as a child subreaper (a vassal's double-forked
     * daemon, once killed), never a vassal's main process, whose exit status {@link #reap} takes.
     */
    default void reapAdopted() {
    }

    /**
     * The loop has forgotten the vassal (its file is gone and its last run reaped): release what
     * is kept per name, such as its output tail and its log file.
     */
    default void forget(String name) {
    }
}
