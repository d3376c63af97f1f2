package io.emperor.source.dir;

import io.emperor.config.Parsed;
import io.emperor.config.VassalSpec;
import java.nio.file.Path;

/**
 * One vassal file as a scan saw it: its name, path, fingerprint, and what parsing that version gave.
 * The file is parsed once per fingerprint; a rescan of an unchanged file reuses the result.
 *
 * @param link in tyrant mode, when the path is a symlink that is followed: the fingerprint of the
 *             link itself ({@code lstat}), whose owner decides whether the file may run, so it is
 *             part of the version; else null
 */
public record VassalFile(String name, Path path, Fingerprint fingerprint, Fingerprint link,
                         Parsed<VassalSpec> parsed) {}
