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
        List<VassalStatus> vassals) {

    public EmperorStatus {
        vassalDirs = List.copyOf(vassalDirs);
        exits = Map.copyOf(exits);
        vassals = List.copyOf(vassals);
    }

    /** The exit causes, in the order metrics list them. */
    public static final List<String> EXIT_CAUSES = List.of("clean", "error", "signal", "stopped", "spawn_failed");
}
