package io.emperor.loop;

import io.emperor.source.dir.Snapshot;
import io.emperor.vassal.Event;

/** What other threads post to the emperor loop; the loop thread alone acts on them. */
public sealed interface LoopEvent {

    /** A scan of the vassal directories (from the watcher thread). */
    record Scanned(Snapshot snapshot) implements LoopEvent {}

    /** A lifecycle event of one vassal's process (exec reached or failed; from the I/O thread). */
    record ForVassal(String name, Event event) implements LoopEvent {}

    /**
     * What a uWSGI vassal said on its emperor channel, already coalesced (from the I/O thread).
     * The loop runs {@code taken} as it takes the event, before acting on it: the I/O thread counts
     * a run's events in the queue, and stops reading a channel whose vassal has too many there.
     */
    record Said(String name, Event.VassalSays says, Runnable taken) implements LoopEvent {}

    /**
     * A vassal's processes said something on the notify socket (sd_notify; from the I/O thread). What the run
     * said is coalesced until the loop calls {@code take} (once, as it takes the event): one such event per run
     * waits in the queue at most, whatever the vassal sends.
     */
    record Notified(String name, long runId, java.util.function.Supplier<io.emperor.vassal.NotifyMessage> take)
            implements LoopEvent {}

    /**
     * A connection waits on the sockets of an on-demand vassal (from the I/O thread, which no longer
     * watches them): {@code id} is the one the loop armed them with ({@link Connections#arm}), so
     * that a connection seen before a disarm and read after a new arm is not taken for a new one.
     */
    record Connection(String name, long id) implements LoopEvent {}

    /**
     * The child that binds one of the vassal's unix sockets as the vassal has answered, or its time is up
     * (from the I/O thread, which no longer watches it): the loop hands {@code id} to {@link Launcher#answered}.
     */
    record BindAnswer(String name, long id) implements LoopEvent {}

    /** A run's main process has ended and awaits reaping (from the I/O thread). */
    record Ended(String name, long runId) implements LoopEvent {}

    /** A signal to the emperor: TERM, INT, QUIT or HUP. */
    record SignalReceived(String signal) implements LoopEvent {}

    /**
     * A part the emperor cannot work without has failed (the I/O thread): stop every vassal and
     * exit with status 70, so that a supervisor (systemd's Restart=on-failure) starts it again.
     */
    record Fatal(String reason) implements LoopEvent {}

    /** A typed request of the control wing ({@link EmperorLoop#ask}), answered with plain data. */
    record Asked(LoopQuery query) implements LoopEvent {}
}
