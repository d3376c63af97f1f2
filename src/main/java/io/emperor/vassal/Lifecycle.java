package io.emperor.vassal;

import io.emperor.config.Problem;
import io.emperor.config.Readiness;
import io.emperor.config.ReloadMode;
import io.emperor.config.Signals;
import io.emperor.config.VassalSpec;
import io.emperor.vassal.Effect.Level;
import io.emperor.vassal.Event.ExecFailed;
import io.emperor.vassal.Event.Exited;
import io.emperor.vassal.Event.FileInvalid;
import io.emperor.vassal.Event.FileValid;
import io.emperor.vassal.Vassal.After;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The vassal lifecycle as a pure function: {@code (vassal, event, now) -> (vassal, effects)}.
 * No clock, no I/O, no threads: {@code now} is monotonic nanos handed in by the loop. Every
 * (state, event) pair is decided here; docs/lifecycle.md is the same table in prose, and
 * LifecycleTest covers each row.
 */
public final class Lifecycle {
    /** How long to wait for an exit after SIGKILL before saying so in the log. */
    static final long KILL_GRACE = Duration.ofSeconds(10).toNanos();
    /** What an expired watchdog sends first, as systemd's default WatchdogSignal=. */
    static final int SIGABRT = 6;

    private final Policy policy;

    public Lifecycle(Policy policy) {
        this.policy = policy;
    }

    public Policy policy() {
        return policy;
    }

    public Transition step(Vassal v, Event e, long now) {
        // Process events of an earlier run (a late report of a process already handled) change nothing.
        if (isStale(v, e)) {
            return same(v);
        }
        return switch (v.state()) {
            case STOPPED, FAILED -> idle(v, e, now);
            case BACKOFF -> backoff(v, e, now);
            case WAITING -> waiting(v, e, now);
            case STARTING, RUNNING, RELOADING -> live(v, e, now);
            case STOPPING -> stopping(v, e, now);
        };
    }

    private static boolean isStale(Vassal v, Event e) {
        long run;
        if (e instanceof Event.ExecDone x) {
            run = x.runId();
        } else if (e instanceof ExecFailed x) {
            run = x.runId();
        } else if (e instanceof Exited x) {
            run = x.runId();
        } else if (e instanceof Event.VassalSays x) {
            run = x.runId();
        } else if (e instanceof Event.ChannelClosed x) {
            run = x.runId();
        } else if (e instanceof Event.Notified x) {
            run = x.runId();
        } else if (e instanceof Event.WatchdogMissed x) {
            run = x.runId();
        } else if (e instanceof Event.Ready x) {
            run = x.runId();
        } else if (e instanceof Event.NotReady x) {
            run = x.runId();
        } else {
            return false;
        }
        return run == 0 || run != v.runId();
    }

    // STOPPED, FAILED: no process, waiting for a usable file.
    private Transition idle(Vassal v, Event e, long now) {
        return switch (e.kind()) {
            // STOPPED|FAILED -> STARTING (on demand: WAITING for a connection)
            case FILE_VALID -> start(fileAccepted(v).withFailures(0), ((FileValid) e).spec(), List.of());
            // STOPPED|FAILED -> FAILED
            case FILE_INVALID -> new Transition(refusedFile(v, (FileInvalid) e, now).withState(State.FAILED),
                    refused(((FileInvalid) e).errors()));
            // -> forgotten
            case FILE_REMOVED -> forget(info("removed"));
            case SHUTDOWN -> forget();
            // A Spawned/SpawnFailed/Binding can only follow a Spawn or Listen effect, which leaves STOPPED at once.
            case SPAWNED, SPAWN_FAILED, BINDING -> impossible(v, e);
            case EXEC_DONE -> same(v);
            case EXEC_FAILED -> same(v);
            case EXITED -> same(v);
            case TICK -> same(v);
            case FORCE_KILL -> same(v);
            // No process: what a channel says can only be late news of an earlier run.
            case VASSAL_SAYS -> same(v);
            case CHANNEL_CLOSED -> same(v);
            case NOTIFIED, WATCHDOG_MISSED -> same(v);
            case READY -> same(v);
            case NOT_READY -> same(v);
            // Recorded: the next start waits for them
            case REQUIREMENTS -> same(v.withWaits(((Event.Requirements) e).waits()));
            case OPERATOR_STOP -> reply(v, true, v.state() == State.FAILED
                    ? "not running (its file has errors)" : "already stopped");
            // STOPPED -> STARTING: the operator starts the last good version
            case OPERATOR_START, OPERATOR_RESTART -> {
                if (v.state() == State.FAILED) {
                    yield reply(v, false, "not started: its file has errors (see emperor.log or 'emperor check')");
                }
                if (v.spec() == null) {
                    yield reply(v, false, "not started: no version of its file has been read yet");
                }
                if (v.spec().listen().onDemand()) {
                    // STOPPED -> WAITING: its sockets are held again; the first connection starts it
                    yield rest(v.withFailures(0), v.spec(), List.of(ok("waiting")));
                }
                yield spawn(v.withFailures(0), v.spec(), List.of(info("starting (operator)"), ok("starting")));
            }
            case OPERATOR_RELOAD -> reply(v, false, "not reloaded: not running (" + v.state().label() + ")");
            // Late: it no longer waited for one when the I/O thread saw it
            case CONNECTION -> same(v);
        };
    }

