package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Listen;
import io.emperor.loop.LoopEvent;
import io.emperor.testing.Poll;
import io.emperor.testing.ProcSelf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The listening sockets of on-demand vassals in the I/O thread's one epoll set (issue 15): the first
 * connection on any of a vassal's sockets is one {@link LoopEvent.Connection}, after which none of them is
 * watched; armed again, a connection still in the backlog is an event at once; disarmed, nothing. The
 * emperor never accepts: the connection waits in the backlog for the vassal.
 */
class IoThreadConnectionsTest {
    private final Queue<LoopEvent> events = new ConcurrentLinkedQueue<>();
    private final ListenSockets sockets = new ListenSockets(new UnixListenBinder(ListenSocketsTest.HELPER,
            (int) ProcessHandle.current().pid(), false), new RecordingWatcher(), 30_000);
    private IoThread io;
    /** The I/O thread's epoll set, whose registrations the tests count from /proc/self/fdinfo. */
    private final int epfd = ProcSelf.newEpollFd(() -> io = new IoThread(events::add));

    IoThreadConnectionsTest() {
        io.start();
    }

    @AfterEach
    void close() throws InterruptedException {
        io.disarm("app");
        io.disarm("other");
        io.close();
        sockets.release("app");
        sockets.release("other");
    }

    private int[] hold(String name, int... ports) {
        List<Listen.Address> a = new java.util.ArrayList<>();
        for (int p : ports) {
            a.add(new Listen.Address.Inet("127.0.0.1", p));
        }
        assertEquals(Optional.empty(), sockets.hold(name, new Listen(a, -1, 16, List.of(), true, false), -1, -1, null));
        return sockets.fds(name);
    }

    private int registrations() {
        return ProcSelf.epollRegistrations(epfd);
    }

    private List<LoopEvent.Connection> connections() {
        return events.stream().filter(LoopEvent.Connection.class::isInstance).map(LoopEvent.Connection.class::cast).toList();
    }

    /** How many connections wait, not accepted, in the accept queue of the socket listening on the port (/proc/net/tcp). */
    static int backlog(int port) throws IOException {
        String hexPort = String.format(":%04X", port);
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 4 && f[1].endsWith(hexPort) && f[3].equals("0A")) {
                return Integer.parseInt(f[4].substring(f[4].indexOf(':') + 1), 16);
            }
        }
        throw new AssertionError("no socket listens on " + port);
    }

    @Test
    void theFirstConnectionIsOneEventAndUnwatchesEverySocketOfTheVassal() throws Exception {
        int before = registrations();
        int p1 = ListenSocketsTest.freePort();
        int p2 = ListenSocketsTest.freePort();
        io.arm("app", 7, hold("app", p1, p2));
        assertEquals(before + 2, registrations(), "both sockets in the one epoll set");
        ListenSocketsTest.connects(p2);
        Poll.until("the connection event", () -> !connections().isEmpty());
        assertEquals(List.of(new LoopEvent.Connection("app", 7)), connections());
        assertEquals(before, registrations(), "neither socket watched any more");
        ListenSocketsTest.connects(p1);
        ListenSocketsTest.connects(p2);
        assertEquals(1, connections().size(), "one event, whatever comes next");
        assertEquals(2, backlog(p2), "never accepted: the connections wait for the vassal");
        assertEquals(1, backlog(p1));
    }

    @Test
    void armedAgainAConnectionStillInTheBacklogIsAnEventAtOnce() throws Exception {
        int port = ListenSocketsTest.freePort();
        int[] fds = hold("app", port);
        io.arm("app", 1, fds);
        ListenSocketsTest.connects(port);
        Poll.until("the first event", () -> connections().size() == 1);
        io.arm("app", 2, fds);
        Poll.until("the second event", () -> connections().size() == 2);
        assertEquals(new LoopEvent.Connection("app", 2), connections().get(1));
        assertEquals(1, backlog(port));
    }

    @Test
    void disarmedNothingComesAndTheSocketsCanBeClosed() throws Exception {
        int before = registrations();
        int port = ListenSocketsTest.freePort();
        int other = ListenSocketsTest.freePort();
        io.arm("app", 1, hold("app", port));
        io.arm("other", 2, hold("other", other));
        io.disarm("app");
        assertEquals(before + 1, registrations(), "only the other vassal's socket");
        sockets.release("app");
        ListenSocketsTest.connects(other);
        Poll.until("the other vassal's event", () -> !connections().isEmpty());
        assertEquals(List.of(new LoopEvent.Connection("other", 2)), connections(), "nothing for the disarmed one");
        assertEquals(before, registrations());
        io.disarm("other"); // after its event: nothing left to do
        assertEquals(before, registrations());
    }

    @Test
    void fiftyVassalsWaitOnTheOneThread() throws Exception {
        int threads = Thread.activeCount();
        int before = registrations();
        List<Integer> ports = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            int port = ListenSocketsTest.freePort();
            ports.add(port);
            io.arm("v" + i, i + 1, hold("v" + i, port));
        }
        try {
            assertEquals(before + 50, registrations());
            assertTrue(Thread.activeCount() <= threads, "no thread per socket");
            ListenSocketsTest.connects(ports.get(17));
            Poll.until("the event", () -> !connections().isEmpty());
            Poll.within(Duration.ofMillis(200), () -> Optional.<Boolean>empty());
            assertEquals(List.of(new LoopEvent.Connection("v17", 18)), connections());
        } finally {
            for (int i = 0; i < 50; i++) {
                io.disarm("v" + i);
                sockets.release("v" + i);
            }
        }
        assertEquals(before, registrations());
    }
}
