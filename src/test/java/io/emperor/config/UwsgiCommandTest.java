package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command line of a {@code [uwsgi]} vassal, in the uWSGI Emperor's order. */
class UwsgiCommandTest {

    @Test
    void plain() {
        assertEquals(List.of("uwsgi", "--ini", "/v/app.ini"), UwsgiCommand.DEFAULT.argv(Path.of("/v/app.ini")));
    }

    @Test
    void includesBeforeThenSetsThenTheFileThenIncludes() {
        UwsgiCommand c = new UwsgiCommand("/opt/uwsgi/bin/uwsgi", List.of("processes=2", "a=b=c"),
                List.of(Path.of("/etc/d1.ini"), Path.of("/etc/d2.ini")), List.of(Path.of("/etc/o.ini")));
        assertEquals(List.of("/opt/uwsgi/bin/uwsgi", "--include", "/etc/d1.ini", "--include", "/etc/d2.ini",
                "--set", "processes=2", "--set", "a=b=c", "--ini", "/v/app.ini", "--include", "/etc/o.ini"),
                c.argv(Path.of("/v/app.ini")));
    }
}
