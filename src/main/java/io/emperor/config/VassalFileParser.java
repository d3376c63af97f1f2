package io.emperor.config;

import java.nio.file.Path;

/** Reads one vassal file into a spec or its problems; never throws for bad input. */
@FunctionalInterface
public interface VassalFileParser {
    /**
     * @param file the vassal file, absolute; for a symlink, the link's own path (magic variables
     *             such as {@code %p} and {@code %d} describe the link, as in uWSGI)
     */
    Parsed<VassalSpec> parse(Path file);

    /**
     * Tyrant mode: a file whose owner is known ({@code stat}ed before the read), so that
     * {@code $(VAR)} reads only what that tenant's vassal gets (docs/tyrant.md).
     *
     * @param owner the uid the vassal will run as
     */
    default Parsed<VassalSpec> parse(Path file, int owner) {
        return parse(file);
    }
}
