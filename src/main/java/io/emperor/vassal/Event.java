package io.emperor.vassal;

import io.emperor.config.Problem;
import io.emperor.config.VassalSpec;
import java.util.List;

/** What can happen to one vassal. Process events carry the id of the run they belong to. */
public sealed interface Event {

    /** The kind of event, so the lifecycle can switch over every kind exhaustively (Java 17). */
    enum Kind { FILE_VALID, FILE_INVALID, FILE_REMOVED, SPAWNED, SPAWN_FAILED, EXEC_DONE, EXEC_FAILED,
        EXITED, TICK, SHUTDOWN, FORCE_KILL, VASSAL_SAYS, CHANNEL_CLOSED, READY, NOT_READY, REQUIREMENTS,
        OPERATOR_STOP, OPERATOR_START, OPERATOR_RESTART, OPERATOR_RELOAD,
        NOTIFIED, WATCHDOG_MISSED, CONNECTION, BINDING }

    /**
     * An operator's command (the control socket). Each one yields exactly one {@link Effect.Reply}:
     * what the operator is told, whether or not anything changed.
     */
    sealed interface Operator extends Event permits Stop, Start, Restart, Reload {}

    Kind kind();

    /** Its file (new, changed or merely touched) parses: this is the spec to run. */
    record FileValid(VassalSpec spec) implements Event {
        public Kind kind() {
            return Kind.FILE_VALID;
        }
    }

    /** Its file (new or changed) does not parse. */
    record FileInvalid(List<Problem> errors) implements Event {
        public Kind kind() {
            return Kind.FILE_INVALID;
        }

        public FileInvalid {
            errors = List.copyOf(errors);
        }
    }

    /** Its file is gone. */
    record FileRemoved() implements Event {
        public Kind kind() {
            return Kind.FILE_REMOVED;
        }
    }

    /** The Spawn effect started a process (fed back by the loop right after the effect). */
    record Spawned(long runId, long pid, int uid, int gid) implements Event {
        public Kind kind() {
            return Kind.SPAWNED;
        }
    }

    /** The Spawn effect could not start a process at all (fed back by the loop). */
    record SpawnFailed(String reason) implements Event {
        public Kind kind() {
            return Kind.SPAWN_FAILED;
        }
    }

    /**
     * The Spawn or Listen effect could not be carried out yet: a unix socket of it is being bound as the
     * vassal, by a child nobody waits for (fed back by the loop right after the effect). {@code waits} is what
     * it waits for now, that socket among it ({@code sockets (binding unix:/run/app.sock)}); once the child
     * has answered, a {@link Requirements} without it comes.
     */
    record Binding(Wait waits) implements Event {
        public Kind kind() {
            return Kind.BINDING;
        }
    }

    /** The exec helper reached exec: the program itself now runs. */
    record ExecDone(long runId) implements Event {
        public Kind kind() {
            return Kind.EXEC_DONE;
        }
    }

    /** The exec helper failed at a step before exec and said why; the process exits next. */
    record ExecFailed(long runId, String reason) implements Event {
        public Kind kind() {
            return Kind.EXEC_FAILED;
        }
    }

    /** The process is gone. */
    record Exited(long runId, ExitStatus status) implements Event {
        public Kind kind() {
            return Kind.EXITED;
        }
    }

    /** Time passed: a deadline may have been reached. */
    record Tick() implements Event {
        public Kind kind() {
            return Kind.TICK;
        }
    }

    /** The emperor is shutting down: stop and forget. */
    record Shutdown() implements Event {
        public Kind kind() {
            return Kind.SHUTDOWN;
        }
    }

    /** The operator insists (a second SIGTERM/SIGINT): SIGKILL whatever is still stopping. */
    record ForceKill() implements Event {
        public Kind kind() {
            return Kind.FORCE_KILL;
        }
    }

    /**
     * A uWSGI vassal wrote a byte on its emperor channel (DESIGN §4): 1 ready, 5 accepting,
     * 17 loyal, 22 voluntary stop, 26 heartbeat, 30 asks for more workers; anything else is unknown.
     * What the I/O thread posts has been coalesced (os/ChannelGate): {@code count} is how many
     * unknown bytes this one stands for since the last line about them (1 for a known byte).
     */
    record VassalSays(long runId, int message, long count) implements Event {
        public static final int READY = 1;
        public static final int ACCEPTING = 5;
        public static final int LOYAL = 17;
        public static final int VOLUNTARY_STOP = 22;
        public static final int HEARTBEAT = 26;
        public static final int MORE_WORKERS = 30;

