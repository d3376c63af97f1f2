package io.emperor.loop;

/** Monotonic time in nanoseconds; the only way the emperor reads the clock, so tests can fake it. */
@FunctionalInterface
public interface Clock {
    long nanoTime();

    /** Wall-clock time in epoch milliseconds, for what people read (status, stats); never for timing. */
    default long millis() {
        return System.currentTimeMillis();
    }

    static Clock system() {
        return System::nanoTime;
    }
}
