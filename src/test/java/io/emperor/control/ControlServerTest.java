package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.testing.Poll;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control socket's transport on real sockets. Blocking reads are bounded by the class timeout
 * (JDK socket channels are interruptible), so a server that fails to answer or to close fails the
 * test instead of hanging it.
 */
@Timeout(60)
class ControlServerTest {
    private static final Duration DEADLINE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** Answers {"ok":true,"echo":request,"uid":...,"pid":...} at once. */
    private static final RequestHandler ECHO = (peer, request, reply) -> {
        reply.send(echo(peer, request));
        reply.done();
    };

    private static Map<String, Object> echo(Caller peer, Map<String, Object> request) {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("ok", true);
        answer.put("echo", request);
        answer.put("uid", peer.uid());
        answer.put("pid", peer.pid());
        return answer;
    }

    private ControlServer start(RequestHandler handler, ControlServer.Limits limits) throws IOException {
        ControlServer server = new ControlServer(dir.resolve("run/control.sock"), handler, limits);
        server.start();
        toClose.add(server);
        return server;
    }

    private ControlServer startEcho() throws IOException {
        return start(ECHO, ControlServer.Limits.DEFAULT);
    }

    private SocketChannel connect(ControlServer server) throws IOException {
        SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(server.path()));
        toClose.add(ch);
        return ch;
    }

    private static void write(SocketChannel ch, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** One answer line, or null at EOF; blocking. */
    private static String readLine(SocketChannel ch) throws IOException {
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (ch.read(one) < 0) {
                return line.length() == 0 ? null : line.toString();
            }
            char c = (char) one.get(0);
            if (c == '\n') {
                return line.toString();
            }
            line.append(c);
        }
    }

    private static Map<String, Object> answer(SocketChannel ch) throws Exception {
        String line = readLine(ch);
        assertTrue(line != null, "an answer, not EOF");
        return Json.parseObject(line);
    }

    private static void assertEof(SocketChannel ch) throws IOException {
        assertEquals(-1, ch.read(ByteBuffer.allocate(16)), "the server closed the connection");
    }

    /**
     * The server closed a connection that still had unread request bytes: Linux then ends the
     * client's reads with ECONNRESET (once the answers sent before are read) instead of EOF.
     */
    private static void assertClosedWithUnreadInput(SocketChannel ch) {
        try {
            assertEquals(-1, ch.read(ByteBuffer.allocate(16)), "the server closed the connection");
        } catch (IOException connectionReset) {
            assertTrue(String.valueOf(connectionReset.getMessage()).contains("reset"), connectionReset.toString());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> echoed(Map<String, Object> answer) {
        assertEquals(true, answer.get("ok"), () -> "ok answer: " + answer);
        return (Map<String, Object>) answer.get("echo");
    }

    private static void await(String what, BooleanSupplier condition) {
        Poll.until(what, DEADLINE, condition);
    }

    private static long controlThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("emperor-control") && t.isAlive()).count();
    }

    @Test
    void answersWithThePeerCredentialsOnASocketAnyoneMayOpen() throws Exception {
        ControlServer server = startEcho();
        SocketChannel ch = connect(server);
        write(ch, "{\"cmd\":\"status\"}\n");
        Map<String, Object> answer = answer(ch);

        assertEquals(Map.of("cmd", "status"), echoed(answer));
        long myUid = ((Number) Files.getAttribute(server.path(), "unix:uid")).longValue(); // we created it
        assertEquals(myUid, ((Number) answer.get("uid")).longValue());
        assertEquals(ProcessHandle.current().pid(), ((Number) answer.get("pid")).longValue());
        assertEquals(PosixFilePermissions.fromString("rw-rw-rw-"), Files.getPosixFilePermissions(server.path()));
        assertEquals(1, controlThreads());
    }

    @Test
    void silentAndTricklingClientsAreClosedAfterTheIdleTimeoutWhileOthersAreServed() throws Exception {
        Duration idle = Duration.ofMillis(1000);
        ControlServer server = start(ECHO, new ControlServer.Limits(64 * 1024, 256, idle, 1 << 20, 32));
        long begin = System.nanoTime();
        SocketChannel silent = connect(server);
        SocketChannel trickling = connect(server);

        SocketChannel other = connect(server);
        await("all three connected", () -> server.connections() == 3);
        // Until the idle timeout closes the silent and the trickling clients, the third is served;
        // the trickling one keeps sending (a slowloris: bytes, never a line), which must not keep it open.
        for (int i = 0; server.connections() == 3; i++) {
            assertTrue(System.nanoTime() - begin < idle.plus(DEADLINE).toNanos(), "closed at the idle timeout");
            if (i % 16 == 0) { // well under the request limit however fast the round trips are
                try {
                    write(trickling, "{");
                } catch (IOException closedMeanwhile) {
                    break;
                }
            }
            write(other, "{\"n\":" + i + "}\n");
            assertEquals(Map.of("n", (long) i), echoed(answer(other)));
        }

        assertEof(silent);
        assertClosedWithUnreadInput(trickling);
        assertTrue(System.nanoTime() - begin >= idle.toNanos(), "not closed before the idle timeout");
    }

    @Test
    void aHugeRequestWithoutNewlineIsRefusedAndNeverBuffered() throws Exception {
        ControlServer server = startEcho();
        SocketChannel huge = connect(server);
        ByteBuffer megabyte = ByteBuffer.allocate(1 << 20);
        long sent = 0;
        try {
            while (sent < 100L << 20) {
                megabyte.clear();
                while (megabyte.hasRemaining()) {
                    sent += huge.write(megabyte);
                }
            }
        } catch (IOException closedByServer) {
            // expected: the server closes once the limit is passed
        }

        assertEquals(Map.of("ok", false, "error", "too-long", "message", "request longer than 16384 bytes"),
                answer(huge));
        assertClosedWithUnreadInput(huge);
        assertTrue(sent < 100L << 20, "the server stopped reading early, sent " + sent);
        // That the connection buffered at most the limit: ClientConnectionTest, on the heap it costs.

        SocketChannel other = connect(server);
        write(other, "{\"after\":true}\n");
        assertEquals(Map.of("after", true), echoed(answer(other)));
    }

    @Test
    void badJsonIsAnsweredAndTheConnectionServesTheNextLine() throws Exception {
        ControlServer server = startEcho();
        SocketChannel ch = connect(server);
        String expected = assertThrows(Json.ParseException.class, () -> Json.parseObject("{nope")).getMessage();

        write(ch, "{nope\n");
        assertEquals(Map.of("ok", false, "error", "bad-request", "message", expected), answer(ch));
        write(ch, "[1,2]\n\n  \r\n{\"cmd\":\"list\"}\r\n");
        assertEquals("bad-request", answer(ch).get("error"));
        assertEquals(Map.of("cmd", "list"), echoed(answer(ch)), "blank lines ignored, \\r tolerated");
    }

    @Test
    void manyRequestsInOneWriteAreAnsweredInOrder() throws Exception {
        ControlServer server = startEcho();
        SocketChannel ch = connect(server);
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            batch.append("{\"i\":").append(i).append("}\n");
        }
        write(ch, batch.toString());
        for (long i = 0; i < 2000; i++) {
            assertEquals(Map.of("i", i), echoed(answer(ch)));
        }
    }

    @Test
    void twoHundredConcurrentClientsAreAllAnsweredByOneThread() throws Exception {
        ControlServer server = startEcho();
        List<SocketChannel> clients = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            clients.add(connect(server));
        }
        for (int i = 0; i < 200; i++) {
            write(clients.get(i), "{\"client\":" + i + "}\n");
        }
        for (int i = 0; i < 200; i++) {
            assertEquals(Map.of("client", (long) i), echoed(answer(clients.get(i))));
        }
        assertEquals(200, server.connections());
        assertEquals(1, controlThreads(), "one thread whatever the number of clients");
    }

    @Test
    void answersComeLaterFromAnotherThreadOneRequestAtATime() throws Exception {
        ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
        toClose.add(later::shutdownNow);
        AtomicInteger inProgress = new AtomicInteger();
        AtomicBoolean overlapped = new AtomicBoolean();
        ControlServer server = start((peer, request, reply) -> {
            if (inProgress.incrementAndGet() > 1) {
                overlapped.set(true);
            }
            later.schedule(() -> {
                inProgress.decrementAndGet();
                reply.send(echo(peer, request));
                reply.done();
                reply.done(); // a second done() must not release a later request early
            }, 100, TimeUnit.MILLISECONDS);
        }, ControlServer.Limits.DEFAULT);
        SocketChannel ch = connect(server);

        write(ch, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
        for (long n = 1; n <= 3; n++) {
            assertEquals(Map.of("n", n), echoed(answer(ch)));
        }
        assertFalse(overlapped.get(), "the next line waits for done()");
    }

    /** Runs a task on the control thread and waits for it, twice: the timers of the turn before have been checked. */
    private static void roundTrip(ControlServer server) throws InterruptedException {
        for (int i = 0; i < 2; i++) {
            CountDownLatch ran = new CountDownLatch(1);
            server.execute(ran::countDown);
            assertTrue(ran.await(30, TimeUnit.SECONDS), "the control thread runs tasks");
        }
    }

    /**
     * Issue 16 §1: the idle timeout runs on the server's injected clock, so it is tested without
     * waiting for it. A silent client and a slowloris (bytes, never a newline) are closed once the
     * clock passes the timeout, not before; a client whose request is in progress is not closed.
     */
    @Test
    void theIdleTimeoutRunsOnTheInjectedClock() throws Exception {
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(1_000_000_000L);
        java.util.concurrent.CompletableFuture<Reply> held = new java.util.concurrent.CompletableFuture<>();
        RequestHandler handler = (caller, request, reply) -> held.complete(reply); // never answered here
        ControlServer server = new ControlServer(dir.resolve("run/control.sock"), handler,
                new ControlServer.Limits(64 * 1024, 256, Duration.ofSeconds(10), 1 << 20, 32), Set.of(), now::get);
        server.start();
        toClose.add(server);
        SocketChannel silent = connect(server);
        SocketChannel slowloris = connect(server);
        write(slowloris, "{\"n\":");
        SocketChannel busy = connect(server);
        write(busy, "{\"hold\":1}\n");
        held.get(30, TimeUnit.SECONDS);
        Poll.until("3 connections", Poll.WAIT, () -> server.connections() == 3, () -> "" + server.connections());

        now.addAndGet(Duration.ofSeconds(9).toNanos());
        write(slowloris, " 1"); // more bytes, still no line: no reprieve
        roundTrip(server);
        assertEquals(3, server.connections(), "9 s of 10: nobody closed");

        now.addAndGet(Duration.ofSeconds(1).toNanos());
        roundTrip(server);
        assertEof(silent);
        // Its last bytes may still be unread when it is closed: then the kernel resets instead of EOF.
        assertClosedWithUnreadInput(slowloris);
        assertEquals(1, server.connections(), "the request in progress keeps its connection");
        held.get().send(Map.of("n", 1));
        held.get().done();
        assertEquals(Map.of("n", 1L), answer(busy));
        roundTrip(server); // the answer may reach the client before the control thread has taken its done()
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        roundTrip(server);
        assertEof(busy);
    }

    /** Issue 16 §6: the rights (the user database) are read once per connection, on the control thread. */
    @Test
    void theCallerIsResolvedOncePerConnectionOnTheControlThread() throws Exception {
        List<String> resolvedOn = new java.util.concurrent.CopyOnWriteArrayList<>();
        ControlServer server = start(new RequestHandler() {
            @Override
            public Caller caller(Peer peer) {
                resolvedOn.add(Thread.currentThread().getName());
                return new Caller(peer, Rights.Scope.OWN);
            }

            @Override
            public void handle(Caller caller, Map<String, Object> request, Reply reply) {
                Map<String, Object> answer = echo(caller, request);
                answer.put("scope", caller.scope().name());
                reply.send(answer);
                reply.done();
            }
        }, ControlServer.Limits.DEFAULT);
        SocketChannel first = connect(server);
        write(first, "{\"n\":1}\n{\"n\":2}\n");
        assertEquals("OWN", answer(first).get("scope"));
        assertEquals("OWN", answer(first).get("scope"));
        SocketChannel second = connect(server);
        write(second, "{\"n\":3}\n");
        assertEquals("OWN", answer(second).get("scope"));
        assertEquals(List.of("emperor-control", "emperor-control"), resolvedOn, "once per connection");
    }

    @Test
    void aClientThatHalfClosesStillGetsItsAnswerThenEof() throws Exception {
        ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
        toClose.add(later::shutdownNow);
        ControlServer server = start((peer, request, reply) -> later.schedule(() -> {
            reply.send(echo(peer, request));
            reply.done();
        }, 100, TimeUnit.MILLISECONDS), ControlServer.Limits.DEFAULT);
        SocketChannel ch = connect(server);

        write(ch, "{\"n\":1}\n{\"n\":2}");
        ch.shutdownOutput();
        assertEquals(Map.of("n", 1L), echoed(answer(ch)));
        assertEquals(Map.of("n", 2L), echoed(answer(ch)), "a last line without newline at EOF is a request");
        assertEof(ch);
    }

    @Test
    void aFollowerWhoseClientDoesNotReadIsClosedAtTheOutputBound() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        AtomicBoolean refused = new AtomicBoolean();
        AtomicBoolean openAfterRefusal = new AtomicBoolean(true);
        RequestHandler handler = (peer, request, reply) -> {
            if (!request.containsKey("follow")) {
                ECHO.handle(peer, request, reply);
                return;
            }
            reply.onClose(closed::countDown);
            Thread t = new Thread(() -> {
                Map<String, Object> line = Map.of("line", "x".repeat(1000));
                long deadline = System.nanoTime() + DEADLINE.toNanos();
                while (System.nanoTime() < deadline) {
                    if (!reply.send(line)) {
                        refused.set(true);
                        openAfterRefusal.set(reply.isOpen());
                        return;
                    }
                }
            }, "test-follower");
            t.setDaemon(true);
            t.start();
        };
        ControlServer server = start(handler,
                new ControlServer.Limits(64 * 1024, 256, Duration.ofSeconds(10), 64 * 1024, 32));
        SocketChannel deaf = connect(server);
        write(deaf, "{\"follow\":true}\n");

        assertTrue(closed.await(DEADLINE.toSeconds(), TimeUnit.SECONDS), "onClose ran");
        await("the follower saw send() refused", refused::get);
        assertFalse(openAfterRefusal.get());
        SocketChannel other = connect(server);
        write(other, "{\"n\":1}\n");
        assertEquals(Map.of("n", 1L), echoed(answer(other)));
        await("only the other client left", () -> server.connections() == 1);
    }

    /**
     * Many followers of one uid that do not read (32 are allowed) share one bound on unsent
     * answers: they are closed once together they pass it, a client of another uid goes on, and
     * every byte is given back.
     */
    @Test
    void theFollowersOfOneUidShareOneOutputBound() throws Exception {
        List<Reply> followers = new java.util.concurrent.CopyOnWriteArrayList<>();
        RequestHandler handler = (peer, request, reply) -> {
            if (request.containsKey("follow")) {
                followers.add(reply); // answered below, never done
            } else {
                ECHO.handle(peer, request, reply);
            }
        };
        int uid = io.emperor.os.Native.libc().getuid();
        // This test's uid is limited (no uid exempt); 4 followers of 64 KiB each could hold 256 KiB,
        // the uid may hold 128 KiB.
        ControlServer server = new ControlServer(dir.resolve("run/control.sock"), handler,
                new ControlServer.Limits(16 * 1024, 256, Duration.ofSeconds(30), 64 * 1024, 32, 128 * 1024,
                        1024 * 1024), Set.of());
        server.start();
        toClose.add(server);
        List<SocketChannel> deaf = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            SocketChannel ch = connect(server);
            write(ch, "{\"follow\":true}\n");
            deaf.add(ch);
        }
        await("four followers", () -> followers.size() == 4);
        String line = "x".repeat(1000);
        boolean refused = false;
        for (int n = 0; n < 2000 && !refused; n++) {
            for (Reply r : followers) {
                refused |= !r.send(Map.of("line", line));
            }
            assertTrue(server.pendingOutputBytes() <= 128 * 1024, "pending " + server.pendingOutputBytes());
        }
        assertTrue(refused, "the uid's followers were cut off");
        await("the deaf followers closed", () -> followers.stream().filter(Reply::isOpen).count() < 4);
        for (Reply r : followers) {
            r.send(Map.of("line", line)); // closed ones refuse; keep the open ones honest
        }
        assertTrue(server.pendingOutputBytes() <= 128 * 1024);
        for (SocketChannel ch : deaf) {
            ch.close();
        }
        await("every follower closed", () -> followers.stream().noneMatch(Reply::isOpen));
        await("every unsent byte given back", () -> server.pendingOutputBytes() == 0);
    }

    @Test
    void aClientThatGoesAwayDuringARequestClosesItsConnection() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<Reply> handed = new AtomicReference<>();
        ControlServer server = start((peer, request, reply) -> {
            reply.onClose(closed::countDown); // a follower: never done
            handed.set(reply);
        }, ControlServer.Limits.DEFAULT);
        SocketChannel ch = connect(server);
        write(ch, "{\"follow\":true}\n");
        await("request handled", () -> handed.get() != null);
        assertTrue(handed.get().isOpen());

        ch.close();
        assertTrue(closed.await(DEADLINE.toSeconds(), TimeUnit.SECONDS), "onClose ran");
        await("connection dropped", () -> server.connections() == 0);
        Reply reply = handed.get();
        assertFalse(reply.isOpen());
        assertFalse(reply.send(Map.of("line", "late")));
        AtomicBoolean ranAtOnce = new AtomicBoolean();
        reply.onClose(() -> ranAtOnce.set(true));
        assertTrue(ranAtOnce.get(), "a callback added after the close runs at once");
    }

    /**
     * A handler that throws (a bug reached by one request) costs that request only: its client is
     * told "internal", may send the next request, and every other client is served by the same
     * thread; a task and a close callback that throw do not end the thread either.
     */
    @Test
    void aRequestThatMakesTheHandlerThrowLeavesTheServerServingOthers() throws Exception {
        AtomicReference<ControlServer> self = new AtomicReference<>();
        ControlServer server = start((peer, request, reply) -> {
            if (request.containsKey("boom")) {
                reply.onClose(() -> {
                    throw new IllegalStateException("injected close failure");
                });
                self.get().execute(() -> {
                    throw new IllegalStateException("injected task failure");
                });
                throw new IllegalStateException("injected handler failure");
            }
            ECHO.handle(peer, request, reply);
        }, ControlServer.Limits.DEFAULT);
        self.set(server);
        SocketChannel bomber = connect(server);
        SocketChannel other = connect(server);

        write(bomber, "{\"boom\":1}\n");
        Map<String, Object> failed = answer(bomber);
        assertEquals("internal", failed.get("error"), failed.toString());
        assertTrue(String.valueOf(failed.get("message")).contains("injected handler failure"), failed.toString());
        write(bomber, "{\"after\":1}\n");
        assertEquals(Map.of("after", 1L), echoed(answer(bomber)), "the same connection goes on");
        bomber.close();
        await("the bomber's connection closed", () -> server.connections() == 1);

        write(other, "{\"other\":1}\n");
        assertEquals(Map.of("other", 1L), echoed(answer(other)));
        SocketChannel late = connect(server);
        write(late, "{\"late\":1}\n");
        assertEquals(Map.of("late", 1L), echoed(answer(late)));
        assertEquals(1, controlThreads());
    }

    @Test
    void aClientBeyondMaxClientsIsToldBusyAndClosed() throws Exception {
        ControlServer server = start(ECHO, new ControlServer.Limits(64 * 1024, 2, Duration.ofSeconds(10), 1 << 20, 32));
        SocketChannel first = connect(server);
        SocketChannel second = connect(server);
        for (SocketChannel ch : List.of(first, second)) {
            write(ch, "{}\n");
            echoed(answer(ch));
        }

        SocketChannel third = connect(server);
        assertEquals(Map.of("ok", false, "error", "busy", "message", "too many control clients (2)"), answer(third));
        assertEof(third);
        write(first, "{\"still\":true}\n");
        assertEquals(Map.of("still", true), echoed(answer(first)));
    }

    @Test
    void oneUserCannotTakeEverySlot() throws Exception {
        // No uid exempt here (the server would exempt root and its own uid, which this test runs as).
        ControlServer server = new ControlServer(dir.resolve("run/control.sock"), ECHO,
                new ControlServer.Limits(64 * 1024, 256, Duration.ofSeconds(10), 1 << 20, 2), Set.of());
        server.start();
        toClose.add(server);
        SocketChannel first = connect(server);
        SocketChannel second = connect(server);
        for (SocketChannel ch : List.of(first, second)) {
            write(ch, "{}\n");
            echoed(answer(ch));
        }
        SocketChannel third = connect(server);
        int uid = io.emperor.os.Native.libc().getuid();
        assertEquals(Map.of("ok", false, "error", "busy", "message", "too many control clients of uid " + uid + " (2)"),
                answer(third));
        assertEof(third);
        // A slot freed is a slot again.
        first.close();
        await("the first connection to be gone", () -> server.connections() == 1);
        SocketChannel fourth = connect(server);
        write(fourth, "{\"again\":true}\n");
        assertEquals(Map.of("again", true), echoed(answer(fourth)));
    }

    @Test
    void aStaleSocketIsReplacedALiveOneAndOtherFilesAreRefused() throws Exception {
        Path path = dir.resolve("run/control.sock");
        Files.createDirectories(path.getParent());
        try (ServerSocketChannel dead = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(path)); // closed without unlinking: a stale socket
        }
        ControlServer server = startEcho();
        SocketChannel ch = connect(server);
        write(ch, "{}\n");
        echoed(answer(ch));

        ControlServer second = new ControlServer(path, ECHO);
        IOException live = assertThrows(IOException.class, second::start);
        assertEquals("another emperor is listening on " + path, live.getMessage());
        second.close();
        write(ch, "{\"n\":2}\n");
        assertEquals(Map.of("n", 2L), echoed(answer(ch)), "the first server is untouched");

        Path plain = dir.resolve("plain");
        Files.writeString(plain, "not a socket");
        IOException notSocket = assertThrows(IOException.class, () -> new ControlServer(plain, ECHO).start());
        assertTrue(notSocket.getMessage().contains("is not a socket"), notSocket.getMessage());
        assertEquals("not a socket", Files.readString(plain));
    }

    @Test
    void closeRunsCallbacksClosesClientsAndRemovesTheSocket() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        AtomicBoolean handled = new AtomicBoolean();
        ControlServer server = start((peer, request, reply) -> {
            reply.onClose(closed::countDown); // never answers: a request in progress forever
            handled.set(true);
        }, ControlServer.Limits.DEFAULT);
        SocketChannel ch = connect(server);
        write(ch, "{}\n");
        await("request handled", handled::get);

        server.close();
        server.close();
        assertTrue(closed.await(DEADLINE.toSeconds(), TimeUnit.SECONDS), "onClose ran");
        assertEof(ch);
        assertFalse(Files.exists(server.path()));
        assertEquals(0, controlThreads());
    }

    @Test
    void everyServerFdIsCloseOnExecAndNoneLeaksAfterFiveHundredConnections() throws Exception {
        ControlServer server = startEcho();
        int fdsBefore = openFds().size();
        for (int i = 0; i < 500; i++) {
            try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(server.path()))) {
                write(ch, "{\"i\":" + i + "}\n");
                assertEquals(Map.of("i", (long) i), echoed(answer(ch)));
            }
        }
        await("every connection closed", () -> server.connections() == 0);
        await("fds back to " + fdsBefore, () -> openFds().size() <= fdsBefore);

        SocketChannel held = connect(server);
        write(held, "{}\n");
        echoed(answer(held));
        Set<String> serverSockets = socketInodesBoundTo(server.path());
        assertTrue(serverSockets.size() >= 2, "the listener and the accepted client: " + serverSockets);
        int checked = 0;
        for (Path fd : openFds()) {
            String target = readLink(fd);
            if (target != null && serverSockets.contains(target)) {
                String flags = Files.readAllLines(Path.of("/proc/self/fdinfo", fd.getFileName().toString())).stream()
                        .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
                long octal = Long.parseLong(flags.substring("flags:".length()).trim(), 8);
                assertNotEquals(0, octal & 02000000, "fd " + fd.getFileName() + " is close-on-exec: " + flags);
                assertNotEquals(0, octal & 04000, "fd " + fd.getFileName() + " is non-blocking: " + flags);
                checked++;
            }
        }
        assertTrue(checked >= 2, "checked the listener and the client fd, checked " + checked);
    }

    private static List<Path> openFds() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String readLink(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString();
        } catch (IOException e) {
            return null; // closed meanwhile
        }
    }

    /** "socket:[INODE]" of every socket bound to the path: the listener and what it accepted (/proc/net/unix). */
    private static Set<String> socketInodesBoundTo(Path path) throws IOException {
        Set<String> inodes = new HashSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 8 && f[7].equals(path.toString())) {
                inodes.add("socket:[" + f[6] + "]");
            }
        }
        return inodes;
    }
}
