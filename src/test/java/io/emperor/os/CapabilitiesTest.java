package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** {@link Capabilities}: reading CapEff and naming what tyrant mode lacks. */
class CapabilitiesTest {

    private static String status(String capEff) {
        return "Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nCapInh:\t0000000000000000\n"
                + "CapPrm:\t" + capEff + "\nCapEff:\t" + capEff + "\nCapBnd:\t000001ffffffffff\n"
                + "CapAmb:\t0000000000000000\nNoNewPrivs:\t0\n";
    }

    @ParameterizedTest(name = "CapEff {0} -> missing [{1}]")
    @CsvSource(delimiter = '|', value = {
        "000001ffffffffff | ''",                               // root
        "00000000000000e0 | ''",                               // exactly SETUID, SETGID, KILL (bits 7, 6, 5)
        "0000000000000000 | CAP_SETUID CAP_SETGID CAP_KILL",   // an ordinary user
        "00000000000000c0 | CAP_KILL",                         // SETUID and SETGID only
        "0000000000000020 | CAP_SETUID CAP_SETGID",            // KILL only
        "0000000000000060 | CAP_SETUID",
        "ffffffffffffff1f | CAP_SETUID CAP_SETGID CAP_KILL",   // every other bit, the high one too
    })
    void missingForTyrant(String capEff, String missing) {
        List<String> expected = missing.isEmpty() ? List.of() : List.of(missing.split(" "));
        assertEquals(expected, Capabilities.missingForTyrant(status(capEff)));
    }

    @Test
    void unreadableStatusMissesEverything() {
        assertEquals(List.of("CAP_SETUID", "CAP_SETGID", "CAP_KILL"), Capabilities.missingForTyrant("Name:\tx\n"));
        assertEquals(List.of("CAP_SETUID", "CAP_SETGID", "CAP_KILL"), Capabilities.missingForTyrant("CapEff:\tzz\n"));
        assertEquals(Optional.of(0xffffffffffffffffL), Capabilities.effective("CapEff:\tffffffffffffffff\n"));
    }

    @Test
    void refusalNamesWhatIsMissingAndTheSystemdLines() {
        String text = Capabilities.refusal(List.of("CAP_SETGID", "CAP_KILL"));
        assertTrue(text.startsWith("emperor: tyrant mode needs the capabilities CAP_SETUID CAP_SETGID CAP_KILL"
                + " (effective); missing: CAP_SETGID CAP_KILL\n"), text);
        assertTrue(text.contains("\n    AmbientCapabilities=CAP_SETUID CAP_SETGID CAP_KILL\n"), text);
        assertTrue(text.contains("\n    CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL\n"), text);
    }

    @Test
    void thisProcess() throws Exception {
        // Whatever this JVM holds, the answer is consistent with its own CapEff.
        String self = Capabilities.readSelfStatus();
        long eff = Capabilities.effective(self).orElseThrow();
        assertEquals((eff & 0xe0) == 0xe0, Capabilities.missingForTyrant(self).isEmpty());
    }
}
