package io.emperor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Production classes keep nothing for their tests (issue 16 §5, STYLE.md §9: no test-only switches):
 * a figure an operator would want is a metric (docs/stats.md) that the tests read too, what a test
 * can see from outside (its own /proc, the process tree, the socket) it reads there
 * ({@code io.emperor.testing.ProcSelf}), and a clock or a collaborator is injected by a constructor.
 * An accessor kept "for tests", or a "test seam", says so in its comment ("(tests)", "tests: …" too): none is left.
 */
class NoTestHooksTest {
    /** "for tests", "test seam", and the other wordings such comments took: "(tests; …)", "(tests: …)". */
    private static final Pattern KEPT_FOR_TESTS = Pattern.compile(
            "(?i)\\bfor tests\\b|\\btest seams?\\b|\\(tests\\b|\\btests:");

    @Test
    void noCodeIsKeptForTests() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java") || p.toString().endsWith(".c")).sorted()
                    .toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (KEPT_FOR_TESTS.matcher(lines.get(i)).find()) {
                        found.add(f + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
            }
        }
        assertEquals(List.of(), found, "make it a metric, observe it from outside, or inject it");
    }
}
