package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Parsed;
import io.emperor.config.FakeUserDb;
import io.emperor.config.UserDb;
import io.emperor.config.VassalSpec;
import io.emperor.source.dir.Fingerprint;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.TyrantRules;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Event;
import io.emperor.vassal.ExitStatus;
import io.emperor.vassal.Policy;
import io.emperor.vassal.State;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Tyrant-mode verdicts through the loop: a refusal is logged once per version of the file, however
 * many rescans bring the same version, and an owner change of a running vassal restarts it as the
 * new owner.
 */
class TyrantLoopTest extends LoopWithLog {
    /** No passwd entries: every owner is numeric. */
    private static final UserDb NO_USERS = new FakeUserDb();

    long ctime;

    /** A new version of app.ini owned by uid:gid, judged as the scanner would. */
    VassalFile version(int uid, int gid) {
        Fingerprint f = new Fingerprint(10, 1, ++ctime, 7, 1, uid, gid, 0100644);
        Parsed<VassalSpec> p = TyrantRules.judge(Parsed.ok(spec, List.of()),
                new TyrantRules.Subject(spec.file(), null, f, true), NO_USERS);
        return new VassalFile("app", spec.file(), f, null, p);
    }

    void scan(VassalFile f) {
        loop.handle(new LoopEvent.Scanned(new Snapshot(Map.of(f.name(), f), Set.of())));
    }

    long count(String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).count();
    }

    @Test
    void aRefusalIsLoggedOncePerVersion() {
        VassalFile rootOwned = version(0, 0);
        for (int i = 0; i < 5; i++) {
            scan(rootOwned); // rescans find the same version
        }
        assertEquals(1, count("app: refused: " + spec.file() + ": owned by root (uid 0)"), lines::toString);
        assertEquals(1, count("app: refused: " + spec.file() + ": group is root (gid 0)"), lines::toString);
        assertEquals(State.FAILED, loop.vassals().get("app").state());
        assertTrue(launcher.calls.isEmpty());

        scan(version(0, 0)); // touched: a new version, refused again
        assertEquals(2, count("app: refused: " + spec.file() + ": owned by root (uid 0)"));

        scan(version(12345, 12345)); // chown
        assertEquals(State.STARTING, loop.vassals().get("app").state());
        assertEquals(12345, loop.vassals().get("app").spec().uid());
        assertEquals(1, launcher.calls.size());
    }

    @Test
    void anOwnerChangeRestartsAsTheNewOwner() {
        scan(version(12345, 12345));
        loop.handle(new LoopEvent.ForVassal("app", new Event.ExecDone(1)));
        assertEquals(State.RUNNING, loop.vassals().get("app").state());

        VassalFile chowned = version(12346, 12347);
        scan(chowned);
        scan(chowned);
        assertEquals(State.STOPPING, loop.vassals().get("app").state());
        assertEquals(List.of("spawn app run=1 pid=100 argv=[/bin/app]", "signal run=1 sig=15"), launcher.calls);
        assertEquals(1, count("app: restarting: spawn settings changed signal=TERM pid=100"));

        launcher.exits.put(1L, ExitStatus.exited(0));
        loop.handle(new LoopEvent.Ended("app", 1));
        assertEquals(State.STARTING, loop.vassals().get("app").state());
        assertEquals("spawn app run=2 pid=101 argv=[/bin/app]", launcher.calls.get(3));
        assertEquals(12346, loop.vassals().get("app").spec().uid());
        assertEquals(12347, loop.vassals().get("app").spec().gid());
    }

    @Test
    void aRefusedVersionOfARunningVassalKeepsIt() {
        scan(version(12345, 12345));
        loop.handle(new LoopEvent.ForVassal("app", new Event.ExecDone(1)));
        scan(version(0, 12345));
        assertEquals(State.RUNNING, loop.vassals().get("app").state());
        assertEquals(12345, loop.vassals().get("app").spec().uid());
        assertEquals(1, count("app: refused: "));
        assertEquals(1, count("app: kept running pid=100 (last good version of the file)"));
    }
}
