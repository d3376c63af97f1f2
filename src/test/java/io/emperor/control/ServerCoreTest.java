package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server core both servers share (issue 16 §1): the caps, the deadlines (idle and from the
 * accept: a slowloris), the accept pause and the stale socket, on a fake clock, without sockets
 * (but the last) and without waiting.
 */
class ServerCoreTest {
    static final long S = 1_000_000_000L;
    long now = 7000 * S;
    final ServerCore<String> core = new ServerCore<>(() -> now, 3, 2, Set.of(0));

    @Test
    void connectionsAreCappedInAllAndPerUidAndASlotIsFreeOnceClosed() {
        assertNull(core.admit("alice-1", 1001));
        assertNull(core.admit("alice-2", 1001));
        assertEquals(ServerCore.Refusal.USER_FULL, core.admit("alice-3", 1001), "two per uid");
        assertEquals(2, core.ofUser(1001));
        assertNull(core.admit("root-1", 0), "root is not counted per uid");
        assertEquals(0, core.ofUser(0));
        assertEquals(ServerCore.Refusal.FULL, core.admit("root-2", 0), "but counts in all: three");
        assertEquals(ServerCore.Refusal.FULL, core.refusal(1002));
        assertEquals(3, core.size());

        assertTrue(core.closed("alice-1"));
        assertFalse(core.closed("alice-1"), "closed once");
        assertFalse(core.closed("alice-3"), "never admitted");
        assertEquals(1, core.ofUser(1001));
        assertNull(core.admit("alice-3", 1001), "her slot is free again");
        assertEquals(3, core.size());
    }

    @Test
    void anIdleTimeoutIsReArmedByARequestAndSuspendedWhileOneIsInProgress() {
        core.admit("c", 1001);
        assertEquals(ServerCore.NONE, core.deadline("c"), "no deadline before the server sets one");
        core.deadlineIn("c", Duration.ofSeconds(10));
        now += 9 * S;
        assertEquals(List.of(), core.expired(now), "9 s of 10");
        core.deadlineIn("c", Duration.ofSeconds(10)); // a complete request line
        now += 9 * S;
        assertEquals(List.of(), core.expired(now), "re-armed");
        core.noDeadline("c"); // its request is in progress
        now += 3600 * S;
        assertEquals(List.of(), core.expired(now), "a request in progress keeps its connection");
        core.deadlineIn("c", Duration.ofSeconds(10)); // answered
        now += 10 * S;
        assertEquals(List.of("c"), core.expired(now), "closed at 10 s idle, not before");
        core.closed("c");
        assertEquals(List.of(), core.expired(now));
    }

    /** A slowloris that sends a byte now and then: the deadline runs from the accept and nothing moves it. */
    @Test
    void aDeadlineFromTheAcceptHoldsWhateverTheClientTrickles() {
        long accepted = now;
        core.admit("slow", -1);
        core.deadline("slow", accepted + 5 * S);
        core.admit("fast", -1);
        core.deadline("fast", accepted + 5 * S);
        core.closed("fast"); // answered and gone
        for (int i = 0; i < 49; i++) {
            now += S / 10; // a byte every 100 ms: the server does not touch the deadline
            assertEquals(List.of(), core.expired(now), "at " + (now - accepted) / 1e9 + " s");
        }
        assertEquals(100, core.millisUntilNextWake(now), "the server's wait ends at the deadline");
        now = accepted + 5 * S;
        assertEquals(List.of("slow"), core.expired(now));
        assertEquals(0, core.millisUntilNextWake(now));
    }

    @Test
    void theNextWakeIsTheEarliestDeadlineOrTheEndOfTheAcceptPause() {
        assertEquals(-1, core.millisUntilNextWake(now), "nothing to wait for");
        core.admit("a", 1001);
        assertEquals(-1, core.millisUntilNextWake(now), "no deadline yet");
        core.deadline("a", now + 3 * S + 1);
        assertEquals(3001, core.millisUntilNextWake(now), "rounded up: never wakes before the deadline");
        core.pauseAccepting(now);
        assertEquals(ServerCore.ACCEPT_PAUSE.toMillis(), core.millisUntilNextWake(now));
    }

    @Test
    void aFailedAcceptPausesFor250msAndIsSaidAtMostOnceAMinute() {
        assertEquals(Duration.ofMillis(250), ServerCore.ACCEPT_PAUSE, "both servers: docs/control.md, docs/stats.md");
        assertTrue(core.pauseAccepting(now), "the first failure is said");
        assertTrue(core.acceptPaused());
        now += ServerCore.ACCEPT_PAUSE.toNanos() - 1;
        assertFalse(core.resumeAccepting(now), "not before 250 ms");
        now += 1;
        assertTrue(core.resumeAccepting(now));
        assertFalse(core.resumeAccepting(now), "resumed once");
        assertFalse(core.acceptPaused());
        long first = now - ServerCore.ACCEPT_PAUSE.toNanos();
        int failures = 0;
        while (now - first < 60 * S) { // out of fds: a failure every 250 ms
            assertFalse(core.pauseAccepting(now), "not said again within the minute");
            failures++;
            now += ServerCore.ACCEPT_PAUSE.toNanos();
            assertTrue(core.resumeAccepting(now));
        }
        assertEquals(239, failures);
        assertTrue(core.pauseAccepting(now), "said again a minute after the first");
    }

    @Test
    void aStaleSocketIsRemovedALiveOneAndOtherFilesAreLeftAlone(@TempDir Path dir) throws IOException {
        Path none = dir.resolve("none.sock");
        assertEquals(ServerCore.SocketFile.ABSENT, ServerCore.clearStale(none));

        Path file = Files.writeString(dir.resolve("file.sock"), "not a socket");
        assertEquals(ServerCore.SocketFile.NOT_A_SOCKET, ServerCore.clearStale(file));
        assertTrue(Files.exists(file), "left alone");

        Path live = dir.resolve("live.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(live));
            assertEquals(ServerCore.SocketFile.IN_USE, ServerCore.clearStale(live));
            assertTrue(Files.exists(live), "a listening socket is not removed");
        }
        // Closed without unlinking: what an emperor that died leaves behind.
        assertTrue(Files.exists(live));
        assertEquals(ServerCore.SocketFile.STALE_REMOVED, ServerCore.clearStale(live));
        assertFalse(Files.exists(live));
    }
}
