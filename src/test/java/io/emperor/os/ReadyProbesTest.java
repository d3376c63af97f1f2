package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.emperor.config.Readiness;
import io.emperor.loop.LoopEvent;
import io.emperor.testing.Poll;
import io.emperor.vassal.Event;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readiness probes on the real I/O thread (no emperor): a TCP port that starts to accept, and the
 * tyrant rules for unix sockets, attacked as a tenant would (docs/tyrant.md, "Readiness probes").
 */
class ReadyProbesTest {
    /** nobody: a uid other than the emperor's (tests run as root, or as a user that is not nobody). */
    static final int TENANT = 65534;

    @TempDir
    Path dir;

    final List<LoopEvent> events = java.util.Collections.synchronizedList(new ArrayList<>());
    final IoThread io = new IoThread(events::add);

    {
        io.start();
    }

    @AfterEach
    void close() throws InterruptedException {
        io.close();
    }

    Optional<Event> find(long runId, Class<? extends Event> kind, String text) {
        synchronized (events) {
            return events.stream().filter(e -> e instanceof LoopEvent.ForVassal f && kind.isInstance(f.event()))
                    .map(e -> ((LoopEvent.ForVassal) e).event())
                    .filter(e -> e instanceof Event.Ready r ? r.runId() == runId && r.how().contains(text)
                            : e instanceof Event.NotReady n && n.runId() == runId && n.problem().contains(text))
                    .findFirst();
        }
    }

    Event await(long runId, Class<? extends Event> kind, String text) {
        return Poll.until(kind.getSimpleName() + " '" + text + "' of run " + runId, Poll.WAIT,
                () -> find(runId, kind, text), events::toString);
    }

    @Test
    void aTcpPortThatStartsToAcceptMakesTheRunReady() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        io.start("zeo", 1, new Readiness.Tcp("127.0.0.1", port), -1);
        await(1, Event.NotReady.class, "connect tcp:127.0.0.1:" + port + ": Connection refused");
        assertTrue(find(1, Event.Ready.class, "").isEmpty());
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            await(1, Event.Ready.class, "tcp:127.0.0.1:" + port + " accepts");
        }
        Poll.until("the probe ended", () -> io.probing() == 0); // the metric emperor_io_probes
    }

    /**
     * A listener whose accept queue is full drops SYNs: the connect stays in progress. A try gives
     * up after a second and the probe tries again (it never hangs on one connect).
     */
    @Test
    void aConnectWithoutAnswerIsAFailedTryAfterASecond() throws IOException {
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<java.nio.channels.SocketChannel> queued = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open();
                    c.configureBlocking(false);
                    c.connect(full.getLocalSocketAddress());
                    queued.add(c);
                }
                io.start("zeo", 9, new Readiness.Tcp("127.0.0.1", full.getLocalPort()), -1);
                await(9, Event.NotReady.class, "no answer within 1000 ms");
                assertTrue(find(9, Event.Ready.class, "").isEmpty());
            } finally {
                for (java.nio.channels.SocketChannel c : queued) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aCancelledProbeEnds() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        io.start("zeo", 3, new Readiness.Tcp("127.0.0.1", port), -1);
        await(3, Event.NotReady.class, "Connection refused");
        io.cancel(3);
        Poll.until("the probe ended", () -> io.probing() == 0); // the metric emperor_io_probes
    }

    ServerSocketChannel listen(Path socket) throws IOException {
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        ch.bind(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    @Test
    void aUnixSocketOfTheEmperorsOwnVassalIsProbedAsIs() throws IOException {
        Path socket = dir.resolve("app.sock");
        io.start("app", 4, new Readiness.Unix(socket), -1);
        await(4, Event.NotReady.class, "connect unix:" + socket + ": No such file or directory");
        try (ServerSocketChannel ch = listen(socket)) {
            await(4, Event.Ready.class, "unix:" + socket + " accepts");
        }
    }

    /**
     * The attack: a tenant points its probe at the emperor's control socket (root's, in a
     * directory only root may enter), at a symlink of its own to it, and at a path that does not
     * exist. Each is the same refusal (nothing learnt about root's paths), no connection is made,
     * and a socket the tenant owns is probed.
     */
    @Test
    void aTenantsProbeReachesOnlyASocketOfItsOwn() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root (chown to another user)");
        Path run = Files.createDirectory(dir.resolve("run-emperor"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path control = run.resolve("control.sock");
        try (ServerSocketChannel ch = listen(control)) {
            ch.configureBlocking(false);
            io.start("evil", 5, new Readiness.Unix(control), TENANT);
            Event refused = await(5, Event.NotReady.class, "no socket of uid " + TENANT + " there");

            Path link = dir.resolve("link.sock");
            Files.createSymbolicLink(link, control);
            Files.getFileAttributeView(link, java.nio.file.attribute.PosixFileAttributeView.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).setOwner(lookup().lookupPrincipalByName("nobody"));
            io.start("evil", 6, new Readiness.Unix(link), TENANT);
            await(6, Event.NotReady.class, "no socket of uid " + TENANT + " there");

            Path missing = run.resolve("nothing.sock");
            io.start("evil", 7, new Readiness.Unix(missing), TENANT);
            Event absent = await(7, Event.NotReady.class, "no socket of uid " + TENANT + " there");
            assertEquals(((Event.NotReady) refused).problem().replace(control.toString(), "PATH"),
                    ((Event.NotReady) absent).problem().replace(missing.toString(), "PATH"));
            // Root's socket was never connected to, however often the probes tried.
            assertEquals(null, ch.accept());
            assertTrue(find(5, Event.Ready.class, "").isEmpty() && find(6, Event.Ready.class, "").isEmpty());
        }

        // The tenant's own socket, in a directory of its own: probed.
        Path own = Files.createDirectory(dir.resolve("tenant"));
        Files.setOwner(own, lookup().lookupPrincipalByName("nobody"));
        Path sock = own.resolve("app.sock");
        try (ServerSocketChannel ch = listen(sock)) {
            io.start("app", 8, new Readiness.Unix(sock), TENANT);
            await(8, Event.NotReady.class, "no socket of uid " + TENANT + " there");
            Files.setOwner(sock, lookup().lookupPrincipalByName("nobody"));
            await(8, Event.Ready.class, "unix:" + sock + " accepts");
        }
    }

    static UserPrincipalLookupService lookup() {
        return java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService();
    }
}
