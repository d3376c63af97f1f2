package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SignalsTest {
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
        "TERM, 15", "SIGTERM, 15", "term, 15", "SigTerm, 15", "15, 15",
        "HUP, 1", "INT, 2", "QUIT, 3", "ABRT, 6", "IOT, 6", "KILL, 9", "USR1, 10", "SEGV, 11", "USR2, 12",
        "PIPE, 13", "ALRM, 14", "CHLD, 17", "CLD, 17", "CONT, 18", "STOP, 19", "TSTP, 20", "TTIN, 21",
        "TTOU, 22", "URG, 23", "WINCH, 28", "IO, 29", "POLL, 29", "PWR, 30", "SYS, 31",
        "RTMIN, 34", "SIGRTMIN, 34", "RTMIN+3, 37", "rtmin+15, 49", "RTMAX-14, 50", "RTMAX, 64",
        "1, 1", "32, 32", "64, 64", "015, 15",
    })
    void parses(String text, int number) {
        assertEquals(OptionalInt.of(number), Signals.parse(text));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "0", "65", "-1", "+15", "1000", "SIG", "TERMINATE", "FOO", "RTMIN+31", "RTMAX-31",
        "RTMIN+", "RTMIN-1", " TERM", "15 ", "1.5"})
    void rejects(String text) {
        assertEquals(OptionalInt.empty(), Signals.parse(text));
    }

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({"1, HUP", "2, INT", "9, KILL", "15, TERM", "17, CHLD", "28, WINCH", "31, SYS",
        "32, 32", "33, 33", "34, RTMIN", "37, RTMIN+3", "49, RTMIN+15", "50, RTMAX-14", "63, RTMAX-1", "64, RTMAX",
        "0, 0", "65, 65"})
    void names(int number, String name) {
        assertEquals(name, Signals.name(number));
    }

    @Test
    void everyNameParsesBack() {
        for (int i = 1; i <= 64; i++) {
            assertEquals(OptionalInt.of(i), Signals.parse(Signals.name(i)), "signal " + i);
        }
    }
}
