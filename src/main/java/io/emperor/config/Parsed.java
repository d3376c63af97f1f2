package io.emperor.config;

import java.util.List;

/**
 * The outcome of reading a configuration file: a value when there are no errors, and the
 * problems found. Warnings (an ignored key, say) never stop the value from being used.
 */
public record Parsed<T>(T value, List<Problem> errors, List<Problem> warnings) {
    public Parsed {
        errors = List.copyOf(errors);
        warnings = List.copyOf(warnings);
        if (errors.isEmpty() == (value == null)) {
            throw new IllegalArgumentException("a value exactly when there are no errors");
        }
    }

    public static <T> Parsed<T> ok(T value, List<Problem> warnings) {
        return new Parsed<>(value, List.of(), warnings);
    }

    public static <T> Parsed<T> failed(List<Problem> errors, List<Problem> warnings) {
        return new Parsed<>(null, errors, warnings);
    }

    public boolean isOk() {
        return errors.isEmpty();
    }
}
