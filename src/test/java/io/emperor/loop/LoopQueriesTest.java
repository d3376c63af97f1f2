package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Parsed;
import io.emperor.source.dir.Fingerprint;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Event;
import io.emperor.vassal.ExitStatus;
import io.emperor.vassal.Specs;
import io.emperor.vassal.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The loop's side of the control wing (issue 16 §3): typed queries answered with plain data, on a
 * fake clock with the fake launcher, no process and no thread. Each query goes through
 * {@link EmperorLoop#handle} as the loop thread would take it from its queue.
 */
class LoopQueriesTest {
    static final long S = LoopTest.S;
    final LoopTest t = new LoopTest();
    final EmperorLoop loop = t.loop;

    /** An asker that keeps what it is told. */
    static final class Kept<T> implements LoopQuery.Asker<T> {
        final List<T> answers = new ArrayList<>();
        final List<RuntimeException> failures = new ArrayList<>();
        boolean gone;

        @Override
        public void answer(T answer) {
            answers.add(answer);
        }

        @Override
        public void failed(RuntimeException e) {
            failures.add(e);
        }

        @Override
        public boolean gone() {
            return gone;
        }
    }

    void ask(LoopQuery q) {
        loop.handle(new LoopEvent.Asked(q));
    }

    /** A file of {@code name} owned by {@code uid}. */
    VassalFile owned(String name, int uid) {
        var spec = Specs.program(name, "/bin/" + name);
        return new VassalFile(name, spec.file(), new Fingerprint(1, t.feed.nextSeq(), 0, 1, 1, uid, uid, 0100644),
                null, Parsed.ok(spec, List.of()));
    }

    void running(String name, long runId) {
        loop.handle(new LoopEvent.ForVassal(name, new Event.ExecDone(runId)));
    }

    @Test
    void aSnapshotIsACopyThatLaterTurnsDoNotChange() {
        t.scan(owned("a", 1001));
        running("a", 1);
        Kept<LoopSnapshot> k = new Kept<>();
        ask(new LoopQuery.Snapshot(k));
        LoopSnapshot s = k.answers.get(0);
        assertEquals(t.now, s.now(), "taken on the loop's clock");
        assertEquals(Duration.ofSeconds(10), s.minUptime());
        assertEquals(1, s.vassals().size());
        LoopSnapshot.Entry a = s.vassals().get(0);
        assertEquals(State.RUNNING, a.vassal().state());
        assertEquals(1001, a.file().fingerprint().uid());
        assertEquals(1, a.tally().spawns());
        assertEquals(1, s.spawns());

        t.now += 20 * S;
        t.exit("a", ExitStatus.exited(1)); // respawned at once: it ran longer than min-uptime
        assertEquals(2, loop.tally().entry("a").spawns());
        assertEquals(1, a.tally().spawns(), "the copy's tally entry did not move");
        assertNull(a.tally().lastExit());
        assertEquals(State.RUNNING, a.vassal().state());
        assertEquals(1, s.spawns());
        assertEquals(0L, s.exits().getOrDefault(Tally.ERROR, 0L));
    }

    @Test
    void aStopWithWaitIsAnsweredWhenTheVassalHasStopped() {
        t.scan(t.file(Specs.program("a", "/bin/a")));
        running("a", 1);
        Kept<List<LoopQuery.Acted>> k = new Kept<>();
        ask(new LoopQuery.Act(List.of("a"), new Event.Stop(), true, null, LoopQuery.Reach.ALL, k));
        loop.afterTurn();
        assertEquals(List.of(), k.answers, "still stopping");
        t.exit("a", ExitStatus.killed(15, false));
        loop.afterTurn();
        assertEquals(List.of(List.of(new LoopQuery.Acted("a", false, true, "stopped", "stopped", 0))), k.answers);
    }

    @Test
    void withoutWaitTheAnswerIsTheLifecyclesAndNamesOutOfReachAreMissing() {
        t.scan(owned("mine", 1001), owned("theirs", 1002));
        running("mine", 1);
        running("theirs", 2);
        Kept<List<LoopQuery.Acted>> k = new Kept<>();
        ask(new LoopQuery.Act(List.of("mine", "theirs", "nosuch"), new Event.Stop(), false, null,
                LoopQuery.Reach.own(1001), k));
        assertEquals(List.of(List.of(new LoopQuery.Acted("mine", false, true, "stopping", "stopping", 100),
                LoopQuery.Acted.missing("theirs"), LoopQuery.Acted.missing("nosuch"))), k.answers);
        assertEquals(State.RUNNING, t.vassal("theirs").state(), "another tenant's vassal is not touched");
        assertTrue(t.launcher.calls.contains("signal run=1 sig=15"), t.launcher.calls.toString());
        assertTrue(!t.launcher.calls.contains("signal run=2 sig=15"), t.launcher.calls.toString());
    }

    @Test
    void aWaitEndsAtItsTimeoutOnTheLoopsClock() {
        t.scan(t.file(Specs.program("a", "/bin/a")));
        running("a", 1);
        Kept<List<LoopQuery.Acted>> k = new Kept<>();
        ask(new LoopQuery.Act(List.of("a"), new Event.Stop(), true, Duration.ofSeconds(2), LoopQuery.Reach.ALL, k));
        t.now += S;
        loop.afterTurn();
        assertEquals(List.of(), k.answers);
        t.now += S;
        loop.afterTurn();
        assertEquals(List.of(List.of(new LoopQuery.Acted("a", false, false, "still stopping when the wait ended",
                "stopping", 100))), k.answers);
    }

    @Test
    void aGoneAskerIsSkipped() {
        t.scan(t.file(Specs.program("a", "/bin/a")));
        running("a", 1);
        Kept<List<LoopQuery.Acted>> k = new Kept<>();
        k.gone = true;
        ask(new LoopQuery.Act(List.of("a"), new Event.Stop(), false, null, LoopQuery.Reach.ALL, k));
        assertEquals(List.of(), k.answers);
        assertEquals(State.RUNNING, t.vassal("a").state(), "a request whose client is gone does nothing");
    }

    @Test
    void logsSaysWhetherTheNameIsWithinReachAndWhenItPassesToAnotherOwner() {
        t.scan(owned("a", 1001));
        Kept<Boolean> other = new Kept<>();
        ask(new LoopQuery.Logs("a", LoopQuery.Reach.own(1002), false, other, () -> {}));
        assertEquals(List.of(false), other.answers, "another tenant's vassal is no such vassal");

        Kept<Boolean> k = new Kept<>();
        List<String> passed = new ArrayList<>();
        ask(new LoopQuery.Logs("a", LoopQuery.Reach.own(1001), true, k, () -> passed.add("passed")));
        assertEquals(List.of(true), k.answers);
        t.scan(owned("a", 1001)); // touched, same owner
        loop.afterTurn();
        assertEquals(List.of(), passed);
        t.scan(owned("a", 1002)); // chowned
        loop.afterTurn();
        assertEquals(List.of("passed"), passed);

        Kept<Boolean> left = new Kept<>();
        List<String> never = new ArrayList<>();
        ask(new LoopQuery.Logs("a", LoopQuery.Reach.own(1002), true, left, () -> never.add("passed")));
        left.gone = true; // the follower hung up
        loop.afterTurn();
        t.scan(owned("a", 1003));
        loop.afterTurn();
        assertEquals(List.of(), never, "a follower that left is not told");
    }

    @Test
    void aRescanIsAnsweredOnceTheLoopHasAppliedAScanOrAfter30s() {
        t.scan(t.file(Specs.program("a", "/bin/a")));
        Kept<LoopQuery.Rescanned> k = new Kept<>();
        List<String> asked = new ArrayList<>();
        ask(new LoopQuery.Rescan(() -> asked.add("rescan"), k));
        assertEquals(List.of("rescan"), asked);
        loop.afterTurn();
        assertEquals(List.of(), k.answers);
        t.scan(t.file(Specs.program("a", "/bin/a")), t.file(Specs.program("b", "/bin/b")));
        loop.afterTurn();
        assertEquals(List.of(new LoopQuery.Rescanned(true, 2)), k.answers);

        Kept<LoopQuery.Rescanned> late = new Kept<>();
        ask(new LoopQuery.Rescan(() -> {}, late));
        t.now += Queries.RESCAN_WAIT.toNanos();
        loop.afterTurn();
        assertEquals(List.of(new LoopQuery.Rescanned(false, 2)), late.answers);
    }

    @Test
    void aFailureOnTheLoopIsLoggedAndAnswered() {
        Kept<LoopQuery.Rescanned> k = new Kept<>();
        ask(new LoopQuery.Rescan(() -> {
            throw new IllegalStateException("watcher gone");
        }, k));
        assertEquals(1, k.failures.size());
        assertEquals("watcher gone", k.failures.get(0).getMessage());
        assertEquals(List.of(), k.answers);
    }
}
