package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.VassalSpec;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Effect;
import io.emperor.vassal.Event;
import io.emperor.vassal.ExitStatus;
import io.emperor.vassal.Lifecycle;
import io.emperor.vassal.Policy;
import io.emperor.vassal.Specs;
import io.emperor.vassal.State;
import io.emperor.vassal.Vassal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The loop with a fake clock and a fake launcher that records what it is asked to do. */
class LoopTest {
    static final long S = 1_000_000_000L;

    long now = 5000 * S;
    final FakeLauncher launcher = new FakeLauncher();
    final List<String> host = new ArrayList<>();
    final EmperorLoop loop = new EmperorLoop(new Lifecycle(new Policy(Duration.ofSeconds(10), Duration.ofSeconds(60))),
            launcher, () -> now, new EmperorLoop.Host() {
                @Override
                public Optional<Policy> reloadConfig() {
                    host.add("reload");
                    return Optional.of(new Policy(Duration.ofSeconds(1), Duration.ofSeconds(4)));
                }

                @Override
                public void stopWatching() {
                    host.add("stopWatching");
                }

                @Override
                public void vassalLine(String name, Effect.Level level, String message) {
                    tailed.add(name + ": " + message);
                }
            });
    final ScanFeed feed = new ScanFeed(loop);
    /** The emperor's lines about vassals as the host got them for the vassals' tails. */
    final List<String> tailed = new ArrayList<>();

    /**
     * Records spawns, signals and group kills; exits are reported by the test. As strict as the
     * real launcher (HelperLauncher): a run that was not spawned, or was reaped already, cannot be
     * reaped (IllegalStateException), and only a live uWSGI run has an emperor channel to tell.
     */
    static final class FakeLauncher implements Launcher {
        /** Live runs (spawned, not reaped yet) -> whether they have an emperor channel (uWSGI). */
        final Map<Long, Boolean> live = new HashMap<>();
        final List<String> calls = new ArrayList<>();
        final Map<Long, Long> pids = new HashMap<>();
        final Map<Long, ExitStatus> exits = new HashMap<>();
        final List<Long> watched = new ArrayList<>();
        final List<String> forgotten = new ArrayList<>();
        long nextPid = 100;
        String failNext;
        /** What the next hold of sockets answers (issue 15), or null: held. */
        String failHold;

        @Override
        public Hold hold(String name, VassalSpec spec) {
            if (!spec.listen().any()) {
                return Hold.HELD;
            }
            calls.add("hold " + name + " " + spec.listen().addresses().stream()
                    .map(io.emperor.config.Listen.Address::text).toList());
            String why = failHold;
            failHold = null;
            return why == null ? Hold.HELD : new Hold.Failed(why);
        }

        @Override
        public SpawnResult spawn(String name, long runId, VassalSpec spec) {
            if (failNext != null) {
                calls.add("spawn-failed " + name);
                String why = failNext;
                failNext = null;
                return new SpawnResult.Failed(why);
            }
            long pid = nextPid++;
            pids.put(runId, pid);
            live.put(runId, spec.kind() == io.emperor.config.VassalSpec.Kind.UWSGI);
            calls.add("spawn " + name + " run=" + runId + " pid=" + pid + " argv=" + spec.argv());
            return new SpawnResult.Started(pid, 0, 0);
        }

        @Override
        public void watch(long runId) {
            watched.add(runId);
        }

        @Override
        public void forget(String name) {
            forgotten.add(name);
        }

        @Override
        public void signal(long runId, int signal) {
            calls.add("signal run=" + runId + " sig=" + signal);
        }

        @Override
        public void killGroup(long runId) {
            calls.add("killGroup run=" + runId);
        }

        @Override
        public Optional<String> tell(long runId, int message) {
            if (!live.getOrDefault(runId, false)) {
                calls.add("tell-refused run=" + runId + " byte=" + message);
                return Optional.of("no emperor channel");
            }
            calls.add("tell run=" + runId + " byte=" + message);
            return Optional.empty();
        }

        @Override
        public ExitStatus reap(long runId) {
            if (live.remove(runId) == null) {
                throw new IllegalStateException("reap of unknown run " + runId);
            }
            calls.add("reap run=" + runId);
            return exits.getOrDefault(runId, ExitStatus.exited(0));
        }
    }

