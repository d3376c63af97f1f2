package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Listen;
import io.emperor.config.VassalSpec;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Effect;
import io.emperor.vassal.Event;
import io.emperor.vassal.ExitStatus;
import io.emperor.vassal.Lifecycle;
import io.emperor.vassal.Policy;
import io.emperor.vassal.Specs;
import io.emperor.vassal.State;
import io.emperor.vassal.Vassal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The loop and an on-demand vassal (issue 15), with a fake clock, launcher and I/O thread that record,
 * in one list, the order of what they are asked: hold, arm, spawn, disarm, release.
 */
class OnDemandLoopTest {
    static final long S = 1_000_000_000L;
    long now = 5000 * S;
    final List<String> calls = new ArrayList<>();
    /** The fds each name holds now; a hold with other addresses gets new fds (as ListenSockets). */
    final Map<String, int[]> held = new java.util.HashMap<>();
    final Map<String, List<Listen.Address>> heldAddresses = new java.util.HashMap<>();
    int nextFd = 10;
    String holdFails;
    /** Unix sockets are bound by a child that answers later (as ListenSockets): the names being bound, and what. */
    boolean unixAnswersLater;
    final Map<String, List<Listen.Address>> binding = new java.util.HashMap<>();
    final java.util.Set<String> answered = new java.util.HashSet<>();
    final Map<Long, ExitStatus> exits = new java.util.HashMap<>();
    long nextPid = 100;

    final Launcher launcher = new Launcher() {
        @Override
        public SpawnResult spawn(String name, long runId, VassalSpec spec) {
            calls.add("spawn " + name + " run=" + runId);
            return new SpawnResult.Started(nextPid++, 0, 0);
        }

        @Override
        public Hold hold(String name, VassalSpec spec) {
            if (!spec.listen().any()) {
                if (held.remove(name) != null) {
                    calls.add("release " + name);
                }
                if (binding.remove(name) != null) {
                    calls.add("bind-ended " + name);
                }
                heldAddresses.remove(name);
                return Hold.HELD;
            }
            if (holdFails != null) {
                calls.add("hold-failed " + name);
                return new Hold.Failed(holdFails);
            }
            boolean changed = !spec.listen().addresses().equals(heldAddresses.get(name));
            if (changed && unixAnswersLater && !answered.remove(name)
                    && spec.listen().addresses().stream().anyMatch(Listen.Address.Unix.class::isInstance)) {
                if (binding.containsKey(name) && !binding.get(name).equals(spec.listen().addresses())) {
                    calls.add("bind-ended " + name);
                }
                binding.put(name, spec.listen().addresses());
                calls.add("binding " + name);
                return Hold.BINDING;
            }
            binding.remove(name);
            if (changed) {
                held.put(name, new int[] {nextFd++});
                heldAddresses.put(name, spec.listen().addresses());
                calls.add("bind " + name + " fd=" + held.get(name)[0]);
            }
            return Hold.HELD;
        }

        @Override
        public Optional<String> binding(String name, VassalSpec spec) {
            List<Listen.Address> b = binding.get(name);
            return b != null && b.equals(spec.listen().addresses()) ? Optional.of(b.get(0).text()) : Optional.empty();
        }

        @Override
        public void answered(String name, long id) {
            if (binding.remove(name) != null) {
                answered.add(name);
                calls.add("answered " + name);
            }
        }

        @Override
        public int[] held(String name) {
            return held.getOrDefault(name, new int[0]).clone();
        }

        @Override
        public void watch(long runId) {}

        @Override
        public void signal(long runId, int signal) {
            calls.add("signal run=" + runId + " sig=" + signal);
        }

        @Override
        public Optional<String> tell(long runId, int message) {
            calls.add("tell run=" + runId + " byte=" + message);
            return Optional.empty();
        }

        @Override
        public void killGroup(long runId) {}

        @Override
        public ExitStatus reap(long runId) {
            return exits.getOrDefault(runId, ExitStatus.exited(0));
        }

        @Override
        public void forget(String name) {
            held.remove(name);
            binding.remove(name);
            calls.add("forget " + name);
        }
    };

    final Connections io = new Connections() {
        @Override
        public void arm(String name, long id, int[] fds) {
            calls.add("arm " + name + " id=" + id + " fds=" + java.util.Arrays.toString(fds));
        }

        @Override
        public void disarm(String name) {
            calls.add("disarm " + name);
        }
    };

    final EmperorLoop loop = new EmperorLoop(new Lifecycle(new Policy(Duration.ofSeconds(10), Duration.ofSeconds(60))),
            launcher, () -> now, ScanFeed.HOST);
    final ScanFeed feed = new ScanFeed(loop);

