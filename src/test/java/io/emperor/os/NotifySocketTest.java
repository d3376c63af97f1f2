package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.emperor.loop.Clock;
import io.emperor.loop.LoopEvent;
import io.emperor.systemd.Notifier;
import io.emperor.testing.Poll;
import io.emperor.vassal.NotifyMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The notify socket on a real I/O thread, the test's own process as the sender (systemd's Notifier, as the
 * emperor uses it towards systemd): its mode, what is coalesced until the loop takes it, what is dropped.
 */
class NotifySocketTest {
    @TempDir
    Path tmp;

    final long self = ProcessHandle.current().pid();
    final int uid = Native.libc().getuid();
    final Queue<LoopEvent> events = new ConcurrentLinkedQueue<>();
    final Queue<String> logged = new ConcurrentLinkedQueue<>();
    final Logger logger = (Logger) LoggerFactory.getLogger("emperor");
    final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            logged.add(e.getFormattedMessage());
        }
    };
    final NotifySenders senders = new NotifySenders(new NotifySenders.Proc() {
        @Override
        public long processGroup(long pid) {
            return -1;
        }

        @Override
        public Optional<String> cgroup(long pid) {
            return Optional.empty();
        }

        @Override
        public OptionalLong markedRun(long pid) {
            return OptionalLong.empty();
        }
    });
    IoThread io;
    NotifySocket socket;
    Notifier sender;

    void open() throws Exception {
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
        io = new IoThread(events::add);
        socket = NotifySocket.open(tmp.resolve("notify.sock"), senders, Clock.system(), events::add);
        io.watchNotify(socket);
        io.start();
        sender = Notifier.to(tmp.resolve("notify.sock").toString());
    }

    /** One datagram; the socket's queue holds 10 (net.unix.max_dgram_qlen): a full one is tried again. */
    void send(String datagram) {
        Poll.until("the datagram sent", Poll.WAIT, () -> sender.send(datagram).isEmpty());
    }

    @AfterEach
    void close() throws InterruptedException {
        logger.detachAppender(appender);
        if (sender != null) {
            sender.close();
        }
        if (io != null) {
            io.close();
        }
        if (socket != null) {
            socket.close();
        }
    }

    @Test
    void itIsAWorldWritableSocketThatReplacesAStaleOneButNothingElse() throws Exception {
        Files.writeString(tmp.resolve("notify.sock"), "not a socket");
        assertThrows(IOException.class, () -> NotifySocket.open(tmp.resolve("notify.sock"), senders,
                Clock.system(), events::add));
        Files.delete(tmp.resolve("notify.sock"));
        open();
        assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("notify.sock"))));
        socket.close();
        socket = NotifySocket.open(tmp.resolve("notify.sock"), senders, Clock.system(), events::add);
        assertTrue(Files.exists(tmp.resolve("notify.sock")), "a stale socket is replaced");
    }

    @Test
    void whatARunSaysIsCoalescedUntilTheLoopTakesIt() throws Exception {
        open();
        senders.started("app", 7, self, uid);
        send("READY=1\nSTATUS=one");
        LoopEvent.Notified first = (LoopEvent.Notified) Poll.until("the first event", Poll.WAIT,
                () -> Optional.ofNullable(events.peek()), () -> "log: " + logged);
        for (int i = 0; i < 50; i++) {
            send("WATCHDOG=1\nSTATUS=n" + i);
        }
        Poll.until("50 more datagrams read", Poll.WAIT, () -> socket.datagrams() >= 51);
        assertEquals(1, events.size(), "one event in the queue for the run, however much it says");
        assertEquals("app", first.name());
        assertEquals(7, first.runId());
        NotifyMessage m = first.take().get();
        assertTrue(m.ready());
        assertTrue(m.pings());
        assertEquals("n49", m.status());
        events.clear();
        send("STOPPING=1");
        LoopEvent.Notified next = (LoopEvent.Notified) Poll.until("a new event after the take", Poll.WAIT,
                () -> Optional.ofNullable(events.poll()), () -> "log: " + logged);
        assertTrue(next.take().get().stopping());
        assertEquals(1, socket.pendingRuns(), "the run's entry is kept for what it says next");
        socket.ended(7);
        assertEquals(0, socket.pendingRuns(), "nothing is kept of an ended run (emperor_notify_runs)");
    }

    /**
     * Attack: fds sent with a datagram (sd_notify's FDSTORE=1, here by a process of no vassal) are closed at once,
     * none is kept by the emperor's process, and they are counted (emperor_notify_fds_closed_total).
     */
    @Test
    void theFdsADatagramCarriesAreClosedAndCounted() throws Exception {
        open();
        Path secret = Files.writeString(tmp.resolve("secret"), "x");
        Process p = new ProcessBuilder("python3", "-c", String.join("\n",
                "import os, socket, sys",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
                "s.connect(sys.argv[1])",
                "fds = [os.open(sys.argv[2], os.O_RDONLY) for _ in range(3)]",
                "socket.send_fds(s, [b'FDSTORE=1'], fds)"),
                tmp.resolve("notify.sock").toString(), secret.toString()).inheritIO().start();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "python3 sent its datagram");
        assertEquals(0, p.exitValue());
        Poll.until("3 fds closed", Poll.WAIT, () -> socket.fdsClosed() >= 3, () -> "log: " + logged);
        assertEquals(3, socket.fdsClosed());
        assertEquals(1, socket.datagrams());
        List<Path> kept = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).equals(secret)) {
                        kept.add(fd);
                    }
                } catch (IOException e) {
                    // closed meanwhile (the listing's own fd)
                }
            }
        }
        assertEquals(List.of(), kept, "no fd of the sender's file is left open here");
    }

    @Test
    void aDatagramOfNoRunIsDroppedCountedAndSaidOnce() throws Exception {
        open();
        senders.started("app", 7, self + 100_000, uid); // not us
        send("READY=1");
        send("READY=1");
        Poll.until("both read", Poll.WAIT, () -> socket.datagrams() >= 2);
        assertTrue(events.isEmpty());
        Poll.until("the drop line", Poll.WAIT, () -> logged.stream().anyMatch(l -> l.equals(
                "notify: dropped 1 datagram (1 from a process of no vassal; the last from pid " + self + " uid " + uid + ")")));
        assertEquals(1, logged.stream().filter(l -> l.startsWith("notify: dropped")).count(),
                "the second waits for the minute's line: " + logged);
        senders.started("mine", 8, self, uid + 1);
        send("READY=1");
        Poll.until("read", Poll.WAIT, () -> socket.datagrams() >= 3);
        assertTrue(events.isEmpty(), "another uid than the run's: dropped");
        assertEquals(List.of(), List.copyOf(events));
    }
}