    VassalFile file(VassalSpec spec) {
        return feed.file(spec);
    }

    VassalFile broken(String name) {
        Path p = Path.of("/v/" + name + ".ini");
        return new VassalFile(name, p, feed.fingerprint(), null,
                Parsed.failed(List.of(new Problem(p, 4, "exec: unterminated quote")), List.of()));
    }

    void scan(VassalFile... files) {
        feed.scan(files);
    }

    Vassal vassal(String name) {
        return loop.vassals().get(name);
    }

    void exit(String name, ExitStatus status) {
        Vassal v = vassal(name);
        launcher.exits.put(v.runId(), status);
        loop.handle(new LoopEvent.Ended(name, v.runId()));
    }

    /** Issue 16 §5: the fake refuses what the real launcher refuses, so a loop that relied on more would fail here. */
    @Test
    void theFakeLauncherIsAsStrictAsTheRealOne() {
        assertThrows(IllegalStateException.class, () -> launcher.reap(42), "a run never spawned");
        scan(file(Specs.program("a", "/bin/a")));
        assertEquals(Optional.of("no emperor channel"), launcher.tell(1, 1), "an exec vassal has no channel");
        exit("a", ExitStatus.exited(0));
        assertThrows(IllegalStateException.class, () -> launcher.reap(1), "a run reaped already");
    }

    @Test
    void aNewFileIsSpawnedAndItsExecReportMakesItRunning() {
        scan(file(Specs.program("a", "/bin/a")));
        assertEquals(List.of("spawn a run=1 pid=100 argv=[/bin/a]"), launcher.calls);
        assertEquals(List.of(1L), launcher.watched);
        assertEquals(State.STARTING, vassal("a").state());
        loop.handle(new LoopEvent.ForVassal("a", new Event.ExecDone(1)));
        assertEquals(State.RUNNING, vassal("a").state());
        assertEquals(100, vassal("a").pid());
    }

    /** Issue 15: the sockets are held before each spawn; a vassal whose sockets cannot be held is not started. */
    @Test
    void theSocketsAreHeldBeforeEachSpawnAndAFailureStartsNothing() {
        VassalSpec spec = Specs.program("a", "/bin/a").withListen(new io.emperor.config.Listen(
                List.of(new io.emperor.config.Listen.Address.Inet("127.0.0.1", 8000)), -1, 16, List.of(), false, false));
        launcher.failHold = "listen 127.0.0.1:8000: bind: Address already in use";
        scan(file(spec));
        assertEquals(List.of("hold a [127.0.0.1:8000]"), launcher.calls);
        assertEquals(State.BACKOFF, vassal("a").state());
        assertTrue(tailed.contains("a: spawn failed: listen 127.0.0.1:8000: bind: Address already in use"), tailed.toString());
        now += 2 * S;
        loop.fireDue();
        assertEquals(List.of("hold a [127.0.0.1:8000]", "hold a [127.0.0.1:8000]", "spawn a run=2 pid=100 argv=[/bin/a]"),
                launcher.calls);
        assertEquals(State.STARTING, vassal("a").state());
    }

    @Test
    void anUnchangedRescanDoesNothing() {
        VassalFile a = file(Specs.program("a", "/bin/a"));
        scan(a);
        scan(a);
        assertEquals(1, launcher.calls.size());
    }

    @Test
    void aTouchReloadsAndARemovalStopsThenForgets() {
        VassalSpec spec = Specs.program("a", "/bin/a");
        scan(file(spec));
        loop.handle(new LoopEvent.ForVassal("a", new Event.ExecDone(1)));
        scan(file(spec)); // same content, new fingerprint: a touch
        assertEquals("signal run=1 sig=1", launcher.calls.get(1));
        scan();
        assertEquals("signal run=1 sig=15", launcher.calls.get(2));
        assertEquals(State.STOPPING, vassal("a").state());
        exit("a", ExitStatus.exited(0));
        assertEquals("reap run=1", launcher.calls.get(3));
        assertFalse(loop.vassals().containsKey("a"));
        assertEquals(List.of("a"), launcher.forgotten, "the launcher releases what it kept for the name (its output tail)");
    }

