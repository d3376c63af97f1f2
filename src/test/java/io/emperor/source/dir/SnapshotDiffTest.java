package io.emperor.source.dir;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class SnapshotDiffTest {
    private static final Path A = Path.of("/etc/emperor/vassals");
    private static final Path B = Path.of("/srv/vassals");

    private static VassalFile file(Path dir, String name, long mtime) {
        Path path = dir.resolve(name + ".ini");
        return new VassalFile(name, path, new Fingerprint(10, mtime, mtime, 42, 1, 1000, 1000, 0100644), null,
                Parsed.failed(List.of(new Problem(path, 0, "x")), List.of()));
    }

    private static Map<String, VassalFile> byName(VassalFile... files) {
        return Stream.of(files).collect(Collectors.toMap(VassalFile::name, Function.identity()));
    }

    private static Snapshot snapshot(Set<Path> unreadable, VassalFile... files) {
        return new Snapshot(byName(files), unreadable);
    }

    @Test
    void nothingKnownEverythingAdded() {
        VassalFile b = file(A, "b", 1);
        VassalFile a = file(A, "a", 1);
        assertEquals(List.of(new Change.Added(a), new Change.Added(b)),
                SnapshotDiff.diff(Map.of(), snapshot(Set.of(), b, a)));
    }

    /**
     * The same version with another verdict (a file refused over the tenant budget that now fits,
     * or refused for another reason) is a change: the loop starts it, or logs the new reason.
     */
    @Test
    void theSameVersionWithAnotherVerdictIsAChange() {
        VassalFile refused = file(A, "a", 1);
        VassalFile otherReason = new VassalFile("a", refused.path(), refused.fingerprint(), null,
                Parsed.failed(List.of(new Problem(refused.path(), 0, "y")), List.of()));
        assertEquals(List.of(new Change.Changed(otherReason)),
                SnapshotDiff.diff(byName(refused), snapshot(Set.of(), otherReason)));
        VassalFile taken = new VassalFile("a", refused.path(), refused.fingerprint(), null,
                Parsed.ok(new io.emperor.config.VassalSpec("a", refused.path(), io.emperor.config.VassalSpec.Kind.PROGRAM,
                        List.of("/bin/true"), A, List.of(), 0022, null, -1, -1, null, 15,
                        java.time.Duration.ofSeconds(30), io.emperor.config.ReloadMode.SIGNAL, 1, List.of()), List.of()));
        assertEquals(List.of(new Change.Changed(taken)), SnapshotDiff.diff(byName(refused), snapshot(Set.of(), taken)));
        assertEquals(List.of(), SnapshotDiff.diff(byName(taken), snapshot(Set.of(), taken)));
    }

    @Test
    void unchangedGivesNothing() {
        VassalFile a = file(A, "a", 1);
        assertEquals(List.of(), SnapshotDiff.diff(byName(a), snapshot(Set.of(), file(A, "a", 1))));
    }

    @Test
    void addedChangedRemovedSortedByName() {
        Map<String, VassalFile> known = byName(file(A, "keep", 1), file(A, "edit", 1), file(A, "gone", 1));
        VassalFile edited = file(A, "edit", 2);
        VassalFile fresh = file(A, "fresh", 1);
        assertEquals(List.of(new Change.Changed(edited), new Change.Added(fresh), new Change.Removed("gone")),
                SnapshotDiff.diff(known, snapshot(Set.of(), file(A, "keep", 1), edited, fresh)));
    }

    @Test
    void anyFingerprintFieldCounts() {
        VassalFile a = file(A, "a", 1);
        Fingerprint f = a.fingerprint();
        for (Fingerprint other : List.of(
                new Fingerprint(f.size(), f.mtimeNanos(), f.ctimeNanos() + 1, f.inode(), f.device(), f.uid(), f.gid(), f.mode()),
                new Fingerprint(f.size(), f.mtimeNanos(), f.ctimeNanos(), f.inode() + 1, f.device(), f.uid(), f.gid(), f.mode()),
                new Fingerprint(f.size(), f.mtimeNanos(), f.ctimeNanos(), f.inode(), f.device(), f.uid() + 1, f.gid(), f.mode()),
                new Fingerprint(f.size(), f.mtimeNanos(), f.ctimeNanos(), f.inode(), f.device(), f.uid(), f.gid(), 0100600))) {
            VassalFile changed = new VassalFile("a", a.path(), other, null, a.parsed());
            assertEquals(List.of(new Change.Changed(changed)),
                    SnapshotDiff.diff(byName(a), snapshot(Set.of(), changed)));
        }
    }

    @Test
    void aFollowedSymlinksOwnFingerprintCounts() {
        VassalFile a = file(A, "a", 1);
        Fingerprint f = a.fingerprint();
        Fingerprint link = new Fingerprint(20, 1, 1, 43, 1, 1000, 1000, 0120777);
        Fingerprint chowned = new Fingerprint(20, 1, 2, 43, 1, 1001, 1000, 0120777);
        VassalFile linked = new VassalFile("a", a.path(), f, link, a.parsed());
        VassalFile relinked = new VassalFile("a", a.path(), f, chowned, a.parsed());
        assertEquals(List.of(new Change.Changed(linked)), SnapshotDiff.diff(byName(a), snapshot(Set.of(), linked)));
        assertEquals(List.of(new Change.Changed(relinked)),
                SnapshotDiff.diff(byName(linked), snapshot(Set.of(), relinked)));
        assertEquals(List.of(), SnapshotDiff.diff(byName(linked), snapshot(Set.of(), linked)));
    }

    @Test
    void anUnreadableDirectoryKeepsItsVassals() {
        Map<String, VassalFile> known = byName(file(A, "a", 1), file(B, "b", 1));
        assertEquals(List.of(new Change.Removed("b")), SnapshotDiff.diff(known, snapshot(Set.of(A))));
    }

    @Test
    void movedToAnotherDirectoryIsChanged() {
        VassalFile moved = file(B, "a", 1);
        assertEquals(List.of(new Change.Changed(moved)),
                SnapshotDiff.diff(byName(file(A, "a", 1)), snapshot(Set.of(), moved)));
        assertEquals("a", new Change.Changed(moved).name());
    }
}
