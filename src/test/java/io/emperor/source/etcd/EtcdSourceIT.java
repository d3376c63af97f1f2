package io.emperor.source.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.FakeUserDb;
import io.emperor.config.FleetSettings;
import io.emperor.config.TenantBudget;
import io.emperor.config.VassalParser;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.TyrantRules;
import io.emperor.source.FleetContext;
import io.emperor.testing.EtcdServer;
import io.emperor.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The etcd source against a real etcd, in this JVM: what repairs a watch that lost events. A
 * compaction past the revision it watches from, and a watch that stays silent (as jetcd's resumed
 * watch has been known to after a restart: etcd-io/jetcd#1209), each end in a new list and the
 * right snapshot. One etcd for the class; a prefix per test.
 */
class EtcdSourceIT {
    private static final Duration WAIT = Poll.WAIT;
    @TempDir
    static Path dir;
    static EtcdServer etcd;
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdServer.start(dir, 1);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    private final AtomicReference<Snapshot> last = new AtomicReference<>();

    private EtcdSource source(String prefix) {
        FleetSettings settings = new FleetSettings(List.of(etcd.endpoints().split(",")), prefix, "n1",
                Duration.ofSeconds(10), null, null, null, null, null);
        EtcdSource s = new EtcdSource(new FleetContext(settings,
                new VassalParser(FakeUserDb.standard(), "host", Map.of()), FakeUserDb.standard(), false,
                TyrantRules.EmperorGroup.NONE, TenantBudget.DEFAULTS, null, null, last::set));
        s.start();
        return s;
    }

    private void awaitNames(Set<String> names) {
        Poll.until("the snapshot to hold " + names, WAIT,
                () -> last.get() != null && last.get().files().keySet().equals(names),
                () -> "last: " + (last.get() == null ? null : last.get().files().keySet()));
    }

    private static String vassal(String arg) {
        return "[vassal]\nexec = /bin/sleep " + arg + "\n";
    }

    @Test
    void aCompactionPastTheWatchedRevisionEndsInANewList() {
        String prefix = "/c" + PREFIXES.incrementAndGet();
        try (EtcdSource s = source(prefix)) {
            etcd.put(prefix + "/vassals/a.ini", vassal("1"));
            awaitNames(Set.of("a"));
            long lists = s.lists();
            s.pauseWatch(false);
            // What the watch misses, then the history it would need compacted away.
            etcd.put(prefix + "/vassals/b.ini", vassal("2"));
            etcd.delete(prefix + "/vassals/a.ini");
            etcd.compact();
            s.resumeWatch();
            awaitNames(Set.of("b"));
            assertTrue(s.lists() > lists, "listed again");
            assertTrue(s.lastRelistReason().startsWith("watch ended"), s.lastRelistReason());
            assertTrue(s.lastRelistReason().contains("compact"), s.lastRelistReason());
        }
    }

    @Test
    void aSilentWatchIsFoundByTheProbeAndRepairedByAList() {
        String prefix = "/s" + PREFIXES.incrementAndGet();
        try (EtcdSource s = source(prefix)) {
            etcd.put(prefix + "/vassals/a.ini", vassal("1"));
            awaitNames(Set.of("a"));
            s.pauseWatch(true);
            etcd.put(prefix + "/vassals/b.ini", vassal("2"));
            awaitNames(Set.of("a", "b"));
            assertEquals("missed changes", s.lastRelistReason());
            // A delete only changes the count: found the same way.
            s.pauseWatch(true);
            etcd.delete(prefix + "/vassals/a.ini");
            awaitNames(Set.of("b"));
            assertEquals("missed changes", s.lastRelistReason());
        }
    }

    @Test
    void aListAgainKeepsTheFingerprintOfWhatDidNotChange() {
        String prefix = "/f" + PREFIXES.incrementAndGet();
        try (EtcdSource s = source(prefix)) {
            etcd.put(prefix + "/vassals/a.ini", vassal("1"));
            awaitNames(Set.of("a"));
            Snapshot before = last.get();
            long lists = s.lists();
            s.relistNow();
            Poll.until("a new list", WAIT, () -> s.lists() > lists);
            Poll.until("its snapshot", WAIT, () -> last.get() != before);
            assertEquals(before.files().get("a").fingerprint(), last.get().files().get("a").fingerprint());
            // The same text put again is a new version, as a touch is for a file.
            etcd.put(prefix + "/vassals/a.ini", vassal("1"));
            Poll.until("the put", WAIT, () -> !before.files().get("a").fingerprint()
                    .equals(last.get().files().get("a").fingerprint()));
        }
    }
}
