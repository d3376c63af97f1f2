package io.emperor.testing;

import io.emperor.loop.EmperorLoop;

/** An emperor loop run on a daemon thread of its own, as the daemon runs it; the test interrupts it to end. */
public final class LoopThread {
    private LoopThread() {}

    /** Starts {@code loop.run()} on a daemon thread named {@code name}. */
    public static Thread start(EmperorLoop loop, String name) {
        Thread t = new Thread(() -> {
            try {
                loop.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