    // BACKOFF: no process, waiting for the deadline.
    private Transition backoff(Vassal v, Event e, long now) {
        return switch (e.kind()) {
            // BACKOFF -> STARTING, at once: a touch cuts the backoff short
            case FILE_VALID -> start(fileAccepted(v).withFailures(0), ((FileValid) e).spec(), List.of(info("retrying now: file changed")));
            // BACKOFF -> FAILED
            case FILE_INVALID -> new Transition(refusedFile(v, (FileInvalid) e, now).withoutProcess(State.FAILED, Vassal.NO_DEADLINE),
                    refused(((FileInvalid) e).errors()));
            case FILE_REMOVED -> forget(info("removed"));
            case SHUTDOWN -> forget();
            // BACKOFF -> STARTING when the backoff is over (on demand: WAITING; a connection already waiting starts it at once)
            case TICK -> now >= v.deadline() ? again(v, List.of()) : same(v);
            case SPAWNED, SPAWN_FAILED, BINDING -> impossible(v, e);
            case EXEC_DONE -> same(v);
            case EXEC_FAILED -> same(v);
            case EXITED -> same(v);
            case FORCE_KILL -> same(v);
            case VASSAL_SAYS -> same(v);
            case CHANNEL_CLOSED -> same(v);
            case NOTIFIED, WATCHDOG_MISSED -> same(v);
            case READY -> same(v);
            case NOT_READY -> same(v);
            // Recorded: the try at the deadline waits for them
            case REQUIREMENTS -> same(v.withWaits(((Event.Requirements) e).waits()));
            // BACKOFF -> STOPPED
            case OPERATOR_STOP -> new Transition(v.withoutProcess(State.STOPPED, Vassal.NO_DEADLINE),
                    List.of(info("stopped (operator; it was backing off)"), ok("stopped")));
            // BACKOFF -> STARTING, at once
            case OPERATOR_START, OPERATOR_RESTART -> start(v.withFailures(0), v.spec(),
                    List.of(info("retrying now: operator start"), ok("starting")));
            case OPERATOR_RELOAD -> reply(v, false, "not reloaded: not running (backoff)");
            case CONNECTION -> same(v);
        };
    }

    // STARTING, RUNNING, RELOADING: a process exists and is wanted.
    private Transition live(Vassal v, Event e, long now) {
        return switch (e.kind()) {
            case SPAWNED -> {
                if (v.runId() != 0 || v.state() != State.STARTING) {
                    yield impossible(v, e);
                }
                Event.Spawned s = (Event.Spawned) e;
                long timeout = v.spec().order().readyTimeout().toNanos();
                yield new Transition(v.withRun(s.runId(), s.pid(), now)
                        .withReadyBy(timeout > 0 ? now + timeout : Vassal.NO_DEADLINE),
                        List.of(info("spawned pid=" + s.pid() + " uid=" + s.uid() + " gid=" + s.gid())));
            }
            // STARTING -> BACKOFF: the process could not even be created
            case SPAWN_FAILED -> {
                if (v.runId() != 0 || v.state() != State.STARTING) {
                    yield impossible(v, e);
                }
                String what = "spawn failed: " + ((Event.SpawnFailed) e).reason();
                yield backOff(trouble(v, Trouble.Kind.RUN, what, now), List.of(error(what)), now);
            }
            // STARTING -> WAITING: no process yet, its unix sockets are being bound; their answer starts it
            case BINDING -> {
                if (v.runId() != 0 || v.state() != State.STARTING) {
                    yield impossible(v, e);
                }
                yield waitFor(v.withoutProcess(State.WAITING, Vassal.NO_DEADLINE), ((Event.Binding) e).waits());
            }
            // STARTING -> RUNNING
            case EXEC_DONE -> execDone(v, now);
            case EXEC_FAILED -> execFailed(v, (ExecFailed) e, now);
            case FILE_VALID -> changed(fileAccepted(v), ((FileValid) e).spec(), now);
            case FILE_INVALID -> {
                List<Effect> fx = new ArrayList<>(refused(((FileInvalid) e).errors()));
                fx.add(warn("kept running pid=" + v.pid() + " (last good version of the file)"));
                yield new Transition(refusedFile(v, (FileInvalid) e, now), fx);
            }
            // STARTING|RUNNING -> STOPPING, then forgotten
            case FILE_REMOVED -> stop(v, After.FORGET, null, now, "file removed");
            case SHUTDOWN -> stop(v, After.FORGET, null, now, "emperor stopping");
            case EXITED -> exited(v, ((Exited) e).status(), now);
            case TICK -> now >= v.readyBy() && v.readyAt() == 0 ? notReadyInTime(v, now)
                    : now < v.deadline() ? same(v) : heartbeatMissed(v, now);
            case FORCE_KILL -> same(v);
            case VASSAL_SAYS -> says(v, (Event.VassalSays) e, now);
            case CHANNEL_CLOSED -> new Transition(v, List.of(info("going (emperor channel closed)")));
            case NOTIFIED -> notified(v, (Event.Notified) e, now);
            case WATCHDOG_MISSED -> watchdogMissed(v, (Event.WatchdogMissed) e, now);
            case READY -> ready(v, (Event.Ready) e, now);
            case NOT_READY -> same(v.readyAt() == 0 ? v.withReadyProblem(((Event.NotReady) e).problem()) : v);
            case REQUIREMENTS -> requirementsChanged(v, ((Event.Requirements) e).waits(), now);
            // STARTING|RUNNING|RELOADING -> STOPPING -> STOPPED
            case OPERATOR_STOP -> answered(stop(v, After.NOTHING, null, now, "operator"), "stopping");
            case OPERATOR_START -> reply(v, true, "already " + v.state().label());
            // STARTING|RUNNING|RELOADING -> STOPPING -> STARTING
            case OPERATOR_RESTART -> answered(stop(v, After.RESTART, v.spec(), now, "operator"), "restarting");
            case OPERATOR_RELOAD -> operatorReload(v, now);
            // Late (the I/O thread watches no socket of a vassal that runs)
            case CONNECTION -> same(v);
        };
    }

