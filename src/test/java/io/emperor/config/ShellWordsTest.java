package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ShellWordsTest {
    static Stream<Arguments> splits() {
        return Stream.of(
                Arguments.of("/usr/bin/app", List.of("/usr/bin/app")),
                Arguments.of("  app \t -v   --port 8080  ", List.of("app", "-v", "--port", "8080")),
                Arguments.of("echo 'a b'  c", List.of("echo", "a b", "c")),
                Arguments.of("echo 'a \\ \" $x'", List.of("echo", "a \\ \" $x")),
                Arguments.of("echo \"a b\"", List.of("echo", "a b")),
                Arguments.of("echo \"q\\\"q\" \"b\\\\s\" \"\\$HOME\" \"\\`x\\`\"", List.of("echo", "q\"q", "b\\s", "$HOME", "`x`")),
                Arguments.of("echo \"\\n\\a\"", List.of("echo", "\\n\\a")),
                Arguments.of("echo a\\ b \\'c \\\\", List.of("echo", "a b", "'c", "\\")),
                Arguments.of("echo '' \"\" x", List.of("echo", "", "", "x")),
                Arguments.of("echo a'b'\"c\"d", List.of("echo", "abcd")),
                Arguments.of("echo $HOME * ~ $(date)", List.of("echo", "$HOME", "*", "~", "$(date)")),
                Arguments.of("sh -c 'exec app >> /tmp/x 2>&1'", List.of("sh", "-c", "exec app >> /tmp/x 2>&1")),
                Arguments.of("caf\u00e9 \u20ac", List.of("caf\u00e9", "\u20ac")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("splits")
    void splits(String text, List<String> words) {
        ShellWords.Split split = ShellWords.split(text);
        assertNull(split.error());
        assertEquals(words, split.words());
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("echo 'abc", "the single quote at character 6 is never closed"),
                Arguments.of("echo \"abc", "the double quote at character 6 is never closed"),
                Arguments.of("echo \"abc\\\"", "the double quote at character 6 is never closed"),
                Arguments.of("echo abc\\", "ends with a backslash that escapes nothing"),
                Arguments.of("", "no program given"),
                Arguments.of(" \t ", "no program given"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("errors")
    void rejects(String text, String error) {
        assertEquals(error, ShellWords.split(text).error());
    }

    @Test
    void notesUnquotedShellOperators() {
        ShellWords.Split split = ShellWords.split("app > out.log 2>&1 '|' \\; && x");
        assertEquals(List.of("app", ">", "out.log", "2>&1", "|", ";", "&&", "x"), split.words());
        assertEquals(List.of(">", "2>&1", "&&"), split.operators());
    }
}
