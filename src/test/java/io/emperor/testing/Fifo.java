package io.emperor.testing;

import java.io.IOException;
import java.nio.file.Path;

/** Makes FIFOs for tests (mkfifo(1): the emperor itself binds no mkfifo). */
public final class Fifo {
    private Fifo() {}

    /** mkfifo -m 644 {@code path}; its exit code (0: made). */
    public static int make(Path path) throws IOException {
        Process p = new ProcessBuilder("mkfifo", "-m", "644", "--", path.toString()).inheritIO().start();
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for mkfifo", e);
        }
    }
}
