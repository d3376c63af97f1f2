package io.emperor.vassal;

import static io.emperor.vassal.LifecycleTest.L;
import static io.emperor.vassal.LifecycleTest.S;
import static io.emperor.vassal.LifecycleTest.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Order;
import io.emperor.config.Readiness;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The dependency graph, pure: what a vassal waits for given the others' states, and the cycles. */
class DependenciesTest {
    static Order requires(String... names) {
        return new Order(List.of(names), List.of(), Readiness.STARTED, Duration.ZERO, Duration.ZERO);
    }

    static Order after(String... names) {
        return new Order(List.of(), List.of(names), Readiness.STARTED, Duration.ZERO, Duration.ZERO);
    }

    static Wait of(Order o, Map<String, Vassal> vassals) {
        return Dependencies.of(o, vassals, vassals.keySet());
    }

    static Map<String, Vassal> zeo(Vassal v) {
        return Map.of("zeo", v);
    }

    @Test
    void aReadyRequirementIsNoReasonToWait() {
        assertTrue(of(requires("zeo"), zeo(LifecycleTest.running())).open());
    }

    @Test
    void aMissingRequirementIsWaitedForAndStopsADependent() {
        assertEquals(new Wait(List.of("zeo (no such vassal)"), true), of(requires("zeo"), Map.of()));
    }

    @Test
    void aRequirementLaterInTheSameScanIsStartingNotMissing() {
        assertEquals(new Wait(List.of("zeo (starting)"), false),
                Dependencies.of(requires("zeo"), Map.of(), Set.of("zeo")));
    }

    @Test
    void whatEachStateOfARequirementMeans() {
        assertEquals(new Wait(List.of("zeo (starting)"), false), of(requires("zeo"), zeo(LifecycleTest.starting())));
        assertEquals(new Wait(List.of("zeo (backoff)"), false), of(requires("zeo"), zeo(LifecycleTest.backoff())));
        assertEquals(new Wait(List.of("zeo (stopped)"), true), of(requires("zeo"), zeo(LifecycleTest.stopped())));
        assertEquals(new Wait(List.of("zeo (failed)"), true), of(requires("zeo"), zeo(LifecycleTest.failed())));
        // its file removed: stopping, then forgotten
        assertEquals(new Wait(List.of("zeo (removed)"), true), of(requires("zeo"), zeo(LifecycleTest.stopping())));
        // an operator's stop
        Vassal opStop = L.step(LifecycleTest.running(), new Event.Stop(), T0 + S).vassal();
        assertEquals(new Wait(List.of("zeo (stopped)"), true), of(requires("zeo"), zeo(opStop)));
        // an operator's restart, or a touch of a reload = restart vassal: not gone
        Vassal restart = L.step(LifecycleTest.running(), new Event.Restart(), T0 + S).vassal();
        assertEquals(new Wait(List.of("zeo (restarting)"), false), of(requires("zeo"), zeo(restart)));
        // a uWSGI vassal that runs but does not accept yet
        assertEquals(new Wait(List.of("zeo (not ready)"), false),
                of(requires("zeo"), zeo(ReadinessLifecycleTest.execd(Specs.uwsgi("zeo", true, false)))));
    }

    @Test
    void aCrashAndRespawnOfARequirementDoesNotStopItsDependents() {
        Vassal crashed = L.step(LifecycleTest.running(), new Event.Exited(1, ExitStatus.exited(1)), T0 + 60 * S).vassal();
        assertEquals(State.STARTING, crashed.state()); // respawned at once
        assertFalse(of(requires("zeo"), zeo(crashed)).stop());
        Vassal quick = LifecycleTest.backoff();
        assertFalse(of(requires("zeo"), zeo(quick)).stop());
    }

