package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Order;
import io.emperor.config.Readiness;
import io.emperor.config.VassalSpec;
import io.emperor.source.dir.VassalFile;
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
import org.junit.jupiter.api.Test;

/**
 * Order and readiness through the loop (issue 17), with a fake clock, a fake launcher and fake
 * probes: what starts when, what stops when a requirement goes, and cycles refused.
 */
class OrderLoopTest {
    static final long S = 1_000_000_000L;
    static final Readiness ZEO_PORT = new Readiness.Tcp("127.0.0.1", 8100);

    long now = 5000 * S;
    final LoopTest.FakeLauncher launcher = new LoopTest.FakeLauncher();
    final List<String> probes = new ArrayList<>();
    final EmperorLoop loop = new EmperorLoop(new Lifecycle(new Policy(Duration.ofSeconds(10), Duration.ofSeconds(60))),
            launcher, new Probes() {
                @Override
                public void start(String name, long runId, Readiness how, int uid) {
                    probes.add("probe " + name + " run=" + runId + " " + how.text());
                }

                @Override
                public void cancel(long runId) {
                    probes.add("cancel run=" + runId);
                }
            }, () -> now, ScanFeed.HOST);
    final ScanFeed feed = new ScanFeed(loop);
    static VassalSpec spec(String name, Readiness ready, String... requires) {
        return Specs.program(name, "/bin/" + name).withOrder(
                new Order(List.of(requires), List.of(), ready, Duration.ZERO, Duration.ZERO));
    }

    VassalFile file(VassalSpec spec) {
        return feed.file(spec);
    }

    void scan(VassalFile... files) {
        feed.scan(files);
    }

    Vassal vassal(String name) {
        return loop.vassals().get(name);
    }

    List<String> spawnsOf(String name) {
        return launcher.calls.stream().filter(c -> c.startsWith("spawn " + name + " ")).toList();
    }

    void execDone(String name) {
        loop.handle(new LoopEvent.ForVassal(name, new Event.ExecDone(vassal(name).runId())));
    }

    void ready(String name) {
        loop.handle(new LoopEvent.ForVassal(name, new Event.Ready(vassal(name).runId(), "tcp:127.0.0.1:8100 accepts")));
    }

    void exits(String name, ExitStatus status) {
        long run = vassal(name).runId();
        launcher.exits.put(run, status);
        loop.handle(new LoopEvent.Ended(name, run));
    }

    final VassalFile zeo = file(spec("zeo", ZEO_PORT));
    final VassalFile plone = file(spec("plone", Readiness.STARTED, "zeo"));

    @Test
    void aDependentDroppedBeforeItsRequirementWaitsThenStartsOnlyOnceItIsReady() {
        scan(plone);
        assertEquals(State.WAITING, vassal("plone").state());
        assertEquals("zeo (no such vassal)", vassal("plone").waits().text());
        assertEquals(List.of(), launcher.calls);

        scan(plone, zeo);
        assertEquals(1, spawnsOf("zeo").size());
        assertEquals("zeo (starting)", vassal("plone").waits().text());
        execDone("zeo");
        assertEquals(List.of("probe zeo run=1 tcp:127.0.0.1:8100"), probes);
        assertEquals(State.STARTING, vassal("zeo").state());
        assertEquals(List.of(), spawnsOf("plone"));
        now += 3 * S;
        ready("zeo");
        assertEquals(State.RUNNING, vassal("zeo").state());
        assertEquals(1, spawnsOf("plone").size());
        assertEquals(State.STARTING, vassal("plone").state());
    }

    /**
     * A waiting vassal whose file changes to one that waits for nothing starts that new version, and only it:
     * the old one (which waited) is never spawned for a moment first.
     */
    @Test
    void aWaitingVassalWhoseNewVersionNeedsNothingStartsTheNewVersionOnly() {
        scan(plone);
        assertEquals(State.WAITING, vassal("plone").state());
        VassalSpec alone = Specs.program("plone", "/bin/plone", "--alone");
        scan(file(alone));
        assertEquals(1, spawnsOf("plone").size(), launcher.calls.toString());
        assertEquals(State.STARTING, vassal("plone").state());
        assertEquals(alone, vassal("plone").spec());
        assertTrue(spawnsOf("plone").get(0).endsWith("argv=[/bin/plone, --alone]"), spawnsOf("plone").toString());
    }

    @Test
    void inOneScanTheRequirementStartsFirstWhateverTheFileOrder() {
        scan(plone, zeo); // plone first
        assertEquals(List.of(), spawnsOf("plone"));
        assertEquals(1, spawnsOf("zeo").size());
        execDone("zeo");
        ready("zeo");
        assertEquals(1, spawnsOf("plone").size());
        assertTrue(launcher.calls.indexOf(spawnsOf("zeo").get(0)) < launcher.calls.indexOf(spawnsOf("plone").get(0)));
    }

    void bothRunning() {
        scan(zeo, plone);
        execDone("zeo");
        ready("zeo");
        execDone("plone");
        assertEquals(State.RUNNING, vassal("plone").state());
        launcher.calls.clear();
    }

