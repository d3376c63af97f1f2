package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A line without {@code =} that is not a known key is "expected KEY = VALUE", not an unknown key,
 * in a vassal's {@code [vassal]}, in {@code [emperor]} and in uWSGI's emperor.ini; in a
 * {@code [uwsgi]} vassal it stays uWSGI's flag (the key with an empty value).
 */
class KeyValueLineTest {
    static final Path FILE = Path.of("/etc/emperor/x.ini");

    static List<String> errors(Parsed<?> p) {
        return p.errors().stream().map(Problem::toString).toList();
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    final EmperorConfigParser emperor = new EmperorConfigParser("host1", Map.of());
    final VassalParser vassal = new VassalParser(FakeUserDb.standard(), "host1", Map.of());

    @Test
    void inAVassalSection() {
        assertEquals(List.of(FILE + ":3: expected KEY = VALUE, found: stop timeout 5"),
                errors(vassal.parse(FILE, bytes("[vassal]\nexec = /bin/true\nstop timeout 5\n"))));
    }

    @Test
    void inTheEmperorSection() {
        assertEquals(List.of(FILE + ":3: expected KEY = VALUE, found: rescan 5"),
                errors(emperor.parse(FILE, bytes("[emperor]\nvassals = /v\nrescan 5\n"))));
        assertEquals(List.of(FILE + ":3: colour: unknown key (known keys: " + String.join(", ", EmperorConfigParser.KEYS)
                + ")"), errors(emperor.parse(FILE, bytes("[emperor]\nvassals = /v\ncolour = blue\n"))));
    }

    @Test
    void inUwsgisEmperorIni() {
        List<String> e = errors(emperor.parse(FILE, bytes("[uwsgi]\nemperor = /v\nsome words\n")));
        assertEquals(List.of(FILE + ":3: expected KEY = VALUE, found: some words"), e);
    }

    @Test
    void aUwsgiVassalKeepsUwsgisFlags() {
        Parsed<VassalSpec> p = vassal.parse(FILE, bytes("[uwsgi]\nmaster\nhttp-socket = :8080\n"));
        assertTrue(p.isOk(), () -> errors(p).toString());
    }
}
