package io.emperor.control;

import io.emperor.log.VassalTails;
import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopQuery;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The commands of the control socket (docs/control.md): reads a request on the control thread
 * ({@link Requests}), checks the caller's rights (resolved once per connection, {@link #caller}),
 * and hands it to its command: {@link StatusCommand}, {@link ActCommand}, {@link LogsCommand},
 * or {@code rescan} here. The commands ask the emperor loop typed queries ({@link LoopQuery}), build
 * their answers from its plain-data answers, and answer through the {@link Reply} (never blocking:
 * the reply only queues bytes).
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

    /** Sets where the metrics read what the emperor's threads hold (control connections, watched runs). */
    public void internals(Supplier<EmperorStatus.Internals> figures) {
        status.internals(figures);
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

    /**
     * The asker of a loop query for a client's request: the loop skips it once the client is gone,
     * a failure there still answers ({@code internal}), and {@code then} gets the answer (loop thread).
     */
    static <T> LoopQuery.Asker<T> asker(Reply reply, Consumer<T> then) {
        return new LoopQuery.Asker<>() {
            @Override
            public void answer(T answer) {
                then.accept(answer);
            }

            @Override
            public void failed(RuntimeException e) {
                fail(reply, "internal", "internal error: " + e);
            }

            @Override
            public boolean gone() {
                return !reply.isOpen();
            }
        };
    }

    /** {@code rescan}: asks the watcher for a scan (on the loop) and answers once the loop has applied a scan. */
    private void rescan(Reply reply) {
        loop.ask(new LoopQuery.Rescan(rescan, asker(reply, r -> {
            if (r.applied()) {
                reply.send(new Answers.Done("rescanned: " + r.vassals() + " vassal(s)"));
                reply.done();
            } else {
                fail(reply, "timeout", "no scan was applied within 30s");
            }
        })));
    }

    /** For the stats server: a full snapshot, taken on the loop. */
    public CompletableFuture<EmperorStatus> snapshot() {
        return status.snapshot();
    }
}
