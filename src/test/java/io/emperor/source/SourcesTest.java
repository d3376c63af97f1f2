package io.emperor.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.config.Parsed;
import io.emperor.source.dir.Fingerprint;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.VassalFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The directories' and the fleet's snapshots as one. */
class SourcesTest {
    private final List<Snapshot> out = new ArrayList<>();
    private final Sources sources = new Sources(out::add);

    private static VassalFile file(String name, String path) {
        return new VassalFile(name, Path.of(path), new Fingerprint(1, 1, 1, 1, 1, 0, 0, 0100644), null,
                Parsed.failed(List.of(new io.emperor.config.Problem(Path.of(path), 0, "test")), List.of()));
    }

    private static Snapshot snapshot(VassalFile... files) {
        Map<String, VassalFile> m = new java.util.HashMap<>();
        for (VassalFile f : files) {
            m.put(f.name(), f);
        }
        return new Snapshot(m, Set.of(Path.of("/unreadable")));
    }

    @Test
    void nothingBeforeTheDirectoriesFirstScanThenTheUnionWithTheDirectoryWinningAName() {
        sources.fromFleet(snapshot(file("app", "/p/vassals/app.ini"), file("web", "/p/vassals/web.ini")));
        assertEquals(List.of(), out, "the directories first");
        sources.fromDirectories(snapshot(file("app", "/etc/emperor/vassals/app.ini")));
        Snapshot u = out.get(0);
        assertEquals(Set.of("app", "web"), u.files().keySet());
        assertEquals(Path.of("/etc/emperor/vassals/app.ini"), u.files().get("app").path(), "the machine's own file wins");
        assertEquals(Set.of(Path.of("/unreadable")), u.unreadableDirs());
    }

    @Test
    void theFleetsLastSnapshotStaysWhileTheDirectoriesChange() {
        sources.fromDirectories(snapshot());
        sources.fromFleet(snapshot(file("web", "/p/vassals/web.ini")));
        sources.fromDirectories(snapshot(file("local", "/v/local.ini")));
        assertEquals(Set.of("web", "local"), out.get(out.size() - 1).files().keySet());
    }
}
