package io.emperor.control;

import io.emperor.log.EmperorLog;
import io.emperor.log.VassalTails;
import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The commands of the control socket (docs/control.md): reads a request on the control thread
 * ({@link Requests}), checks the caller's rights (resolved once per connection, {@link #caller}),
 * and hands it to its command: {@link StatusCommand}, {@link ActCommand}, {@link LogsCommand},
 * or {@code rescan} here. The commands do their work on the emperor loop and answer through the
 * {@link Reply} (never blocking: the reply only queues bytes).
 */
public final class ControlHandler implements RequestHandler {
    private final EmperorLoop loop;
    private final Rights rights;
    private final Runnable rescan;
    private final StatusCommand status;
    private final ActCommand act;
    private final LogsCommand logs;

    /**
     * @param rescan  asks the directory watcher for a scan now
     * @param dirs    the watched directories as configured now (SIGHUP may change them)
     * @param offLoop runs work off the emperor loop (the control thread: {@link ControlServer#execute})
     */
    public ControlHandler(EmperorLoop loop, Rights rights, VassalTails tails, Runnable rescan,
                          StatusView.Emperor emperor, Supplier<List<String>> dirs, Executor offLoop) {
        this.loop = loop;
        this.rights = rights;
        this.rescan = rescan;
        this.status = new StatusCommand(loop, emperor, dirs, offLoop);
        this.act = new ActCommand(loop);
        this.logs = new LogsCommand(loop, tails, offLoop);
    }

    /** Sets what {@code status} says of the fleet ({@code emperor.etcd}, docs/fleet.md); not called without a fleet. */
    public void fleet(Supplier<Map<String, Object>> state) {
        status.fleet(state);
    }

    static void fail(Reply reply, String code, String message) {
        reply.send(new Answers.Failure(code, message));
        reply.done();
    }

    /** Reads the group database: on the control thread, once per connection (never on the loop). */
    @Override
    public Caller caller(Peer peer) {
        return rights.resolve(peer);
    }

    @Override
    public void handle(Caller peer, Map<String, Object> request, Reply reply) {
        Object cmd = request.get("cmd");
        if (!(cmd instanceof String c)) {
            fail(reply, "bad-request", "missing \"cmd\" (a string)");
            return;
        }
        if (peer.scope() == Rights.Scope.NONE) {
            fail(reply, "denied", rights.refusal(peer));
            return;
        }
        Requests.Request r;
        try {
            r = Requests.parse(c, request);
        } catch (Requests.BadRequest e) {
            fail(reply, "bad-request", e.getMessage());
            return;
        }
        if (r instanceof Requests.Status s) {
            status.run(peer, s.names(), reply);
        } else if (r instanceof Requests.Act a) {
            act.run(peer, a.names(), a.op(), a.waits(), a.timeout(), reply);
        } else if (r instanceof Requests.Logs l) {
            logs.run(peer, l, reply);
        } else {
            rescan(reply);
        }
    }

    /** Runs {@code work} on the loop; a failure there still answers. */
    static void onLoop(EmperorLoop loop, Reply reply, Runnable work) {
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

    /** Loop thread: plain data only, no user-database lookup (the caller was resolved on the control thread). */
    static boolean visible(EmperorLoop loop, Caller peer, String name) {
        return loop.vassal(name) != null && peer.mayReach(StatusView.owner(loop, name));
    }

    /** {@code rescan}: asks the watcher for a scan and answers once the loop has applied a scan. */
    private void rescan(Reply reply) {
        onLoop(loop, reply, () -> {
            long before = loop.scans();
            rescan.run();
            loop.await(() -> loop.scans() > before, loop.clock().nanoTime() + Duration.ofSeconds(30).toNanos(), done -> {
                if (done) {
                    reply.send(new Answers.Done("rescanned: " + loop.vassals().size() + " vassal(s)"));
                    reply.done();
                } else {
                    fail(reply, "timeout", "no scan was applied within 30s");
                }
            });
        });
    }

    /** For the stats server: a full snapshot, taken on the loop. */
    public CompletableFuture<EmperorStatus> snapshot() {
        return status.snapshot();
    }
}
