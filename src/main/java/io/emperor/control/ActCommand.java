package io.emperor.control;

import io.emperor.loop.EmperorLoop;
import io.emperor.vassal.Effect;
import io.emperor.vassal.Event;
import io.emperor.vassal.State;
import io.emperor.vassal.Vassal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code stop}, {@code start}, {@code restart}, {@code reload}: each name is stepped on the loop;
 * with {@code wait}, the answer comes once every vassal that was set in motion has arrived (or
 * the timeout passed). Waits are loop waiters, not blocked threads.
 */
final class ActCommand {
    /** Waiting for a start: until it runs (exec reached) or fails. */
    static final Duration START_WAIT = Duration.ofSeconds(30);
    /** Waiting for a stop: the vassal's stop-timeout, then this much more (SIGKILL and its exit). */
    static final Duration STOP_EXTRA = Duration.ofSeconds(15);

    private final EmperorLoop loop;

    ActCommand(EmperorLoop loop) {
        this.loop = loop;
    }

    /** One vassal's part of a stop/start/restart/reload answer, filled in as it gets there (loop thread). */
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

        Object answer() {
            return missing ? new Answers.Missing(name) : new Answers.Result(name, ok, message, state, pid);
        }
    }

    /**
     * stop/start/restart/reload: each name is stepped on the loop; with {@code wait}, the answer
     * comes once every vassal that was set in motion has arrived (or the timeout passed).
     */
    void run(Caller peer, List<String> names, Event.Operator op, boolean wait, Duration timeout, Reply reply) {
        ControlHandler.onLoop(loop, reply, () -> {
            List<Outcome> results = new ArrayList<>();
            AtomicInteger pending = new AtomicInteger(1);
            Runnable finish = () -> {
                if (pending.decrementAndGet() == 0) {
                    List<Object> answers = results.stream().map(Outcome::answer).toList();
                    List<Outcome> failed = results.stream().filter(r -> r.missing || !r.ok).toList();
                    if (failed.isEmpty()) {
                        reply.send(new Answers.Acted(true, answers));
                    } else {
                        boolean missing = results.stream().anyMatch(r -> r.missing);
                        reply.send(new Answers.ActFailed(false, missing ? "not-found" : "failed",
                                failed.stream().map(r -> r.name + ": " + (r.missing ? "no such vassal" : r.message))
                                        .collect(java.util.stream.Collectors.joining("; ")), answers));
                    }
                    reply.done();
                }
            };
            for (String name : names) {
                Outcome r = new Outcome(name);
                results.add(r);
                if (!ControlHandler.visible(loop, peer, name)) {
                    r.missing = true;
                    continue;
                }
                Vassal before = loop.vassal(name);
                Effect.Reply answer = loop.command(name, op);
                Vassal after = loop.vassal(name);
                r.ok = answer.ok();
                r.message = answer.message();
                describe(r, after);
                if (!answer.ok() || !wait || after == null || !inMotion(after.state())) {
                    continue;
                }
                pending.incrementAndGet();
                long runBefore = before.runId();
                boolean reloading = after.state() == State.RELOADING;
                long deadline = loop.clock().nanoTime() + waitFor(op, after, timeout).toNanos();
                loop.await(() -> arrived(op, loop.vassal(name), runBefore, reloading), deadline, done -> {
                    Vassal now = loop.vassal(name);
                    settle(r, op, now, done, name, runBefore);
                    finish.run();
                });
            }
            finish.run();
        });
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
            io.emperor.loop.Tally.Entry t = loop.tally().entry(name);
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
}
