package io.emperor.control;

import io.emperor.vassal.State;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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

    /** The stats document: uWSGI's top-level keys in uWSGI's order, then the two lists. */
    public record Document(String version, long pid, int uid, int gid, String cwd, List<String> emperor,
                           int emperorTyrant, int throttleLevel, List<Entry> vassals, List<Blacklisted> blacklist) {}

    /** A vassal of {@code vassals}: uWSGI's keys, then ours ({@code name}, {@code kind}, {@code state}, {@code uptime}). */
    public record Entry(String id, long pid, long born, long lastMod, long lastHeartbeat, int loyal, int ready,
                        int accepting, long lastLoyal, long lastReady, long lastAccepting, long firstRun, long lastRun,
                        int cursed, int zerg, String onDemand, int uid, int gid, String monitor, long respawns,
                        String name, String kind, String state, long uptime) {}

    /**
     * uWSGI's blacklist entry. {@code throttle_level} is, as there, in milliseconds: the time left
     * before the next try. {@code first_attempt} is the vassal's first spawn, since the emperor
     * does not keep when the current run of failures began.
     */
    public record Blacklisted(String id, long throttleLevel, int attempt, long firstAttempt, long lastAttempt,
                              String name, String state, String lastExit, String problem) {}

    /** The stats document as JSON text, with a final newline. */
    public static String json(EmperorStatus status) {
        return Json.write(of(status)) + "\n";
    }

    /** The stats document ({@link Json#write} writes it). */
    public static Document of(EmperorStatus status) {
        List<Entry> vassals = new ArrayList<>();
        List<Blacklisted> blacklist = new ArrayList<>();
        for (VassalStatus v : status.vassals()) {
            if (isBlacklisted(v)) {
                blacklist.add(blacklistEntry(v));
            } else {
                vassals.add(vassal(v));
            }
        }
        // throttle_level: uWSGI's global spawn throttle; this emperor never slows spawns down globally.
        return new Document(status.version(), status.pid(), status.uid(), status.gid(), status.cwd(),
                status.vassalDirs(), flag(status.tyrant()), 0, vassals, blacklist);
    }

    private static boolean isBlacklisted(VassalStatus v) {
        return v.state().equals(State.BACKOFF.label()) || v.state().equals(State.FAILED.label());
    }

    private static Entry vassal(VassalStatus v) {
        boolean running = v.state().equals(State.RUNNING.label());
        boolean up = running || v.state().equals(State.RELOADING.label());
        boolean exec = !"uwsgi".equals(v.kind());
        return new Entry(id(v), v.pid(), seconds(v.fileMtime()), seconds(v.fileMtime()), seconds(v.lastHeartbeat()),
                flag(up && (exec || saidSinceStart(v.lastLoyal(), v))),
                flag(exec ? up : running && saidSinceStart(v.lastReady(), v)),
                flag(exec ? up : running && saidSinceStart(v.lastAccepting(), v)),
                seconds(v.lastLoyal()), seconds(v.lastReady()), seconds(v.lastAccepting()),
                seconds(v.firstRun()), seconds(v.startedAt()), 0, 0, "", v.uid(), v.gid(), monitor(v), v.restarts(),
                v.name(), v.kind(), v.state(), seconds(v.uptimeMillis()));
    }

    private static Blacklisted blacklistEntry(VassalStatus v) {
        return new Blacklisted(id(v), v.backoffMillis(), v.failures(), seconds(v.firstRun()), seconds(v.lastExitAt()),
                v.name(), v.state(), v.lastExit(), v.problem());
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
