package io.emperor.os;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who sent a datagram to the notify socket: the run it is attributed to, from the sender's pid and uid as the
 * kernel wrote them ({@code SCM_CREDENTIALS}; a process can only claim its own pid and its own uids unless it
 * holds CAP_SYS_ADMIN and CAP_SETUID, which no tenant's vassal does). A datagram belongs to a run when its
 * pid is
 * <ol>
 *   <li>the run's main pid, or</li>
 *   <li>a process whose process group is the run's (every vassal is a session and group leader, and a process
 *       can only join a group of its own session: only the vassal's descendants are there), or</li>
 *   <li>a process of the vassal by {@link Containment}: in its cgroup (membership proved by the cgroup's own
 *       {@code cgroup.procs}), or carrying the run's mark,</li>
 * </ol>
 * <b>and</b> its uid is the uid the run runs as. Anything else is dropped: another tenant's process, which can
 * copy a mark or guess a pid but not the uid, a process that is no vassal's, a run that already ended.
 *
 * <p>{@link #started} and {@link #ended} come from the loop thread (the launcher), {@link #attribute} from the
 * I/O thread.
 */
final class NotifySenders {
    /** A live run, as the launcher spawned it. */
    record Run(String name, long runId, long pid, int uid, String group) {}

    /** Why a datagram was dropped ({@link NotifySocket} counts them). */
    enum Refusal {
        NO_VASSAL("from a process of no vassal"),
        WRONG_UID("from a vassal's process with another uid than its vassal's"),
        NO_CREDENTIALS("without the sender's credentials"),
        TOO_LARGE("larger than " + io.emperor.vassal.NotifyMessage.MAX_DATAGRAM + " bytes");

        final String text;

        Refusal(String text) {
            this.text = text;
        }
    }

    /** The attribution: a run, or why none. */
    record Verdict(Run run, Refusal refusal) {}

    /** What is read of a process in /proc (injected: the emperor reads /proc, its tests give their own). */
    interface Proc {
        /** Field 5 of /proc/PID/stat, or -1 when it is gone. */
        long processGroup(long pid);

        /** The escaped vassal name of the emperor's cgroup the process is in ({@link Containment#cgroupOf}). */
        Optional<String> cgroup(long pid);

        /** The run id of the mark the process carries ({@link Containment#markedRun}). */
        OptionalLong markedRun(long pid);
    }

    private final Map<Long, Run> byRun = new ConcurrentHashMap<>();
    private final Map<Long, Run> byPid = new ConcurrentHashMap<>();
    /** The latest run of each vassal cgroup (escaped name). */
    private final Map<String, Run> byGroup = new ConcurrentHashMap<>();
    private final Proc proc;

    NotifySenders(Proc proc) {
        this.proc = proc;
    }

    /** For an emperor's containment: /proc and its cgroups or marks. */
    static NotifySenders of(Containment containment) {
        return new NotifySenders(new Proc() {
            @Override
            public long processGroup(long pid) {
                return Procfs.processGroup(pid);
            }

            @Override
            public Optional<String> cgroup(long pid) {
                return containment.cgroupOf(pid);
            }

            @Override
            public OptionalLong markedRun(long pid) {
                return containment.markedRun(pid);
            }
        });
    }

    void started(String name, long runId, long pid, int uid) {
        Run r = new Run(name, runId, pid, uid, Containment.escape(name));
        byRun.put(runId, r);
        byPid.put(pid, r);
        byGroup.put(r.group(), r);
    }

    void ended(long runId) {
        Run r = byRun.remove(runId);
        if (r != null) {
            byPid.remove(r.pid(), r);
            byGroup.remove(r.group(), r);
        }
    }

    Run run(long runId) {
        return byRun.get(runId);
    }

    Verdict attribute(long pid, int uid) {
        Run r = find(pid);
        if (r == null) {
            return new Verdict(null, Refusal.NO_VASSAL);
        }
        if (r.uid() != uid) {
            return new Verdict(null, Refusal.WRONG_UID);
        }
        return new Verdict(r, null);
    }

    private Run find(long pid) {
        if (pid <= 0) {
            return null;
        }
        Run r = byPid.get(pid);
        if (r != null) {
            return r;
        }
        long group = proc.processGroup(pid);
        if (group > 0 && (r = byPid.get(group)) != null) {
            return r;
        }
        Optional<String> cg = proc.cgroup(pid);
        if (cg.isPresent()) {
            return byGroup.get(cg.get());
        }
        OptionalLong marked = proc.markedRun(pid);
        return marked.isPresent() ? byRun.get(marked.getAsLong()) : null;
    }
}
