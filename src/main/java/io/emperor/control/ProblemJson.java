package io.emperor.control;

import java.time.Instant;
import java.util.Map;

/**
 * The last-problem fields of a vassal in the status JSON (docs/control.md): added after the
 * older fields, which keep their meaning.
 */
final class ProblemJson {
    private ProblemJson() {}

    /**
     * {@code last_problem} (text or null), {@code last_problem_since} (Unix seconds or null) and
     * {@code last_problem_since_utc} (ISO-8601 UTC, millisecond precision, or null).
     */
    static void put(Map<String, Object> m, VassalStatus s) {
        boolean any = s.lastProblem() != null;
        m.put("last_problem", s.lastProblem());
        m.put("last_problem_since", any ? s.lastProblemSince() / 1000.0 : null);
        m.put("last_problem_since_utc", any ? Instant.ofEpochMilli(s.lastProblemSince()).toString() : null);
    }
}
