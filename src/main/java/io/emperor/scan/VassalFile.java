package io.emperor.scan;

import io.emperor.config.Parsed;
import io.emperor.config.VassalSpec;
import java.nio.file.Path;

/**
 * One vassal file as a scan saw it: its name, path, fingerprint, and what parsing that version gave.
 * The file is parsed once per fingerprint; a rescan of an unchanged file reuses the result.
 */
public record VassalFile(String name, Path path, Fingerprint fingerprint, Parsed<VassalSpec> parsed) {}
