package io.emperor.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.loop.Counts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify datagrams through real sockets: a path and an abstract name. */
class NotifierTest {
    static final Duration WAIT = io.emperor.testing.Poll.WAIT;

    @TempDir
    Path tmp;

    @Test
    void anAtSignNamesAnAbstractSocketAndAPathStaysAPath() {
        assertEquals("\0emperor/notify", Notifier.socketPath("@emperor/notify"));
        assertEquals("/run/systemd/notify", Notifier.socketPath("/run/systemd/notify"));
    }

    @Test
    void withoutNotifySocketNothingIsSent() {
        Notifier n = Notifier.fromEnvironment(Map.of());
        assertFalse(n.enabled());
        assertEquals(Optional.empty(), n.send(Messages.READY));
        assertFalse(Notifier.fromEnvironment(Map.of("NOTIFY_SOCKET", "")).enabled());
    }

    @Test
    void aPathSocketReceivesEachMessageAsOneDatagram() throws Exception {
        try (NotifyListener l = NotifyListener.atPath(tmp.resolve("notify.sock"));
                Notifier n = Notifier.fromEnvironment(Map.of("NOTIFY_SOCKET", l.notifySocket()))) {
            assertTrue(n.enabled());
            assertEquals(Optional.empty(), n.send(Messages.READY));
            assertEquals(Optional.empty(), n.send(Messages.status(new Counts(2, 1, 0))));
            assertEquals(Optional.of("READY=1"), l.next(WAIT));
            assertEquals(Optional.of("STATUS=2 running, 1 backing off, 0 failed"), l.next(WAIT));
        }
    }

    @Test
    void anAbstractSocketIsReachedThroughItsAtName() throws Exception {
        try (NotifyListener l = NotifyListener.abstractName(); Notifier n = Notifier.to(l.notifySocket())) {
            assertTrue(l.notifySocket().startsWith("@"));
            assertEquals(Optional.empty(), n.send(Messages.reloading(123)));
            assertEquals(Optional.of("RELOADING=1\nMONOTONIC_USEC=123"), l.next(WAIT));
        }
    }

    @Test
    void aMissingSocketIsAReasonNotAnException() throws Exception {
        try (Notifier n = Notifier.to(tmp.resolve("nobody-listens").toString())) {
            Optional<String> why = n.send(Messages.READY);
            assertTrue(why.isPresent());
            // and it keeps trying (a new socket each time) once someone listens
            try (NotifyListener l = NotifyListener.atPath(tmp.resolve("nobody-listens"))) {
                assertEquals(Optional.empty(), n.send(Messages.STOPPING));
                assertEquals(Optional.of("STOPPING=1"), l.next(WAIT));
            }
        }
    }

    /** MONOTONIC_USEC must be CLOCK_MONOTONIC: the JVM's nanoTime is, on Linux; python3 reads it independently. */
    @Test
    void theSystemClockIsClockMonotonic() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(new java.io.File("/usr/bin/python3").canExecute(), "no /usr/bin/python3");
        long before = io.emperor.loop.Clock.system().nanoTime();
        Process p = new ProcessBuilder("/usr/bin/python3", "-c",
                "import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        p.waitFor();
        long after = io.emperor.loop.Clock.system().nanoTime();
        long theirs = Long.parseLong(out);
        assertTrue(before <= theirs && theirs <= after, before + " <= " + theirs + " <= " + after);
    }

    @Test
    void messages() {
        assertEquals("READY=1", Messages.READY);
        assertEquals("STOPPING=1", Messages.STOPPING);
        assertEquals("WATCHDOG=1", Messages.WATCHDOG);
        assertEquals("STATUS=0 running, 0 backing off, 3 failed", Messages.status(new Counts(0, 0, 3)));
        assertEquals("RELOADING=1\nMONOTONIC_USEC=5000000", Messages.reloading(5_000_000));
    }
}