    {
        loop.watchConnections(io);
    }

    VassalFile file(VassalSpec spec) {
        return feed.file(spec);
    }

    void scan(VassalFile... files) {
        feed.scan(files);
    }

    Vassal vassal() {
        return loop.vassals().get("app");
    }

    static final VassalSpec OD = Specs.onDemand(Specs.program("app", "/bin/app"), 8080);

    /** A file read, its socket held and armed (id 1), nothing spawned. */
    void waiting() {
        scan(file(OD));
        assertEquals(List.of("bind app fd=10", "arm app id=1 fds=[10]"), calls);
        assertEquals(State.WAITING, vassal().state());
        calls.clear();
    }

    @Test
    void aConnectionSpawnsItAndAnIdleExitArmsTheSameSocketAgain() {
        waiting();
        loop.handle(new LoopEvent.Connection("app", 1));
        assertEquals(List.of("spawn app run=1"), calls, "the launcher keeps the socket (spawn holds it again: unchanged)");
        assertEquals(State.STARTING, vassal().state());
        loop.handle(new LoopEvent.ForVassal("app", new Event.ExecDone(1)));
        calls.clear();
        now += 30 * S;
        loop.handle(new LoopEvent.Ended("app", 1));
        assertEquals(State.WAITING, vassal().state());
        assertEquals(List.of("arm app id=2 fds=[10]"), calls);
    }

    @Test
    void aConnectionOfAnEarlierArmIsLate() {
        waiting();
        loop.command("app", new Event.Stop());
        loop.command("app", new Event.Start());
        calls.clear();
        loop.handle(new LoopEvent.Connection("app", 1));
        assertEquals(List.of(), calls, "armed again since (id 2): the event of id 1 is late");
        assertEquals(State.WAITING, vassal().state());
        loop.handle(new LoopEvent.Connection("app", 2));
        assertEquals(List.of("spawn app run=1"), calls);
    }

    @Test
    void anOperatorsStopReleasesTheSocketsAndAStartHoldsThemAgain() {
        waiting();
        assertEquals(new Effect.Reply(true, "stopped"), loop.command("app", new Event.Stop()));
        assertEquals(List.of("disarm app", "release app"), calls, "unwatched before it is closed");
        calls.clear();
        assertEquals(new Effect.Reply(true, "waiting for a connection on 127.0.0.1:8080"),
                loop.command("app", new Event.Start()));
        assertEquals(List.of("bind app fd=11", "arm app id=2 fds=[11]"), calls);
    }

    /** Not on demand: a stopped vassal's sockets are released too (a client is refused, not left waiting). */
    @Test
    void aStoppedVassalThatIsNotOnDemandReleasesItsSocketsOnceItsRunEnded() {
        VassalSpec held = Specs.program("app", "/bin/app").withListen(new Listen(
                List.of(new Listen.Address.Inet("127.0.0.1", 8080)), -1, 16, List.of(), false, false));
        scan(file(held));
        assertEquals(List.of("bind app fd=10", "spawn app run=1"), calls);
        loop.handle(new LoopEvent.ForVassal("app", new Event.ExecDone(1)));
        calls.clear();
        loop.command("app", new Event.Stop());
        assertEquals(List.of("signal run=1 sig=15"), calls, "kept while its run stops: it may still accept");
        calls.clear();
        loop.handle(new LoopEvent.Ended("app", 1));
        assertEquals(State.STOPPED, vassal().state());
        assertEquals(List.of("release app"), calls);
        calls.clear();
        loop.command("app", new Event.Start());
        assertEquals(List.of("bind app fd=11", "spawn app run=2"), calls, "held again before its spawn");
    }

    @Test
    void aRemovedFileIsUnwatchedBeforeItsSocketsAreClosed() {
        waiting();
        scan();
        assertEquals(List.of("disarm app", "forget app"), calls);
    }

    @Test
    void aListenChangeWhileWaitingRebindsAndWatchesTheNewSocket() {
        waiting();
        scan(file(Specs.onDemand(Specs.program("app", "/bin/app"), 8081)));
        assertEquals(List.of("disarm app", "bind app fd=11", "arm app id=2 fds=[11]"), calls,
                "unwatched before the old socket is closed");
        calls.clear();
        scan(file(Specs.onDemand(Specs.program("app", "/bin/app", "-v"), 8081)));
        assertEquals(List.of("disarm app", "arm app id=3 fds=[11]"), calls, "same socket: watched again, nothing bound");
        assertEquals(List.of("/bin/app", "-v"), vassal().spec().argv(), "the new version kept");
    }

