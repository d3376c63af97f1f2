package io.emperor.testing;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits on a condition with a deadline: the only way the tests wait. The short sleep between
 * two probes is the polling interval, never a guess at how long something takes; it is the only
 * {@code Thread.sleep} of the tests.
 */
public final class Poll {
    /**
     * The default deadline: generous, so a loaded machine does not fail a test that is right (a
     * JVM start alone took over 20 s beside two CPU hogs on a 2-core machine already at load 14).
     * It costs nothing when the test passes: the waits end at their condition.
     */
    public static final Duration WAIT = Duration.ofSeconds(60);
    private static final long INTERVAL_MILLIS = 10;

    private Poll() {}

    /** Probes until it returns a value; fails with {@code what} and {@code diagnostics} on timeout. */
    public static <T> T until(String what, Duration timeout, Supplier<Optional<T>> probe, Supplier<String> diagnostics) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> value = probe.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what
                        + diagnostics(diagnostics));
            }
            pause();
        }
    }

    public static void until(String what, Duration timeout, BooleanSupplier condition, Supplier<String> diagnostics) {
        until(what, timeout, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty(), diagnostics);
    }

    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        until(what, timeout, condition, () -> "");
    }

    public static void until(String what, BooleanSupplier condition) {
        until(what, WAIT, condition);
    }

    /** Probes until it returns a value or {@code timeout} passes: the value, or empty (no failure). */
    public static <T> Optional<T> within(Duration timeout, Supplier<Optional<T>> probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> value = probe.get();
            if (value.isPresent() || System.nanoTime() - deadline > 0) {
                return value;
            }
            pause();
        }
    }

    private static String diagnostics(Supplier<String> diagnostics) {
        try {
            String d = diagnostics.get();
            return d == null || d.isEmpty() ? "" : "\n" + d;
        } catch (RuntimeException e) {
            return "\n(diagnostics failed: " + e + ")";
        }
    }

    private static void pause() {
        try {
            Thread.sleep(INTERVAL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting", e);
        }
    }
}