    /**
     * The program runs: STARTING -> RUNNING, and ready at once with {@code ready = started} (no log
     * line: "spawned" says it). With {@code tcp:}, {@code unix:} or {@code notify} it stays STARTING
     * until it is ready; a uWSGI vassal runs, and is ready when it accepts (byte 5).
     */
    private Transition execDone(Vassal v, long now) {
        if (v.state() != State.STARTING) {
            return same(v);
        }
        Readiness how = v.spec().order().ready();
        if (how instanceof Readiness.Started) {
            return same(v.withState(State.RUNNING).withReadyAt(now).withReadyBy(Vassal.NO_DEADLINE));
        }
        if (how instanceof Readiness.Tcp || how instanceof Readiness.Unix) {
            return new Transition(v, List.of(new Effect.Probe(v.runId(), how, v.spec().uid())));
        }
        return same(how instanceof Readiness.UwsgiAccepting ? v.withState(State.RUNNING) : v);
    }

    /**
     * ready-timeout passed and the run is not ready: the run has failed, with the probe's last
     * reason. It is stopped, then backs off like a quick exit.
     */
    private Transition notReadyInTime(Vassal v, long now) {
        String what = "not ready within " + seconds(v.spec().order().readyTimeout().toNanos())
                + " (ready = " + v.spec().order().ready().text() + ")"
                + (v.readyProblem() == null ? "" : ": " + v.readyProblem());
        Vassal failed = trouble(v, Trouble.Kind.RUN, what, now).withReadyBy(Vassal.NO_DEADLINE);
        Transition stop = stop(failed, After.BACKOFF, null, now, "not ready in time");
        List<Effect> fx = new ArrayList<>();
        fx.add(warn(what));
        fx.addAll(stop.effects());
        return new Transition(stop.vassal(), fx);
    }

    /**
     * Its requirements changed while a process is wanted: a requirement that is gone stops it (it
     * starts again, through WAITING, once the requirement is back and ready); one that is only not
     * ready (crashed, respawning) changes nothing now.
     */
    private Transition requirementsChanged(Vassal v, Wait w, long now) {
        Vassal recorded = v.withWaits(w);
        if (!w.stop()) {
            return same(recorded);
        }
        // STARTING|RUNNING|RELOADING -> STOPPING -> WAITING
        return stop(recorded, After.RESTART, v.spec(), now, "stopping: ", "requirement gone: " + w.text());
    }

    // WAITING: no process; its requirements are not ready, or (on demand) no connection came yet.
    private Transition waiting(Vassal v, Event e, long now) {
        return switch (e.kind()) {
            // WAITING -> WAITING (the new version waits too; on demand: kept until the connection) or STARTING
            case FILE_VALID -> start(fileAccepted(v).withFailures(0), ((FileValid) e).spec(), List.of());
            // On demand, a bad edit takes nothing down: WAITING with the last good version, as a running vassal keeps running
            case FILE_INVALID -> v.waitsForConnection() ? new Transition(refusedFile(v, (FileInvalid) e, now),
                    keptWaiting(((FileInvalid) e).errors()))
                    // WAITING -> FAILED
                    : new Transition(refusedFile(v, (FileInvalid) e, now).withState(State.FAILED),
                    refused(((FileInvalid) e).errors()));
            case FILE_REMOVED -> forget(info("removed"));
            case SHUTDOWN -> forget();
            case SPAWNED -> impossible(v, e);
            // On demand: its unix sockets are being bound (Effect.Listen); their answer lets it wait for a connection
            case BINDING -> {
                if (v.spec() == null || !v.spec().listen().onDemand()) {
                    yield impossible(v, e);
                }
                yield waitFor(v, ((Event.Binding) e).waits());
            }
            // On demand: its sockets could not be held (Effect.Listen). WAITING -> BACKOFF, then it tries again
            case SPAWN_FAILED -> {
                if (v.spec() == null || !v.spec().listen().onDemand()) {
                    yield impossible(v, e);
                }
                String what = "sockets not held: " + ((Event.SpawnFailed) e).reason();
                yield backOff(trouble(v, Trouble.Kind.RUN, what, now), List.of(error(what)), now);
            }
            // WAITING -> STARTING: the first connection on an on-demand vassal's sockets
            case CONNECTION -> v.waitsForConnection()
                    ? spawn(v, v.spec(), List.of(info("starting: a connection is waiting (on demand)")))
                    : same(v);
            case EXEC_DONE, EXEC_FAILED, EXITED, VASSAL_SAYS, CHANNEL_CLOSED, READY, NOT_READY -> same(v);
            case NOTIFIED, WATCHDOG_MISSED -> same(v);
            case TICK -> same(v);
            case FORCE_KILL -> same(v);
            // WAITING -> STARTING once nothing is missing (on demand: WAITING for a connection)
            case REQUIREMENTS -> {
                Wait w = ((Event.Requirements) e).waits();
                if (w.open() && v.waits().open()) {
                    yield same(v.withWaits(w));
                }
                if (w.open() && v.spec().listen().onDemand()) {
                    yield rest(v.withWaits(w), v.spec(), List.of(info("done waiting for "
                            + String.join(", ", v.waits().names()))), true);
                }
                if (w.open()) {
                    yield spawn(v.withWaits(w), v.spec(), List.of(info("starting: done waiting for "
                            + String.join(", ", v.waits().names()))));
                }
                yield new Transition(v.withWaits(w), w.names().equals(v.waits().names()) ? List.of()
                        : List.of(info("waiting for " + w.text())));
            }
            // WAITING -> STOPPED
            case OPERATOR_STOP -> new Transition(v.withoutProcess(State.STOPPED, Vassal.NO_DEADLINE),
                    List.of(info("stopped (operator; it was waiting)"), ok("stopped")));
            case OPERATOR_START, OPERATOR_RESTART -> reply(v, true, "waiting for " + v.waitingFor());
            case OPERATOR_RELOAD -> reply(v, false, "not reloaded: not running (waiting for " + v.waitingFor() + ")");
        };
    }

