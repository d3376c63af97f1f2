package io.emperor.systemd;

import io.emperor.log.EmperorLog;
import io.emperor.loop.Clock;
import io.emperor.loop.Counts;
import io.emperor.loop.EmperorLoop;
import io.emperor.vassal.Policy;
import io.emperor.vassal.Vassal;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Tells systemd what the emperor loop reports (sd_notify(3), {@code Type=notify}), around the
 * host that does the real work. Every method runs on the loop thread, so the datagrams leave in
 * the order the loop decided things, and a {@code WATCHDOG=1} leaves only while the loop turns:
 * a loop stuck in one event stops the pings and systemd notices.
 *
 * <ol>
 *   <li>{@code READY=1} once the first scan has been reconciled ({@link #ready}).
 *   <li>{@code STATUS=N running, N backing off, N failed} after each turn that changed those.
 *   <li>SIGHUP: {@code RELOADING=1} and {@code MONOTONIC_USEC=} before emperor.ini is re-read,
 *       {@code READY=1} after (also when the file had errors and the old settings were kept).
 *   <li>{@code STOPPING=1} when shutdown begins.
 *   <li>{@code WATCHDOG=1} every half of {@code WATCHDOG_USEC}, through the loop's host deadline.
 * </ol>
 * A send that fails is logged once; the next success is logged too.
 */
public final class NotifyingHost implements EmperorLoop.Host {
    private final EmperorLoop.Host inner;
    private final Notifier notifier;
    private final Clock clock;
    private final long watchdogInterval;
    private long nextWatchdog;
    private String lastFailure;

    /**
     * @param watchdogInterval nanos between WATCHDOG=1 ({@link Watchdog#interval}), empty for none
     */
    public NotifyingHost(EmperorLoop.Host inner, Notifier notifier, Clock clock, OptionalLong watchdogInterval) {
        this.inner = inner;
        this.notifier = notifier;
        this.clock = clock;
        this.watchdogInterval = notifier.enabled() ? watchdogInterval.orElse(0) : 0;
        this.nextWatchdog = this.watchdogInterval > 0 ? clock.nanoTime() : Vassal.NO_DEADLINE;
    }

    @Override
    public Optional<Policy> reloadConfig() {
        send(Messages.reloading(clock.nanoTime() / 1000));
        try {
            return inner.reloadConfig();
        } finally {
            send(Messages.READY);
        }
    }

    @Override
    public void stopWatching() {
        send(Messages.STOPPING);
        inner.stopWatching();
    }

    @Override
    public void ready() {
        send(Messages.READY);
        inner.ready();
    }

    @Override
    public void countsChanged(Counts counts) {
        send(Messages.status(counts));
        inner.countsChanged(counts);
    }

    @Override
    public long deadline() {
        return Math.min(nextWatchdog, inner.deadline());
    }

    @Override
    public void deadlineDue(long now) {
        if (now >= nextWatchdog) {
            send(Messages.WATCHDOG);
            nextWatchdog = now + watchdogInterval;
        }
        if (now >= inner.deadline()) {
            inner.deadlineDue(now);
        }
    }

    private void send(String message) {
        Optional<String> failure = notifier.send(message);
        if (failure.isPresent()) {
            if (!failure.get().equals(lastFailure)) {
                EmperorLog.warn("systemd notify " + notifier.socketName() + ": "
                        + message.replace('\n', ' ') + " not sent: " + failure.get());
            }
            lastFailure = failure.get();
        } else if (lastFailure != null) {
            EmperorLog.info("systemd notify " + notifier.socketName() + ": sending again");
            lastFailure = null;
        }
    }

    @Override
    public void vassalLine(String name, io.emperor.vassal.Effect.Level level, String message) {
        inner.vassalLine(name, level, message);
    }
}
