package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.vassal.Event;
import io.emperor.vassal.Event.VassalSays;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The coalescing of emperor-channel bytes, without processes: bytes and a fake time in, events out. */
class ChannelGateTest {
    static final long T0 = 1_000_000_000_000L;
    static final long MS = 1_000_000L;
    static final long S = 1000 * MS;
    static final int UNKNOWN = 99;

    final ChannelGate gate = new ChannelGate(7);

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    List<VassalSays> read(long now, int... values) {
        byte[] b = bytes(values);
        return gate.read(b, 0, b.length, now);
    }

    static VassalSays says(int message) {
        return new VassalSays(7, message);
    }

    /** {@code n} copies of {@code pattern}, one after the other. */
    static int[] repeat(int n, int... pattern) {
        int[] all = new int[n * pattern.length];
        for (int i = 0; i < all.length; i++) {
            all[i] = pattern[i % pattern.length];
        }
        return all;
    }

    @Test
    void aQuietVassalIsPassedAsItSpeaks() {
        assertEquals(List.of(says(1)), read(T0, 1));
        assertEquals(List.of(says(26)), read(T0 + MS, 26));
        assertEquals(List.of(says(5)), read(T0 + 2 * MS, 5));
        assertEquals(List.of(says(17)), read(T0 + 3 * MS, 17));
        assertEquals(List.of(says(30)), read(T0 + 4 * MS, 30));
        assertEquals(List.of(says(22)), read(T0 + 5 * MS, 22));
        assertEquals(List.of(says(26)), read(T0 + 5 * S, 26));
        assertEquals(Optional.empty(), gate.flush());
    }

    @Test
    void aStatementSaidAgainIsDroppedUntilTheEmperorTellsTheVassalSomething() {
        assertEquals(List.of(says(1), says(5), says(17)), read(T0, 1, 5, 17, 1, 5, 17, 17, 5, 1));
        assertEquals(List.of(), read(T0 + 10 * S, 1, 5, 17), "no new statement, however late");
        gate.reset(); // a reload byte went out: uWSGI 2.0 answers with accepting (5) again
        assertEquals(List.of(says(5)), read(T0 + 10 * S + MS, 5, 5, 5));
        gate.reset();
        assertEquals(List.of(says(1), says(5)), read(T0 + 11 * S, 1, 5, 1, 5));
    }

    @Test
    void oneHeartbeatASecondCounts() {
        assertEquals(List.of(says(26)), read(T0, 26, 26, 26));
        assertEquals(List.of(), read(T0 + 999 * MS, 26));
        assertEquals(List.of(says(26)), read(T0 + S, 26, 26));
        assertEquals(List.of(), read(T0 + S + 500 * MS, 26));
        assertEquals(List.of(says(26)), read(T0 + 2 * S, 26));
    }

    @Test
    void aHeartbeatRightAfterAReloadCountsAtOnce() {
        assertEquals(List.of(says(26)), read(T0, 26));
        gate.reset();
        assertEquals(List.of(says(26)), read(T0 + 10 * MS, 26), "RELOADING ends with the next heartbeat");
    }

    @Test
    void unknownBytesMakeOneEventAMinuteWithTheirCount() {
        assertEquals(List.of(new VassalSays(7, UNKNOWN, 1)), read(T0, UNKNOWN, UNKNOWN, 200));
        assertEquals(List.of(), read(T0 + 59 * S, repeat(1000, UNKNOWN)));
        // the first unknown byte a minute after the last line: 2 + 1000 counted, and this one
        assertEquals(List.of(new VassalSays(7, 0, 1003)), read(T0 + 60 * S, 0, UNKNOWN));
        assertEquals(Optional.of(new VassalSays(7, UNKNOWN, 1)), gate.flush(), "what is still counted at the end");
        assertEquals(Optional.empty(), gate.flush());
    }

    @Test
    void theUnknownCountGoesOnAcrossAReset() {
        read(T0, UNKNOWN, UNKNOWN);
        gate.reset();
        assertEquals(List.of(), read(T0 + S, UNKNOWN));
        assertEquals(Optional.of(new VassalSays(7, UNKNOWN, 2)), gate.flush());
    }

    @Test
    void knownBytesAmongUnknownOnesArePassedInOrder() {
        assertEquals(List.of(says(26), new VassalSays(7, UNKNOWN, 1), says(1)), read(T0, 26, UNKNOWN, 1, UNKNOWN, 26));
    }

    @Test
    void theReadBudgetIsSoManyBytesASecond() {
        byte[] quarter = new byte[ChannelGate.BYTES_PER_SECOND / 4];
        for (int i = 0; i < 3; i++) {
            gate.read(quarter, 0, quarter.length, T0 + i * 100 * MS);
            assertEquals(false, gate.budgetSpent(), "after " + (i + 1) + " quarter(s)");
        }
        gate.read(quarter, 0, quarter.length, T0 + 999 * MS);
        assertEquals(true, gate.budgetSpent());
        assertEquals(T0 + S, gate.nextSecond(), "the second began with the first read");
        gate.read(quarter, 0, 1, T0 + S);
        assertEquals(false, gate.budgetSpent(), "a new second");
        assertEquals(T0 + 2 * S, gate.nextSecond());
    }

    /** The flood of ChannelFloodIT, a second of it in 64 KiB reads: a few events, whatever the volume. */
    @Test
    void aFloodBecomesAFewEvents() {
        int[] pattern = {26, 26, 1, 5, 17, 99, 26, 99, 10, 45, 45, 115, 101, 116};
        byte[] chunk = bytes(repeat(65536 / pattern.length, pattern));
        List<Event> events = new ArrayList<>();
        long reads = 0;
        for (long t = T0; t < T0 + 120 * S; t += 100 * MS, reads++) {
            events.addAll(gate.read(chunk, 0, chunk.length, t));
        }
        gate.flush().ifPresent(events::add);
        long beats = events.stream().filter(e -> ((VassalSays) e).message() == 26).count();
        long unknown = events.stream().filter(e -> !VassalSays.isKnown(((VassalSays) e).message())).count();
        long statements = events.size() - beats - unknown;
        assertEquals(120, beats, "one a second");
        assertEquals(3, statements, "ready, accepting, loyal once");
        assertEquals(3, unknown, "at the start, a minute later, and the rest at the end");
        long counted = events.stream().filter(e -> !VassalSays.isKnown(((VassalSays) e).message()))
                .mapToLong(e -> ((VassalSays) e).count()).sum();
        assertEquals(reads * (chunk.length / pattern.length) * 8, counted, "every unknown byte is counted");
        assertTrue(events.size() < 130, () -> events.size() + " events");
    }
}
