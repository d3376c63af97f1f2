package io.emperor.control;

import io.emperor.vassal.State;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The uWSGI Emperor stats JSON ({@code --emperor-stats}), so that existing tooling (uwsgitop,
 * monitoring scripts) reads the emperor unchanged. Unlike uWSGI's, every string is escaped
 * ({@link Json}), so a vassal named {@code a"b} still gives valid JSON. Times are Unix seconds,
 * as in uWSGI; 0 means never.
 *
 * <p>Which list a vassal is in: each vassal appears exactly once.
 * <ul>
 *   <li>{@code vassals}: the states {@code starting}, {@code running}, {@code reloading},
 *       {@code stopping} (a process exists) and {@code stopped} (no process, {@code pid} 0; listed
 *       here like uWSGI's idle on-demand vassals, since nothing is wrong with it);
 *   <li>{@code blacklist}: {@code backoff} (it keeps dying; uWSGI's throttled vassals are
 *       blacklisted too) and {@code failed} (its file is refused, {@code problem} says why).
 * </ul>
 *
 * <p>Loyal, ready, accepting: a uWSGI vassal is ready (accepting) while it runs and has sent
 * "ready" (byte 1; "accepting", byte 5) since its process started, and not while it reloads, as
 * in uWSGI; loyal once it sent "loyal" (byte 17) since its process started, kept across a
 * graceful reload. A plain {@code exec} vassal has no channel to say any of this, so it is loyal,
 * ready and accepting while it runs; its {@code last_*} times stay 0 since it never told.
 *
 * <p>Our extra keys ({@code name}, {@code kind}, {@code state}, {@code uptime} in a vassal;
 * {@code name}, {@code state}, {@code last_exit}, {@code problem} in the blacklist) do not bother
 * uwsgitop, which reads only the keys it knows.
 */
public final class UwsgiStats {
    private UwsgiStats() {}

    /** The stats document as JSON text, with a final newline. */
    public static String json(EmperorStatus status) {
        return Json.write(of(status)) + "\n";
    }

    /** The stats document: maps and lists for {@link Json#write}, keys in uWSGI's order. */
    public static Map<String, Object> of(EmperorStatus status) {
        List<Object> vassals = new ArrayList<>();
        List<Object> blacklist = new ArrayList<>();
        for (VassalStatus v : status.vassals()) {
            if (isBlacklisted(v)) {
                blacklist.add(blacklistEntry(v));
            } else {
                vassals.add(vassal(v));
            }
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("version", status.version());
        doc.put("pid", status.pid());
        doc.put("uid", status.uid());
        doc.put("gid", status.gid());
        doc.put("cwd", status.cwd());
        doc.put("emperor", status.vassalDirs());
        doc.put("emperor_tyrant", flag(status.tyrant()));
        // uWSGI's global spawn throttle; this emperor never slows spawns down globally.
        doc.put("throttle_level", 0);
        doc.put("vassals", vassals);
        doc.put("blacklist", blacklist);
        return doc;
    }

    private static boolean isBlacklisted(VassalStatus v) {
        return v.state().equals(State.BACKOFF.label()) || v.state().equals(State.FAILED.label());
    }

    private static Map<String, Object> vassal(VassalStatus v) {
        boolean running = v.state().equals(State.RUNNING.label());
        boolean up = running || v.state().equals(State.RELOADING.label());
        boolean exec = !"uwsgi".equals(v.kind());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id(v));
        m.put("pid", v.pid());
        m.put("born", seconds(v.fileMtime()));
        m.put("last_mod", seconds(v.fileMtime()));
        m.put("last_heartbeat", seconds(v.lastHeartbeat()));
        m.put("loyal", flag(up && (exec || saidSinceStart(v.lastLoyal(), v))));
        m.put("ready", flag(exec ? up : running && saidSinceStart(v.lastReady(), v)));
        m.put("accepting", flag(exec ? up : running && saidSinceStart(v.lastAccepting(), v)));
        m.put("last_loyal", seconds(v.lastLoyal()));
        m.put("last_ready", seconds(v.lastReady()));
        m.put("last_accepting", seconds(v.lastAccepting()));
        m.put("first_run", seconds(v.firstRun()));
        m.put("last_run", seconds(v.startedAt()));
        m.put("cursed", 0);
        m.put("zerg", 0);
        m.put("on_demand", "");
        m.put("uid", v.uid());
        m.put("gid", v.gid());
        m.put("monitor", monitor(v));
        m.put("respawns", v.restarts());
        m.put("name", v.name());
        m.put("kind", v.kind());
        m.put("state", v.state());
        m.put("uptime", seconds(v.uptimeMillis()));
        return m;
    }

    /**
     * uWSGI's blacklist entry. {@code throttle_level} is, as there, in milliseconds: the time left
     * before the next try. {@code first_attempt} is the vassal's first spawn, since the emperor
     * does not keep when the current run of failures began.
     */
    private static Map<String, Object> blacklistEntry(VassalStatus v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id(v));
        m.put("throttle_level", v.backoffMillis());
        m.put("attempt", v.failures());
        m.put("first_attempt", seconds(v.firstRun()));
        m.put("last_attempt", seconds(v.lastExitAt()));
        m.put("name", v.name());
        m.put("state", v.state());
        m.put("last_exit", v.lastExit());
        m.put("problem", v.problem());
        return m;
    }

    /** uWSGI's vassal id is the file's name, {@code app.ini}. */
    private static String id(VassalStatus v) {
        if (v.file() == null) {
            return v.name() + ".ini";
        }
        Path fileName = Path.of(v.file()).getFileName();
        return fileName == null ? v.name() + ".ini" : fileName.toString();
    }

    /** uWSGI's monitor is the scanned directory: here, the one holding the vassal file. */
    private static String monitor(VassalStatus v) {
        Path dir = v.file() == null ? null : Path.of(v.file()).getParent();
        return dir == null ? "" : dir.toString();
    }

    /** Whether a message the vassal sent at {@code at} belongs to its current process. */
    private static boolean saidSinceStart(long at, VassalStatus v) {
        return at != 0 && v.startedAt() != 0 && at >= v.startedAt();
    }

    private static long seconds(long millis) {
        return millis / 1000;
    }

    private static int flag(boolean b) {
        return b ? 1 : 0;
    }
}