    @Test
    void aUwsgiVassalIsToldByTheChannelAndAMissedHeartbeatEscalatesOnTheLoopsDeadline() {
        VassalSpec spec = Specs.uwsgi("u", true, false);
        scan(file(spec));
        loop.handle(new LoopEvent.ForVassal("u", new Event.ExecDone(1)));
        scan(file(spec)); // a touch
        assertEquals("tell run=1 byte=1", launcher.calls.get(1));
        assertEquals(State.RELOADING, vassal("u").state());
        loop.handle(new LoopEvent.ForVassal("u", new Event.VassalSays(1, Event.VassalSays.ACCEPTING)));
        loop.handle(new LoopEvent.ForVassal("u", new Event.VassalSays(1, Event.VassalSays.HEARTBEAT)));
        assertEquals(State.RUNNING, vassal("u").state());
        assertEquals(now + 30 * S, loop.earliestDeadline(), "the heartbeat deadline is a loop deadline");
        now += 30 * S;
        loop.fireDue();
        assertEquals("tell run=1 byte=1", launcher.calls.get(2));
        now += 30 * S;
        loop.fireDue();
        assertEquals("killGroup run=1", launcher.calls.get(3));
        scan(); // removal
        assertEquals("tell run=1 byte=0", launcher.calls.get(4));
    }

    /** What the I/O thread posts of a channel: the loop counts each event back as it takes it, then acts on it. */
    @Test
    void whatAChannelSaidIsCountedBackAndActedOn() {
        VassalSpec spec = Specs.uwsgi("u", true, false);
        scan(file(spec));
        loop.handle(new LoopEvent.ForVassal("u", new Event.ExecDone(1)));
        scan(file(spec)); // a touch
        assertEquals(State.RELOADING, vassal("u").state());
        java.util.concurrent.atomic.AtomicInteger taken = new java.util.concurrent.atomic.AtomicInteger();
        loop.handle(new LoopEvent.Said("u", new Event.VassalSays(1, Event.VassalSays.ACCEPTING), taken::incrementAndGet));
        assertEquals(1, taken.get());
        assertEquals(State.RUNNING, vassal("u").state());
        loop.handle(new LoopEvent.Said("ghost", new Event.VassalSays(9, Event.VassalSays.READY), taken::incrementAndGet));
        assertEquals(2, taken.get(), "also for a vassal already forgotten");
    }

    @Test
    void quickExitsWaitForTheirDeadlineWithoutBusyLooping() {
        scan(file(Specs.program("a", "/bin/a")));
        now += S / 10;
        exit("a", ExitStatus.exited(1));
        assertEquals(State.BACKOFF, vassal("a").state());
        assertEquals(now + S, loop.earliestDeadline());
        loop.fireDue();
        assertEquals(2, launcher.calls.size()); // spawn, reap: nothing before the deadline
        now += S;
        loop.fireDue();
        assertEquals("spawn a run=2 pid=101 argv=[/bin/a]", launcher.calls.get(2));
        now += S / 10;
        exit("a", ExitStatus.exited(1));
        assertEquals(now + 2 * S, loop.earliestDeadline());
    }

    @Test
    void aSpawnThatCannotStartBacksOff() {
        launcher.failNext = "posix_spawn /x: No such file or directory";
        scan(file(Specs.program("a", "/bin/a")));
        assertEquals(State.BACKOFF, vassal("a").state());
        assertEquals(now + S, vassal("a").deadline());
    }

    @Test
    void aBrokenFileIsRefusedAndItsFixStartsIt() {
        scan(broken("a"));
        assertEquals(State.FAILED, vassal("a").state());
        assertTrue(launcher.calls.isEmpty());
        scan(file(Specs.program("a", "/bin/a")));
        assertEquals(State.STARTING, vassal("a").state());
    }

    @Test
    void aBrokenEditLeavesTheRunningVassalAlone() {
        scan(file(Specs.program("a", "/bin/a")), file(Specs.program("b", "/bin/b")));
        scan(broken("a"), file(Specs.program("b", "/bin/b")));
        assertEquals(State.STARTING, vassal("a").state());
        assertEquals(100, vassal("a").pid());
        assertTrue(launcher.calls.stream().noneMatch(c -> c.startsWith("signal run=1")), launcher.calls.toString());
    }

