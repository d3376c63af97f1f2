package io.emperor.source.dir;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/** What a new {@link Snapshot} changes, compared with the vassal files the loop last acted on. Pure. */
public final class SnapshotDiff {
    private SnapshotDiff() {}

    /**
     * @param known the vassal files the loop last acted on, by name
     * @param next  the new scan
     * @return the changes, sorted by name; nothing for an unchanged file (same fingerprint, link
     *         fingerprint and path, and the same verdict: a file refused over the tenant budget
     *         that later fits, unchanged, is a change), and nothing for a known name that is absent from {@code next} while its
     *         directory is in {@link Snapshot#unreadableDirs()} (we cannot know; keep it)
     */
    public static List<Change> diff(Map<String, VassalFile> known, Snapshot next) {
        TreeSet<String> names = new TreeSet<>(known.keySet());
        names.addAll(next.files().keySet());
        List<Change> changes = new ArrayList<>();
        for (String name : names) {
            VassalFile before = known.get(name);
            VassalFile after = next.files().get(name);
            if (before == null) {
                changes.add(new Change.Added(after));
            } else if (after == null) {
                if (!next.unreadableDirs().contains(before.path().getParent())) {
                    changes.add(new Change.Removed(name));
                }
            } else if (!before.fingerprint().equals(after.fingerprint())
                    || !Objects.equals(before.link(), after.link())
                    || !before.path().equals(after.path())
                    || before.parsed().isOk() != after.parsed().isOk()
                    || !before.parsed().errors().equals(after.parsed().errors())) {
                changes.add(new Change.Changed(after));
            }
        }
        return changes;
    }
}
