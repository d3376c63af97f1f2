package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ValuesTest {
    @ParameterizedTest(name = "\"{0}\" is {1}")
    @CsvSource(value = {"'', true", "true, true", "1, true", "yes, true", "on, true", "whatever, true",
        "00, true", "false, false", "FALSE, false", "Off, false", "no, false", "NO, false", "0, false"})
    void boolFollowsUwsgi(String value, boolean expected) {
        assertEquals(expected, Values.bool(value));
    }

    @ParameterizedTest(name = "{0} s")
    @CsvSource({"30, PT30S", "0.5, PT0.5S", "86400, PT24H", "1.000000001, PT1.000000001S", "007, PT7S"})
    void secondsAccepted(String value, String expected) {
        assertEquals(Duration.parse(expected), Values.seconds(value, 0, true, 86400).value());
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "0", "0.0", "-1", "86400.5", "1e3", "30s", ".5", "5.", " 5", "0.0000000001"})
    void secondsRejected(String value) {
        assertNull(Values.seconds(value, 0, true, 86400).value());
    }

    @Test
    void secondsMessages() {
        assertEquals("not a number of seconds greater than 0 and at most 86400 (e.g. 30 or 0.5): \"soon\"",
                Values.seconds("soon", 0, true, 86400).error());
        assertEquals("must be at least 1 and at most 86400 seconds: \"0.5\"",
                Values.seconds("0.5", 1, false, 86400).error());
        assertEquals(Duration.ZERO, Values.seconds("0", 0, false, 10).value());
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({"022, 18", "0027, 23", "0, 0", "777, 511", "0777, 511", "7, 7", "00022, 18"})
    void umaskAccepted(String value, int expected) {
        assertEquals(expected, Values.umask(value).value());
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "8", "1000", "0o22", "-1", "22 ", "u=rwx", "01000"})
    void umaskRejected(String value) {
        assertEquals("not an octal umask from 000 to 777 (e.g. 022): \"" + value + "\"", Values.umask(value).error());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource({"1024, 1024, 1024", "1024:4096, 1024, 4096", "unlimited, -1, -1", "1024:unlimited, 1024, -1",
        "UNLIMITED, -1, -1", "0, 0, 0", "10 : 20, 10, 20"})
    void rlimitAccepted(String value, long soft, long hard) {
        assertEquals(new Rlimit(Rlimit.Resource.NOFILE, soft, hard), Values.rlimit(Rlimit.Resource.NOFILE, value).value());
    }

    @Test
    void rlimitRejected() {
        assertEquals("expected N, SOFT:HARD or unlimited: \"lots\"", Values.rlimit(Rlimit.Resource.CORE, "lots").error());
        assertEquals("expected N, SOFT:HARD or unlimited: \"1:2:3\"", Values.rlimit(Rlimit.Resource.CORE, "1:2:3").error());
        assertEquals("expected N, SOFT:HARD or unlimited: \"-1\"", Values.rlimit(Rlimit.Resource.CORE, "-1").error());
        assertEquals("expected N, SOFT:HARD or unlimited: \"\"", Values.rlimit(Rlimit.Resource.CORE, "").error());
        assertEquals("expected N, SOFT:HARD or unlimited: \":5\"", Values.rlimit(Rlimit.Resource.CORE, ":5").error());
        assertEquals("the soft limit 20 is above the hard limit 10: \"20:10\"",
                Values.rlimit(Rlimit.Resource.CORE, "20:10").error());
        assertEquals("the soft limit unlimited is above the hard limit 10: \"unlimited:10\"",
                Values.rlimit(Rlimit.Resource.CORE, "unlimited:10").error());
    }

    @Test
    void paths() {
        Path base = Path.of("/srv/vassals");
        assertEquals(Path.of("/srv/vassals/logs/a.log"), Values.path("logs/./a.log", base).value());
        assertEquals(Path.of("/srv/x"), Values.path("../x", base).value());
        assertEquals(Path.of("/var/log/a.log"), Values.path("/var/log//a.log", base).value());
        assertEquals("needs a path", Values.path("", base).error());
    }

    @Test
    void ids() {
        assertEquals(1000, Values.id("1000"));
        assertEquals(0, Values.id("0"));
        assertNull(Values.id("alice"));
        assertNull(Values.id("-1"));
        assertNull(Values.id("4294967296"));
        assertNull(Values.id(""));
    }
}