    /**
     * The run is ready ({@link Event.Ready}): the one place a run becomes ready. Once per run; a
     * process that was STARTING now runs.
     */
    private Transition ready(Vassal v, Event.Ready r, long now) {
        if (v.readyAt() != 0) {
            // RELOADING -> RUNNING: READY=1 after RELOADING=1 (notify) ends the reload
            return v.state() == State.RELOADING ? back(v, now, info("reloaded (" + r.how() + ")")) : same(v);
        }
        Vassal ready = v.withReadyAt(now).withReadyBy(Vassal.NO_DEADLINE).withReadyProblem(null);
        return new Transition(v.state() == State.STARTING ? ready.withState(State.RUNNING) : ready,
                List.of(info("ready (" + r.how() + ")")));
    }

    /** An operator's reload: what a touch of the unchanged file does, once the program runs. */
    private Transition operatorReload(Vassal v, long now) {
        if (v.state() == State.STARTING) {
            // Its signal handlers may not be set yet: a reload signal could kill it.
            return reply(v, false, "not reloaded: still starting");
        }
        if (v.state() == State.RELOADING) {
            return reply(v, true, "already reloading");
        }
        VassalSpec s = v.spec();
        if (s.reload() == ReloadMode.RESTART || s.isUwsgiWithoutMaster()) {
            String why = s.reload() == ReloadMode.RESTART ? "operator reload (reload = restart)"
                    : "operator reload of a uWSGI vassal without master";
            return answered(stop(v, After.RESTART, s, now, why), "restarting");
        }
        return answered(changed(v, s, now), "reloading");
    }

    /** A uWSGI vassal's byte on its emperor channel, while its process is wanted. */
    private Transition says(Vassal v, Event.VassalSays said, long now) {
        int message = said.message();
        return switch (message) {
            // STARTING|RELOADING -> RUNNING
            case Event.VassalSays.READY -> back(v, now, info("ready"));
            // ... and ready, for the vassals that wait for it, unless its file says otherwise
            case Event.VassalSays.ACCEPTING -> {
                Transition back = back(v, now, info("accepting"));
                yield v.spec().order().ready() instanceof Readiness.UwsgiAccepting && v.readyAt() == 0
                        ? new Transition(back.vassal().withReadyAt(now).withReadyBy(Vassal.NO_DEADLINE), back.effects())
                        : back;
            }
            case Event.VassalSays.LOYAL -> new Transition(v, List.of(info("loyal")));
            case Event.VassalSays.HEARTBEAT -> {
                Vassal beat = v.withHeartbeat(now, now + policy.requiredHeartbeat().toNanos());
                List<Effect> fx = v.heartbeatAt() == 0
                        ? List.of(info("heartbeat: from now on required every " + seconds(policy.requiredHeartbeat().toNanos())))
                        : List.of();
                yield v.state() == State.RELOADING ? back(beat, now, fx.isEmpty() ? info("back (heartbeat)") : fx.get(0))
                        : new Transition(beat, fx);
            }
            // On demand: STARTING|RUNNING|RELOADING -> STOPPING -> WAITING for the next connection (uWSGI's idle + die-on-idle)
            case Event.VassalSays.VOLUNTARY_STOP -> v.spec().listen().onDemand()
                    ? stop(v, After.ON_DEMAND, null, now, "stopping: ", "back to on demand (byte 22)")
                    // STARTING|RUNNING|RELOADING -> STOPPING -> STARTING: the file is still there, so it runs again
                    : stop(v, After.RESTART, v.spec(), now, "the vassal asked to stop (byte 22)");
            case Event.VassalSays.MORE_WORKERS -> new Transition(v, List.of(
                    info("asks for more workers (byte 30; broodlord mode is not supported)")));
            // At most one a minute (os/ChannelGate), with the count of those it stands for.
            default -> new Transition(v, List.of(warn("unknown byte " + message + " on the emperor channel"
                    + (said.count() == 1 ? "" : " (" + said.count() + " unknown bytes since the last such line)"))));
        };
    }

    /** The vassal says it runs: STARTING and RELOADING end; heartbeat monitoring resumes. */
    private Transition back(Vassal v, long now, Effect log) {
        if (v.state() == State.RUNNING) {
            return new Transition(v, List.of(log));
        }
        long dl = v.heartbeatAt() > 0 ? now + policy.requiredHeartbeat().toNanos() : Vassal.NO_DEADLINE;
        return new Transition(v.withState(State.RUNNING).withDeadline(dl), List.of(log));
    }

