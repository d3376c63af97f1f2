package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code tyrant} and {@code nofollow} keys of {@code [emperor]}: booleans as uWSGI reads them. */
class EmperorConfigTyrantTest {
    @TempDir
    Path dir;

    private final EmperorConfigParser parser = new EmperorConfigParser("host1", Map.of());

    private EmperorConfig parse(String body) throws IOException {
        Parsed<EmperorConfig> p = parser.parse(Files.writeString(dir.resolve("emperor.ini"), "[emperor]\n" + body));
        assertEquals(java.util.List.of(), p.errors());
        return p.value();
    }

    @Test
    void offByDefault() throws IOException {
        EmperorConfig c = parse("");
        assertFalse(c.tyrant());
        assertFalse(c.nofollow());
        assertFalse(EmperorConfig.defaults().tyrant());
        assertFalse(EmperorConfig.defaults().nofollow());
    }

    @ParameterizedTest(name = "\"{0}\" -> {1}")
    @CsvSource({"true, true", "1, true", "yes, true", "on, true", "'', true", "false, false", "0, false",
        "no, false", "OFF, false"})
    void values(String value, boolean expected) throws IOException {
        EmperorConfig c = parse("tyrant = " + value + "\nnofollow = " + value + "\n");
        assertEquals(expected, c.tyrant());
        assertEquals(expected, c.nofollow());
    }

    @Test
    void lastWins() throws IOException {
        assertFalse(parse("tyrant = true\ntyrant = false\n").tyrant());
    }
}