    @Test
    void aStopPropagatesDownAChain() {
        // plone waits because zeo is gone: nginx, which requires plone, is stopped too.
        Vassal plone = L.step(Vassal.fresh("plone"), new Event.Requirements(ReadinessLifecycleTest.ZEO_MISSING), T0).vassal();
        plone = L.step(plone, new Event.FileValid(Specs.program("plone", "/bin/plone")), T0).vassal();
        assertEquals(State.WAITING, plone.state());
        assertEquals(new Wait(List.of("plone (waiting)"), true), of(requires("plone"), Map.of("plone", plone)));
        // ... but not when plone only waits for a zeo that is starting.
        Vassal calm = L.step(Vassal.fresh("plone"), new Event.Requirements(new Wait(List.of("zeo (starting)"), false)), T0).vassal();
        calm = L.step(calm, new Event.FileValid(Specs.program("plone", "/bin/plone")), T0).vassal();
        assertEquals(new Wait(List.of("plone (waiting)"), false), of(requires("plone"), Map.of("plone", calm)));
    }

    @Test
    void afterIsOrderingOnlyForVassalsThatExist() {
        assertTrue(of(after("logs"), Map.of()).open());
        assertEquals(new Wait(List.of("logs (starting)"), false), of(after("logs"), Map.of("logs", LifecycleTest.starting())));
        assertTrue(of(after("logs"), Map.of("logs", LifecycleTest.running())).open());
        assertTrue(of(after("logs"), Map.of("logs", LifecycleTest.backoff())).open());
        assertTrue(of(after("logs"), Map.of("logs", LifecycleTest.stopped())).open());
        assertTrue(of(after("logs"), Map.of("logs", LifecycleTest.failed())).open());
        assertEquals(new Wait(List.of("logs (starting)"), false), Dependencies.of(after("logs"), Map.of(), Set.of("logs")));
    }

    @Test
    void everyReasonIsListedInFileOrder() {
        Map<String, Vassal> vs = new HashMap<>();
        vs.put("cache", LifecycleTest.backoff());
        vs.put("logs", LifecycleTest.starting());
        Wait w = of(new Order(List.of("zeo", "cache"), List.of("logs"), Readiness.STARTED, Duration.ZERO, Duration.ZERO), vs);
        assertEquals(List.of("zeo (no such vassal)", "cache (backoff)", "logs (starting)"), w.reasons());
        assertTrue(w.stop());
        assertEquals("zeo (no such vassal), cache (backoff), logs (starting)", w.text());
        assertEquals(List.of("zeo", "cache", "logs"), w.names());
    }

    @Test
    void aTwoVassalCycleIsNamed() {
        List<Dependencies.Cycle> cycles = Dependencies.cycles(Map.of("a", requires("b"), "b", requires("a")));
        assertEquals(1, cycles.size());
        assertEquals("a -> b -> a", cycles.get(0).text());
        assertEquals(List.of("a", "b"), cycles.get(0).members());
    }

    @Test
    void aLongerCycleThroughAfterAndTheVassalsOutsideIt() {
        Map<String, Order> orders = new HashMap<>();
        orders.put("web", requires("app"));
        orders.put("app", requires("db"));
        orders.put("db", after("web"));
        orders.put("nginx", requires("web")); // waits on the cycle, is not in it
        orders.put("zeo", requires("nothing-here"));
        List<Dependencies.Cycle> cycles = Dependencies.cycles(orders);
        assertEquals(1, cycles.size());
        assertEquals("app -> db -> web -> app", cycles.get(0).text());
        assertEquals(List.of("app", "db", "web"), cycles.get(0).members());
    }

    @Test
    void noCycleInAChainOrADiamond() {
        Map<String, Order> orders = new HashMap<>();
        orders.put("a", requires("b", "c"));
        orders.put("b", requires("d"));
        orders.put("c", requires("d"));
        orders.put("d", Order.PROGRAM);
        assertEquals(List.of(), Dependencies.cycles(orders));
    }

    @Test
    void twoCyclesAreTwoLines() {
        Map<String, Order> orders = new HashMap<>();
        orders.put("a", requires("b"));
        orders.put("b", requires("a"));
        orders.put("x", after("y"));
        orders.put("y", requires("x"));
        List<String> texts = Dependencies.cycles(orders).stream().map(Dependencies.Cycle::text).toList();
        assertEquals(List.of("a -> b -> a", "x -> y -> x"), texts);
    }

    @Test
    void aThousandVassalChainHasNoCycleAndTakesNoStack() {
        Map<String, Order> orders = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            orders.put("v" + i, i == 999 ? Order.PROGRAM : requires("v" + (i + 1)));
        }
        assertEquals(List.of(), Dependencies.cycles(orders));
    }
}
