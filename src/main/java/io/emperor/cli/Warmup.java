package io.emperor.cli;

import io.emperor.os.Native;

/**
 * jnr's set-up (jffi's native library, jnr-ffi's classes and the stubs of {@link io.emperor.os.LibC}
 * generated at run time: the largest part of {@code emperor run}'s start, docs/performance.md
 * "Weight") begun on a thread of its own as {@code run} starts,
 * so that it overlaps the parsing of emperor.ini and logback's set-up on the main thread. The
 * daemon waits for it ({@link #await}) before its first native call, so the thread is gone before
 * anything (a privilege drop signalling every thread) could meet it. A failure is not swallowed:
 * {@link #await} rethrows an Error as it was, and the daemon meets any other failure itself.
 */
final class Warmup {
    private static Thread thread;
    private static Throwable failure;

    private Warmup() {}

    static synchronized void start() {
        if (thread != null) {
            return;
        }
        thread = new Thread(() -> {
            try {
                Native.libc();
            } catch (Throwable t) {
                synchronized (Warmup.class) {
                    failure = t;
                }
            }
        }, "emperor-warmup");
        thread.setDaemon(true);
        thread.start();
    }

    /** Waits until the thread started by {@link #start} (if any) has ended. */
    static void await() {
        Thread t;
        synchronized (Warmup.class) {
            t = thread;
        }
        if (t == null) {
            return;
        }
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        synchronized (Warmup.class) {
            if (failure instanceof Error e) {
                failure = null;
                throw e;
            }
        }
    }
}
