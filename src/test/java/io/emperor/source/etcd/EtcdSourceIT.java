package io.emperor.source.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.FakeUserDb;
import io.emperor.config.FleetSettings;
import io.emperor.config.TenantBudget;
import io.emperor.config.VassalParser;
import io.emperor.loop.Clock;
import io.emperor.source.FleetState;
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
import java.util.concurrent.atomic.AtomicLong;
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
    /** The client between each source and etcd: its watches can be made to lose what etcd sends. */
    private PausableWatchClient client;

    /** The source's clock: the system's, or held still ({@link #held}) so that no probe runs until moved. */
    private final AtomicLong nanos = new AtomicLong(System.nanoTime());
    private final Clock held = nanos::get;
    /** The source's turns after a probe that etcd answered (it asks for the status records at each). */
    private final AtomicInteger turns = new AtomicInteger();

    private EtcdSource source(String prefix, Clock clock) {
        FleetSettings settings = new FleetSettings(List.of(etcd.endpoints().split(",")), prefix, "n1",
                Duration.ofSeconds(10), null, null, null, null, null);
        EtcdSource s = new EtcdSource(new FleetContext(settings,
                new VassalParser(FakeUserDb.standard(), "host", Map.of()), FakeUserDb.standard(), false,
                TyrantRules.EmperorGroup.NONE, TenantBudget.DEFAULTS, null, () -> {
                    turns.incrementAndGet(); // a probe's turn with a lease: nothing to publish
                    return Map.of();
                }, last::set), clock,
                (set, password, executor) -> client = new PausableWatchClient(EtcdSource.client(set, password, executor)));
        s.start();
        return s;
    }

    /** A source of {@code prefix} on {@code clock} that has handed over the vassal {@code a}, put first. */
    private EtcdSource withA(String prefix, Clock clock) {
        EtcdSource s = source(prefix, clock);
        try {
            etcd.put(prefix + "/vassals/a.ini", vassal("1"));
            awaitNames(Set.of("a"));
            return s;
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
    }

    private void awaitNames(Set<String> names) {
        Poll.until("the snapshot to hold " + names, WAIT,
                () -> last.get() != null && last.get().files().keySet().equals(names),
                () -> "last: " + (last.get() == null ? null : last.get().files().keySet()));
    }

    private static String vassal(String arg) {
        return "[vassal]\nexec = /bin/sleep " + arg + "\n";
    }

    /**
     * The source's clock held still: no probe runs, so only the watch's end can make it list again
     * (the probe would find the missed changes first).
     */
    @Test
    void aCompactionPastTheWatchedRevisionEndsInANewList() {
        String prefix = "/c" + PREFIXES.incrementAndGet();
        try (EtcdSource s = withA(prefix, held)) {
            long lists = s.state().lists();
            client.pause();
            // What the watch misses, then the history it would need compacted away.
            etcd.put(prefix + "/vassals/b.ini", vassal("2"));
            etcd.delete(prefix + "/vassals/a.ini");
            etcd.compact();
            client.resume();
            awaitNames(Set.of("b"));
            FleetState after = s.state();
            assertTrue(after.lists() > lists, "listed again");
            assertTrue(after.relisted().startsWith("watch ended"), after.relisted());
            assertTrue(after.relisted().contains("compact"), after.relisted());
        }
    }

    @Test
    void aSilentWatchIsFoundByTheProbeAndRepairedByAList() {
        String prefix = "/s" + PREFIXES.incrementAndGet();
        try (EtcdSource s = withA(prefix, Clock.system())) {
            client.pause();
            etcd.put(prefix + "/vassals/b.ini", vassal("2"));
            awaitNames(Set.of("a", "b"));
            assertEquals("missed changes", s.state().relisted());
            // A delete only changes the count: found the same way.
            client.pause();
            etcd.delete(prefix + "/vassals/a.ini");
            awaitNames(Set.of("b"));
            assertEquals("missed changes", s.state().relisted());
        }
    }

    @Test
    void aListAgainKeepsTheFingerprintOfWhatDidNotChange() {
        String prefix = "/f" + PREFIXES.incrementAndGet();
        try (EtcdSource s = withA(prefix, Clock.system())) {
            Snapshot before = last.get();
            long lists = s.state().lists();
            s.relistNow();
            Poll.until("a new list", WAIT, () -> s.state().lists() > lists);
            Poll.until("its snapshot", WAIT, () -> last.get() != before);
            assertEquals("asked", s.state().relisted());
            assertEquals(before.files().get("a").fingerprint(), last.get().files().get("a").fingerprint());
            // The same text put again is a new version, as a touch is for a file.
            etcd.put(prefix + "/vassals/a.ini", vassal("1"));
            Poll.until("the put", WAIT, () -> !before.files().get("a").fingerprint()
                    .equals(last.get().files().get("a").fingerprint()));
        }
    }

    /**
     * The safety net's minute and the probe's second are the source's clock's: held still, nothing is
     * listed again however long the test waits; a minute on, the next turn lists again (periodic).
     */
    @Test
    void theFullListEveryMinuteIsOnTheSourcesClock() {
        String prefix = "/p" + PREFIXES.incrementAndGet();
        try (EtcdSource s = withA(prefix, held)) {
            long lists = s.state().lists();
            assertEquals(0, turns.get(), "no probe while the clock is held");
            nanos.addAndGet(Duration.ofMillis(EtcdSource.RELIST_MILLIS).toNanos() - 1);
            Poll.until("a probe's turn", WAIT, () -> turns.get() > 0);
            assertEquals(lists, s.state().lists(), "a nanosecond short of the minute: no list");
            nanos.addAndGet(1);
            Poll.until("the periodic list", WAIT, () -> s.state().lists() > lists);
            assertEquals("periodic", s.state().relisted());
        }
    }
}
