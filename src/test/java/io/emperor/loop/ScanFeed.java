package io.emperor.loop;

import io.emperor.config.Parsed;
import io.emperor.config.VassalSpec;
import io.emperor.source.dir.Fingerprint;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Policy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the directory source hands a loop, made by hand: files that parsed, each with a fingerprint of its
 * own (so that the loop sees every one as a change), and scans of them.
 */
final class ScanFeed {
    /** A host whose configuration never reloads and whose watcher needs no stopping. */
    static final EmperorLoop.Host HOST = new EmperorLoop.Host() {
        @Override
        public Optional<Policy> reloadConfig() {
            return Optional.empty();
        }

        @Override
        public void stopWatching() {}
    };

    private final EmperorLoop loop;
    private int seq;

    ScanFeed(EmperorLoop loop) {
        this.loop = loop;
    }

    /** The file of {@code spec}, as if it had just been written. */
    VassalFile file(VassalSpec spec) {
        return new VassalFile(spec.name(), spec.file(), fingerprint(), null, Parsed.ok(spec, List.of()));
    }

    /** A fingerprint no earlier file of this feed had. */
    Fingerprint fingerprint() {
        return new Fingerprint(1, nextSeq(), 0, 1, 1, 0, 0, 0100644);
    }

    /** A number no earlier fingerprint of this feed had (its inode). */
    int nextSeq() {
        return seq++;
    }

    /** A scan that finds exactly {@code files}. */
    void scan(VassalFile... files) {
        Map<String, VassalFile> m = new LinkedHashMap<>();
        for (VassalFile f : files) {
            m.put(f.name(), f);
        }
        loop.handle(new LoopEvent.Scanned(new Snapshot(m, Set.of())));
    }
}