    @Test
    void anUnreadableDirectoryKeepsItsVassals() {
        VassalFile a = file(Specs.program("a", "/bin/a"));
        scan(a);
        loop.handle(new LoopEvent.Scanned(new Snapshot(Map.of(), Set.of(Path.of("/v")))));
        assertEquals(State.STARTING, vassal("a").state());
        assertEquals(1, launcher.calls.size());
    }

    @Test
    void shutdownStopsEveryVassalInParallelAndFinishesWhenAllAreGone() {
        scan(file(Specs.program("a", "/bin/a")), file(Specs.program("b", "/bin/b")), broken("c"));
        loop.handle(new LoopEvent.SignalReceived("TERM"));
        assertEquals(List.of("stopWatching"), host);
        assertTrue(launcher.calls.contains("signal run=1 sig=15"));
        assertTrue(launcher.calls.contains("signal run=2 sig=15"));
        assertFalse(loop.vassals().containsKey("c"));
        assertFalse(loop.finished());
        // Scans during a shutdown change nothing.
        scan(file(Specs.program("d", "/bin/d")));
        assertFalse(loop.vassals().containsKey("d"));
        exit("a", ExitStatus.exited(0));
        assertFalse(loop.finished());
        exit("b", ExitStatus.exited(0));
        assertTrue(loop.finished());
    }

    @Test
    void aSecondTermKillsWhatIsStillStopping() {
        scan(file(Specs.program("a", "/bin/a")));
        loop.handle(new LoopEvent.SignalReceived("INT"));
        loop.handle(new LoopEvent.SignalReceived("TERM"));
        assertTrue(launcher.calls.contains("killGroup run=1"), launcher.calls.toString());
    }

    @Test
    void shutdownGivesUpAfterTheLongestStopTimeoutAndTheGrace() {
        scan(file(Specs.withStop(Specs.program("a", "/bin/a"), 15, Duration.ofSeconds(3))));
        loop.handle(new LoopEvent.SignalReceived("QUIT"));
        now += 3 * S;
        loop.fireDue();
        assertTrue(launcher.calls.contains("killGroup run=1"));
        assertFalse(loop.finished());
        now += EmperorLoop.SHUTDOWN_GRACE.toNanos();
        assertTrue(loop.finished());
    }

    @Test
    void sighupAppliesTheNewPolicy() {
        loop.handle(new LoopEvent.SignalReceived("HUP"));
        assertEquals(List.of("reload"), host);
        scan(file(Specs.program("a", "/bin/a")));
        now += 2 * S; // past the new min-uptime of 1 s
        exit("a", ExitStatus.exited(0));
        assertEquals(State.STARTING, vassal("a").state());
    }

    @Test
    void lateEventsOfForgottenVassalsAreDropped() {
        loop.handle(new LoopEvent.ForVassal("ghost", new Event.ExecDone(7)));
        assertTrue(loop.vassals().isEmpty());
    }

    @Test
    void aBugInOneEventDoesNotStopTheLoop() {
        scan(file(Specs.program("a", "/bin/a")));
        // Spawned for a vassal that is already running is impossible: logged, state kept.
        loop.handle(new LoopEvent.ForVassal("a", new Event.Spawned(9, 9, 0, 0)));
        assertEquals(State.STARTING, vassal("a").state());
        scan(file(Specs.program("a", "/bin/a")), file(Specs.program("b", "/bin/b")));
        assertEquals(State.STARTING, vassal("b").state());
    }

    @Test
    void aFatalFailureStopsEveryVassalAndSetsExitStatus70() {
        scan(file(Specs.program("a", "/bin/a")));
        assertEquals(0, loop.exitCode());
        loop.handle(new LoopEvent.Fatal("I/O thread: epoll_wait: Bad file descriptor"));
        assertTrue(loop.isShuttingDown());
        assertEquals(List.of("stopWatching"), host);
        assertTrue(launcher.calls.contains("signal run=1 sig=15"), launcher.calls.toString());
        exit("a", ExitStatus.exited(0));
        assertTrue(loop.finished());
        assertEquals(EmperorLoop.EXIT_FATAL, loop.exitCode());
    }

