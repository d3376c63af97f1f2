package io.emperor.control;

import io.emperor.log.EmperorLog;
import io.emperor.log.VassalTails;
import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopEvent;
import io.emperor.vassal.Effect;
import io.emperor.vassal.Event;
import io.emperor.vassal.State;
import io.emperor.vassal.Vassal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The commands of the control socket (docs/control.md): parses a request on the control thread,
 * checks the peer's rights, and does the rest in a {@link LoopEvent.Task} on the emperor loop,
 * which answers through the {@link Reply} (never blocking: the reply only queues bytes). Waits
 * (a {@code stop} until the vassal is stopped) are loop waiters, not blocked threads.
 */
public final class ControlHandler implements RequestHandler {
    /** The most lines {@code logs} returns: what the in-memory tail keeps. */
    public static final int MAX_LINES = VassalTails.MAX_LINES;
    /** Waiting for a start: until it runs (exec reached) or fails. */
    static final Duration START_WAIT = Duration.ofSeconds(30);
    /** Waiting for a stop: the vassal's stop-timeout, then this much more (SIGKILL and its exit). */
    static final Duration STOP_EXTRA = Duration.ofSeconds(15);

    private final EmperorLoop loop;
    private final Rights rights;
    private final VassalTails tails;
    private final Runnable rescan;
    private final StatusView.Emperor emperor;
    private final Supplier<List<String>> dirs;
    private final Executor offLoop;

    /** A {@code status} request waiting for the next snapshot. */
    private record StatusRequest(Peer peer, List<String> names, Reply reply, long posted) {}

    private final Object statusLock = new Object();
    // Guarded by statusLock: the requests the next snapshot answers, and whether its task is queued.
    private List<StatusRequest> waiting = new ArrayList<>();
    private boolean snapshotQueued;

    /**
     * @param rescan  asks the directory watcher for a scan now
     * @param dirs    the watched directories as configured now (SIGHUP may change them)
     * @param offLoop runs work off the emperor loop (the control thread: {@link ControlServer#execute})
     */
    public ControlHandler(EmperorLoop loop, Rights rights, VassalTails tails, Runnable rescan,
                          StatusView.Emperor emperor, Supplier<List<String>> dirs, Executor offLoop) {
        this.loop = loop;
        this.rights = rights;
        this.tails = tails;
        this.rescan = rescan;
        this.emperor = emperor;
        this.dirs = dirs;
        this.offLoop = offLoop;
    }

    /** The fleet's state for {@code status} ({@code emperor.etcd}); null without a fleet. */
    private volatile Supplier<Map<String, Object>> fleet;

    /** Sets what {@code status} says of the fleet (docs/fleet.md). */
    public void fleet(Supplier<Map<String, Object>> state) {
        this.fleet = state;
    }

    /** An error answer: {@code {"ok":false,"error":CODE,"message":…}}. */
    static Map<String, Object> error(String code, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", false);
        m.put("error", code);
        m.put("message", message);
        return m;
    }

    private static void fail(Reply reply, String code, String message) {
        reply.send(error(code, message));
        reply.done();
    }

    @Override
    public void handle(Peer peer, Map<String, Object> request, Reply reply) {
        Object cmd = request.get("cmd");
        if (!(cmd instanceof String c)) {
            fail(reply, "bad-request", "missing \"cmd\" (a string)");
            return;
        }
        if (rights.scope(peer) == Rights.Scope.NONE) {
            fail(reply, "denied", rights.refusal(peer));
            return;
        }
        try {
            switch (c) {
                case "status" -> status(peer, names(request, false), reply);
                case "stop" -> act(peer, names(request, true), new Event.Stop(), wait(request), timeout(request), reply);
                case "start" -> act(peer, names(request, true), new Event.Start(), wait(request), timeout(request), reply);
                case "restart" -> act(peer, names(request, true), new Event.Restart(), wait(request), timeout(request), reply);
                case "reload" -> act(peer, names(request, true), new Event.Reload(), wait(request), timeout(request), reply);
                case "logs" -> logs(peer, request, reply);
                case "rescan" -> rescan(reply);
                default -> fail(reply, "bad-request", "unknown command \"" + c
                        + "\" (status, start, stop, restart, reload, logs, rescan)");
            }
        } catch (BadRequest e) {
            fail(reply, "bad-request", e.getMessage());
        }
    }

