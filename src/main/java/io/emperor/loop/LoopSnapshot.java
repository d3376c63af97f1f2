package io.emperor.loop;

import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Vassal;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A copy of the loop's state, taken on the loop thread at {@code now} ({@link LoopQuery.Snapshot}):
 * safe to read on any thread, never changed after.
 *
 * @param now       the loop's clock (monotonic nanos) when the copy was taken
 * @param wall      the wall clock then (epoch millis)
 * @param minUptime the policy's min-uptime (when a vassal's last problem clears)
 * @param vassals   every vassal, by name
 */
public record LoopSnapshot(long now, long wall, Duration minUptime, long spawns, long restarts,
                           Map<String, Long> exits, List<Entry> vassals) {
    public LoopSnapshot {
        exits = Map.copyOf(exits);
        vassals = List.copyOf(vassals);
    }

    /**
     * One vassal: its state, the last version seen of its file (or null) and a copy of its tally
     * entry (or null).
     */
    public record Entry(Vassal vassal, VassalFile file, Tally.Entry tally) {}
}