        public VassalSays {
            if (count < 1) {
                throw new IllegalArgumentException("count " + count + " < 1");
            }
        }

        /** One byte. */
        public VassalSays(long runId, int message) {
            this(runId, message, 1);
        }

        /** Whether the byte means something to the emperor; any other is unknown. */
        public static boolean isKnown(int message) {
            return switch (message) {
                case READY, ACCEPTING, LOYAL, VOLUNTARY_STOP, HEARTBEAT, MORE_WORKERS -> true;
                default -> false;
            };
        }

        public Kind kind() {
            return Kind.VASSAL_SAYS;
        }
    }

    /** End of file on a uWSGI vassal's emperor channel: the vassal is going (its exit follows). */
    record ChannelClosed(long runId) implements Event {
        public Kind kind() {
            return Kind.CHANNEL_CLOSED;
        }
    }

    /**
     * A vassal said RELOADING=1 or STOPPING=1 on the notify socket (sd_notify; {@link NotifyMessage}), from a
     * process of this run ({@code READY=1} is {@code Ready}; STATUS= and WATCHDOG=1 are not lifecycle events).
     */
    record Notified(long runId, What what) implements Event {
        /** What it said. */
        public enum What { RELOADING, STOPPING }

        public Kind kind() {
            return Kind.NOTIFIED;
        }
    }

    /** A run with {@code watchdog = S} sent no WATCHDOG=1 for {@code period} ({@link Watchdogs}). */
    record WatchdogMissed(long runId, java.time.Duration period) implements Event {
        public Kind kind() {
            return Kind.WATCHDOG_MISSED;
        }
    }

    /**
     * The run is ready (its {@code ready} setting, docs/vassal.ini.5.md): the one way a run becomes
     * ready, whoever learned it (the lifecycle itself at exec for {@code started} and at byte 5 for a
     * uWSGI vassal, the I/O thread's probe for {@code tcp:}/{@code unix:}, {@code READY=1} for {@code notify}).
     *
     * @param how what made it ready, for the log line ({@code started}, {@code accepting},
     *            {@code tcp:127.0.0.1:8100 accepts}, {@code READY=1})
     */
    record Ready(long runId, String how) implements Event {
        public Kind kind() {
            return Kind.READY;
        }
    }

    /**
     * Why the run is not ready yet, as its readiness probe last said ({@code connect
     * 127.0.0.1:8100: Connection refused}); posted when the reason changes, kept for the
     * ready-timeout's line. No log line.
     */
    record NotReady(long runId, String problem) implements Event {
        public Kind kind() {
            return Kind.NOT_READY;
        }
    }

    /**
     * What its {@code requires} and {@code after} say now ({@link Dependencies}), sent by the loop
     * before an event that may start it and whenever the verdict changes.
     */
    record Requirements(Wait waits) implements Event {
        public Kind kind() {
            return Kind.REQUIREMENTS;
        }
    }

    /**
     * A connection waits on a socket of an on-demand vassal that waits for one (issue 15; from the
     * I/O thread, which then stops watching its sockets until the vassal waits again): start it.
     * Late ones (the vassal moved on meanwhile) change nothing.
     */
    record Connection() implements Event {
        public Kind kind() {
            return Kind.CONNECTION;
        }
    }

    /** Stop it and keep it stopped until a start or a change of its file (also when it is backing off). */
    record Stop() implements Operator {
        public Kind kind() {
            return Kind.OPERATOR_STOP;
        }
    }

    /** Start it if it does not run (cutting a backoff short); a running vassal is left alone. */
    record Start() implements Operator {
        public Kind kind() {
            return Kind.OPERATOR_START;
        }
    }

    /** Stop it and start it again (a stopped or backing-off vassal just starts). */
    record Restart() implements Operator {
        public Kind kind() {
            return Kind.OPERATOR_RESTART;
        }
    }

    /** What a touch of an unchanged file does: the reload signal, byte 1 for uWSGI, or a restart. */
    record Reload() implements Operator {
        public Kind kind() {
            return Kind.OPERATOR_RELOAD;
        }
    }
}