    /**
     * The deadline of a live vassal passed: only heartbeat monitoring sets one. RUNNING: no
     * heartbeat within required-heartbeat, so a graceful reload (byte 1; a vassal without master
     * is restarted). RELOADING after such a reload: still nothing, so SIGKILL to the group; the
     * exit then respawns it.
     */
    private Transition heartbeatMissed(Vassal v, long now) {
        String period = seconds(policy.requiredHeartbeat().toNanos());
        if (v.heartbeatAt() == 0 || v.state() == State.STARTING) {
            return same(v.withDeadline(Vassal.NO_DEADLINE));
        }
        if (v.state() == State.RELOADING) {
            if (v.killed()) {
                return same(v.withDeadline(Vassal.NO_DEADLINE));
            }
            // RELOADING -> RELOADING (killed; the exit respawns it)
            return new Transition(v.withKilled(Vassal.NO_DEADLINE), List.of(
                    warn("no heartbeat " + period + " after the reload: SIGKILL to process group " + v.pid()),
                    new Effect.KillGroup(v.runId())));
        }
        Vassal late = trouble(v, Trouble.Kind.RUN, "no heartbeat in the last " + period, now);
        if (v.spec().isUwsgiWithoutMaster()) {
            return stop(late, After.RESTART, v.spec(), now, "no heartbeat in the last " + period);
        }
        // RUNNING -> RELOADING, with a deadline
        return new Transition(late.reloading(v.spec(), now + policy.requiredHeartbeat().toNanos()), List.of(
                warn("no heartbeat in the last " + period + ": reloading byte=1 pid=" + v.pid()),
                new Effect.Tell(v.runId(), Effect.Tell.RELOAD)));
    }

    // STOPPING: the stop signal went out; waiting for the exit.
    private Transition stopping(Vassal v, Event e, long now) {
        return switch (e.kind()) {
            case EXITED -> {
                List<Effect> fx = new ArrayList<>();
                fx.add(info("stopped " + exitStatus(v, ((Exited) e).status()) + " after " + seconds(now - v.stopSince())));
                yield switch (v.after()) {
                    // STOPPING -> STARTING
                    case RESTART -> spawn(v.waits().open() ? v.countRestart() : v, v.next(), fx);
                    // STOPPING -> STOPPED (an operator's stop)
                    case NOTHING -> new Transition(v.withoutProcess(State.STOPPED, Vassal.NO_DEADLINE), fx);
                    // STOPPING -> BACKOFF (a run that was not ready in time)
                    case BACKOFF -> backOff(v, fx, now);
                    // STOPPING -> forgotten
                    case FORGET -> forget(fx);
                    // STOPPING -> STARTING or BACKOFF, as after any exit (it stopped by itself: STOPPING=1)
                    case RESPAWN -> respawn(v, fx, now);
                    // STOPPING -> STARTING or BACKOFF, as after a crash: the watchdog is the problem
                    case WATCHDOG -> watchdogExit(v, ((Exited) e).status(), now);
                    // STOPPING -> WAITING for a connection (byte 22 of an on-demand vassal), the newest version kept
                    case ON_DEMAND -> rest(v.withFailures(0), v.next() != null ? v.next() : v.spec(), fx);
                };
            }
            case TICK -> {
                if (now < v.deadline()) {
                    yield same(v);
                }
                if (!v.killed()) {
                    String what = "stop-timeout " + seconds(v.spec().stopTimeout().toNanos())
                            + " passed: SIGKILL to process group " + v.pid();
                    yield new Transition(trouble(v, Trouble.Kind.RUN, what, now).withKilled(now + KILL_GRACE), List.of(
                            warn(what), new Effect.KillGroup(v.runId())));
                }
                yield new Transition(v.withDeadline(Vassal.NO_DEADLINE), List.of(
                        error("pid=" + v.pid() + " still there " + seconds(KILL_GRACE)
                                + " after SIGKILL (stuck in the kernel?); still waiting")));
            }
            case FORCE_KILL -> v.killed() ? same(v) : new Transition(v.withKilled(now + KILL_GRACE),
                    List.of(warn("SIGKILL to process group " + v.pid()), new Effect.KillGroup(v.runId())));
            // Back to on demand: the new version is kept for the next connection (or starts, if no longer on demand)
            case FILE_VALID -> v.after() == After.ON_DEMAND
                    ? same(fileAccepted(v).stopping(((FileValid) e).spec().listen().onDemand() ? After.ON_DEMAND
                            : After.RESTART, ((FileValid) e).spec(), v.deadline()))
            // A file that comes back, or changes, during a stop: start that version once the stop is done.
                    : new Transition(fileAccepted(v).stopping(After.RESTART, ((FileValid) e).spec(), v.deadline()),
                    v.after() != After.NOTHING && v.after() != After.FORGET ? List.of()
                            : List.of(info("file is back: will start again once stopped")));
            case FILE_INVALID -> new Transition(refusedFile(v, (FileInvalid) e, now), refused(((FileInvalid) e).errors()));
            case FILE_REMOVED -> same(v.stopping(After.FORGET, null, v.deadline()));
            case SHUTDOWN -> same(v.stopping(After.FORGET, null, v.deadline()));
            case EXEC_DONE -> same(v);
            case EXEC_FAILED -> execFailed(v, (ExecFailed) e, now);
            case SPAWNED, SPAWN_FAILED, BINDING -> impossible(v, e);
            case VASSAL_SAYS -> same(v);
            case CHANNEL_CLOSED -> new Transition(v, List.of(info("going (emperor channel closed)")));
            // Already going: what it says now changes nothing, and its watchdog is off.
            case NOTIFIED, WATCHDOG_MISSED -> same(v);
            case READY -> same(v);
            case NOT_READY -> same(v);
            case REQUIREMENTS -> same(v.withWaits(((Event.Requirements) e).waits()));
            case OPERATOR_STOP -> switch (v.after()) {
                // A restart (or respawn) under way becomes a stop: STOPPING -> STOPPED
                case RESTART, BACKOFF, RESPAWN, WATCHDOG, ON_DEMAND -> new Transition(v.stopping(After.NOTHING, null, v.deadline()),
                        List.of(info("will stay stopped (operator)"), ok("stopping")));
                case NOTHING -> reply(v, true, "already stopping");
                case FORGET -> reply(v, true, "already stopping (its file is gone)");
            };
            case OPERATOR_START, OPERATOR_RESTART -> switch (v.after()) {
                // STOPPING -> STARTING once stopped
                case NOTHING -> new Transition(v.stopping(After.RESTART, v.spec(), v.deadline()),
                        List.of(info("will start again once stopped (operator)"), ok("starting once stopped")));
                case RESTART, RESPAWN, WATCHDOG -> reply(v, true, "starting once stopped");
                // A failed run's backoff is cut short
                case BACKOFF -> new Transition(v.stopping(After.RESTART, v.spec(), v.deadline()),
                        List.of(info("will start again once stopped (operator)"), ok("starting once stopped")));
                case FORGET -> reply(v, false, "not started: its file is gone");
                case ON_DEMAND -> reply(v, true, "waiting for a connection once stopped");
            };
            case OPERATOR_RELOAD -> reply(v, false, "not reloaded: stopping");
            case CONNECTION -> same(v);
        };
    }

