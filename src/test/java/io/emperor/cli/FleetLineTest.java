package io.emperor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The line {@code emperor status} prints under the table while etcd is unreachable (docs/fleet.md). */
class FleetLineTest {
    private static String line(Object emperor) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ControlCommands.fleetLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), emperor);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anOutageIsOneLineWithItsReasonEscaped() {
        double since = System.currentTimeMillis() / 1000.0 - 65;
        String out = line(Map.of("etcd", Map.of("reachable", false, "since", since, "reason",
                "UNAVAILABLE:\u001b[2J io exception", "revision", 42)));
        assertTrue(out.startsWith("etcd: unreachable for 1m"), out);
        assertTrue(out.contains("(UNAVAILABLE:\\x1b[2J io exception); the vassals from etcd run as they were, revision 42"),
                out);
        assertEquals(1, out.lines().count(), out);
    }

    @Test
    void nothingWhenReachableOrWithoutAFleet() {
        assertEquals("", line(Map.of("etcd", Map.of("reachable", true, "revision", 3))));
        assertEquals("", line(Map.of("version", "x")));
        assertEquals("", line(null));
    }
}
