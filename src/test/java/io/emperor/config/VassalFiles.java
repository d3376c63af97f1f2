package io.emperor.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A vassal file a test wrote, read by its path and parsed ({@link VassalParser#parse(Path, byte[], int)}); the
 * emperor itself reads through {@code OpenedFile} ({@code source.dir.VassalReader}), which a test of what it
 * refuses goes through.
 */
final class VassalFiles {
    private VassalFiles() {}

    static Parsed<VassalSpec> parse(VassalParser parser, Path file) {
        return parse(parser, file, -1);
    }

    /** For a file owned by {@code owner} (tyrant mode's {@code $(VAR)}; -1: not known). */
    static Parsed<VassalSpec> parse(VassalParser parser, Path file, int owner) {
        Path path = file.toAbsolutePath();
        try (InputStream in = Files.newInputStream(path)) {
            return parser.parse(path, in.readNBytes(IniReader.MAX_BYTES + 1), owner);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": the test's file cannot be read", e);
        }
    }
}
