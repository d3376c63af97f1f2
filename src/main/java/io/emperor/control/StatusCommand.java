package io.emperor.control;

import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopQuery;
import io.emperor.loop.LoopSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The {@code status} command and the stats server's snapshot: the loop answers a
 * {@link LoopQuery.Snapshot} with a copy of its state, and the records are built from it here.
 */
final class StatusCommand {
    private final EmperorLoop loop;
    private final StatusView.Emperor emperor;
    private final Supplier<List<String>> dirs;
    private final Executor offLoop;

    /** A {@code status} request waiting for the next snapshot. */
    private record StatusRequest(Caller peer, List<String> names, Reply reply, long posted) {}

    private final Object statusLock = new Object();
    // Guarded by statusLock: the requests the next snapshot answers, and whether its query is queued.
    private List<StatusRequest> waiting = new ArrayList<>();
    private boolean snapshotQueued;
    /** The fleet's state for {@code emperor.etcd}; null without a fleet. */
    private volatile Supplier<Map<String, Object>> fleet;

    StatusCommand(EmperorLoop loop, StatusView.Emperor emperor, Supplier<List<String>> dirs, Executor offLoop) {
        this.loop = loop;
        this.emperor = emperor;
        this.dirs = dirs;
        this.offLoop = offLoop;
    }

    /** What the emperor's threads hold, read as each status is built (the metrics). */
    private volatile Supplier<EmperorStatus.Internals> internals = () -> EmperorStatus.Internals.NONE;

    void internals(Supplier<EmperorStatus.Internals> figures) {
        this.internals = figures;
    }

    /** Sets what {@code status} says of the fleet (docs/fleet.md). */
    void fleet(Supplier<Map<String, Object>> state) {
        this.fleet = state;
    }

    /**
     * {@code status}: every request waiting when the loop gets to it shares one snapshot, and the
     * answers (the records, filtering, JSON) are built on the control thread. However many clients
     * ask, the loop's queue holds at most one snapshot query, which only copies state: a flood of
     * status requests cannot delay a spawn by more than one copy (docs/performance.md).
     */
    void run(Caller peer, List<String> names, Reply reply) {
        boolean queue;
        synchronized (statusLock) {
            waiting.add(new StatusRequest(peer, names, reply, loop.clock().nanoTime()));
            queue = !snapshotQueued;
            snapshotQueued = true;
        }
        if (queue) {
            loop.ask(new LoopQuery.Snapshot(
                    LoopQuery.Asker.of(snap -> answerBatch(snap, null), e -> answerBatch(null, e))));
        }
    }

    /** Loop thread: takes the waiting requests and hands them, with the copy, to the control thread. */
    private void answerBatch(LoopSnapshot snap, RuntimeException failure) {
        List<StatusRequest> batch;
        synchronized (statusLock) {
            batch = waiting;
            waiting = new ArrayList<>();
            snapshotQueued = false;
        }
        offLoop.execute(() -> {
            EmperorStatus all = null;
            if (snap != null) {
                long oldest = batch.stream().mapToLong(StatusRequest::posted).min().orElse(snap.now());
                all = StatusView.emperor(snap, emperor, dirs.get(), Math.max(0, snap.now() - oldest) / 1e6,
                        internals.get());
            }
            for (StatusRequest r : batch) {
                if (!r.reply().isOpen()) {
                    continue;
                }
                if (all == null) {
                    ControlHandler.fail(r.reply(), "internal", "internal error: " + failure);
                } else {
                    answerStatus(r, all);
                }
            }
        });
    }

    private void answerStatus(StatusRequest r, EmperorStatus all) {
        List<VassalJson> vassals = new ArrayList<>();
        List<String> found = new ArrayList<>();
        for (VassalStatus s : all.vassals()) {
            if (r.peer().mayReach(s.owner()) && (r.names().isEmpty() || r.names().contains(s.name()))) {
                vassals.add(VassalJson.of(s));
                found.add(s.name());
            }
        }
        List<String> missing = r.names().stream().filter(n -> !found.contains(n)).toList();
        Supplier<Map<String, Object>> f = fleet;
        Answers.EmperorPart emperor = Answers.EmperorPart.of(all, f == null ? null : f.get());
        r.reply().send(missing.isEmpty() ? new Answers.Status(true, emperor, vassals)
                : new Answers.StatusMissing(false, "not-found", "no such vassal: " + String.join(", ", missing),
                        emperor, vassals));
        r.reply().done();
    }

    /**
     * For the stats server: a full snapshot, taken on the loop; its records are built as the loop
     * answers (the stats server may run without a control socket, whose thread {@code offLoop} is).
     */
    CompletableFuture<EmperorStatus> snapshot() {
        CompletableFuture<LoopSnapshot> f = new CompletableFuture<>();
        long posted = loop.clock().nanoTime();
        loop.ask(new LoopQuery.Snapshot(LoopQuery.Asker.of(f::complete, f::completeExceptionally)));
        return f.thenApply(snap -> StatusView.emperor(snap, emperor, dirs.get(), Math.max(0, snap.now() - posted) / 1e6,
                internals.get()));
    }
}
