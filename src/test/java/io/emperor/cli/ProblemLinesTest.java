package io.emperor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lines under {@code emperor status}'s table that say why, with the time handed in. */
class ProblemLinesTest {
    static final long NOW = 1_796_549_205_403L;

    static Map<String, Object> vassal(String name, String problem, String lastProblem, Double since) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("problem", problem);
        m.put("last_problem", lastProblem);
        m.put("last_problem_since", since);
        return m;
    }

    @Test
    void aProblemWithSinceAsAHumanSaysIt() {
        assertEquals("myapp: spawn failed: exec /usr/local/bin/myapp: No such file or directory (since 2m10s ago)",
                ProblemLines.line(vassal("myapp", null, "spawn failed: exec /usr/local/bin/myapp: No such file or directory",
                        (NOW - 130_000) / 1000.0), NOW));
        assertEquals("w: exited status=1 after 0.06s (since just now)",
                ProblemLines.line(vassal("w", null, "exited status=1 after 0.06s", NOW / 1000.0), NOW));
        assertEquals("w: exited status=1 after 0.06s (since 1d02h ago)",
                ProblemLines.line(vassal("w", null, "exited status=1 after 0.06s", (NOW - 93_600_000) / 1000.0), NOW));
    }

    @Test
    void theLastProblemReplacesTheFailedFilesLineAndAnOlderEmperorsAnswerStillShowsThat() {
        assertEquals("broken: refused: /v/broken.ini:3: exec: needs a command (since 5s ago)",
                ProblemLines.line(vassal("broken", "/v/broken.ini:3: exec: needs a command",
                        "refused: /v/broken.ini:3: exec: needs a command", (NOW - 5_000) / 1000.0), NOW));
        assertEquals("broken: /v/broken.ini:3: exec: needs a command",
                ProblemLines.line(vassal("broken", "/v/broken.ini:3: exec: needs a command", null, null), NOW));
    }

    @Test
    void nothingWrongNoLine() {
        assertNull(ProblemLines.line(vassal("api", null, null, null), NOW));
    }

    @Test
    void theTableShowsTheLastProblem() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        Map<String, Object> v = ControlCommandsTest.vassal("myapp", "backoff", 0, 1003, 0, 6, "status=127", 31.5, null);
        v.put("last_problem", "spawn failed: exec /usr/local/bin/myapp: No such file or directory");
        v.put("last_problem_since", System.currentTimeMillis() / 1000.0 - 130);
        ControlCommands.table(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8), java.util.List.of(v));
        String out = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(true, out.lines().anyMatch(l -> l.matches(
                "myapp: spawn failed: exec /usr/local/bin/myapp: No such file or directory \\(since 2m1\\ds ago\\)")), out);
    }

    /** Attack: a tenant's program path with a terminal escape and a newline reaches the operator's terminal escaped. */
    @Test
    void aTenantsControlCharactersAreEscaped() {
        assertEquals("t: spawn failed: exec /x\\x1b[2J\\x0aforged: ok\\x9b\tend (since just now)",
                ProblemLines.line(vassal("t", null, "spawn failed: exec /x\u001b[2J\nforged: ok\u009b\tend", NOW / 1000.0), NOW));
        assertEquals("t: a\\x7f", ProblemLines.line(vassal("t", "a\u007f", null, null), NOW));
    }
}
