package io.emperor.control;

import java.util.List;
import java.util.Map;

/**
 * The emperor as a whole, for {@code emperor status} and the stats server: a copy taken on the
 * loop thread. Times are Unix epoch milliseconds.
 *
 * @param version        the emperor's version
 * @param pid            the emperor's pid
 * @param uid            the emperor's uid
 * @param gid            the emperor's gid
 * @param cwd            the emperor's working directory
 * @param vassalDirs     the watched directories
 * @param tyrant         tyrant mode
 * @param startedAt      when the emperor started
 * @param spawns         processes started since the emperor started (all vassals)
 * @param restarts       of those, restarts (after an exit, a reload by restart, an operator restart)
 * @param exits          process exits since the start by cause: {@code clean} (status 0, not asked
 *                       to stop), {@code error} (status other than 0), {@code signal} (killed by a
 *                       signal the emperor did not send), {@code stopped} (exited after the emperor
 *                       asked it to stop), {@code spawn_failed} (the exec helper failed before exec)
 * @param loopLagMillis  how long the request that took this snapshot waited in the loop's queue
 * @param vassals        every vassal, by name
 * @param internals      what the emperor's own threads hold now (read as the status is built, not on the loop)
 */
public record EmperorStatus(
        String version,
        long pid,
        int uid,
        int gid,
        String cwd,
        List<String> vassalDirs,
        boolean tyrant,
        long startedAt,
        long spawns,
        long restarts,
        Map<String, Long> exits,
        double loopLagMillis,
        List<VassalStatus> vassals,
        Internals internals) {

    public EmperorStatus {
        vassalDirs = List.copyOf(vassalDirs);
        exits = Map.copyOf(exits);
        vassals = List.copyOf(vassals);
    }

    /** Without the threads' figures (all 0). */
    public EmperorStatus(String version, long pid, int uid, int gid, String cwd, List<String> vassalDirs, boolean tyrant,
                         long startedAt, long spawns, long restarts, Map<String, Long> exits, double loopLagMillis,
                         List<VassalStatus> vassals) {
        this(version, pid, uid, gid, cwd, vassalDirs, tyrant, startedAt, spawns, restarts, exits, loopLagMillis, vassals,
                Internals.NONE);
    }

    /**
     * What the emperor's threads hold now, for the metrics (docs/stats.md): a leak shows as a figure
     * that grows while the vassals and the clients do not.
     *
     * @param controlConnections  clients connected to the control socket
     * @param controlPendingBytes answer bytes the control thread holds for clients that do not read
     * @param ioRuns              vassal processes the I/O thread watches (output, exit), each until reaped
     * @param ioProbes            runs whose readiness ({@code ready = tcp:|unix:}) the I/O thread probes
     * @param tails               vassals whose last lines are kept in memory ({@code emperor logs})
     * @param tailBytes           what those lines cost in memory
     * @param notifyDatagrams     datagrams read from the vassals' notify socket, dropped ones included
     * @param notifyFdsClosed     fds that came with those datagrams, each closed at once
     * @param notifyRuns          runs whose notify messages the socket keeps until the loop takes them
     */
    public record Internals(int controlConnections, long controlPendingBytes, int ioRuns, int ioProbes, int tails,
                            long tailBytes, long notifyDatagrams, long notifyFdsClosed, int notifyRuns) {
        public static final Internals NONE = new Internals(0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** The exit causes, in the order metrics list them. */
    public static final List<String> EXIT_CAUSES = List.of("clean", "error", "signal", "stopped", "spawn_failed");
}
