package io.emperor.config;

import java.nio.file.Path;

/** Reads the content of one vassal file into a spec or its problems; never throws for bad input. */
@FunctionalInterface
public interface VassalFileParser {
    /**
     * @param file    the vassal file, absolute; for a symlink, the link's own path (magic variables
     *                such as {@code %p} and {@code %d} describe the link, as in uWSGI)
     * @param content the file's bytes, read by the caller from the descriptor it judged (at most
     *                {@link IniReader#MAX_BYTES} + 1 of them: more means "too large")
     */
    Parsed<VassalSpec> parse(Path file, byte[] content);

    /**
     * Tyrant mode: a file whose owner is known (the {@code fstat} of what was read), so that
     * {@code $(VAR)} reads only what that tenant's vassal gets (docs/tyrant.md).
     *
     * @param owner the uid the vassal will run as
     */
    default Parsed<VassalSpec> parse(Path file, byte[] content, int owner) {
        return parse(file, content);
    }
}
