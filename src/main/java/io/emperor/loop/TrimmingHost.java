package io.emperor.loop;

import io.emperor.vassal.Policy;
import io.emperor.vassal.Vassal;
import java.util.Optional;

/**
 * Gives the C heap back once things have settled (docs/performance.md, "Weight"): a start, or a
 * burst of spawns and exits, leaves memory glibc keeps after it was freed (the compiler's arenas,
 * jnr's set-up, buffers of finished runs), about 13 MiB of RSS. {@link #QUIET} after the last
 * change of the counts (and after the first scan) the host's deadline calls {@code trim}
 * (malloc_trim(3)) once. An idle emperor is never woken for it: no change, no deadline.
 */
public final class TrimmingHost implements EmperorLoop.Host {
    /** How long the counts must stay unchanged before the trim. */
    public static final long QUIET = 10_000_000_000L;

    private final EmperorLoop.Host inner;
    private final Clock clock;
    private final Runnable trim;
    private long trimAt = Vassal.NO_DEADLINE;

    public TrimmingHost(EmperorLoop.Host inner, Clock clock, Runnable trim) {
        this.inner = inner;
        this.clock = clock;
        this.trim = trim;
    }

    @Override
    public Optional<Policy> reloadConfig() {
        return inner.reloadConfig();
    }

    @Override
    public void stopWatching() {
        inner.stopWatching();
    }

    @Override
    public void ready() {
        trimAt = clock.nanoTime() + QUIET;
        inner.ready();
    }

    @Override
    public void countsChanged(Counts counts) {
        trimAt = clock.nanoTime() + QUIET;
        inner.countsChanged(counts);
    }

    @Override
    public long deadline() {
        return Math.min(trimAt, inner.deadline());
    }

    @Override
    public void deadlineDue(long now) {
        if (now >= trimAt) {
            trimAt = Vassal.NO_DEADLINE;
            trim.run();
        }
        if (now >= inner.deadline()) {
            inner.deadlineDue(now);
        }
    }

    @Override
    public void vassalLine(String name, io.emperor.vassal.Effect.Level level, String message) {
        inner.vassalLine(name, level, message);
    }
}
