package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.emperor.os.Native;
import java.lang.management.ManagementFactory;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.Test;

/** A control connection's input side, fed as the control thread feeds it. */
class ClientConnectionTest {
    private static final int CHUNK = 64 * 1024;

    /** Heap bytes this thread has allocated so far, as the JVM counts them. */
    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /**
     * Feeds {@code bytes} without a newline as the control thread reads (at most the room left, the
     * buffer dropped once full: a too-long request); how many times the buffer was full.
     */
    private static int feed(ClientConnection conn, Pointer chunk, long bytes, int max) {
        long fed = 0;
        int full = 0;
        while (fed < bytes) {
            int n = Math.min(conn.inputRoom(), CHUNK);
            if (n == 0) {
                assertNull(conn.nextLine(), "no line in it");
                full++;
                conn.discardInput();
                if (conn.inputRoom() != max) { // no assertEquals here: boxing would count on the heap
                    fail("room after the drop: " + conn.inputRoom());
                }
                continue;
            }
            conn.appendInput(chunk, n);
            fed += n;
            if (conn.inputRoom() < 0) {
                fail("room " + conn.inputRoom());
            }
        }
        return full;
    }

    /**
     * 100 MiB without a newline: the buffer grows to the limit and its newline, never past it, so
     * the heap the feeding costs is a few times the limit, not what was sent (after a first
     * connection has warmed the code up: loading and compiling cost once).
     * (ControlServerTest#aHugeRequestWithoutNewlineIsRefusedAndNeverBuffered: the same on a socket.)
     */
    @Test
    void aRequestWithoutNewlineIsNeverBufferedPastTheLimit() {
        int max = ControlServer.Limits.DEFAULT.maxRequestBytes() + 1;
        Pointer chunk = Memory.allocateDirect(Native.runtime(), CHUNK);
        chunk.setMemory(0, CHUNK, (byte) 'x');
        feed(new ClientConnection(1, -1, new Peer(1, 0, 0), null, max, 1 << 20), chunk, 100L << 20, max);
        ClientConnection conn = new ClientConnection(2, -1, new Peer(1, 0, 0), null, max, 1 << 20);
        long before = allocated();
        int full = feed(conn, chunk, 100L << 20, max);
        long cost = allocated() - before;
        assertTrue(full > 1000, "filled up to the limit " + full + " times");
        assertTrue(cost < 8L * max, "the heap it cost: " + cost + " bytes for 100 MiB fed");
    }
}
