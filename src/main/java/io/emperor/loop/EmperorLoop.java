package io.emperor.loop;

import io.emperor.config.Problem;
import io.emperor.config.VassalSpec;
import io.emperor.log.EmperorLog;
import io.emperor.source.dir.Change;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.SnapshotDiff;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Dependencies;
import io.emperor.vassal.Effect;
import io.emperor.vassal.Event;
import io.emperor.vassal.ExitStatus;
import io.emperor.vassal.Lifecycle;
import io.emperor.vassal.Policy;
import io.emperor.vassal.Transition;
import io.emperor.vassal.Vassal;
import io.emperor.vassal.Wait;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The emperor loop: the one thread that owns every vassal's state (DESIGN §7). Other threads only
 * {@link #post} events. Each turn waits on the queue with a timeout equal to the earliest
 * deadline, applies what arrived through the pure {@link Lifecycle}, and carries out the effects.
 * Nothing here sleeps or blocks on anything but the queue.
 */
public final class EmperorLoop {
    /** After the longest stop-timeout, how much longer a shutdown waits for exits after SIGKILL. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(15);
    private static final int MAX_EVENTS_PER_TURN = 256;
    /** Exit status after a {@link LoopEvent.Fatal} (EX_SOFTWARE). */
    public static final int EXIT_FATAL = 70;

    /** What the loop asks of the rest of the emperor. Called on the loop thread. */
    public interface Host {
        /** SIGHUP: re-read emperor.ini, apply it to the watcher, ask for a rescan; the new policy, or empty when the file has errors (logged). */
        Optional<Policy> reloadConfig();

        /** Shutdown begins: stop watching directories. */
        void stopWatching();

        /** The first scan has been reconciled (right after the {@code ready:} line). */
        default void ready() {}

        /** After a turn that changed the counts (and after the first scan): systemd's STATUS=. */
        default void countsChanged(Counts counts) {}

        /** Monotonic nanos at which the host wants {@link #deadlineDue} (systemd's watchdog), or {@link Vassal#NO_DEADLINE}. */
        default long deadline() {
            return Vassal.NO_DEADLINE;
        }

        /** The host's deadline has come; called after the turn that reached it. */
        default void deadlineDue(long now) {}

        /**
         * A line of the emperor's about a vassal it knows ({@code spawned …}, {@code exited …},
         * {@code refused: …}), just written to the emperor's log: {@code emperor logs NAME} shows
         * it among the vassal's own lines. Not called for a vassal already forgotten.
         */
        default void vassalLine(String name, Effect.Level level, String message) {}
    }

    /** Someone waiting for a condition of the loop's state (an operator's {@code stop} until it is stopped). */
    private record Waiter(BooleanSupplier done, long deadline, Consumer<Boolean> then) {}

    private final BlockingQueue<LoopEvent> queue = new LinkedBlockingQueue<>();
    private final List<Waiter> waiters = new ArrayList<>();
    private final Tally tally = new Tally();
    /** The control wing's typed requests, answered here with plain data. */
    private final Queries queries = new Queries(this);
    /** The runs with {@code watchdog = S} (a pure policy on this loop's clock). */
    private final io.emperor.vassal.Watchdogs watchdogs = new io.emperor.vassal.Watchdogs();
    private long scans;
    private final Map<String, Vassal> vassals = new HashMap<>();
    private final Map<String, VassalFile> known = new HashMap<>();
    /** The warnings last logged for each vassal file: the same ones again (a touch) are not logged again. */
    private final Map<String, List<Problem>> warned = new HashMap<>();
    private final Launcher launcher;
    private final Probes probes;
    /** Names whose current file parses and is not refused (Dependencies: "starting", not missing). */
    private final java.util.Set<String> existing = new java.util.HashSet<>();
    /** Vassals refused because they are in a dependency cycle: name -> the cycle's line. */
    private final Map<String, String> inCycle = new HashMap<>();
    /** The vassals that name others in requires or after, or wait: the only ones reconcileWaits looks at. */
    private final java.util.Set<String> dependents = new java.util.TreeSet<>();
    /** Watches on-demand vassals' sockets for their first connection (the I/O thread). */
    private Connections connections = Connections.NONE;
    /** The on-demand vassals whose sockets are watched now: name -> the arm id and fds. */
    private final Map<String, Armed> armed = new HashMap<>();
    private long nextArmId = 1;

    /** What {@link #connections} watches for one vassal. */
    private record Armed(long id, int[] fds) {}

    /** Tyrant mode: a vassal's requires and after see only the vassals of its own user. */
    private boolean tenantsApart;
    private final Clock clock;
    private final Host host;
    private Lifecycle lifecycle;
    private long nextRunId = 1;
    private boolean ready;
    private boolean shuttingDown;
    private long shutdownDeadline = Vassal.NO_DEADLINE;
    private int exitCode;
    private Counts reported;
    private volatile Thread thread;

    public EmperorLoop(Lifecycle lifecycle, Launcher launcher, Clock clock, Host host) {
        this(lifecycle, launcher, Probes.NONE, clock, host);
    }

    /** @param probes probes readiness ({@code ready = tcp:…|unix:…}) on the I/O thread */
    public EmperorLoop(Lifecycle lifecycle, Launcher launcher, Probes probes, Clock clock, Host host) {
        this.lifecycle = lifecycle;
        this.launcher = launcher;
        this.probes = probes;
        this.clock = clock;
        this.host = host;
    }

    /**
     * Tyrant mode (before {@link #run}): {@code requires} and {@code after} name only vassals that
     * run as the same user; another tenant's vassal is "no such vassal" to them, its state is not
     * shown to them, and it never counts in their cycles (docs/tyrant.md, "Order and readiness").
     */
    public void separateTenants() {
        tenantsApart = true;
    }

    /** Who watches on-demand vassals' sockets (before {@link #run}; issue 15): the I/O thread. */
    public void watchConnections(Connections c) {
        connections = c;
    }

    /** Thread-safe, never blocks: the way every other thread talks to the loop. */
    public void post(LoopEvent event) {
        queue.add(event);
    }

    /** Thread-safe, never blocks: a typed request of the control wing ({@link LoopQuery}), answered on the loop thread. */
    public void ask(LoopQuery query) {
        post(new LoopEvent.Asked(query));
    }

    /** Runs the loop on the calling thread until a shutdown has stopped every vassal. */
    public void run() throws InterruptedException {
        thread = Thread.currentThread();
        while (!finished()) {
            long now = clock.nanoTime();
            long wait = Math.max(0, Math.min(Math.min(Math.min(Math.min(earliestDeadline(), watchdogs.deadline()),
                    shutdownDeadline), host.deadline()), waiterDeadline()) - now);
            LoopEvent first = wait == 0 ? queue.poll() : queue.poll(Math.min(wait, Long.MAX_VALUE / 2), TimeUnit.NANOSECONDS);
            if (first != null) {
                handle(first);
                for (int i = 0; i < MAX_EVENTS_PER_TURN; i++) {
                    LoopEvent next = queue.poll();
                    if (next == null) {
                        break;
                    }
                    handle(next);
                }
            }
            fireDue();
            afterTurn();
        }
    }

    /** After each turn: the host's deadline when it has come, and the counts when they changed (once ready). */
    void afterTurn() {
        long now = clock.nanoTime();
        checkWaiters(now);
        if (host.deadline() <= now) {
            host.deadlineDue(now);
        }
        Counts c = Counts.of(vassals.values());
        if (ready && !c.equals(reported)) {
            reported = c;
            host.countsChanged(c);
        }
    }

    /** True once a shutdown is complete (every vassal gone, or the shutdown deadline passed). */
    public boolean finished() {
        if (!shuttingDown) {
            return false;
        }
        if (vassals.isEmpty()) {
            return true;
        }
        if (clock.nanoTime() >= shutdownDeadline) {
            EmperorLog.warn("giving up waiting for " + vassals.size() + " vassal(s): " + vassals.keySet());
            vassals.clear();
            return true;
        }
        return false;
    }

    /**
     * Applies one event: what {@link #run()} does with each event it takes, and the step of whoever drives
     * the loop itself on a clock of its own.
     */
    public void handle(LoopEvent event) {
        try {
            if (event instanceof LoopEvent.Scanned s) {
                scanned(s.snapshot());
            } else if (event instanceof LoopEvent.ForVassal f) {
                apply(f.name(), f.event());
            } else if (event instanceof LoopEvent.Said s) {
                s.taken().run();
                apply(s.name(), s.says());
            } else if (event instanceof LoopEvent.Notified n) {
                notified(n.name(), n.runId(), n.take().get());
            } else if (event instanceof LoopEvent.Connection c) {
                connection(c.name(), c.id());
            } else if (event instanceof LoopEvent.BindAnswer b) {
                launcher.answered(b.name(), b.id()); // reconcileWaits, below, lets a vassal that waited for it go on
            } else if (event instanceof LoopEvent.Ended e) {
                ended(e.name(), e.runId());
            } else if (event instanceof LoopEvent.SignalReceived s) {
                signal(s.signal());
            } else if (event instanceof LoopEvent.Fatal f) {
                EmperorLog.error("fatal: " + f.reason() + "; stopping every vassal, then exiting with status "
                        + EXIT_FATAL, null);
                exitCode = EXIT_FATAL;
                beginShutdown("fatal error");
            } else if (event instanceof LoopEvent.Asked a) {
                queries.answer(a.query());
            }
            reconcileWaits();
        } catch (RuntimeException e) {
            // A bug must not take every vassal down with the emperor: log it loudly and go on.
            // An Error is not caught: the state is unknown after it, and the default
            // uncaught-exception handler ends the emperor (exit 70, cli.FatalErrors).
            EmperorLog.error("bug: " + event + " failed", e);
        }
    }

    /** Steps every vassal whose deadline has come (after each wait of {@link #run()}, or by whoever drives the loop). */
    public void fireDue() {
        long now = clock.nanoTime();
        List<String> due = new ArrayList<>();
        for (Vassal v : vassals.values()) {
            if (v.wakeAt() <= now) {
                due.add(v.name());
            }
        }
        Collections.sort(due);
        for (String name : due) {
            apply(name, new Event.Tick());
        }
        for (io.emperor.vassal.Watchdogs.Armed a : watchdogs.due(now)) {
            apply(a.name(), new Event.WatchdogMissed(a.runId(), a.period()));
        }
        if (!due.isEmpty()) {
            reconcileWaits();
        }
    }

    /**
     * What a run said on the notify socket (already coalesced): STATUS= for {@code status}, WATCHDOG=1 (and
     * READY=1) for its watchdog, READY=1 as {@link Event.Ready} when its file says {@code ready = notify} (or,
     * once it is ready, as the end of a RELOADING=1), RELOADING=1 and STOPPING=1 for the lifecycle. Late news
     * of an earlier run changes nothing.
     */
    private void notified(String name, long runId, io.emperor.vassal.NotifyMessage m) {
        Vassal v = vassals.get(name);
        if (v == null || v.runId() != runId || m.isEmpty()) {
            return;
        }
        long now = clock.nanoTime();
        if (m.status() != null) {
            tally.status(name, m.status());
        }
        if (m.pings() || m.ready()) {
            watchdogs.ping(runId, now);
        }
        if (m.ready() && (v.readyAt() != 0
                || (v.spec() != null && v.spec().order().ready() instanceof io.emperor.config.Readiness.Notify))) {
            apply(name, new Event.Ready(runId, "READY=1"));
        }
        if (m.reloading()) {
            apply(name, new Event.Notified(runId, Event.Notified.What.RELOADING));
        }
        if (m.stopping()) {
            watchdogs.disarm(runId);
            apply(name, new Event.Notified(runId, Event.Notified.What.STOPPING));
        }
    }

    /** The earliest vassal deadline (monotonic nanos), or {@link Vassal#NO_DEADLINE}. */
    public long earliestDeadline() {
        long min = Vassal.NO_DEADLINE;
        for (Vassal v : vassals.values()) {
            min = Math.min(min, v.wakeAt());
        }
        return min;
    }

    /** A copy of every vassal's state, by name; only on the loop thread (elsewhere: a {@link LoopQuery.Snapshot}). */
    Map<String, Vassal> vassals() {
        return Collections.unmodifiableMap(new TreeMap<>(vassals));
    }

    public boolean isShuttingDown() {
        return shuttingDown;
    }

    private void scanned(Snapshot snapshot) {
        if (shuttingDown) {
            return;
        }
        scans++;
        List<Change> changes = SnapshotDiff.diff(known, snapshot);
        // First what every file now says, so that order and cycles are judged on the whole scan.
        for (Change c : changes) {
            if (c instanceof Change.Removed r) {
                known.remove(r.name());
                warned.remove(r.name());
                continue;
            }
            VassalFile f = c instanceof Change.Added a ? a.file() : ((Change.Changed) c).file();
            known.put(f.name(), f);
            List<Problem> warnings = f.parsed().warnings();
            if (!warnings.equals(warned.getOrDefault(f.name(), List.of()))) {
                for (Problem w : warnings) {
                    note(f.name(), Effect.Level.WARN, "warning: " + w);
                }
            }
            if (warnings.isEmpty()) {
                warned.remove(f.name());
            } else {
                warned.put(f.name(), List.copyOf(warnings));
            }
        }
        Map<String, String> before = new HashMap<>(inCycle);
        if (!changes.isEmpty()) {
            findCycles();
        }
        java.util.Set<String> changed = new java.util.HashSet<>();
        for (Change c : changes) {
            if (c instanceof Change.Removed r) {
                if (vassals.containsKey(r.name())) {
                    apply(r.name(), new Event.FileRemoved());
                }
                continue;
            }
            VassalFile f = c instanceof Change.Added a ? a.file() : ((Change.Changed) c).file();
            changed.add(f.name());
            apply(f.name(), fileEvent(f));
        }
        // Unchanged files that a change put into a cycle, or took out of one.
        for (String name : new java.util.TreeSet<>(inCycle.keySet())) {
            if (!changed.contains(name) && !inCycle.get(name).equals(before.get(name))) {
                apply(name, fileEvent(known.get(name)));
            }
        }
        for (String name : new java.util.TreeSet<>(before.keySet())) {
            if (!changed.contains(name) && !inCycle.containsKey(name) && known.containsKey(name)) {
                apply(name, fileEvent(known.get(name)));
            }
        }
        if (!ready) {
            ready = true;
            EmperorLog.info("ready: " + vassals.size() + " vassal(s)");
            host.ready();
        }
    }

    /** What a file says to its vassal: its spec, its errors, or a refusal for a dependency cycle. */
    private Event fileEvent(VassalFile f) {
        if (!f.parsed().isOk()) {
            return new Event.FileInvalid(f.parsed().errors());
        }
        String cycle = inCycle.get(f.name());
        if (cycle != null) {
            return new Event.FileInvalid(List.of(new Problem(f.parsed().value().file(), 0,
                    "dependency cycle (requires/after): " + cycle + "; every vassal in it is refused")));
        }
        return new Event.FileValid(f.parsed().value());
    }

    /** The cycles among the files that parse ({@link Dependencies#cycles}); what exists for Dependencies. */
    private void findCycles() {
        Map<String, io.emperor.config.Order> orders = new HashMap<>();
        for (VassalFile f : known.values()) {
            if (f.parsed().isOk()) {
                io.emperor.config.Order o = f.parsed().value().order();
                if (tenantsApart) {
                    int uid = f.parsed().value().uid();
                    o = new io.emperor.config.Order(sameTenant(o.requires(), uid), sameTenant(o.after(), uid),
                            o.ready(), o.readyTimeout(), o.watchdog());
                }
                orders.put(f.name(), o);
            }
        }
        inCycle.clear();
        for (Dependencies.Cycle c : Dependencies.cycles(orders)) {
            for (String member : c.members()) {
                inCycle.put(member, c.text());
            }
        }
        existing.clear();
        for (String name : orders.keySet()) {
            if (!inCycle.containsKey(name)) {
                existing.add(name);
            }
        }
    }

    /** The names among {@code names} whose current file runs as {@code uid}. */
    private List<String> sameTenant(List<String> names, int uid) {
        return names.stream().filter(n -> uidOf(n) == uid).toList();
    }

    /** The uid of the current file of a name that parses, or -2 (none). */
    private int uidOf(String name) {
        VassalFile f = known.get(name);
        return f != null && f.parsed().isOk() ? f.parsed().value().uid() : -2;
    }

    /**
     * What a vassal with this spec waits for: its requirements ({@link Dependencies#of}, as far as it may see),
     * and a unix socket of it that is being bound ({@link Launcher#binding}).
     */
    private Wait waitsOf(String name, VassalSpec spec) {
        Wait w;
        if (!tenantsApart) {
            w = Dependencies.of(spec.order(), vassals, existing);
        } else {
            int uid = spec.uid();
            w = Dependencies.of(spec.order(), n -> {
                Vassal r = vassals.get(n);
                return r != null && r.spec() != null && r.spec().uid() == uid ? r : null;
            }, n -> existing.contains(n) && uidOf(n) == uid);
        }
        Optional<String> binding = spec.listen().any() ? launcher.binding(name, spec) : Optional.empty();
        if (binding.isEmpty()) {
            return w;
        }
        List<String> reasons = new ArrayList<>(w.reasons());
        reasons.add("sockets (binding " + binding.get() + ")");
        return new Wait(reasons, w.stop());
    }

    /**
     * What each vassal with {@code requires} or {@code after} waits for, after every event: a
     * changed verdict is stepped ({@link Event.Requirements}), which may start a waiting vassal
     * or stop one whose requirement is gone; repeated while that changes another's verdict.
     */
    private void reconcileWaits() {
        if (shuttingDown) {
            return;
        }
        for (int pass = 0; pass <= dependents.size() && !dependents.isEmpty(); pass++) {
            boolean changed = false;
            for (String name : new ArrayList<>(dependents)) {
                Vassal v = vassals.get(name);
                if (v == null || v.spec() == null) {
                    continue;
                }
                Wait w = waitsOf(name, v.spec());
                if (!w.equals(v.waits())) {
                    apply(name, new Event.Requirements(w));
                    changed = true;
                }
            }
            if (!changed) {
                return;
            }
        }
    }

    private void ended(String name, long runId) {
        watchdogs.disarm(runId);
        probes.cancel(runId);
        ExitStatus status = launcher.reap(runId);
        apply(name, new Event.Exited(runId, status));
    }

    private void signal(String sig) {
        switch (sig) {
            case "HUP" -> {
                if (shuttingDown) {
                    return;
                }
                EmperorLog.info("reloading configuration (SIGHUP)");
                Optional<Policy> policy = host.reloadConfig();
                policy.ifPresent(p -> lifecycle = new Lifecycle(p));
            }
            case "TERM", "INT", "QUIT" -> {
                if (shuttingDown) {
                    EmperorLog.warn("SIG" + sig + " again: SIGKILL to every vassal still stopping");
                    forEach(new Event.ForceKill());
                    return;
                }
                beginShutdown("SIG" + sig);
            }
            case "CHLD" -> launcher.reapAdopted(); // orphans adopted as a subreaper
            default -> EmperorLog.warn("ignoring unexpected signal " + sig);
        }
    }

    private void beginShutdown(String why) {
        if (shuttingDown) {
            return;
        }
        shuttingDown = true;
        EmperorLog.info("stopping " + vassals.size() + " vassal(s) (" + why + ")");
        host.stopWatching();
        long longest = 0;
        for (Vassal v : vassals.values()) {
            if (v.spec() != null && v.state().hasProcess()) {
                longest = Math.max(longest, v.spec().stopTimeout().toNanos());
            }
        }
        shutdownDeadline = clock.nanoTime() + longest + SHUTDOWN_GRACE.toNanos();
        forEach(new Event.Shutdown());
    }

    /** The emperor's exit status once {@link #run} returned: 0, or {@link #EXIT_FATAL}. */
    public int exitCode() {
        return exitCode;
    }

    private void forEach(Event e) {
        for (String name : new ArrayList<>(new TreeMap<>(vassals).keySet())) {
            apply(name, e);
        }
    }

    /**
     * Steps one vassal and carries out the effects (Spawn results are fed back at once); the
     * transition, or null for a late event of a vassal already forgotten.
     */
    private Transition apply(String name, Event event) {
        Vassal v = vassals.getOrDefault(name, null);
        if (v == null) {
            if (!(event instanceof Event.FileValid || event instanceof Event.FileInvalid)) {
                return null; // a late event of a vassal already forgotten
            }
            v = Vassal.fresh(name);
        }
        if (event instanceof Event.FileValid fv && !shuttingDown && !v.state().hasProcess()) {
            // What the new version waits for, before it may start (a running one: reconcileWaits, after). A waiting
            // vassal whose new version waits for nothing is not told here: that would start the old version; the
            // new one starts by reconcileWaits, after this event.
            Wait w = waitsOf(name, fv.spec());
            if (!w.equals(v.waits()) && !(w.open() && v.state() == io.emperor.vassal.State.WAITING)) {
                vassals.putIfAbsent(name, v);
                apply(name, new Event.Requirements(w));
                v = vassals.get(name);
            }
        }
        Transition t = lifecycle.step(v, event, clock.nanoTime());
        tally.step(name, v, event, t.vassal(), clock.millis());
        if (t.vassal() == null) {
            vassals.remove(name);
            dependents.remove(name);
            disarm(name); // before the launcher closes the fds
            launcher.forget(name);
        } else {
            vassals.put(name, t.vassal());
            Vassal after = t.vassal();
            boolean names = after.spec() != null
                    && !(after.spec().order().requires().isEmpty() && after.spec().order().after().isEmpty());
            if (names || !after.waits().open()) {
                dependents.add(name);
            } else {
                dependents.remove(name);
            }
        }
        if (t.vassal() != null && !t.vassal().waitsForConnection()) {
            disarm(name); // before any effect: a spawn's hold may close sockets that a change of listen replaced
        }
        for (Effect fx : t.effects()) {
            run(name, t.vassal(), fx);
        }
        listening(name);
        return t;
    }

    /**
     * An on-demand vassal's sockets are watched exactly while it waits for a connection
     * ({@link Vassal#waitsForConnection}), with the fds the launcher holds now (a rebind changes them);
     * a stopped vassal's sockets, on demand or not, are released: nobody would serve what waits in their
     * backlog, and a client is better refused at once than left to its timeout.
     */
    private void listening(String name) {
        Vassal v = vassals.get(name);
        Armed a = armed.get(name);
        if (v != null && v.waitsForConnection()) {
            int[] fds = launcher.held(name);
            if (a != null && java.util.Arrays.equals(a.fds(), fds)) {
                return;
            }
            disarm(name);
            if (fds.length > 0) {
                long id = nextArmId++;
                connections.arm(name, id, fds);
                armed.put(name, new Armed(id, fds));
            }
            return;
        }
        disarm(name);
        if (v != null && v.state() == io.emperor.vassal.State.STOPPED && v.spec() != null
                && (launcher.held(name).length > 0 || launcher.binding(name, v.spec()).isPresent())) {
            launcher.hold(name, v.spec().withListen(io.emperor.config.Listen.NONE));
            note(name, Effect.Level.INFO, "sockets released (stopped; held again at its start)");
        }
    }

    /** The vassal's sockets are no longer watched, if they were. */
    private void disarm(String name) {
        if (armed.remove(name) != null) {
            connections.disarm(name);
        }
    }

    /** The I/O thread saw a connection on the sockets armed with {@code id}; an older arm's is late. */
    private void connection(String name, long id) {
        Armed a = armed.get(name);
        if (a == null || a.id() != id) {
            return;
        }
        armed.remove(name);
        apply(name, new Event.Connection());
    }

    private void run(String name, Vassal v, Effect fx) {
        if (fx instanceof Effect.Log l) {
            note(name, l.level(), l.message());
        } else if (fx instanceof Effect.Spawn s) {
            spawn(name, s.spec());
        } else if (fx instanceof Effect.Signal s) {
            launcher.signal(s.runId(), s.signal());
        } else if (fx instanceof Effect.KillGroup k) {
            launcher.killGroup(k.runId());
        } else if (fx instanceof Effect.Listen l) {
            // Its sockets, held until it is forgotten or stopped; a failure backs off (the lifecycle). Unwatched
            // first: a changed listen is bound anew and the old sockets closed (listening() watches the new ones).
            disarm(name);
            Launcher.Hold h = launcher.hold(name, l.spec());
            if (h instanceof Launcher.Hold.Failed f) {
                apply(name, new Event.SpawnFailed(f.reason()));
            } else if (h instanceof Launcher.Hold.Binding) {
                apply(name, new Event.Binding(waitsOf(name, l.spec())));
            } else if (l.line() != null) {
                note(name, Effect.Level.INFO, l.line());
            }
        } else if (fx instanceof Effect.Probe p) {
            probes.start(name, p.runId(), p.how(), p.uid());
        } else if (fx instanceof Effect.Tell t) {
            launcher.tell(t.runId(), t.message()).ifPresent(why ->
                    note(name, Effect.Level.WARN, "byte " + t.message() + " not sent on the emperor channel: " + why));
        }
        // Effect.Reply: nothing to carry out; command() reads it from the transition.
    }

    /** A lifecycle line about one vassal: the emperor's log, and the vassal's tail while the vassal is known. */
    private void note(String name, Effect.Level level, String message) {
        EmperorLog.vassal(level, name, message);
        if (vassals.containsKey(name)) {
            host.vassalLine(name, level, message);
        }
    }

    private void spawn(String name, VassalSpec spec) {
        long runId = nextRunId++;
        // Its sockets first (issue 15): kept when unchanged, rebound when changed, released when gone; a unix
        // socket bound as the vassal is waited for in WAITING, never here.
        Launcher.Hold h = launcher.hold(name, spec);
        if (h instanceof Launcher.Hold.Binding) {
            apply(name, new Event.Binding(waitsOf(name, spec)));
            return;
        }
        Launcher.SpawnResult r = h instanceof Launcher.Hold.Failed f ? new Launcher.SpawnResult.Failed(f.reason())
                : launcher.spawn(name, runId, spec);
        if (r instanceof Launcher.SpawnResult.Started s) {
            if (spec.order().watchdog().compareTo(Duration.ZERO) > 0) {
                watchdogs.arm(name, runId, spec.order().watchdog(), clock.nanoTime());
            }
            apply(name, new Event.Spawned(runId, s.pid(), s.uid(), s.gid()));
            launcher.watch(runId);
        } else {
            apply(name, new Event.SpawnFailed(((Launcher.SpawnResult.Failed) r).reason()));
        }
    }

    /**
     * An operator's command for one vassal (loop thread; the control socket asks a {@link LoopQuery.Act}): steps
     * it like any event and returns the lifecycle's answer.
     */
    Effect.Reply command(String name, Event.Operator op) {
        if (shuttingDown) {
            return new Effect.Reply(false, "the emperor is shutting down");
        }
        if (!vassals.containsKey(name)) {
            return new Effect.Reply(false, "no such vassal");
        }
        Transition t = apply(name, op);
        reconcileWaits(); // an operator's stop of a requirement stops its dependents
        return t.effects().stream().filter(Effect.Reply.class::isInstance).map(Effect.Reply.class::cast).findFirst()
                .orElse(new Effect.Reply(false, "no answer (a bug)"));
    }

    /**
     * Loop thread: calls {@code then} on the loop thread with true once {@code done} holds (it is
     * checked now and after every turn), or with false at {@code deadline} (monotonic nanos).
     * Shutdown ends every wait with false.
     */
    void await(BooleanSupplier done, long deadline, Consumer<Boolean> then) {
        if (done.getAsBoolean()) {
            then.accept(true);
            return;
        }
        waiters.add(new Waiter(done, deadline, then));
    }

    private void checkWaiters(long now) {
        if (waiters.isEmpty()) {
            return;
        }
        for (Waiter w : new ArrayList<>(waiters)) {
            boolean done = w.done().getAsBoolean();
            if (done || now >= w.deadline() || shuttingDown) {
                waiters.remove(w);
                try {
                    w.then().accept(done);
                } catch (RuntimeException e) {
                    EmperorLog.error("bug: a waiter failed", e);
                }
            }
        }
    }

    private long waiterDeadline() {
        long min = Vassal.NO_DEADLINE;
        for (Waiter w : waiters) {
            min = Math.min(min, w.deadline());
        }
        return min;
    }

    /** Loop thread: the vassal of that name, or null. */
    Vassal vassal(String name) {
        return vassals.get(name);
    }

    /** Loop thread: the last version seen of a vassal's file, or null. */
    public VassalFile file(String name) {
        return known.get(name);
    }

    /** Loop thread: counts for status and metrics. */
    Tally tally() {
        return tally;
    }

    /** Loop thread: how many scans have been applied (a rescan request waits for the next one). */
    long scans() {
        return scans;
    }

    public Clock clock() {
        return clock;
    }

    /** Loop thread: the policy in force (min-uptime decides when a vassal's last problem clears). */
    Policy policy() {
        return lifecycle.policy();
    }
}