    /**
     * RELOADING=1 or STOPPING=1 on the notify socket. RELOADING=1: RUNNING -> RELOADING until the next
     * READY=1 (a vassal still starting stays STARTING: its READY=1 ends both). STOPPING=1: the vassal stops
     * by itself: STOPPING with no signal; SIGKILL to the group after stop-timeout; its exit is respawned as
     * any exit (at once after min-uptime, else a backoff) and is not a problem.
     */
    private Transition notified(Vassal v, Event.Notified n, long now) {
        if (n.what() == Event.Notified.What.RELOADING) {
            // RUNNING -> RELOADING
            return v.state() == State.RUNNING
                    ? new Transition(v.withState(State.RELOADING), List.of(info("reloading (RELOADING=1)")))
                    : same(v);
        }
        // STARTING|RUNNING|RELOADING -> STOPPING -> STARTING|BACKOFF
        long timeout = v.spec().stopTimeout().toNanos();
        return new Transition(v.stoppingSince(After.RESPAWN, null, now, now + timeout), List.of(
                info("stopping: the vassal says so (STOPPING=1) pid=" + v.pid() + " timeout=" + seconds(timeout))));
    }

    /**
     * No WATCHDOG=1 for the run's {@code watchdog} period: SIGABRT to the main process (as systemd's
     * WatchdogSignal=; a core dump or a stack trace may say where it hung), SIGKILL to the group after
     * stop-timeout; its exit is a crash ({@link #watchdogExit}).
     */
    private Transition watchdogMissed(Vassal v, Event.WatchdogMissed w, long now) {
        String what = "watchdog: no WATCHDOG=1 in the last " + seconds(w.period().toNanos());
        long timeout = v.spec().stopTimeout().toNanos();
        // STARTING|RUNNING|RELOADING -> STOPPING -> STARTING|BACKOFF
        return new Transition(trouble(v, Trouble.Kind.RUN, what, now).stoppingSince(After.WATCHDOG, null, now,
                now + timeout), List.of(
                warn(what + ": SIGABRT pid=" + v.pid() + " timeout=" + seconds(timeout)),
                new Effect.Signal(v.runId(), SIGABRT)));
    }

    /** The exit after a watchdog's SIGABRT: a crash, whose problem names the watchdog. */
    private Transition watchdogExit(Vassal v, ExitStatus status, long now) {
        long uptime = now - v.startedAt();
        String how = exitStatus(v, status);
        Trouble t = v.problem(now, policy.minUptime());
        String first = t != null && t.text().startsWith("watchdog:") ? t.text() : "watchdog";
        Vassal w = trouble(v, Trouble.Kind.RUN, first + "; exited " + how + " after " + seconds(uptime), now);
        List<Effect> fx = new ArrayList<>();
        fx.add(warn("exited " + how + " uptime=" + seconds(uptime) + " (watchdog)"));
        return respawn(w, fx, now);
    }

    /** After an exit: spawn again at once when the run lasted min-uptime (and exec did not fail), else back off. */
    private Transition respawn(Vassal v, List<Effect> fx, long now) {
        if (!v.execFailed() && now - v.startedAt() >= policy.minUptime().toNanos()) {
            return again(v.withFailures(0), fx);
        }
        return backOff(v, fx, now);
    }

    private Transition changed(Vassal v, VassalSpec spec, long now) {
        if (spec.reload() == ReloadMode.RESTART || v.spec().needsRestartFor(spec)) {
            // STARTING|RUNNING -> STOPPING -> STARTING
            String why = spec.reload() == ReloadMode.RESTART ? "reload = restart" : "spawn settings changed";
            return stop(v, After.RESTART, spec, now, why);
        }
        if (v.state() == State.STARTING) {
            // The program has not started yet: it reads its configuration as it is now.
            return same(v.withSpec(spec));
        }
        if (spec.isUwsgiWithoutMaster()) {
            // Without a master nobody reads the reload byte: RUNNING -> STOPPING -> STARTING
            return stop(v, After.RESTART, spec, now, "reload of a uWSGI vassal without master");
        }
        if (spec.kind() == VassalSpec.Kind.UWSGI) {
            // RUNNING|RELOADING -> RELOADING: graceful, same pid; heartbeats are not required until it is back
            return new Transition(v.reloading(spec, Vassal.NO_DEADLINE), List.of(
                    info("reloading byte=1 pid=" + v.pid()),
                    new Effect.Tell(v.runId(), Effect.Tell.RELOAD)));
        }
        return new Transition(v.withSpec(spec), List.of(
                info("reloading signal=" + Signals.name(spec.reloadSignal()) + " pid=" + v.pid()),
                new Effect.Signal(v.runId(), spec.reloadSignal())));
    }

