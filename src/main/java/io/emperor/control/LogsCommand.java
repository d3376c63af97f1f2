package io.emperor.control;

import io.emperor.log.EmperorLog;
import io.emperor.log.VassalTails;
import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopQuery;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/** {@code logs} and {@code logs -f}: the vassal's in-memory tail, then its new lines. */
final class LogsCommand {
    /** The most lines {@code logs} returns: what the in-memory tail keeps. */
    public static final int MAX_LINES = VassalTails.MAX_LINES;

    private final EmperorLoop loop;
    private final VassalTails tails;
    private final Executor offLoop;

    LogsCommand(EmperorLoop loop, VassalTails tails, Executor offLoop) {
        this.loop = loop;
        this.tails = tails;
        this.offLoop = offLoop;
    }

    /**
     * {@code logs}: the last lines from the in-memory tail, then (with follow) every new line. The
     * loop says whether the name is within the caller's reach ({@link LoopQuery.Logs}) and, for a
     * tenant's follower, when the name passes to another owner.
     */
    void run(Caller peer, Requests.Logs request, Reply reply) {
        String name = request.name();
        int lines = request.lines();
        boolean follow = request.follow();
        // A tenant reads only the lines its own runs printed (VassalTails), and its follower
        // ends when the name passes to another owner, even if no line comes to tell.
        int owner = peer.scope() == Rights.Scope.ALL ? VassalTails.ANY_OWNER : peer.uid();
        Follower follower = follow ? new Follower(name, lines, reply, owner) : null;
        LoopQuery.Asker<Boolean> asker = ControlHandler.asker(reply, found -> {
            if (!found) {
                ControlHandler.fail(reply, "not-found", "no such vassal: " + name);
            } else if (follower == null) {
                // The tail is thread-safe: reading it and encoding up to 200 lines (1 MiB) is not the loop's work.
                offLoop.execute(() -> {
                    reply.send(linesAnswer(name, last(tails.lines(name, owner), lines)));
                    reply.done();
                });
            } else {
                offLoop.execute(follower::start);
            }
        });
        loop.ask(new LoopQuery.Logs(name, peer.reach(), follow && owner != VassalTails.ANY_OWNER, asker,
                follow ? () -> follower.end(PASSED_ON) : () -> {}));
    }

    /** Why a tenant's follower ends. */
    static final String PASSED_ON = "its file now belongs to another owner";

    private static List<String> last(List<String> all, int n) {
        return all.subList(Math.max(0, all.size() - n), all.size());
    }

    private static Answers.Lines linesAnswer(String name, List<String> lines) {
        return new Answers.Lines(name, lines);
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
            reply.send(new Answers.Failure("not-found", "no such vassal: " + name + " (" + why + ")"));
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
            reply.send(new Answers.Line(line));
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
}
