package io.emperor.config;

import java.nio.file.Path;

/**
 * One thing wrong (or worth a warning) in a configuration file, printed as {@code file:line: message}.
 * A {@code line} of 0 means the file as a whole (unreadable, no known section), printed {@code file: message}.
 */
public record Problem(Path file, int line, String message) {
    @Override
    public String toString() {
        return line > 0 ? file + ":" + line + ": " + message : file + ": " + message;
    }
}
