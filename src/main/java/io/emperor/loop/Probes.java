package io.emperor.loop;

import io.emperor.config.Readiness;

/**
 * The port through which the loop has a run's readiness probed ({@code ready = tcp:…} or
 * {@code unix:…}): the I/O thread connects, without blocking, and posts
 * {@link io.emperor.vassal.Event.Ready} once a connection succeeds. Only the loop thread calls it.
 */
public interface Probes {
    /**
     * Starts probing the run until it is ready or {@link #cancel}led.
     *
     * @param uid the uid the run runs as, -1 for the emperor's: a unix socket of a run that runs as
     *            another user must be owned by that user (docs/tyrant.md)
     */
    void start(String name, long runId, Readiness how, int uid);

    /** The run has ended (or no longer needs probing); a probe that is not there is fine. */
    void cancel(long runId);

    /** No probing at all (loop tests that do not need it). */
    Probes NONE = new Probes() {
        @Override
        public void start(String name, long runId, Readiness how, int uid) {}

        @Override
        public void cancel(long runId) {}
    };
}