    private Transition stop(Vassal v, After after, VassalSpec next, long now, String why) {
        return stop(v, after, next, now, after == After.RESTART ? "restarting: " : "stopping: ", why);
    }

    /** @param verb how the line begins: {@code stopping: } or {@code restarting: } */
    private Transition stop(Vassal v, After after, VassalSpec next, long now, String verb, String why) {
        VassalSpec s = v.spec();
        long deadline = now + s.stopTimeout().toNanos();
        if (s.kind() == VassalSpec.Kind.UWSGI) {
            return stopUwsgi(v, after, next, now, deadline, verb, why);
        }
        return new Transition(v.stoppingSince(after, next, now, deadline), List.of(
                info(verb + why
                        + " signal=" + Signals.name(s.stopSignal()) + " pid=" + v.pid()
                        + " timeout=" + seconds(s.stopTimeout().toNanos())),
                new Effect.Signal(v.runId(), s.stopSignal())));
    }

    /**
     * A uWSGI vassal: byte 0 (2 with graceful-shutdown) on its channel; one without a master
     * ignores it, so SIGINT goes to it at once as well.
     */
    private static Transition stopUwsgi(Vassal v, After after, VassalSpec next, long now, long deadline, String verb,
                                        String why) {
        VassalSpec s = v.spec();
        int message = s.uwsgi().gracefulShutdown() ? Effect.Tell.GRACEFUL_STOP : Effect.Tell.STOP;
        boolean signal = s.isUwsgiWithoutMaster();
        List<Effect> fx = new ArrayList<>();
        fx.add(info(verb + why + " byte=" + message
                + (signal ? " signal=" + Signals.name(s.stopSignal()) : "") + " pid=" + v.pid()
                + " timeout=" + seconds(s.stopTimeout().toNanos())));
        fx.add(new Effect.Tell(v.runId(), message));
        if (signal) {
            fx.add(new Effect.Signal(v.runId(), s.stopSignal()));
        }
        return new Transition(v.stoppingSince(after, next, now, deadline), fx);
    }

    private Transition exited(Vassal v, ExitStatus status, long now) {
        long uptime = now - v.startedAt();
        // What the main process left behind in its process group is already gone: the launcher
        // SIGKILLs the group before it reaps (see Launcher#reap).
        List<Effect> fx = new ArrayList<>();
        String how = exitStatus(v, status);
        if (v.spec().listen().onDemand() && status.signal() == 0 && status.code() == 0 && !v.execFailed()
                && uptime >= policy.minUptime().toNanos()) {
            // On demand: an exit 0 (idle) is no crash: STARTING|RUNNING|RELOADING -> WAITING, no backoff.
            // A quicker one is a quick exit (below): a program that exits 0 without accepting would
            // otherwise be spawned again at once for the connection still waiting, in a busy loop.
            return rest(v.withFailures(0), v.spec(), List.of(info("exited " + how + " uptime=" + seconds(uptime)
                    + " (on demand: back to waiting)")));
        }
        fx.add(warn("exited " + how + " uptime=" + seconds(uptime)));
        if (!v.execFailed()) {
            // After a failed exec, the exec's failure is the problem, not the exit that follows it.
            v = trouble(v, Trouble.Kind.RUN, "exited " + how + " after " + seconds(uptime), now);
        }
        if (!v.execFailed() && uptime >= policy.minUptime().toNanos()) {
            // RUNNING -> STARTING: it ran long enough to be respawned at once (on demand: WAITING)
            return again(v.withFailures(0), fx);
        }
        // STARTING|RUNNING -> BACKOFF
        return backOff(v, fx, now);
    }

    /** The exec helper could not start the program: the run's problem. */
    private Transition execFailed(Vassal v, ExecFailed e, long now) {
        String what = "spawn failed: " + e.reason();
        return new Transition(trouble(v, Trouble.Kind.RUN, what, now).withExecFailed(), List.of(error(what)));
    }

    /** {@code v} with a new last problem ({@link Trouble#after} the one that still stands). */
    private Vassal trouble(Vassal v, Trouble.Kind kind, String text, long now) {
        return v.withTrouble(Trouble.after(v.problem(now, policy.minUptime()), kind, text, now));
    }

