package io.emperor.config;

import java.util.List;

/** Problems as the lines a user reads ({@code FILE:LINE: message}), for assertions. */
final class ProblemLines {
    private ProblemLines() {}

    static List<String> lines(List<Problem> problems) {
        return problems.stream().map(Problem::toString).toList();
    }

    static List<String> errors(Parsed<?> parsed) {
        return lines(parsed.errors());
    }

    static List<String> warnings(Parsed<?> parsed) {
        return lines(parsed.warnings());
    }
}
