package io.emperor.loop;

import io.emperor.vassal.Event;
import java.time.Duration;
import java.util.List;

/**
 * What the control wing asks of the emperor loop (issue 16 §3): a small set of typed requests,
 * each answered on the loop thread with plain data (records and copies). The loop decides with
 * plain data too (names, an operator, a {@link Reach}): no closure of the loop's internals
 * crosses, and nothing here reads the user database (docs/threads.md). Post with
 * {@link EmperorLoop#ask}; {@link Queries} answers.
 */
public sealed interface LoopQuery {

    /** Who asked, and where the answer goes. */
    Asker<?> asker();

    /**
     * The asker's side of a request. {@link #answer} and {@link #failed} are called on the loop
     * thread and must not block (queue the answer, hand work to another thread).
     */
    interface Asker<T> {
        void answer(T answer);

        /** The loop failed answering (a bug, logged): the request ends here. */
        void failed(RuntimeException e);

        /** Whether the asker is gone (a client that hung up): the loop then skips the request and ends its watch. */
        default boolean gone() {
            return false;
        }

        /** An asker that is never gone: {@code answer} gets the answer, {@code failed} the loop's failure. */
        static <T> Asker<T> of(java.util.function.Consumer<T> answer,
                               java.util.function.Consumer<RuntimeException> failed) {
            return new Asker<>() {
                @Override
                public void answer(T a) {
                    answer.accept(a);
                }

                @Override
                public void failed(RuntimeException e) {
                    failed.accept(e);
                }
            };
        }
    }

    /** Which vassals a caller may see and act on, by the owner of their files: every one, or one uid's. */
    record Reach(boolean all, int uid) {
        public static final Reach ALL = new Reach(true, -1);
        public static final Reach NONE = new Reach(false, -1);

        public static Reach own(int uid) {
            return new Reach(false, uid);
        }

        /** Whether a vassal whose file {@code owner} owns (-1: no version known) is within reach. */
        public boolean reaches(int owner) {
            return all || (owner >= 0 && owner == uid);
        }
    }

    /** {@code status} and the stats server: a copy of every vassal's state ({@link LoopSnapshot}). */
    record Snapshot(Asker<LoopSnapshot> asker) implements LoopQuery {}

    /**
     * {@code stop}, {@code start}, {@code restart}, {@code reload} on {@code names}: each within
     * {@code reach} is stepped; with {@code waits}, the answer comes once every vassal set in motion
     * has arrived, or its wait ended ({@code timeout}, or null for the operator's defaults).
     */
    record Act(List<String> names, Event.Operator op, boolean waits, Duration timeout, Reach reach,
               Asker<List<Acted>> asker) implements LoopQuery {
        public Act {
            names = List.copyOf(names);
        }
    }

    /**
     * One name's part of an {@link Act}'s answer.
     *
     * @param missing no such vassal (or not within reach: names do not leak)
     * @param state   its state's label when answered, or {@code gone}
     * @param pid     its main process, or 0
     */
    record Acted(String name, boolean missing, boolean ok, String message, String state, long pid) {
        public static Acted missing(String name) {
            return new Acted(name, true, false, "no such vassal", null, 0);
        }
    }

    /**
     * {@code logs}: whether {@code name} is a vassal within reach (the answer). With
     * {@code watchOwner} (a tenant's {@code logs -f}), {@code passedOn} then runs on the loop thread
     * once the name's file passes to an owner other than {@code reach.uid()}, unless the asker is
     * gone first.
     */
    record Logs(String name, Reach reach, boolean watchOwner, Asker<Boolean> asker, Runnable passedOn)
            implements LoopQuery {}

    /**
     * {@code rescan}: runs {@code ask} (which asks the directory watcher for a scan) on the loop,
     * and answers once the loop has applied a scan, or after {@link Queries#RESCAN_WAIT}.
     */
    record Rescan(Runnable ask, Asker<Rescanned> asker) implements LoopQuery {}

    /** A {@link Rescan}'s answer: whether a scan was applied in time, and how many vassals the loop then had. */
    record Rescanned(boolean applied, int vassals) {}
}