    /** Its file was refused: the first reason is the problem. */
    private Vassal refusedFile(Vassal v, FileInvalid e, long now) {
        List<Problem> errors = e.errors();
        String text = errors.isEmpty() ? "refused" : "refused: " + errors.get(0)
                + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "");
        return trouble(v, Trouble.Kind.FILE, text, now);
    }

    /** A version of its file was accepted: a refusal is no longer a problem. */
    private static Vassal fileAccepted(Vassal v) {
        return v.trouble() != null && v.trouble().kind() == Trouble.Kind.FILE ? v.withTrouble(null) : v;
    }

    /** How a run ended, uWSGI's special exit codes named for a uWSGI vassal ({@link UwsgiExitCodes}). */
    private static String exitStatus(Vassal v, ExitStatus status) {
        return UwsgiExitCodes.describe(status, v.spec() != null && v.spec().kind() == VassalSpec.Kind.UWSGI);
    }

    private Transition backOff(Vassal v, List<Effect> before, long now) {
        int failures = v.failures() + 1;
        long delay = policy.backoffNanos(failures);
        List<Effect> fx = new ArrayList<>(before);
        fx.add(warn("backoff retry in " + seconds(delay) + " (" + failures
                + (failures == 1 ? " quick exit)" : " quick exits in a row)")));
        return new Transition(v.withFailures(failures).withoutProcess(State.BACKOFF, now + delay), fx);
    }

    /**
     * -> STARTING, or -> WAITING when its requirements are not ready ({@link Vassal#waits}): then
     * no spawn, one line {@code waiting for …} (not repeated while the names are the same), and an
     * operator who asked for the start is told what it waits for.
     */
    private static Transition spawn(Vassal v, VassalSpec spec, List<Effect> before) {
        List<Effect> fx = new ArrayList<>();
        if (v.waits().open()) {
            fx.addAll(before);
            fx.add(new Effect.Spawn(spec));
            return new Transition(v.starting(spec), fx);
        }
        String text = "waiting for " + v.waits().text();
        for (Effect f : before) {
            fx.add(f instanceof Effect.Reply r && r.ok() ? ok(text) : f);
        }
        if (v.state() != State.WAITING) {
            fx.add(info(text));
        }
        return new Transition(v.withoutProcess(State.WAITING, Vassal.NO_DEADLINE).withSpec(spec), fx);
    }

    /** -> WAITING for {@code w} (a vassal already waiting: its new waits), one line {@code waiting for …}. */
    private static Transition waitFor(Vassal v, Wait w) {
        return new Transition(v.withState(State.WAITING).withWaits(w), List.of(info("waiting for " + w.text())));
    }

    /** A start: -> STARTING, or for an on-demand vassal -> WAITING for a connection ({@link #rest}). */
    private static Transition start(Vassal v, VassalSpec spec, List<Effect> before) {
        return spec.listen().onDemand() ? rest(v, spec, before) : spawn(v, spec, before);
    }

    /**
     * The start after an exit (a respawn, the end of a backoff): the same version again, counted as a
     * restart; an on-demand vassal waits for a connection instead (one already waiting in the backlog
     * wakes it at once).
     */
    private static Transition again(Vassal v, List<Effect> before) {
        return v.spec().listen().onDemand() ? rest(v, v.spec(), before) : spawn(v.countRestart(), v.spec(), before);
    }

    /**
     * An on-demand vassal (issue 15) -> WAITING with no process: its sockets are held and watched
     * ({@link Effect.Listen}) until the first connection ({@link Event.Connection}). One line
     * {@code waiting for a connection on ADDRESS} as it begins to wait, once they are held (not at a
     * change of its file while it waits). While a requirement is missing it waits for that first ({@link #spawn}).
     */
    private static Transition rest(Vassal v, VassalSpec spec, List<Effect> before) {
        return rest(v, spec, before, !v.waitsForConnection());
    }

    /** @param line whether it begins to wait for a connection now (its line) */
    private static Transition rest(Vassal v, VassalSpec spec, List<Effect> before, boolean line) {
        if (!v.waits().open()) {
            return spawn(v, spec, before);
        }
        String text = "waiting for " + Vassal.connectionText(spec);
        List<Effect> fx = new ArrayList<>();
        for (Effect f : before) {
            fx.add(f instanceof Effect.Reply r && r.ok() ? ok(text) : f);
        }
        fx.add(new Effect.Listen(spec, line ? text : null));
        return new Transition(v.withoutProcess(State.WAITING, Vassal.NO_DEADLINE).withSpec(spec), fx);
    }

    /** A bad version of an on-demand vassal's file while it waits: refused, the last good one kept. */
    private static List<Effect> keptWaiting(List<Problem> errors) {
        List<Effect> fx = refused(errors);
        fx.add(warn("kept waiting (last good version of the file)"));
        return fx;
    }

    private static List<Effect> refused(List<Problem> errors) {
        List<Effect> fx = new ArrayList<>();
        for (Problem p : errors) {
            fx.add(error("refused: " + p));
        }
        return fx;
    }

    /** An operator's command that changes nothing but gets an answer. */
    private static Transition reply(Vassal v, boolean ok, String message) {
        return new Transition(v, List.of(new Effect.Reply(ok, message)));
    }

    /** A transition with the operator's (positive) answer added. */
    private static Transition answered(Transition t, String message) {
        List<Effect> fx = new ArrayList<>(t.effects());
        fx.add(ok(message));
        return new Transition(t.vassal(), fx);
    }

    private static Effect ok(String message) {
        return new Effect.Reply(true, message);
    }

    private static Transition same(Vassal v) {
        return new Transition(v, List.of());
    }

    private static Transition forget(Effect... effects) {
        return new Transition(null, List.of(effects));
    }

    private static Transition forget(List<Effect> effects) {
        return new Transition(null, effects);
    }

    private static Transition impossible(Vassal v, Event e) {
        throw new IllegalStateException("impossible event " + e + " for vassal " + v.name() + " in state " + v.state());
    }

    private static Effect info(String m) {
        return new Effect.Log(Level.INFO, m);
    }

    private static Effect warn(String m) {
        return new Effect.Log(Level.WARN, m);
    }

    private static Effect error(String m) {
        return new Effect.Log(Level.ERROR, m);
    }

    /** Durations in log lines: {@code 0.25s}, {@code 2s}, {@code 30s}. */
    static String seconds(long nanos) {
        if (nanos % 1_000_000_000L == 0) {
            return nanos / 1_000_000_000L + "s";
        }
        return String.format(java.util.Locale.ROOT, "%.2fs", nanos / 1e9);
    }
}
