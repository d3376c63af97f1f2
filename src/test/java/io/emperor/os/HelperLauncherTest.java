package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The pure parts of {@link HelperLauncher}'s command line for the exec helper. */
class HelperLauncherTest {
    /** The helper's {@code -m}: what {@code %04o} gave, for every umask, without the formatter. */
    @Test
    void theUmaskIsFourOctalDigitsForEveryValue() {
        for (int mode = 0; mode <= 0777; mode++) {
            assertEquals(String.format("%04o", mode), HelperLauncher.octal4(mode), "umask " + mode);
        }
    }
}
