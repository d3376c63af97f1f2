package io.emperor.source.dir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Every vassal file in every vassal directory at one moment, by vassal name.
 *
 * @param files          the files found, by name
 * @param unreadableDirs directories that exist but could not be listed this time (an I/O error
 *                       other than "does not exist"): vassals whose file lies there must be
 *                       treated as unchanged, never as removed
 */
public record Snapshot(Map<String, VassalFile> files, Set<Path> unreadableDirs) {
    public Snapshot {
        files = Map.copyOf(files);
        unreadableDirs = Set.copyOf(unreadableDirs);
    }
}
