package io.emperor.control;

import io.emperor.config.VassalSpec;
import io.emperor.loop.LoopSnapshot;
import io.emperor.loop.Tally;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.State;
import io.emperor.vassal.Vassal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds the status records from a copy of the loop's state ({@link LoopSnapshot}), on any thread. */
public final class StatusView {
    /** What does not change while the emperor runs (and the start time). */
    public record Emperor(String version, long pid, int uid, int gid, String cwd, boolean tyrant, long startedAt) {}

    private StatusView() {}

    static VassalStatus vassal(Vassal v, VassalFile f, Tally.Entry t, long now, long wall, java.time.Duration minUptime) {
        VassalStatus s = fields(v, f, t, now, wall, minUptime);
        return v.spec() == null || !v.spec().listen().any() ? s
                : s.withListen(v.spec().listen().addresses().stream().map(io.emperor.config.Listen.Address::text).toList());
    }

    private static VassalStatus fields(Vassal v, VassalFile f, Tally.Entry t, long now, long wall,
                                       java.time.Duration minUptime) {
        io.emperor.vassal.Trouble trouble = v.problem(now, minUptime);
        VassalSpec spec = v.spec();
        boolean live = v.state().hasProcess() && v.runId() != 0;
        long uptime = live ? Math.max(0, (now - v.startedAt()) / 1_000_000) : 0;
        long backoff = v.state() == State.BACKOFF && v.deadline() != Vassal.NO_DEADLINE
                ? Math.max(0, (v.deadline() - now) / 1_000_000) : 0;
        String file = f != null ? f.path().toString() : spec != null && spec.file() != null ? spec.file().toString() : null;
        return new VassalStatus(
                v.name(),
                v.state().label(),
                spec != null && spec.kind() == VassalSpec.Kind.UWSGI ? "uwsgi" : "exec",
                file,
                f == null ? -1 : f.fingerprint().uid(),
                f == null ? 0 : f.fingerprint().mtimeNanos() / 1_000_000,
                live ? v.pid() : 0,
                t == null ? -1 : t.uid(),
                t == null ? -1 : t.gid(),
                live ? wall - uptime : 0,
                uptime,
                t == null ? 0 : t.firstRun(),
                t == null ? 0 : t.spawns(),
                v.restarts(),
                v.failures(),
                backoff,
                t == null ? null : t.lastExit(),
                t == null ? 0 : t.lastExitAt(),
                t == null ? 0 : t.lastReady(),
                t == null ? 0 : t.lastAccepting(),
                t == null ? 0 : t.lastLoyal(),
                t == null ? 0 : t.lastHeartbeat(),
                v.state() == State.FAILED && t != null ? t.problem() : null,
                trouble == null ? null : trouble.text(),
                trouble == null ? 0 : wall - Math.max(0, (now - trouble.since()) / 1_000_000),
                v.state() == State.WAITING ? v.waitingFor() : null,
                v.isReady(),
                t == null ? null : t.status());
    }

    /** The whole emperor from a copy of the loop's state (any thread). */
    public static EmperorStatus emperor(LoopSnapshot snap, Emperor e, List<String> dirs, double lagMillis) {
        List<VassalStatus> vassals = new ArrayList<>();
        for (LoopSnapshot.Entry en : snap.vassals()) {
            vassals.add(vassal(en.vassal(), en.file(), en.tally(), snap.now(), snap.wall(), snap.minUptime()));
        }
        return new EmperorStatus(e.version(), e.pid(), e.uid(), e.gid(), e.cwd(), dirs, e.tyrant(), e.startedAt(),
                snap.spawns(), snap.restarts(), snap.exits(), lagMillis, vassals);
    }

    /** A vassal's status as one JSON object, as the control socket's {@code status} lists it (for callers outside control/). */
    public static String jsonText(VassalStatus s) {
        return Json.write(VassalJson.of(s));
    }

    /**
     * What the fleet publishes for a vassal ({@code PREFIX/status/NODE/NAME}, docs/fleet.md): its
     * {@code status --json} record without {@code uptime} and {@code backoff}, which change every second.
     */
    public static String publishedJsonText(VassalStatus s) {
        try {
            Map<String, Object> j = Json.parseObject(jsonText(s));
            j.remove("uptime");
            j.remove("backoff");
            return Json.write(j);
        } catch (Json.ParseException e) {
            throw new IllegalStateException("bug: our own status JSON does not parse", e);
        }
    }
}