    private static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message);
        }
    }

    private static List<String> names(Map<String, Object> request, boolean required) throws BadRequest {
        Object n = request.get("names");
        if (n == null) {
            if (required) {
                throw new BadRequest("missing \"names\" (a list of vassal names)");
            }
            return List.of();
        }
        if (!(n instanceof List<?> list) || list.stream().anyMatch(x -> !(x instanceof String))) {
            throw new BadRequest("\"names\" must be a list of strings");
        }
        if (required && list.isEmpty()) {
            throw new BadRequest("\"names\" is empty: name at least one vassal");
        }
        return list.stream().map(String.class::cast).distinct().toList();
    }

    private static boolean wait(Map<String, Object> request) throws BadRequest {
        Object w = request.getOrDefault("wait", Boolean.TRUE);
        if (!(w instanceof Boolean b)) {
            throw new BadRequest("\"wait\" must be true or false");
        }
        return b;
    }

    /** The request's {@code timeout} in seconds, or null for the default of each command. */
    private static Duration timeout(Map<String, Object> request) throws BadRequest {
        Object t = request.get("timeout");
        if (t == null) {
            return null;
        }
        if (!(t instanceof Number n) || n.doubleValue() <= 0 || n.doubleValue() > 86_400) {
            throw new BadRequest("\"timeout\" must be a number of seconds between 0 and 86400");
        }
        return Duration.ofMillis((long) (n.doubleValue() * 1000));
    }

    /** Runs {@code work} on the loop; a failure there still answers. */
    private void onLoop(Reply reply, Runnable work) {
        loop.post(new LoopEvent.Task(() -> {
            if (!reply.isOpen()) {
                return; // the client is gone: nothing to do for it
            }
            try {
                work.run();
            } catch (RuntimeException e) {
                EmperorLog.error("bug: a control request failed", e);
                fail(reply, "internal", "internal error: " + e);
            }
        }));
    }

    private boolean visible(Peer peer, String name) {
        return loop.vassal(name) != null && rights.mayReach(peer, StatusView.owner(loop, name));
    }

    /**
     * {@code status}: every request waiting when the loop gets to it shares one snapshot, and the
     * answers (filtering, JSON) are built on the control thread. However many clients ask, the
     * loop's queue holds at most one status task, which only copies state: a flood of status
     * requests cannot delay a spawn by more than one copy (docs/performance.md).
     */
    private void status(Peer peer, List<String> names, Reply reply) {
        boolean queue;
        synchronized (statusLock) {
            waiting.add(new StatusRequest(peer, names, reply, System.nanoTime()));
            queue = !snapshotQueued;
            snapshotQueued = true;
        }
        if (!queue) {
            return;
        }
        loop.post(new LoopEvent.Task(() -> {
            List<StatusRequest> batch;
            synchronized (statusLock) {
                batch = waiting;
                waiting = new ArrayList<>();
                snapshotQueued = false;
            }
            long oldest = batch.stream().mapToLong(StatusRequest::posted).min().orElse(System.nanoTime());
            EmperorStatus all = StatusView.emperor(loop, emperor, dirs.get(), s -> true, (System.nanoTime() - oldest) / 1e6);
            offLoop.execute(() -> {
                for (StatusRequest r : batch) {
                    if (r.reply().isOpen()) {
                        answerStatus(r, all);
                    }
                }
            });
        }));
    }

    private void answerStatus(StatusRequest r, EmperorStatus all) {
        List<Object> vassals = new ArrayList<>();
        List<String> found = new ArrayList<>();
        for (VassalStatus s : all.vassals()) {
            if (rights.mayReach(r.peer(), s.owner()) && (r.names().isEmpty() || r.names().contains(s.name()))) {
                vassals.add(StatusView.json(s));
                found.add(s.name());
            }
        }
        List<String> missing = r.names().stream().filter(n -> !found.contains(n)).toList();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", missing.isEmpty());
        if (!missing.isEmpty()) {
            m.put("error", "not-found");
            m.put("message", "no such vassal: " + String.join(", ", missing));
        }
        m.put("emperor", emperorJson(all));
        m.put("vassals", vassals);
        r.reply().send(m);
        r.reply().done();
    }

    private Map<String, Object> emperorJson(EmperorStatus s) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("version", s.version());
        e.put("pid", s.pid());
        e.put("uid", s.uid());
        e.put("gid", s.gid());
        e.put("tyrant", s.tyrant());
        e.put("started_at", s.startedAt() / 1000.0);
        e.put("vassal_dirs", s.vassalDirs());
        e.put("loop_lag", s.loopLagMillis() / 1000.0);
        Supplier<Map<String, Object>> f = fleet;
        if (f != null) {
            e.put("etcd", f.get());
        }
        return e;
    }

    /**
     * stop/start/restart/reload: each name is stepped on the loop; with {@code wait}, the answer
     * comes once every vassal that was set in motion has arrived (or the timeout passed).
     */
    private void act(Peer peer, List<String> names, Event.Operator op, boolean wait, Duration timeout, Reply reply) {
        onLoop(reply, () -> {
            List<Map<String, Object>> results = new ArrayList<>();
            AtomicInteger pending = new AtomicInteger(1);
            Runnable finish = () -> {
                if (pending.decrementAndGet() == 0) {
                    boolean ok = results.stream().allMatch(r -> Boolean.TRUE.equals(r.get("ok")));
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("ok", ok);
                    if (!ok) {
                        boolean missing = results.stream().anyMatch(r -> "not-found".equals(r.get("error")));
                        m.put("error", missing ? "not-found" : "failed");
                        m.put("message", results.stream().filter(r -> !Boolean.TRUE.equals(r.get("ok")))
                                .map(r -> r.get("name") + ": " + r.get("message")).reduce((a, b) -> a + "; " + b).orElse(""));
                    }
                    m.put("results", results);
                    reply.send(m);
                    reply.done();
                }
            };
            for (String name : names) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("name", name);
                results.add(r);
                if (!visible(peer, name)) {
                    r.put("ok", false);
                    r.put("error", "not-found");
                    r.put("message", "no such vassal");
                    continue;
                }
                Vassal before = loop.vassal(name);
                Effect.Reply answer = loop.command(name, op);
                Vassal after = loop.vassal(name);
                r.put("ok", answer.ok());
                r.put("message", answer.message());
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

    private void settle(Map<String, Object> r, Event.Operator op, Vassal v, boolean arrived, String name, long runBefore) {
        describe(r, v);
        if (v == null) {
            r.put("ok", op instanceof Event.Stop);
            r.put("message", "its file was removed");
            return;
        }
        if (!arrived) {
            r.put("ok", false);
            r.put("message", "still " + v.state().label() + " when the wait ended");
            return;
        }
        State s = v.state();
        if (op instanceof Event.Stop) {
            r.put("ok", true);
            r.put("message", s.label());
        } else if (s == State.RUNNING) {
            r.put("ok", true);
            // A uWSGI reload keeps its pid; anything else that arrives here is a new process.
            r.put("message", (op instanceof Event.Reload && v.runId() == runBefore ? "reloaded pid=" : "running pid=") + v.pid());
        } else {
            io.emperor.loop.Tally.Entry t = loop.tally().entry(name);
            String exit = t != null && t.lastExit() != null ? t.lastExit() : "";
            r.put("ok", false);
            r.put("message", s == State.BACKOFF ? "exited " + exit + " right after its start; backing off"
                    : s == State.FAILED ? "its file has errors"
                    : s == State.WAITING ? "waiting for " + v.waits().text() : "stopped");
        }
    }

    private static void describe(Map<String, Object> r, Vassal v) {
        r.put("state", v == null ? "gone" : v.state().label());
        r.put("pid", v == null || !v.state().hasProcess() ? 0 : v.pid());
    }

    /** {@code logs}: the last lines from the in-memory tail, then (with follow) every new line. */
    private void logs(Peer peer, Map<String, Object> request, Reply reply) throws BadRequest {
        Object n = request.get("name");
        if (!(n instanceof String name)) {
            throw new BadRequest("missing \"name\" (the vassal whose lines to show)");
        }
        Object l = request.getOrDefault("lines", 10L);
        if (!(l instanceof Number num) || num.longValue() < 0) {
            throw new BadRequest("\"lines\" must be a number of lines (0 or more)");
        }
        int lines = (int) Math.min(MAX_LINES, num.longValue());
        Object f = request.getOrDefault("follow", Boolean.FALSE);
        if (!(f instanceof Boolean follow)) {
            throw new BadRequest("\"follow\" must be true or false");
        }
        onLoop(reply, () -> {
            if (!visible(peer, name)) {
                fail(reply, "not-found", "no such vassal: " + name);
                return;
            }
            // A tenant reads only the lines its own runs printed (VassalTails), and its follower
            // ends when the name passes to another owner, even if no line comes to tell.
            int owner = rights.scope(peer) == Rights.Scope.ALL ? VassalTails.ANY_OWNER : peer.uid();
            if (!follow) {
                // The tail is thread-safe: reading it and encoding up to 200 lines (1 MiB) is not the loop's work.
                offLoop.execute(() -> {
                    reply.send(linesAnswer(name, last(tails.lines(name, owner), lines)));
                    reply.done();
                });
                return;
            }
            Follower follower = new Follower(name, lines, reply, owner);
            if (owner != VassalTails.ANY_OWNER) {
                loop.await(() -> !reply.isOpen() || passedOn(name, owner), Vassal.NO_DEADLINE, done -> {
                    if (done && reply.isOpen()) {
                        follower.end(PASSED_ON);
                    }
                });
            }
            offLoop.execute(follower::start);
        });
    }

    /** Why a tenant's follower ends. */
    static final String PASSED_ON = "its file now belongs to another owner";

    /** Loop thread: whether the file of {@code name} now has an owner other than {@code owner}. */
    private boolean passedOn(String name, int owner) {
        int now = StatusView.owner(loop, name);
        return now != -1 && now != owner;
    }

    private static List<String> last(List<String> all, int n) {
        return all.subList(Math.max(0, all.size() - n), all.size());
    }

    private static Map<String, Object> linesAnswer(String name, List<String> lines) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.put("name", name);
        m.put("lines", lines);
        return m;
    }

    /**
     * {@code logs --follow}: registers with the tail first and keeps what comes while the stored
     * lines are read, so no line is lost between the two; the lines already in the stored copy
     * are not sent twice (recognised by content: a line the vassal printed twice in a row at that
     * very moment is shown once). Calls done() only when it ends because the name passed to
     * another owner ({@link #end}); else the answer ends when the client goes.
     */
    private final class Follower {
        private final String name;
        private final int lines;
        private final Reply reply;
        private final int owner;
        // Guarded by this.
        private List<String> early = new ArrayList<>();
        private AutoCloseable registration;
        private boolean ended;

        Follower(String name, int lines, Reply reply, int owner) {
            this.name = name;
            this.lines = lines;
            this.reply = reply;
            this.owner = owner;
        }

        /** On the control thread. */
        void start() {
            AutoCloseable r = tails.follow(name, owner, this::line, why -> end(PASSED_ON));
            synchronized (this) {
                if (ended) {
                    close(r);
                    return;
                }
                registration = r;
            }
            reply.onClose(() -> close(r));
            List<String> stored = tails.lines(name, owner);
            synchronized (this) {
                if (ended) {
                    return;
                }
                reply.send(linesAnswer(name, last(stored, lines)));
                // Lines that reached the follower before the copy was taken are in the copy too.
                int overlap = overlap(stored, early);
                for (String line : early.subList(overlap, early.size())) {
                    send(line);
                }
                early = null;
            }
        }

        /**
         * The name passed to another owner (any thread): a last answer says so, the request is
         * done, and no line of the new owner's ever reaches this client.
         */
        synchronized void end(String why) {
            if (ended) {
                return;
            }
            ended = true;
            early = null;
            if (registration != null) {
                close(registration);
            }
            reply.send(error("not-found", "no such vassal: " + name + " (" + why + ")"));
            reply.done();
        }

        private synchronized void line(String line) {
            if (ended) {
                return;
            }
            if (early != null) {
                early.add(line);
                return;
            }
            send(line);
        }

        private void send(String line) {
            reply.send(Map.of("line", line));
        }

        private void close(AutoCloseable r) {
            try {
                r.close();
            } catch (Exception e) {
                EmperorLog.error("bug: unfollowing " + name, e);
            }
        }
    }

    /** The longest k such that the first k of {@code early} are the last k of {@code stored}. */
    static int overlap(List<String> stored, List<String> early) {
        for (int k = Math.min(stored.size(), early.size()); k > 0; k--) {
            if (stored.subList(stored.size() - k, stored.size()).equals(early.subList(0, k))) {
                return k;
            }
        }
        return 0;
    }

    /** {@code rescan}: asks the watcher for a scan and answers once the loop has applied a scan. */
    private void rescan(Reply reply) {
        onLoop(reply, () -> {
            long before = loop.scans();
            rescan.run();
            loop.await(() -> loop.scans() > before, loop.clock().nanoTime() + Duration.ofSeconds(30).toNanos(), done -> {
                if (done) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("ok", true);
                    m.put("message", "rescanned: " + loop.vassals().size() + " vassal(s)");
                    reply.send(m);
                    reply.done();
                } else {
                    fail(reply, "timeout", "no scan was applied within 30s");
                }
            });
        });
    }

    /** For the stats server: a full snapshot, taken on the loop. */
    public CompletableFuture<EmperorStatus> snapshot() {
        CompletableFuture<EmperorStatus> f = new CompletableFuture<>();
        long posted = System.nanoTime();
        loop.post(new LoopEvent.Task(() -> {
            try {
                f.complete(StatusView.emperor(loop, emperor, dirs.get(), s -> true, (System.nanoTime() - posted) / 1e6));
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        }));
        return f;
    }
}
