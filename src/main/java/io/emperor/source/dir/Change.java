package io.emperor.source.dir;

/** One difference between the vassals the loop knows and a new {@link Snapshot}; see {@link SnapshotDiff}. */
public sealed interface Change {
    /** The vassal's name. */
    String name();

    /** A name the loop did not know. */
    record Added(VassalFile file) implements Change {
        @Override
        public String name() {
            return file.name();
        }
    }

    /** A known name whose file has another fingerprint or another path (moved between directories). */
    record Changed(VassalFile file) implements Change {
        @Override
        public String name() {
            return file.name();
        }
    }

    /** A known name that no scanned directory has any more. */
    record Removed(String name) implements Change {}
}