    // ---- operator commands, waiters and the tally (the control socket's side of the loop) ----

    @Test
    void anOperatorCommandIsAnsweredAndAWaiterFiresWhenItArrives() {
        scan(file(Specs.program("a", "/bin/a")));
        loop.handle(new LoopEvent.ForVassal("a", new Event.ExecDone(1)));
        assertEquals(new io.emperor.vassal.Effect.Reply(true, "stopping"), loop.command("a", new Event.Stop()));
        List<Boolean> fired = new ArrayList<>();
        loop.await(() -> !vassal("a").state().hasProcess(), now + 60 * S, fired::add);
        loop.afterTurn();
        assertEquals(List.of(), fired, "still stopping");
        exit("a", ExitStatus.killed(15, false));
        loop.afterTurn();
        assertEquals(List.of(true), fired);
        assertEquals(State.STOPPED, vassal("a").state());
        assertEquals(1L, loop.tally().exits().get(Tally.STOPPED));
        assertEquals("signal=TERM", loop.tally().entry("a").lastExit());

        assertEquals(new io.emperor.vassal.Effect.Reply(false, "no such vassal"), loop.command("nosuch", new Event.Start()));
        assertEquals(new io.emperor.vassal.Effect.Reply(true, "starting"), loop.command("a", new Event.Start()));
        assertEquals(2, loop.tally().spawns());
        assertEquals(2, loop.tally().entry("a").spawns());
    }

    @Test
    void aWaiterThatNeverArrivesEndsAtItsDeadlineWhichBoundsTheLoopsWait() {
        scan(file(Specs.program("a", "/bin/a")));
        List<Boolean> fired = new ArrayList<>();
        loop.await(() -> false, now + 5 * S, fired::add);
        now += 4 * S;
        loop.afterTurn();
        assertEquals(List.of(), fired);
        now += S;
        loop.afterTurn();
        assertEquals(List.of(false), fired);
    }

    @Test
    void theTallyCountsExitsByCause() {
        scan(file(Specs.program("a", "/bin/a")));
        loop.handle(new LoopEvent.ForVassal("a", new Event.ExecDone(1)));
        now += 20 * S;
        exit("a", ExitStatus.exited(0));
        loop.handle(new LoopEvent.ForVassal("a", new Event.ExecDone(2)));
        now += 20 * S;
        exit("a", ExitStatus.exited(3));
        loop.handle(new LoopEvent.ForVassal("a", new Event.ExecDone(3)));
        now += 20 * S;
        exit("a", ExitStatus.killed(9, false));
        loop.handle(new LoopEvent.ForVassal("a", new Event.ExecFailed(4, "chdir /x: No such file or directory")));
        exit("a", ExitStatus.exited(127));
        Map<String, Long> exits = loop.tally().exits();
        assertEquals(Map.of(Tally.CLEAN, 1L, Tally.ERROR, 1L, Tally.SIGNAL, 1L, Tally.STOPPED, 0L, Tally.SPAWN_FAILED, 1L), exits);
        assertEquals(3, loop.tally().restarts());
        assertEquals(4, loop.tally().spawns());
    }

    /** The emperor's lines about a vassal go to its tail too (emperor logs NAME), but not once it is forgotten. */
    @Test
    void theEmperorsLinesAboutAVassalGoToTheHostForItsTail() {
        scan(file(Specs.program("app", "/bin/app")));
        assertEquals("app: spawned pid=100 uid=0 gid=0", tailed.get(0), tailed.toString());
        loop.handle(new LoopEvent.ForVassal("app", new Event.ExecFailed(1, "exec /bin/app: No such file or directory")));
        assertEquals("app: spawn failed: exec /bin/app: No such file or directory", tailed.get(tailed.size() - 1));
        exit("app", ExitStatus.exited(127));
        assertEquals(State.BACKOFF, vassal("app").state());
        tailed.clear();
        scan();
        assertEquals(List.of(), tailed, "the lines about a forgotten vassal are in emperor.log only");
    }
}
