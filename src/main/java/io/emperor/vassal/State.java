package io.emperor.vassal;

/** What an operator sees of a vassal (docs/lifecycle.md has the table of transitions). */
public enum State {
    /** The process was spawned; the exec helper has not yet reported that the program runs. */
    STARTING,
    /** The program runs. */
    RUNNING,
    /**
     * A uWSGI vassal was told to reload (byte 1 on its channel; same pid) and has not yet said
     * that it is back (ready, accepting or a heartbeat).
     */
    RELOADING,
    /** The stop signal was sent; waiting for the exit (SIGKILL to the group after stop-timeout). */
    STOPPING,
    /** It exited too soon after its start; waiting before the next try. */
    BACKOFF,
    /**
     * It would start, but a vassal it {@code requires} is not ready (or not there), or one it
     * starts {@code after} is still starting: {@link Vassal#waits} says which.
     */
    WAITING,
    /** Its file cannot be used (it does not parse); waits for the file to change. */
    FAILED,
    /** Not running and not meant to run until its file changes. */
    STOPPED;

    /** States in which a process of this vassal exists. */
    public boolean hasProcess() {
        return this == STARTING || this == RUNNING || this == RELOADING || this == STOPPING;
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
