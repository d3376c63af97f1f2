package io.emperor.loop;

import io.emperor.log.EmperorLog;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Effect;
import io.emperor.vassal.Event;
import io.emperor.vassal.State;
import io.emperor.vassal.Vassal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The loop's side of the control wing (loop thread only): answers each {@link LoopQuery} with plain
 * data. Waits ({@code stop --wait}, a rescan, a tenant's follower) are loop waiters
 * ({@link EmperorLoop#await}), not blocked threads.
 */
final class Queries {
    /** Waiting for a start: until it runs (exec reached) or fails. */
    static final Duration START_WAIT = Duration.ofSeconds(30);
    /** Waiting for a stop: the vassal's stop-timeout, then this much more (SIGKILL and its exit). */
    static final Duration STOP_EXTRA = Duration.ofSeconds(15);
    /** How long a {@code rescan} waits for the watcher's scan. */
    static final Duration RESCAN_WAIT = Duration.ofSeconds(30);

    private final EmperorLoop loop;

    Queries(EmperorLoop loop) {
        this.loop = loop;
    }

    /** Answers {@code q}, at once or through a waiter; a failure here is logged and still answered. */
    void answer(LoopQuery q) {
        if (q.asker().gone()) {
            return; // the client is gone: nothing to do for it
        }
        try {
            if (q instanceof LoopQuery.Snapshot s) {
                s.asker().answer(snapshot());
            } else if (q instanceof LoopQuery.Act a) {
                act(a);
            } else if (q instanceof LoopQuery.Logs l) {
                logs(l);
            } else if (q instanceof LoopQuery.Rescan r) {
                rescan(r);
            }
        } catch (RuntimeException e) {
            EmperorLog.error("bug: a control request failed", e);
            q.asker().failed(e);
        }
    }

    /** The owner of a vassal's file, or -1 when no version of it is known. */
    int owner(String name) {
        VassalFile f = loop.file(name);
        return f == null ? -1 : f.fingerprint().uid();
    }

    private boolean visible(LoopQuery.Reach reach, String name) {
        return loop.vassal(name) != null && reach.reaches(owner(name));
    }

    LoopSnapshot snapshot() {
        List<LoopSnapshot.Entry> vassals = new ArrayList<>();
        Tally t = loop.tally();
        for (Map.Entry<String, Vassal> en : loop.vassals().entrySet()) {
            Tally.Entry e = t.entry(en.getKey());
            vassals.add(new LoopSnapshot.Entry(en.getValue(), loop.file(en.getKey()), e == null ? null : e.copy()));
        }
        return new LoopSnapshot(loop.clock().nanoTime(), loop.clock().millis(), loop.policy().minUptime(),
                t.spawns(), t.restarts(), t.exits(), vassals);
    }

    /** One name's part of an answer, filled in as it gets there. */
    private static final class Outcome {
        final String name;
        boolean ok;
        boolean missing;
        String message;
        String state;
        long pid;

        Outcome(String name) {
            this.name = name;
        }

        LoopQuery.Acted acted() {
            return missing ? LoopQuery.Acted.missing(name) : new LoopQuery.Acted(name, false, ok, message, state, pid);
        }
    }

    private void act(LoopQuery.Act a) {
        List<Outcome> results = new ArrayList<>();
        int[] pending = {1};
        Runnable finish = () -> {
            if (--pending[0] == 0) {
                a.asker().answer(results.stream().map(Outcome::acted).toList());
            }
        };
        Event.Operator op = a.op();
        for (String name : a.names()) {
            Outcome r = new Outcome(name);
            results.add(r);
            if (!visible(a.reach(), name)) {
                r.missing = true;
                continue;
            }
            Vassal before = loop.vassal(name);
            Effect.Reply answer = loop.command(name, op);
            Vassal after = loop.vassal(name);
            r.ok = answer.ok();
            r.message = answer.message();
            describe(r, after);
            if (!answer.ok() || !a.waits() || after == null || !inMotion(after.state())) {
                continue;
            }
            pending[0]++;
            long runBefore = before.runId();
            boolean reloading = after.state() == State.RELOADING;
            long deadline = loop.clock().nanoTime() + waitFor(op, after, a.timeout()).toNanos();
            loop.await(() -> arrived(op, loop.vassal(name), runBefore, reloading), deadline, done -> {
                settle(r, op, loop.vassal(name), done, name, runBefore);
                finish.run();
            });
        }
        finish.run();
    }

    private static boolean inMotion(State s) {
        return s == State.STARTING || s == State.STOPPING || s == State.RELOADING;
    }

    private static Duration waitFor(Event.Operator op, Vassal v, Duration timeout) {
        if (timeout != null) {
            return timeout;
        }
        Duration stop = v.spec() == null ? Duration.ZERO : v.spec().stopTimeout().plus(STOP_EXTRA);
        return switch (op.kind()) {
            case OPERATOR_STOP -> stop;
            case OPERATOR_START -> v.state() == State.STOPPING ? stop.plus(START_WAIT) : START_WAIT;
            default -> stop.plus(START_WAIT);
        };
    }

    /** Whether a vassal set in motion by {@code op} has arrived where the operator wants it (or cannot get there). */
    private static boolean arrived(Event.Operator op, Vassal v, long runBefore, boolean reloading) {
        if (v == null) {
            return true;
        }
        State s = v.state();
        if (op instanceof Event.Stop) {
            return !s.hasProcess();
        }
        if (s == State.RUNNING) {
            return reloading || v.runId() != runBefore;
        }
        return s == State.BACKOFF || s == State.FAILED || s == State.STOPPED || s == State.WAITING;
    }

    private void settle(Outcome r, Event.Operator op, Vassal v, boolean arrived, String name, long runBefore) {
        describe(r, v);
        if (v == null) {
            r.ok = op instanceof Event.Stop;
            r.message = "its file was removed";
            return;
        }
        if (!arrived) {
            r.ok = false;
            r.message = "still " + v.state().label() + " when the wait ended";
            return;
        }
        State s = v.state();
        if (op instanceof Event.Stop) {
            r.ok = true;
            r.message = s.label();
        } else if (s == State.RUNNING) {
            r.ok = true;
            // A uWSGI reload keeps its pid; anything else that arrives here is a new process.
            r.message = (op instanceof Event.Reload && v.runId() == runBefore ? "reloaded pid=" : "running pid=") + v.pid();
        } else {
            Tally.Entry t = loop.tally().entry(name);
            String exit = t != null && t.lastExit() != null ? t.lastExit() : "";
            r.ok = false;
            r.message = s == State.BACKOFF ? "exited " + exit + " right after its start; backing off"
                    : s == State.FAILED ? "its file has errors"
                    : s == State.WAITING ? "waiting for " + v.waits().text() : "stopped";
        }
    }

    private static void describe(Outcome r, Vassal v) {
        r.state = v == null ? "gone" : v.state().label();
        r.pid = v == null || !v.state().hasProcess() ? 0 : v.pid();
    }

    private void logs(LoopQuery.Logs l) {
        String name = l.name();
        if (!visible(l.reach(), name)) {
            l.asker().answer(false);
            return;
        }
        l.asker().answer(true);
        if (l.watchOwner()) {
            int owner = l.reach().uid();
            loop.await(() -> l.asker().gone() || passedOn(name, owner), Vassal.NO_DEADLINE, done -> {
                if (done && !l.asker().gone()) {
                    l.passedOn().run();
                }
            });
        }
    }

    /** Whether the file of {@code name} now has an owner other than {@code owner}. */
    private boolean passedOn(String name, int owner) {
        int now = owner(name);
        return now != -1 && now != owner;
    }

    private void rescan(LoopQuery.Rescan r) {
        long before = loop.scans();
        r.ask().run();
        loop.await(() -> loop.scans() > before, loop.clock().nanoTime() + RESCAN_WAIT.toNanos(),
                done -> r.asker().answer(new LoopQuery.Rescanned(done, loop.vassals().size())));
    }
}
