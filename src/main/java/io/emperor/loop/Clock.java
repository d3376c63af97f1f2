package io.emperor.loop;

/** Monotonic time in nanoseconds; the only way the emperor reads the clock, so tests can fake it. */
@FunctionalInterface
public interface Clock {
    long nanoTime();

    static Clock system() {
        return System::nanoTime;
    }
}
