package io.emperor.loop;

import io.emperor.vassal.Event;
import io.emperor.vassal.State;
import io.emperor.vassal.Vassal;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the loop counts for {@code emperor status}, the stats JSON and {@code /metrics}: facts the
 * lifecycle does not need (wall-clock times, the last exit, uWSGI's ready/loyal times), kept
 * beside it so that it stays small. Loop thread only; fed with every step.
 */
public final class Tally {
    /** The cause names of {@link #exits}, in order. */
    public static final String CLEAN = "clean";
    public static final String ERROR = "error";
    public static final String SIGNAL = "signal";
    public static final String STOPPED = "stopped";
    public static final String SPAWN_FAILED = "spawn_failed";

    /** One vassal's facts; times are epoch millis (0 = never). */
    public static final class Entry {
        int uid = -1;
        int gid = -1;
        long firstRun;
        long lastRun;
        long spawns;
        String lastExit;
        long lastExitAt;
        long lastReady;
        long lastAccepting;
        long lastLoyal;
        long lastHeartbeat;
        String problem;
        /** The current run's last STATUS= on the notify socket (escaped, bounded), or null. */
        String status;

        /** A copy, for a {@link LoopSnapshot}: nothing changes it after. */
        Entry copy() {
            Entry c = new Entry();
            c.uid = uid;
            c.gid = gid;
            c.firstRun = firstRun;
            c.lastRun = lastRun;
            c.spawns = spawns;
            c.lastExit = lastExit;
            c.lastExitAt = lastExitAt;
            c.lastReady = lastReady;
            c.lastAccepting = lastAccepting;
            c.lastLoyal = lastLoyal;
            c.lastHeartbeat = lastHeartbeat;
            c.problem = problem;
            c.status = status;
            return c;
        }

        public int uid() {
            return uid;
        }

        public int gid() {
            return gid;
        }

        public long firstRun() {
            return firstRun;
        }

        public long lastRun() {
            return lastRun;
        }

        public long spawns() {
            return spawns;
        }

        public String lastExit() {
            return lastExit;
        }

        public long lastExitAt() {
            return lastExitAt;
        }

        public long lastReady() {
            return lastReady;
        }

        public long lastAccepting() {
            return lastAccepting;
        }

        public long lastLoyal() {
            return lastLoyal;
        }

        public long lastHeartbeat() {
            return lastHeartbeat;
        }

        public String problem() {
            return problem;
        }

        public String status() {
            return status;
        }
    }

    private final Map<String, Entry> entries = new HashMap<>();
    private final Map<String, Long> exits = new LinkedHashMap<>();
    private long spawns;
    private long restarts;

    public Tally() {
        for (String cause : new String[] {CLEAN, ERROR, SIGNAL, STOPPED, SPAWN_FAILED}) {
            exits.put(cause, 0L);
        }
    }

    /** One step of one vassal: {@code after} is null when the vassal was forgotten. */
    void step(String name, Vassal before, Event e, Vassal after, long wallMillis) {
        if (after == null) {
            entries.remove(name);
        }
        Entry t = after == null ? new Entry() : entries.computeIfAbsent(name, n -> new Entry());
        if (after != null && before != null && after.restarts() > before.restarts()) {
            restarts += after.restarts() - before.restarts();
        }
        if (e instanceof Event.Spawned s) {
            spawns++;
            t.spawns++;
            t.uid = s.uid();
            t.gid = s.gid();
            t.lastRun = wallMillis;
            t.status = null; // a new run says its own
            if (t.firstRun == 0) {
                t.firstRun = wallMillis;
            }
        } else if (e instanceof Event.SpawnFailed f) {
            count(SPAWN_FAILED);
            t.lastExit = "spawn failed";
            t.lastExitAt = wallMillis;
        } else if (e instanceof Event.Exited x && before != null && x.runId() == before.runId()) {
            String cause = before.execFailed() ? SPAWN_FAILED
                    : before.state() == State.STOPPING && before.after() != Vassal.After.WATCHDOG ? STOPPED
                    : x.status().signal() != 0 ? SIGNAL
                    : x.status().code() == 0 ? CLEAN : ERROR;
            count(cause);
            t.lastExit = x.status().toString();
            t.lastExitAt = wallMillis;
        } else if (e instanceof Event.VassalSays s && before != null && s.runId() == before.runId()) {
            switch (s.message()) {
                case Event.VassalSays.READY -> t.lastReady = wallMillis;
                case Event.VassalSays.ACCEPTING -> t.lastAccepting = wallMillis;
                case Event.VassalSays.LOYAL -> t.lastLoyal = wallMillis;
                case Event.VassalSays.HEARTBEAT -> t.lastHeartbeat = wallMillis;
                default -> { }
            }
        } else if (e instanceof Event.FileInvalid f) {
            t.problem = f.errors().isEmpty() ? "invalid" : f.errors().get(0).toString();
        } else if (e instanceof Event.FileValid) {
            t.problem = null;
        }
    }

    /** A vassal's run said STATUS= on the notify socket (the loop checked that the run is current). */
    void status(String name, String text) {
        Entry t = entries.get(name);
        if (t != null) {
            t.status = text;
        }
    }

    private void count(String cause) {
        exits.merge(cause, 1L, Long::sum);
    }

    /** The facts of a vassal the loop knows, or null. */
    public Entry entry(String name) {
        return entries.get(name);
    }

    public long spawns() {
        return spawns;
    }

    public long restarts() {
        return restarts;
    }

    /** Exits by cause, every cause present. */
    public Map<String, Long> exits() {
        return Map.copyOf(exits);
    }
}
