package io.emperor.source;

import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.VassalFile;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The vassal directories and the fleet, two sources of one thing (DESIGN §11): each hands in its
 * own latest {@link Snapshot}, and the sink gets their union, for the one diff and the one loop.
 * A name both have is the directory's (the machine's own files win); the fleet's is ignored and
 * logged once: {@code NAME: ignored: etcd key KEY has the same name as FILE}. Nothing is handed on
 * before the directories' first scan; the fleet's last snapshot stays while etcd is unreachable,
 * so its vassals run on. Any thread; the sink is called under this object's lock and must not block.
 */
public final class Sources {
    private static final Logger log = LoggerFactory.getLogger("emperor");

    private final Consumer<Snapshot> sink;
    private Snapshot directories;
    private Snapshot fleet;
    private Set<String> loggedClashes = Set.of();

    public Sources(Consumer<Snapshot> sink) {
        this.sink = sink;
    }

    /** A scan of the vassal directories (the watcher's thread). */
    public synchronized void fromDirectories(Snapshot snapshot) {
        directories = snapshot;
        publish();
    }

    /** A list or a watch event of the fleet (the fleet's thread). */
    public synchronized void fromFleet(Snapshot snapshot) {
        fleet = snapshot;
        if (directories != null) {
            publish();
        }
    }

    private void publish() {
        if (fleet == null || fleet.files().isEmpty()) {
            loggedClashes = Set.of();
            sink.accept(directories);
            return;
        }
        Map<String, VassalFile> files = new HashMap<>(directories.files());
        Set<String> clashes = new HashSet<>();
        for (VassalFile f : fleet.files().values()) {
            VassalFile mine = files.putIfAbsent(f.name(), f);
            if (mine != null) {
                String clash = f.path() + " " + mine.path();
                clashes.add(clash);
                if (!loggedClashes.contains(clash)) {
                    log.warn("{}: ignored: etcd key {} has the same name as {}", f.name(), f.path(), mine.path());
                }
            }
        }
        loggedClashes = clashes;
        sink.accept(new Snapshot(files, directories.unreadableDirs()));
    }
}
