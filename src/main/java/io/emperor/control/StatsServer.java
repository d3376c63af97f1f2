package io.emperor.control;

import io.emperor.log.EmperorLog;
import io.emperor.loop.Clock;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The stats server ({@code stats = ADDR}): the uWSGI Emperor stats JSON ({@link UwsgiStats}) for
 * uwsgitop and other existing tools, and Prometheus text ({@link Metrics}) at {@code GET /metrics}.
 * docs/stats.md is the user's side of it.
 *
 * <p>uWSGI serves its stats inside the emperor loop, blocking, so one slow client stalls every
 * vassal (reference §4.4). Here one thread, {@code emperor-stats}, serves every client with a
 * non-blocking {@link Selector}, and never waits for the loop: it asks the snapshot supplier for a
 * future and goes on; the loop completes the future on its own thread, which only queues the
 * result and wakes the selector. Clients waiting at the same time share one snapshot request, so
 * a flood of connections costs the loop one request at a time, not one per connection.
 *
 * <p>Protocol: uWSGI tools connect and read until EOF without sending anything, HTTP clients send
 * a request first. So a connection that sends nothing within {@link #RAW_WINDOW} (or shuts its
 * side down) gets the raw JSON; one that sends a request gets an HTTP/1.0 answer. Either way the
 * server then closes: it shuts its output down and discards whatever the client still sends until
 * the client closes, so that unread request bytes do not turn the close into a reset that would
 * destroy the answer in flight.
 *
 * <p>Limits, so that no client can hurt another or the emperor: request headers up to
 * {@link #MAX_REQUEST_BYTES} (431 beyond), everything done within {@link #DEADLINE} of the accept
 * (then closed, whatever the state), at most {@link #MAX_CONNECTIONS} connections (more are closed
 * at once).
 *
 * <p>Address: {@code HOST:PORT} is TCP ({@code :PORT} is 127.0.0.1; IPv6 as {@code [::1]:PORT});
 * anything else is a unix socket path (a path with a colon must hold a slash: {@code ./a:1}). The
 * unix socket is made mode 0660: the document lists every vassal with its file, pid and uid, so
 * only the emperor's user and group may read it (uWSGI leaves it to the umask). A stale socket left
 * by a dead emperor is replaced; a live one, or any other kind of file, is an error.
 */
public final class StatsServer implements AutoCloseable {
    static final Duration RAW_WINDOW = Duration.ofMillis(200);
    static final Duration DEADLINE = Duration.ofSeconds(5);
    static final int MAX_CONNECTIONS = 64;
    static final int MAX_REQUEST_BYTES = 8 * 1024;
    /** Turns that failed in a row (outside any connection) before the server gives up. */
    private static final int MAX_FAILED_TURNS = 100;
    private static final String THREAD_NAME = "emperor-stats";
    private static final String JSON_TYPE = "application/json";
    private static final String METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String TEXT_TYPE = "text/plain; charset=utf-8";

    private final String address;
    private final Supplier<CompletableFuture<EmperorStatus>> snapshot;
    private final Clock clock;
    private final long rawWindowNanos;
    private final long deadlineNanos;
    private final int maxConnections;
    /** The connection cap, each connection's deadline and the accept pause ({@link ServerCore}); the stats thread only. */
    private final ServerCore<HttpConnection> core;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Snapshots completed on the loop thread, for the stats thread to serve. */
    private final ConcurrentLinkedQueue<Completed> completed = new ConcurrentLinkedQueue<>();

    // Set by start(); after that touched only by the stats thread (and close() once it has ended).
    private ServerSocketChannel server;
    private Selector selector;
    private SelectionKey acceptKey;
    private Thread thread;
    private String bound;
    /** The socket file this server created, and its identity, so close() removes only that one. */
    private Path socketFile;
    private Object socketFileKey;

    // The stats thread's own state.
    private final List<HttpConnection> connections = new ArrayList<>();
    private final ByteBuffer discard = ByteBuffer.allocate(MAX_REQUEST_BYTES);
    private SnapshotRequest inFlight;
    private boolean fullLogged;

    public StatsServer(String address, Supplier<CompletableFuture<EmperorStatus>> snapshot) {
        this(address, snapshot, RAW_WINDOW, DEADLINE, MAX_CONNECTIONS);
    }

    /** With these limits (injected: the window, the deadline and the connection bound). */
    StatsServer(String address, Supplier<CompletableFuture<EmperorStatus>> snapshot,
                Duration rawWindow, Duration deadline, int maxConnections) {
        this(address, snapshot, rawWindow, deadline, maxConnections, Clock.system());
    }

    /** With the clock of the deadlines, the raw window and the accept pause (injected; the emperor's: the system's). */
    StatsServer(String address, Supplier<CompletableFuture<EmperorStatus>> snapshot,
                Duration rawWindow, Duration deadline, int maxConnections, Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.address = Objects.requireNonNull(address, "address");
        this.snapshot = Objects.requireNonNull(snapshot, "snapshot");
        this.rawWindowNanos = rawWindow.toNanos();
        this.deadlineNanos = deadline.toNanos();
        this.maxConnections = maxConnections;
        this.core = new ServerCore<>(this.clock, maxConnections);
    }

    /** Binds the address and starts the {@code emperor-stats} thread. */
    public synchronized void start() throws IOException {
        if (thread != null || closed.get()) {
            throw new IllegalStateException("stats server already started or closed");
        }
        SocketAddress target = parse(address);
        try {
            server = target instanceof UnixDomainSocketAddress unix ? bindUnix(unix) : bindTcp((InetSocketAddress) target);
            server.configureBlocking(false);
            selector = Selector.open();
            acceptKey = server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            closeResources();
            throw e;
        }
        thread = new Thread(this::run, THREAD_NAME);
        thread.setDaemon(true);
        thread.start();
    }

    /** Where it listens: {@code 127.0.0.1:40123}, {@code [0:0:0:0:0:0:0:1]:9191} or the socket path. */
    public synchronized String boundAddress() {
        return bound;
    }

    /** Stops serving, closes every connection and removes the socket file it created. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null) {
            closeResources();
            return;
        }
        selector.wakeup();
        try {
            t.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- address and binding ----

    /** The address as a socket address; an {@link IOException} says what is wrong with it. */
    static SocketAddress parse(String address) throws IOException {
        String a = address.strip();
        if (a.isEmpty()) {
            throw new IOException("stats: the address is empty (HOST:PORT, :PORT or a unix socket path)");
        }
        if (a.startsWith("[")) {
            int close = a.indexOf("]:");
            if (close < 0) {
                throw new IOException("stats = " + address + ": an IPv6 address is written [ADDR]:PORT");
            }
            InetAddress host = resolve(address, a.substring(1, close));
            if (!(host instanceof Inet6Address)) {
                throw new IOException("stats = " + address + ": not an IPv6 address inside [ ]");
            }
            return new InetSocketAddress(host, port(address, a.substring(close + 2)));
        }
        int colon = a.lastIndexOf(':');
        if (colon < 0 || a.contains("/")) {
            return UnixDomainSocketAddress.of(a);
        }
        String host = a.substring(0, colon);
        if (host.contains(":")) {
            throw new IOException("stats = " + address + ": an IPv6 address is written [ADDR]:PORT");
        }
        int port = port(address, a.substring(colon + 1));
        return new InetSocketAddress(host.isEmpty() ? InetAddress.getLoopbackAddress() : resolve(address, host), port);
    }

    private static int port(String address, String text) throws IOException {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            throw new IOException("stats = " + address + ": bad port '" + text
                    + "' (a unix socket path with a colon must contain a slash, e.g. ./" + address + ")");
        }
        int port = Integer.parseInt(text);
        if (port > 65535) {
            throw new IOException("stats = " + address + ": port " + port + " is out of range (0-65535)");
        }
        return port;
    }

    private static InetAddress resolve(String address, String host) throws IOException {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IOException("stats = " + address + ": unknown host '" + host + "'", e);
        }
    }

    private ServerSocketChannel bindTcp(InetSocketAddress target) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.bind(target, MAX_CONNECTIONS);
        } catch (IOException e) {
            channel.close();
            throw new IOException("stats = " + address + ": cannot listen on " + hostPort(target) + ": " + e.getMessage(), e);
        }
        InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
        bound = hostPort(local);
        return channel;
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (a.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private ServerSocketChannel bindUnix(UnixDomainSocketAddress target) throws IOException {
        Path path = target.getPath();
        removeStaleSocket(path);
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(target, MAX_CONNECTIONS);
        } catch (IOException e) {
            channel.close();
            throw new IOException("stats = " + address + ": cannot listen on " + path + ": " + e.getMessage(), e);
        }
        socketFile = path;
        try {
            socketFileKey = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException e) {
            channel.close();
            throw new IOException("stats = " + address + ": cannot set the mode of " + path + ": " + e.getMessage(), e);
        }
        bound = path.toString();
        return channel;
    }

    /**
     * A socket nobody listens on (left by an emperor that died) is removed; one that answers, or
     * a file that is not a socket, is left alone and refused.
     */
    private void removeStaleSocket(Path path) throws IOException {
        ServerCore.SocketFile found = ServerCore.clearStale(path);
        if (found == ServerCore.SocketFile.NOT_A_SOCKET) {
            throw new IOException("stats = " + address + ": " + path + " exists and is not a socket");
        }
        if (found == ServerCore.SocketFile.IN_USE) {
            throw new IOException("stats = " + address + ": " + path + " is in use by another process");
        }
    }

    /** Closes the listening socket, the selector and every connection; removes our socket file. */
    private void closeResources() {
        for (HttpConnection c : connections) {
            closeQuietly(c.channel);
        }
        connections.clear();
        closeQuietly(server);
        closeQuietly(selector);
        if (socketFile != null) {
            try {
                Object key = Files.readAttributes(socketFile, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                if (Objects.equals(key, socketFileKey)) {
                    Files.delete(socketFile);
                }
            } catch (IOException e) {
                // Gone already, or replaced by another process's socket: nothing of ours to remove.
            }
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            // Closing: nothing more to do with it.
        }
    }

    // ---- the stats thread ----

    private enum Phase { READING, WAITING, WRITING, DRAINING }

    private enum Answer { RAW_JSON, HTTP_JSON, HTTP_METRICS }

    /** One client. */
    private final class HttpConnection {
        final SocketChannel channel;
        final SelectionKey key;
        final long rawAt;
        final ByteBuffer request = ByteBuffer.allocate(MAX_REQUEST_BYTES);
        Phase phase = Phase.READING;
        Answer answer;
        /** The snapshot request it waits for, while {@link Phase#WAITING}. */
        SnapshotRequest waitingFor;
        boolean head;
        ByteBuffer[] response;

        HttpConnection(SocketChannel channel, SelectionKey key, long now) {
            this.channel = channel;
            this.key = key;
            this.rawAt = now + rawWindowNanos;
        }
    }

    /** One call of the snapshot supplier, and the connections waiting for its result. */
    private static final class SnapshotRequest {
        final List<HttpConnection> waiting = new ArrayList<>();
    }

    private record Completed(SnapshotRequest request, EmperorStatus status, Throwable error) {}

    /**
     * One unit of work is one connection's event (or deadline): a failure there drops that
     * connection, is logged, and the thread goes on serving the others. Only a failure of the
     * selector itself, many turns in a row, stops the server; an {@link Error} is logged and
     * rethrown (the default handler ends the emperor with exit 70).
     */
    private void run() {
        int failedTurns = 0;
        try {
            while (!closed.get()) {
                try {
                    turn();
                    failedTurns = 0;
                } catch (IOException | RuntimeException e) {
                    if (++failedTurns >= MAX_FAILED_TURNS) {
                        EmperorLog.error("stats: the server failed " + failedTurns
                                + " times in a row; stats are no longer served", e);
                        return;
                    }
                    EmperorLog.error("stats: unexpected error; going on", e);
                }
            }
        } catch (Error e) {
            fatal("the stats thread", e);
            throw e;
        } finally {
            closeResources();
        }
    }

    private void turn() throws IOException {
        long now = clock.nanoTime();
        expire(now);
        long timeout = nextTimeoutMillis(now);
        if (timeout < 0) {
            selector.selectNow();
        } else {
            selector.select(timeout);
        }
        serveCompleted();
        for (SelectionKey key : selector.selectedKeys()) {
            handle(key);
        }
        selector.selectedKeys().clear();
    }

    private static void fatal(String what, Error e) {
        try {
            EmperorLog.error("stats: fatal error in " + what + ": " + e, e);
        } catch (Throwable ignored) {
            // Logging itself failed (out of memory): the rethrow still reaches the default handler.
        }
    }

    /** Runs one connection's unit of work; a failure drops that connection only. */
    private void guarded(HttpConnection c, Runnable work) {
        try {
            work.run();
        } catch (CancelledKeyException e) {
            drop(c); // closed while its events were pending: nothing left to do
        } catch (RuntimeException e) {
            EmperorLog.error("stats: error on a connection; closing it", e);
            drop(c);
        }
    }

    private void handle(SelectionKey key) {
        if (key == acceptKey) {
            try {
                acceptAll();
            } catch (RuntimeException e) {
                EmperorLog.error("stats: error while accepting; going on", e);
            }
            return;
        }
        HttpConnection c = (HttpConnection) key.attachment();
        guarded(c, () -> {
            if (key.isReadable()) {
                onReadable(c);
            }
            if (key.isValid() && key.isWritable()) {
                write(c);
            }
        });
    }

    /**
     * Accepts what is pending, at most {@link ServerCore#ACCEPTS_PER_WAKE} per wakeup, so that a
     * flood of connects cannot keep the thread from the connections it already has.
     */
    private void acceptAll() {
        for (int i = 0; i < ServerCore.ACCEPTS_PER_WAKE; i++) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                if (core.pauseAccepting(clock.nanoTime())) {
                    EmperorLog.warn("stats: accept failed, pausing for " + ServerCore.ACCEPT_PAUSE.toMillis()
                            + " ms (said at most once a minute): " + e.getMessage());
                }
                acceptKey.interestOps(0);
                return;
            }
            if (channel == null) {
                return;
            }
            if (core.refusal(-1) != null) {
                closeQuietly(channel);
                if (!fullLogged) {
                    fullLogged = true;
                    EmperorLog.warn("stats: " + maxConnections + " connections open, closing new ones at once");
                }
                continue;
            }
            try {
                channel.configureBlocking(false);
                SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
                long now = clock.nanoTime();
                HttpConnection c = new HttpConnection(channel, key, now);
                key.attach(c);
                connections.add(c);
                core.admit(c, -1);
                core.deadline(c, now + deadlineNanos); // from the accept: trickled bytes do not move it
            } catch (IOException e) {
                closeQuietly(channel);
            }
        }
    }

    /** Closes connections past their deadline; answers raw the silent ones past the window. */
    private void expire(long now) {
        if (core.resumeAccepting(now)) {
            acceptKey.interestOps(SelectionKey.OP_ACCEPT);
        }
        for (HttpConnection c : core.expired(now)) {
            if (c.phase == Phase.WAITING && c.waitingFor == inFlight) {
                // The loop did not answer in time; it may have dropped the request: the next
                // client asks again rather than wait on it.
                inFlight = null;
            }
            drop(c);
        }
        for (HttpConnection c : List.copyOf(connections)) {
            if (c.phase == Phase.READING && c.request.position() == 0 && now - c.rawAt >= 0) {
                guarded(c, () -> awaitSnapshot(c, Answer.RAW_JSON));
            }
        }
    }

    /** Milliseconds until the next deadline or raw window ends; 0 = none; -1 = one is due now. */
    private long nextTimeoutMillis(long now) {
        long wake = core.nextWake();
        long next = wake == ServerCore.NONE ? Long.MAX_VALUE : wake - now;
        for (HttpConnection c : connections) {
            if (c.phase == Phase.READING && c.request.position() == 0) {
                next = Math.min(next, c.rawAt - now);
            }
        }
        if (next == Long.MAX_VALUE) {
            return 0;
        }
        return next <= 0 ? -1 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(next + 999_999));
    }

    private void onReadable(HttpConnection c) {
        if (c.phase == Phase.DRAINING) {
            drain(c);
            return;
        }
        int n;
        try {
            n = c.channel.read(c.request);
        } catch (IOException e) {
            drop(c);
            return;
        }
        if (n < 0) {
            if (c.request.position() == 0) {
                // It shut its side down without a word: a stats reader.
                awaitSnapshot(c, Answer.RAW_JSON);
            } else {
                drop(c);
            }
            return;
        }
        String head = requestHead(c.request);
        if (head != null) {
            answerRequest(c, head);
        } else if (!c.request.hasRemaining()) {
            respond(c, error("431 Request Header Fields Too Large"));
        }
    }

    /** The request line and headers once the blank line that ends them has arrived, else null. */
    private static String requestHead(ByteBuffer request) {
        byte[] bytes = request.array();
        int end = request.position();
        for (int i = 1; i < end; i++) {
            if (bytes[i] == '\n' && (bytes[i - 1] == '\n' || i >= 2 && bytes[i - 1] == '\r' && bytes[i - 2] == '\n')) {
                return new String(bytes, 0, i, StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private void answerRequest(HttpConnection c, String head) {
        int eol = head.indexOf('\n');
        String line = (eol < 0 ? head : head.substring(0, eol)).strip();
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/")) {
            respond(c, error("400 Bad Request"));
            return;
        }
        String method = parts[0];
        if (!method.equals("GET") && !method.equals("HEAD")) {
            respond(c, error("405 Method Not Allowed", "Allow: GET, HEAD\r\n"));
            return;
        }
        c.head = method.equals("HEAD");
        int query = parts[1].indexOf('?');
        String path = query < 0 ? parts[1] : parts[1].substring(0, query);
        awaitSnapshot(c, path.equals("/metrics") ? Answer.HTTP_METRICS : Answer.HTTP_JSON);
    }

    /**
     * Queues the connection for a snapshot. The supplier is called only when no request is in
     * flight; one is no longer in flight once answered, or once a connection waiting for it
     * reached its deadline (see {@link #expire}).
     */
    private void awaitSnapshot(HttpConnection c, Answer answer) {
        c.answer = answer;
        c.phase = Phase.WAITING;
        c.key.interestOps(0);
        if (inFlight != null) {
            inFlight.waiting.add(c);
            c.waitingFor = inFlight;
            return;
        }
        SnapshotRequest request = new SnapshotRequest();
        inFlight = request;
        // Waiting before the supplier is asked: if asking fails, dropping the connection also
        // clears the request nobody else waits for (see drop).
        request.waiting.add(c);
        c.waitingFor = request;
        CompletableFuture<EmperorStatus> future;
        try {
            future = Objects.requireNonNull(snapshot.get(), "the snapshot supplier returned null");
        } catch (RuntimeException e) {
            future = CompletableFuture.failedFuture(e);
        }
        // Runs on the thread that completes the future (the emperor loop): queue and wake only.
        Selector wake = selector;
        future.whenComplete((status, error) -> {
            completed.add(new Completed(request, status, error));
            wake.wakeup();
        });
    }

    private void serveCompleted() {
        Completed done;
        while ((done = completed.poll()) != null) {
            if (inFlight == done.request()) {
                inFlight = null;
            }
            List<HttpConnection> waiting = new ArrayList<>();
            for (HttpConnection c : done.request().waiting) {
                if (c.phase == Phase.WAITING && c.channel.isOpen()) {
                    waiting.add(c);
                }
            }
            Throwable error = done.error();
            byte[] json = null;
            byte[] metrics = null;
            if (error == null) {
                try {
                    if (waiting.stream().anyMatch(c -> c.answer != Answer.HTTP_METRICS)) {
                        json = UwsgiStats.json(done.status()).getBytes(StandardCharsets.UTF_8);
                    }
                    if (waiting.stream().anyMatch(c -> c.answer == Answer.HTTP_METRICS)) {
                        metrics = Metrics.prometheus(done.status()).getBytes(StandardCharsets.UTF_8);
                    }
                } catch (RuntimeException e) {
                    error = e;
                }
            }
            if (error != null) {
                EmperorLog.warn("stats: no snapshot to serve: " + error);
            }
            for (HttpConnection c : waiting) {
                Throwable failure = error;
                byte[] j = json;
                byte[] m = metrics;
                guarded(c, () -> answer(c, failure, j, m));
            }
        }
    }

    /** The answer of one waiting connection; the document's bytes are shared by every connection, never copied. */
    private void answer(HttpConnection c, Throwable error, byte[] json, byte[] metrics) {
        if (error != null) {
            if (c.answer == Answer.RAW_JSON) {
                drop(c);
            } else {
                respond(c, error("503 Service Unavailable"));
            }
        } else if (c.answer == Answer.RAW_JSON) {
            respond(c, ByteBuffer.wrap(json));
        } else if (c.answer == Answer.HTTP_METRICS) {
            respond(c, http("200 OK", METRICS_TYPE, metrics, c.head, ""));
        } else {
            respond(c, http("200 OK", JSON_TYPE, json, c.head, ""));
        }
    }

    private static ByteBuffer[] error(String status) {
        return error(status, "");
    }

    private static ByteBuffer[] error(String status, String extraHeaders) {
        byte[] body = (status + "\n").getBytes(StandardCharsets.UTF_8);
        return http(status, TEXT_TYPE, body, false, extraHeaders);
    }

    /** The header, and the body as a view of {@code body} (shared by every client of one snapshot). */
    private static ByteBuffer[] http(String status, String type, byte[] body, boolean headOnly, String extraHeaders) {
        String header = "HTTP/1.0 " + status + "\r\n"
                + "Content-Type: " + type + "\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + extraHeaders
                + "Connection: close\r\n\r\n";
        ByteBuffer h = ByteBuffer.wrap(header.getBytes(StandardCharsets.ISO_8859_1));
        return headOnly ? new ByteBuffer[] {h} : new ByteBuffer[] {h, ByteBuffer.wrap(body)};
    }

    private void respond(HttpConnection c, ByteBuffer raw) {
        respond(c, new ByteBuffer[] {raw});
    }

    private void respond(HttpConnection c, ByteBuffer[] response) {
        c.response = response;
        c.phase = Phase.WRITING;
        write(c);
    }

    /** Writes what the socket takes now; the rest when it is writable again. */
    private void write(HttpConnection c) {
        try {
            c.channel.write(c.response);
            if (c.response[c.response.length - 1].hasRemaining()) {
                c.key.interestOps(SelectionKey.OP_WRITE);
                return;
            }
            c.channel.shutdownOutput();
            c.phase = Phase.DRAINING;
            c.key.interestOps(SelectionKey.OP_READ);
        } catch (IOException e) {
            drop(c);
        }
    }

    /**
     * After the answer: reads and forgets until the client closes (or the deadline). One read per
     * readiness, so that a client that keeps sending cannot keep the thread from the others.
     */
    private void drain(HttpConnection c) {
        try {
            discard.clear();
            if (c.channel.read(discard) < 0) {
                drop(c);
            }
        } catch (IOException e) {
            drop(c);
        }
    }

    private void drop(HttpConnection c) {
        if (c.phase == Phase.WAITING && c.waitingFor != null) {
            c.waitingFor.waiting.remove(c);
            if (c.waitingFor == inFlight && inFlight.waiting.isEmpty()) {
                inFlight = null; // nobody waits for it: the next client asks again
            }
        }
        c.phase = Phase.DRAINING;
        closeQuietly(c.channel);
        connections.remove(c);
        core.closed(c);
        if (connections.size() < maxConnections) {
            fullLogged = false;
        }
    }
}
