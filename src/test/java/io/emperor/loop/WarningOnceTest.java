package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.VassalSpec;
import io.emperor.source.dir.Fingerprint;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Policy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A warning that does not change (a {@code uid} line in a tenant's file) is logged once, not at
 * every touch; a new or changed warning is logged, and so is the same one after the file went.
 */
class WarningOnceTest extends LoopWithLog {
    long mtime;

    /** A new version of app.ini (a touch: a new mtime) whose parse gave these warnings at these lines. */
    VassalFile version(int... warningLines) {
        Fingerprint f = new Fingerprint(10, ++mtime, mtime, 7, 1, 1000, 1000, 0100644);
        List<Problem> warnings = java.util.Arrays.stream(warningLines)
                .mapToObj(l -> new Problem(spec.file(), l, "uid: tyrant mode ignores it")).toList();
        return new VassalFile("app", spec.file(), f, null, Parsed.ok(spec, warnings));
    }

    void scan(VassalFile f) {
        loop.handle(new LoopEvent.Scanned(new Snapshot(Map.of(f.name(), f), Set.of())));
    }

    void removed() {
        loop.handle(new LoopEvent.Scanned(new Snapshot(Map.of(), Set.of())));
    }

    long warnings() {
        return lines.stream().filter(l -> l.startsWith("app: warning: ")).count();
    }

    @Test
    void theSameWarningIsLoggedOnceHoweverManyTouches() {
        scan(version(3));
        assertEquals(1, warnings(), lines::toString);
        for (int i = 0; i < 5; i++) {
            scan(version(3)); // touched: a new fingerprint, the same warning
        }
        assertEquals(1, warnings(), () -> "touches do not repeat it: " + lines);

        scan(version(4)); // edited: the warning moved
        assertEquals(2, warnings(), lines::toString);
        scan(version()); // fixed
        scan(version(4)); // and back: said again
        assertEquals(3, warnings(), lines::toString);

        removed();
        scan(version(4)); // the file went and came back
        assertEquals(4, warnings(), lines::toString);
    }
}
