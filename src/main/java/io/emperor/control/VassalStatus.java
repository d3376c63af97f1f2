package io.emperor.control;

/**
 * What the control socket and the stats server show of one vassal: a copy taken on the loop
 * thread, safe to hand to any thread. Times are Unix epoch milliseconds (0 = never).
 *
 * @param name         the vassal name (the file name without {@code .ini})
 * @param state        {@code starting}, {@code running}, {@code reloading}, {@code stopping},
 *                     {@code backoff}, {@code failed} or {@code stopped}
 * @param kind         {@code exec} or {@code uwsgi}
 * @param file         the vassal file, or null when no version was seen
 * @param owner        the uid that owns the vassal file (tyrant mode: whom the vassal runs as), or -1
 * @param fileMtime    the file's modification time
 * @param pid          the main process, or 0 when none runs
 * @param uid          the uid of the current (or last) run, or -1 before the first spawn
 * @param gid          its gid, or -1
 * @param startedAt    the spawn of the current process, or 0
 * @param uptimeMillis how long the current process has run, or 0
 * @param firstRun     the first spawn, or 0
 * @param spawns       processes started for this vassal since the emperor learned of it
 * @param restarts     of those, starts after the first
 * @param failures     quick exits in a row (backoff)
 * @param backoffMillis while in backoff: time left until the next try, else 0
 * @param lastExit     how the last process ended ({@code status=1}, {@code signal=KILL}), or null
 * @param lastExitAt   when, or 0
 * @param lastReady    a uWSGI vassal's last "ready" (byte 1), or 0
 * @param lastAccepting its last "accepting" (byte 5), or 0
 * @param lastLoyal    its last "loyal" (byte 17), or 0
 * @param lastHeartbeat its last heartbeat (byte 26), or 0
 * @param problem      why a failed vassal's file is refused (the first error), or null
 * @param lastProblem  the vassal's last problem while it stands ({@code spawn failed: …},
 *                     {@code exited status=1 after 0.06s}, {@code refused: …}; docs/lifecycle.md), or null
 * @param lastProblemSince since when the vassal has been in that trouble, or 0
 * @param waitingFor   what a vassal in state {@code waiting} waits for ({@code zeo (not ready), db (no such
 *                     vassal)}; its {@code requires} and {@code after}), else null
 * @param ready        its current run is ready for the vassals that wait for it ({@code ready}, docs/vassal.ini.5.md)
 * @param statusText   the current (or last) run's {@code STATUS=} on the notify socket ({@code ready = notify}),
 *                     escaped and at most 200 chars, or null
 * @param listen       the sockets the emperor holds for it ({@code listen}, issue 15), as written:
 *                     {@code 127.0.0.1:8000}, {@code [::1]:80}, {@code unix:/run/app.sock}; empty if none
 */
public record VassalStatus(
        String name,
        String state,
        String kind,
        String file,
        int owner,
        long fileMtime,
        long pid,
        int uid,
        int gid,
        long startedAt,
        long uptimeMillis,
        long firstRun,
        long spawns,
        long restarts,
        int failures,
        long backoffMillis,
        String lastExit,
        long lastExitAt,
        long lastReady,
        long lastAccepting,
        long lastLoyal,
        long lastHeartbeat,
        String problem,
        String lastProblem,
        long lastProblemSince,
        String waitingFor,
        boolean ready,
        String statusText,
        java.util.List<String> listen) {

    public VassalStatus {
        listen = listen == null ? java.util.List.of() : java.util.List.copyOf(listen);
    }

    /** A status without sockets. */
    public VassalStatus(String name, String state, String kind, String file, int owner, long fileMtime, long pid,
                        int uid, int gid, long startedAt, long uptimeMillis, long firstRun, long spawns, long restarts,
                        int failures, long backoffMillis, String lastExit, long lastExitAt, long lastReady,
                        long lastAccepting, long lastLoyal, long lastHeartbeat, String problem, String lastProblem,
                        long lastProblemSince, String waitingFor, boolean ready, String statusText) {
        this(name, state, kind, file, owner, fileMtime, pid, uid, gid, startedAt, uptimeMillis, firstRun, spawns,
                restarts, failures, backoffMillis, lastExit, lastExitAt, lastReady, lastAccepting, lastLoyal,
                lastHeartbeat, problem, lastProblem, lastProblemSince, waitingFor, ready, statusText, null);
    }

    /** The same with these sockets. */
    public VassalStatus withListen(java.util.List<String> sockets) {
        return new VassalStatus(name, state, kind, file, owner, fileMtime, pid, uid, gid, startedAt, uptimeMillis,
                firstRun, spawns, restarts, failures, backoffMillis, lastExit, lastExitAt, lastReady, lastAccepting,
                lastLoyal, lastHeartbeat, problem, lastProblem, lastProblemSince, waitingFor, ready, statusText,
                sockets);
    }
}
