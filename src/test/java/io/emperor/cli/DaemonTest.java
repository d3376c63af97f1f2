package io.emperor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.control.StatsServer;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The daemon's own lines. */
class DaemonTest {

    /** Issue 16 §7: {@code emperor: stats = :80: stats = :80: …} said its prefix twice. */
    @Test
    void aStatsAddressThatCannotBeBoundIsNamedOnce() {
        IOException bad = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> new StatsServer(":99999", () -> new java.util.concurrent.CompletableFuture<>()).start());
        assertEquals("emperor: stats = :99999: port 99999 is out of range (0-65535)", Daemon.statsFailure(":99999", bad));
        assertEquals("emperor: stats = :80: Permission denied",
                Daemon.statsFailure(":80", new IOException("Permission denied")), "a message without the prefix gets it");
    }
}