    @Test
    void removingTheRequirementStopsTheDependentWhichStartsAgainWhenItReturns() {
        bothRunning();
        scan(plone);
        assertEquals(State.STOPPING, vassal("zeo").state());
        assertEquals(State.STOPPING, vassal("plone").state());
        assertEquals(List.of("signal run=1 sig=15", "signal run=2 sig=15"), launcher.calls);
        exits("zeo", ExitStatus.killed(15, false));
        exits("plone", ExitStatus.killed(15, false));
        assertEquals(null, vassal("zeo"));
        assertEquals(State.WAITING, vassal("plone").state());
        assertEquals("zeo (no such vassal)", vassal("plone").waits().text());
        assertEquals(List.of(), spawnsOf("plone"));

        scan(plone, file(spec("zeo", ZEO_PORT)));
        execDone("zeo");
        assertEquals(List.of(), spawnsOf("plone"));
        ready("zeo");
        assertEquals(1, spawnsOf("plone").size());
    }

    @Test
    void anOperatorsStopOfTheRequirementStopsTheDependentAndItsStartBringsBoth() {
        bothRunning();
        loop.command("zeo", new Event.Stop());
        assertEquals(State.STOPPING, vassal("plone").state());
        exits("zeo", ExitStatus.killed(15, false));
        exits("plone", ExitStatus.killed(15, false));
        assertEquals(State.STOPPED, vassal("zeo").state());
        assertEquals(State.WAITING, vassal("plone").state());
        assertEquals("zeo (stopped)", vassal("plone").waits().text());
        loop.command("zeo", new Event.Start());
        execDone("zeo");
        assertEquals(List.of(), spawnsOf("plone"));
        ready("zeo");
        assertEquals(1, spawnsOf("plone").size());
    }

    @Test
    void aCrashAndRespawnOfTheRequirementDoesNotStopTheDependent() {
        bothRunning();
        now += 60 * S; // past min-uptime: respawned at once
        exits("zeo", ExitStatus.exited(1));
        assertEquals(State.STARTING, vassal("zeo").state());
        assertEquals(State.RUNNING, vassal("plone").state());
        assertTrue(launcher.calls.stream().noneMatch(c -> c.startsWith("signal")), launcher.calls.toString());
        assertEquals("zeo (starting)", vassal("plone").waits().text());
        execDone("zeo");
        ready("zeo");
        assertTrue(vassal("plone").waits().open());
    }

    @Test
    void theProbeOfARunEndsWithIt() {
        scan(zeo);
        execDone("zeo");
        exits("zeo", ExitStatus.exited(1));
        assertEquals(List.of("probe zeo run=1 tcp:127.0.0.1:8100", "cancel run=1"), probes);
    }

    @Test
    void aTwoVassalCycleIsRefusedWithTheCycleNamedAndComesBackWhenBroken() {
        VassalFile a = file(spec("a", Readiness.STARTED, "b"));
        VassalFile b = file(spec("b", Readiness.STARTED, "a"));
        scan(a, b);
        assertEquals(State.FAILED, vassal("a").state());
        assertEquals(State.FAILED, vassal("b").state());
        String line = "refused: /v/a.ini: dependency cycle (requires/after): a -> b -> a; every vassal in it is refused";
        assertEquals(line, vassal("a").trouble().text());
        assertEquals(List.of(), launcher.calls);
        // b no longer requires a: both come back, b first.
        scan(a, file(spec("b", Readiness.STARTED)));
        assertEquals(State.STARTING, vassal("b").state());
        assertEquals(State.WAITING, vassal("a").state());
        execDone("b");
        assertEquals(State.STARTING, vassal("a").state());
    }
    static VassalSpec as(VassalSpec spec, int uid) {
        return spec.withIdentity("u" + uid, uid, uid);
    }

    /**
     * Tyrant mode, the attack: tenant 1001's b starts after a "cache" that does not exist; tenant
     * 1002 drops cache.ini that requires b, which would make a cycle and get b refused, and names
     * b to learn its state. Across tenants nothing is seen: b runs, and 1002's cache waits for a b
     * that, to it, does not exist.
     */
    @Test
    void inTyrantModeRequiresAndAfterSeeOnlyTheSameTenant() {
        loop.separateTenants();
        scan(file(as(Specs.program("b", "/bin/b").withOrder(new Order(List.of(), List.of("cache"), Readiness.STARTED,
                Duration.ZERO, Duration.ZERO)), 1001)), file(as(spec("cache", Readiness.STARTED, "b"), 1002)));
        assertEquals(State.STARTING, vassal("b").state());
        assertEquals(State.WAITING, vassal("cache").state());
        assertEquals("b (no such vassal)", vassal("cache").waits().text());
        execDone("b");
        assertEquals(State.RUNNING, vassal("b").state());
        assertEquals("b (no such vassal)", vassal("cache").waits().text());
        assertEquals(1, spawnsOf("b").size());
        assertEquals(List.of(), spawnsOf("cache"));
    }

    @Test
    void withoutTyrantModeTheSameFilesAreACycle() {
        scan(file(as(Specs.program("b", "/bin/b").withOrder(new Order(List.of(), List.of("cache"), Readiness.STARTED,
                Duration.ZERO, Duration.ZERO)), 1001)), file(as(spec("cache", Readiness.STARTED, "b"), 1002)));
        assertEquals(State.FAILED, vassal("b").state());
        assertEquals(State.FAILED, vassal("cache").state());
    }
}