    @Test
    void socketsThatCannotBeHeldBackOffAndAreTriedAgain() {
        holdFails = "bind 127.0.0.1:8080: Address already in use";
        scan(file(OD));
        assertEquals(List.of("hold-failed app"), calls);
        assertEquals(State.BACKOFF, vassal().state());
        holdFails = null;
        calls.clear();
        now += 2 * S;
        loop.fireDue();
        assertEquals(List.of("bind app fd=10", "arm app id=1 fds=[10]"), calls);
        assertTrue(vassal().waitsForConnection());
    }

    /** A change that is no longer on demand: unwatched before the spawn, whose hold may close what changed. */
    @Test
    void aChangeToNotOnDemandIsUnwatchedBeforeItsSpawn() {
        waiting();
        scan(file(Specs.program("app", "/bin/app")));
        assertEquals(List.of("disarm app", "release app", "spawn app run=1"), calls, "no listen any more: released by the spawn's hold");
    }

    @Test
    void shutdownUnwatchesThenForgets() {
        waiting();
        loop.handle(new LoopEvent.SignalReceived("TERM"));
        assertEquals(List.of("disarm app", "forget app"), calls);
    }

    static final VassalSpec UNIX = Specs.program("app", "/bin/app").withListen(new Listen(
            List.of(new Listen.Address.Unix(java.nio.file.Path.of("/run/app.sock"))), -1, 16, List.of(), false, false));

    /**
     * A unix socket bound as the vassal by a child that answers later: nothing waits for it; the vassal waits in
     * WAITING ({@code sockets (binding …)}) while another vassal goes on, and the answer spawns it.
     */
    @Test
    void aVassalWhoseUnixSocketIsBeingBoundWaitsAndTheOthersGoOn() {
        unixAnswersLater = true;
        VassalSpec other = Specs.program("other", "/bin/other");
        scan(file(UNIX), feed.file(other));
        assertEquals(List.of("binding app", "spawn other run=2"), calls, "the other vassal spawned meanwhile");
        assertEquals(State.WAITING, vassal().state());
        assertEquals("sockets (binding unix:/run/app.sock)", vassal().waitingFor());
        calls.clear();
        loop.handle(new LoopEvent.BindAnswer("app", 1));
        assertEquals(List.of("answered app", "bind app fd=10", "spawn app run=3"), calls);
        assertEquals(State.STARTING, vassal().state());
    }

    /** On demand: the answer lets it wait for a connection, watched then (never while it binds). */
    @Test
    void anOnDemandVassalIsWatchedOnlyOnceItsUnixSocketIsBound() {
        unixAnswersLater = true;
        VassalSpec od = UNIX.withListen(new Listen(UNIX.listen().addresses(), -1, 16, List.of(), true, false));
        scan(file(od));
        assertEquals(List.of("binding app"), calls);
        assertEquals("sockets (binding unix:/run/app.sock)", vassal().waitingFor());
        calls.clear();
        loop.handle(new LoopEvent.BindAnswer("app", 1));
        assertEquals(List.of("answered app", "bind app fd=10", "arm app id=1 fds=[10]"), calls);
        assertTrue(vassal().waitsForConnection());
    }

    /** Its file changed while it binds, to another path: that is bound at once, the stale bind ended. */
    @Test
    void aChangedPathWhileBindingDoesNotWaitForTheStaleBind() {
        unixAnswersLater = true;
        scan(file(UNIX));
        calls.clear();
        VassalSpec moved = Specs.program("app", "/bin/app").withListen(new Listen(
                List.of(new Listen.Address.Unix(java.nio.file.Path.of("/run/new.sock"))), -1, 16, List.of(), false,
                false));
        scan(file(moved));
        assertEquals(List.of("bind-ended app", "binding app"), calls);
        assertEquals("sockets (binding unix:/run/new.sock)", vassal().waitingFor());
    }

    /** Stopped or removed while it binds: the bind ends (its child is killed), nothing is held. */
    @Test
    void aStopOrARemovalWhileBindingEndsTheBind() {
        unixAnswersLater = true;
        scan(file(UNIX));
        calls.clear();
        assertEquals(new Effect.Reply(true, "stopped"), loop.command("app", new Event.Stop()));
        assertEquals(List.of("bind-ended app"), calls);
        assertEquals(Optional.empty(), launcher.binding("app", UNIX));
        loop.command("app", new Event.Start());
        calls.clear();
        scan();
        assertEquals(List.of("forget app"), calls);
        loop.handle(new LoopEvent.BindAnswer("app", 1)); // late: nothing
        assertEquals(List.of("forget app"), calls);
    }
}
