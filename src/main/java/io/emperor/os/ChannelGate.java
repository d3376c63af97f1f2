package io.emperor.os;

import io.emperor.vassal.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns the bytes a uWSGI vassal writes on its emperor channel into the few events the loop must
 * see, so that a vassal writing as fast as it can makes a handful of events and lines, not one per
 * byte (issue 11). Pure: bytes and the time in (monotonic nanos), events out. One per run, used by
 * the I/O thread only.
 *
 * <ul>
 *   <li>Heartbeat ({@code 26}): one per {@link #HEARTBEAT_EVERY} counts, the others are dropped
 *       ({@code required-heartbeat} is whole seconds, at least 1).</li>
 *   <li>Ready ({@code 1}), accepting ({@code 5}), loyal ({@code 17}), voluntary stop ({@code 22}),
 *       more workers ({@code 30}) say what the vassal is: once said, saying it again tells nothing
 *       new and is dropped, until the emperor tells the vassal something ({@link #reset}: a reload
 *       or a stop byte), after which each counts once more.</li>
 *   <li>Unknown bytes: the first is passed at once; the next ones are counted, and the first one
 *       at least {@link #UNKNOWN_EVERY} after the last passed is passed with that count, so one
 *       line a minute at most; {@link #flush} hands over what is still counted when the channel
 *       ends.</li>
 * </ul>
 *
 * <p>It also keeps the channel's read budget: {@value #BYTES_PER_SECOND} bytes a second; once
 * {@link #budgetSpent}, the I/O thread reads no more until {@link #nextSecond}.
 */
final class ChannelGate {
    static final long HEARTBEAT_EVERY = Duration.ofSeconds(1).toNanos();
    static final long UNKNOWN_EVERY = Duration.ofMinutes(1).toNanos();
    static final int BYTES_PER_SECOND = 16 * 1024;
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private final long runId;
    /** Known bytes said since the last {@link #reset}, by value (each below 64). */
    private long said;
    private boolean beat;
    private long lastBeat;
    private boolean unknownPassed;
    private long lastUnknownPassed;
    private long unknownCounted;
    private int lastUnknown;
    private boolean windowStarted;
    private long windowStart;
    private long windowBytes;

    ChannelGate(long runId) {
        this.runId = runId;
    }

    /** What of {@code len} bytes at {@code off}, read at {@code now}, the loop must see, in order. */
    List<Event.VassalSays> read(byte[] bytes, int off, int len, long now) {
        if (!windowStarted || now - windowStart >= SECOND) {
            windowStarted = true;
            windowStart = now;
            windowBytes = 0;
        }
        windowBytes += len;
        List<Event.VassalSays> out = new ArrayList<>(0);
        for (int i = off; i < off + len; i++) {
            int b = bytes[i] & 0xff;
            if (b == Event.VassalSays.HEARTBEAT) {
                if (!beat || now - lastBeat >= HEARTBEAT_EVERY) {
                    beat = true;
                    lastBeat = now;
                    out.add(new Event.VassalSays(runId, b));
                }
            } else if (Event.VassalSays.isKnown(b)) {
                if ((said & (1L << b)) == 0) {
                    said |= 1L << b;
                    out.add(new Event.VassalSays(runId, b));
                }
            } else {
                unknownCounted++;
                lastUnknown = b;
                if (!unknownPassed || now - lastUnknownPassed >= UNKNOWN_EVERY) {
                    unknownPassed = true;
                    lastUnknownPassed = now;
                    out.add(new Event.VassalSays(runId, b, unknownCounted));
                    unknownCounted = 0;
                }
            }
        }
        return out;
    }

    /** Whether the bytes read in the current second reached {@link #BYTES_PER_SECOND}. */
    boolean budgetSpent() {
        return windowBytes >= BYTES_PER_SECOND;
    }

    /** When the current second of the budget ends (monotonic nanos). */
    long nextSecond() {
        return windowStart + SECOND;
    }

    /** The emperor told the vassal something: what it says next counts again (the unknown-byte count goes on). */
    void reset() {
        said = 0;
        beat = false;
    }

    /** The channel ends: the unknown bytes counted and not passed yet, as one event (the last of them, with the count). */
    Optional<Event.VassalSays> flush() {
        if (unknownCounted == 0) {
            return Optional.empty();
        }
        Event.VassalSays e = new Event.VassalSays(runId, lastUnknown, unknownCounted);
        unknownCounted = 0;
        return Optional.of(e);
    }
}
