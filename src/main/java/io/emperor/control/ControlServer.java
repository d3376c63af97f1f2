package io.emperor.control;

import io.emperor.log.EmperorLog;
import io.emperor.loop.Clock;
import io.emperor.os.LibC;
import io.emperor.os.Native;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import jnr.unixsocket.UnixSocketOptions;

/**
 * The control socket's transport (issue #7): a unix stream socket, one JSON request per line, one
 * JSON answer per line. What a request means is the {@link RequestHandler}'s business.
 *
 * <p><b>One thread</b>, {@code emperor-control}, serves every client with non-blocking sockets and
 * epoll, through the same libc bindings as the I/O thread ({@link io.emperor.os.IoThread}); an
 * eventfd wakes it when another thread queues an answer, finishes a request, or closes the server.
 * jnr-enxio's selector is not used: it would be a second, less tested way of doing what our epoll
 * code already does.
 *
 * <p><b>jnr-unixsocket</b> (DESIGN §10) creates, binds and listens on the socket (it builds the
 * {@code sockaddr_un}) and reads each client's SO_PEERCRED. Clients are accepted with a raw
 * {@code accept4} instead of its {@code accept()}, which was checked and does not fit here: it
 * forces the new socket back to blocking mode, cannot make it close-on-exec atomically, and returns
 * null for every error, so a full fd table (EMFILE, which leaves the listener readable) could not be
 * told from "no client" and would spin the thread.
 *
 * <p><b>Bounded by construction</b>: a connection buffers at most one request line
 * ({@link Limits#maxRequestBytes} + its newline) and at most {@link Limits#maxPendingOutputBytes} of
 * answers; there are at most {@link Limits#maxClients} connections, and one that completes no line
 * for {@link Limits#idleTimeout} while no request is in progress is closed. A slow, silent, huge or
 * garbled client therefore costs a bounded amount of memory and never stalls anyone else.
 *
 * <p><b>One request at a time per connection</b>: after {@code handle} the next line of that
 * connection waits in the buffer until {@link Reply#done()}; when the buffer is full the connection
 * is simply not read any more until then.
 */
public final class ControlServer implements AutoCloseable {
    /**
     * Bounds on what clients may cost; see the class comment and docs/threads.md for the heap they
     * add up to.
     *
     * @param maxClientsPerUser      how many connections one uid may hold, so that one user cannot
     *                               take every slot and lock the others (and the admins) out; root
     *                               and the emperor's own uid are not counted. Followers
     *                               ({@code logs -f}) are connections: this bounds them too
     * @param maxPendingOutputBytes  unsent answer bytes of one connection
     * @param maxUserOutputBytes     unsent answer bytes of all the connections of one uid (root
     *                               and the emperor's own uid aside): 32 followers of a flooding
     *                               vassal that do not read cost this, not 32 times the above
     * @param maxTotalOutputBytes    unsent answer bytes of every connection together
     */
    public record Limits(int maxRequestBytes, int maxClients, Duration idleTimeout, int maxPendingOutputBytes,
                         int maxClientsPerUser, long maxUserOutputBytes, long maxTotalOutputBytes) {
        public static final Limits DEFAULT = new Limits(16 * 1024, 256, Duration.ofSeconds(10), 4 * 1024 * 1024, 32,
                2 * 1024 * 1024, 8 * 1024 * 1024);

        /** Without per-user and total output bounds beyond what the connections add up to. */
        public Limits(int maxRequestBytes, int maxClients, Duration idleTimeout, int maxPendingOutputBytes,
                      int maxClientsPerUser) {
            this(maxRequestBytes, maxClients, idleTimeout, maxPendingOutputBytes, maxClientsPerUser,
                    (long) maxPendingOutputBytes * maxClientsPerUser, (long) maxPendingOutputBytes * maxClients);
        }
    }

    private static final long WAKE_TOKEN = -1;
    private static final long LISTEN_TOKEN = -2;
    private static final int MAX_EVENTS = 64;
    private static final int CHUNK = 64 * 1024;
    private static final int BACKLOG = 128;
    /** sun_path holds 108 bytes, the terminating NUL included. */
    private static final int MAX_SOCKET_PATH_BYTES = 107;

    private final Path path;
    private final Clock clock;
    private final RequestHandler handler;
    private final Limits limits;
    private final LibC c = Native.libc();
    private final int eventSize = Native.EPOLL_EVENT_SIZE;
    private final int dataOffset = Native.EPOLL_DATA_OFFSET;

    /** Connections by epoll token; control thread only. */
    private final Map<Long, ClientConnection> connections = new HashMap<>();
    /** Admission (the caps in all and per uid), idle deadlines and the accept pause; control thread only. */
    private final ServerCore<ClientConnection> core;
    /** Uids the per-user limit does not apply to: root and the emperor's own. */
    private final java.util.Set<Integer> unlimitedUids;
    private final ConcurrentLinkedQueue<ClientConnection> attention = new ConcurrentLinkedQueue<>();
    private final OutputBudget outputBudget;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Object lifecycle = new Object();
    private long nextConnectionId = 1;

    private UnixServerSocketChannel listener;
    private int listenFd = -1;
    private long socketInode;
    private int epfd = -1;
    private int wakeFd = -1;
    private Pointer events;
    private Pointer ioBuffer;
    private Pointer wakeBuffer;
    private volatile Thread thread;
    private volatile boolean closing;
    private boolean closed;
    /** The last {@link Error} logged by {@link #fatal}, so that the thread's last catch does not log it twice. */
    private Error loggedFatal;

    /** How many connections are open (a metric: emperor_control_connections). */
    private volatile int openConnections;

    public ControlServer(Path socket, RequestHandler handler) {
        this(socket, handler, Limits.DEFAULT);
    }

    public ControlServer(Path socket, RequestHandler handler, Limits limits) {
        this(socket, handler, limits, java.util.Set.copyOf(java.util.List.of(0, Native.libc().getuid()))); // one when run as root
    }

    /** With the uids that the per-user limit does not count (injected; the emperor's: root and its own). */
    ControlServer(Path socket, RequestHandler handler, Limits limits, java.util.Set<Integer> unlimitedUids) {
        this(socket, handler, limits, unlimitedUids, Clock.system());
    }

    /** With the clock of the idle timeouts and the accept pause (injected; the emperor's: the system's). */
    ControlServer(Path socket, RequestHandler handler, Limits limits, java.util.Set<Integer> unlimitedUids, Clock clock) {
        this.clock = clock;
        this.path = socket.toAbsolutePath();
        this.handler = handler;
        this.limits = limits;
        this.unlimitedUids = java.util.Set.copyOf(unlimitedUids);
        this.core = new ServerCore<>(clock, limits.maxClients(), limits.maxClientsPerUser(), this.unlimitedUids);
        this.outputBudget = new OutputBudget(limits.maxUserOutputBytes(), limits.maxTotalOutputBytes());
    }

    public Path path() {
        return path;
    }

    /** Binds (mode 0666), starts the thread "emperor-control". Throws IOException with a clear message. */
    public void start() throws IOException {
        synchronized (lifecycle) {
            if (thread != null || closed) {
                throw new IllegalStateException("control server already started or closed");
            }
            if (path.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH_BYTES) {
                throw new IOException("control socket path is longer than " + MAX_SOCKET_PATH_BYTES + " bytes: "
                        + path);
            }
            try {
                Files.createDirectories(path.getParent(),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            } catch (IOException e) {
                throw new IOException("cannot create the directory of the control socket " + path + ": " + e, e);
            }
            removeStaleSocket();
            try {
                bind();
                openEpoll();
            } catch (IOException | RuntimeException e) {
                releaseResources();
                if (socketInode != 0) {
                    removeSocketFile();
                }
                throw e;
            }
            thread = new Thread(this::run, "emperor-control");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /**
     * An existing file at the path: refused unless it is a socket nobody listens on (left by an
     * emperor that died), which is removed.
     */
    private void removeStaleSocket() throws IOException {
        ServerCore.SocketFile found;
        try {
            found = ServerCore.clearStale(path);
        } catch (IOException e) {
            throw new IOException("cannot check the existing socket " + path + ": " + e.getMessage(), e);
        }
        if (found == ServerCore.SocketFile.NOT_A_SOCKET) {
            throw new IOException(path + " exists and is not a socket: refusing to replace it"
                    + " (see `control` in emperor.ini)");
        }
        if (found == ServerCore.SocketFile.IN_USE) {
            throw new IOException("another emperor is listening on " + path);
        }
    }

    private void bind() throws IOException {
        listener = UnixServerSocketChannel.open();
        listenFd = listener.getFD();
        // jnr-unixsocket's socket() has no SOCK_CLOEXEC; the window until this fcntl only matters to a
        // spawn in that instant, and the exec helper closes every other fd before exec anyway.
        if (c.fcntl(listenFd, Native.F_SETFD, Native.FD_CLOEXEC) != 0) {
            throw new IOException("control socket: fcntl(FD_CLOEXEC): " + Native.strerror(Native.errno()));
        }
        listener.configureBlocking(false);
        try {
            listener.socket().bind(new UnixSocketAddress(path.toFile()), BACKLOG);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + path + ": " + e.getMessage(), e);
        }
        socketInode = inode(path);
        // Anyone may connect: rights are checked per request, with the peer's credentials.
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
        } catch (IOException e) {
            throw new IOException("cannot make " + path + " mode 0666: " + e, e);
        }
    }

    private void openEpoll() throws IOException {
        jnr.ffi.Runtime rt = Native.runtime();
        events = Memory.allocateDirect(rt, MAX_EVENTS * eventSize);
        ioBuffer = Memory.allocateDirect(rt, CHUNK);
        wakeBuffer = Memory.allocateDirect(rt, 16);
        epfd = c.epoll_create1(Native.EPOLL_CLOEXEC);
        if (epfd < 0) {
            throw new IOException("control socket: epoll_create1: " + Native.strerror(Native.errno()));
        }
        wakeFd = c.eventfd(0, Native.EFD_CLOEXEC | Native.EFD_NONBLOCK);
        if (wakeFd < 0) {
            throw new IOException("control socket: eventfd: " + Native.strerror(Native.errno()));
        }
        epollCtl(Native.EPOLL_CTL_ADD, wakeFd, WAKE_TOKEN, Native.EPOLLIN);
        epollCtl(Native.EPOLL_CTL_ADD, listenFd, LISTEN_TOKEN, Native.EPOLLIN);
    }

    private static long inode(Path p) throws IOException {
        return (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    /** Asks the control thread to look at a connection: output queued, request done, or overflow (any thread). */
    void needsAttention(ClientConnection conn) {
        if (conn.queuedForAttention.compareAndSet(false, true)) {
            attention.add(conn);
            if (Thread.currentThread() != thread) {
                wake();
            }
        }
    }

    /**
     * Runs {@code task} on the control thread, soon (any thread may call this): work that must
     * not run on the emperor loop, such as turning one state snapshot into the answers of many
     * clients. Tasks queued after {@link #close()} do not run.
     */
    public void execute(Runnable task) {
        tasks.add(task);
        if (Thread.currentThread() != thread && wakeBuffer != null) {
            wake();
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException e) {
                EmperorLog.error("control socket: a task failed; going on", e);
            } catch (Error e) {
                throw fatal("a task", e);
            }
        }
    }

    /** Under the lock that also guards closing the eventfd: a late answer must not write into a reused fd number. */
    private void wake() {
        synchronized (wakeBuffer) {
            if (wakeFd >= 0) {
                wakeBuffer.putLong(0, 1);
                c.write(wakeFd, wakeBuffer, 8);
            }
        }
    }

    private void run() {
        while (!closing) {
            try {
                int n = c.epoll_wait(epfd, events, MAX_EVENTS, core.millisUntilNextWake(clock.nanoTime()));
                if (n < 0) {
                    int err = Native.errno();
                    if (err == Native.EINTR) {
                        continue;
                    }
                    EmperorLog.error("control socket: epoll_wait: " + Native.strerror(err)
                            + "; the control socket stops", null);
                    break;
                }
                for (int i = 0; i < n; i++) {
                    long token = events.getLong((long) i * eventSize + dataOffset);
                    int ready = events.getInt((long) i * eventSize);
                    dispatch(token, ready);
                }
                runTasks();
                serveAttention();
                checkTimers(clock.nanoTime());
            } catch (RuntimeException e) {
                EmperorLog.error("control socket: unexpected error; going on", e);
            } catch (Error e) {
                if (e != loggedFatal) {
                    fatal("the control thread", e);
                }
                shutdown();
                throw e;
            }
        }
        shutdown();
    }

    /**
     * An {@link Error} (out of memory, a stack overflow) is not a unit of work gone wrong: it is
     * logged here, with what failed, and rethrown, so that the thread ends and the default handler
     * ends the emperor (exit 70) for its unit to restart it, rather than serving on in a state
     * nobody can vouch for.
     */
    private Error fatal(String what, Error e) {
        loggedFatal = e;
        try {
            EmperorLog.error("control socket: fatal error in " + what + ": " + e, e);
        } catch (Throwable ignored) {
            // Logging itself failed (out of memory): the rethrow still reaches the default handler.
        }
        return e;
    }

    private void dispatch(long token, int ready) {
        if (token == WAKE_TOKEN) {
            c.read(wakeFd, ioBuffer, 8);
            return;
        }
        if (token == LISTEN_TOKEN) {
            acceptClients();
            return;
        }
        ClientConnection conn = connections.get(token);
        if (conn == null) {
            return; // closed earlier in this batch
        }
        try {
            if ((ready & Native.EPOLLIN) != 0) {
                readFrom(conn);
            }
            if ((ready & Native.EPOLLOUT) != 0 && connections.containsKey(token)) {
                serve(conn);
            }
            if ((ready & (Native.EPOLLHUP | Native.EPOLLERR)) != 0) {
                closeConnection(conn); // both directions are gone: no answer can reach the client
            }
        } catch (RuntimeException e) {
            EmperorLog.error("control socket: error on a connection of pid " + conn.peer.pid() + "; closing it", e);
            closeConnection(conn);
        } catch (Error e) {
            closeConnection(conn);
            throw fatal("a connection of pid " + conn.peer.pid(), e);
        }
    }

    private void acceptClients() {
        for (int i = 0; i < ServerCore.ACCEPTS_PER_WAKE; i++) {
            int fd = c.accept4(listenFd, null, null, Native.SOCK_CLOEXEC | Native.SOCK_NONBLOCK);
            if (fd < 0) {
                int err = Native.errno();
                if (err == Native.EMFILE || err == Native.ENFILE || err == Native.ENOBUFS || err == Native.ENOMEM) {
                    pauseAccepting(err);
                }
                return; // EAGAIN, EINTR, ECONNABORTED: level-triggered epoll brings us back if needed
            }
            Peer peer;
            try {
                var creds = UnixSocketChannel.fromFD(fd).getOption(UnixSocketOptions.SO_PEERCRED);
                peer = new Peer(creds.getPid(), creds.getUid(), creds.getGid());
            } catch (IOException e) {
                EmperorLog.warn("control socket: cannot read the peer credentials of a client: " + e.getMessage());
                c.close(fd);
                continue;
            }
            ServerCore.Refusal refused = core.refusal(peer.uid());
            if (refused == ServerCore.Refusal.FULL) {
                refuseBusy(fd, "too many control clients (" + limits.maxClients() + ")");
                continue;
            }
            if (refused == ServerCore.Refusal.USER_FULL) {
                refuseBusy(fd, "too many control clients of uid " + peer.uid() + " (" + limits.maxClientsPerUser() + ")");
                continue;
            }
            long id = nextConnectionId++;
            ClientConnection conn = new ClientConnection(id, fd, peer, this, lineCapacity(), limits.maxPendingOutputBytes(),
                    outputBudget, !unlimitedUids.contains(peer.uid()));
            core.admit(conn, peer.uid());
            core.deadlineIn(conn, limits.idleTimeout());
            connections.put(id, conn);
            openConnections = connections.size();
            conn.interest = Native.EPOLLIN;
            epollCtl(Native.EPOLL_CTL_ADD, fd, id, conn.interest);
        }
    }

    /** The fd table is full: stop watching the listener for a moment rather than spin on it. */
    private void pauseAccepting(int err) {
        if (core.pauseAccepting(clock.nanoTime())) {
            EmperorLog.warn("control socket: cannot accept clients: " + Native.strerror(err)
                    + "; retrying every " + ServerCore.ACCEPT_PAUSE.toMillis() + " ms (said at most once a minute)");
        }
        epollCtl(Native.EPOLL_CTL_MOD, listenFd, LISTEN_TOKEN, 0);
    }

    /** A client beyond a limit: one line (a fresh socket's buffer has room for it) and close. */
    private void refuseBusy(int fd, String message) {
        byte[] line = (Json.write(new Answers.Failure("busy", message)) + "\n").getBytes(StandardCharsets.UTF_8);
        ioBuffer.put(0, line, 0, line.length);
        c.send(fd, ioBuffer, line.length, Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL);
        c.close(fd);
    }

    /** One read per readiness (fairness between clients; epoll is level-triggered and comes back). */
    private void readFrom(ClientConnection conn) {
        int room = conn.inputRoom();
        if (room <= 0) {
            return;
        }
        long n = c.read(conn.fd, ioBuffer, Math.min(room, CHUNK));
        if (n < 0) {
            int err = Native.errno();
            if (err != Native.EAGAIN && err != Native.EINTR) {
                closeConnection(conn);
            }
            return;
        }
        if (n == 0) {
            conn.inputEnded = true;
        } else {
            conn.appendInput(ioBuffer, (int) n);
        }
        serve(conn);
    }

    /** A request line and its newline. */
    private int lineCapacity() {
        return limits.maxRequestBytes() + 1;
    }

    private void serveAttention() {
        ClientConnection conn;
        while ((conn = attention.poll()) != null) {
            conn.queuedForAttention.set(false);
            if (connections.get(conn.id) == conn) {
                serve(conn);
            }
        }
    }

    /**
     * Brings a connection up to date: takes a finished request, hands the next buffered line to the
     * handler, writes what output the socket accepts, closes when due, and sets the epoll interest.
     */
    private void serve(ClientConnection conn) {
        if (conn.overflowed()) {
            EmperorLog.warn("control socket: client pid " + conn.peer.pid() + " uid " + conn.peer.uid()
                    + " does not read its answers (" + conn.overflowReason() + "); closing it");
            closeConnection(conn);
            return;
        }
        handleLines(conn);
        if (!flush(conn)) {
            closeConnection(conn);
            return;
        }
        if (!conn.requestInProgress && !conn.hasPendingOutput() && (conn.closeWhenFlushed || conn.inputEnded)) {
            closeConnection(conn);
            return;
        }
        boolean wantRead = !conn.inputEnded && !conn.closeWhenFlushed && conn.inputRoom() > 0;
        int interest = (wantRead ? Native.EPOLLIN : 0) | (conn.hasPendingOutput() ? Native.EPOLLOUT : 0);
        if (interest != conn.interest) {
            conn.interest = interest;
            epollCtl(Native.EPOLL_CTL_MOD, conn.fd, conn.id, interest);
        }
    }

    private void handleLines(ClientConnection conn) {
        while (!conn.closeWhenFlushed) {
            if (conn.requestInProgress) {
                if (!conn.takeDone()) {
                    return;
                }
                conn.requestInProgress = false;
                core.deadlineIn(conn, limits.idleTimeout());
            }
            String line = conn.nextLine();
            if (line == null) {
                if (conn.inputRoom() <= 0) {
                    conn.discardInput();
                    conn.send(failure("too-long", "request longer than " + limits.maxRequestBytes() + " bytes"));
                    conn.closeWhenFlushed = true;
                    return;
                }
                if (!conn.inputEnded || !conn.hasInput()) {
                    return;
                }
                line = conn.takeRest(); // a last request without its newline
            }
            if (!line.isBlank()) {
                handleLine(conn, line);
            }
            // A complete line re-arms the idle timeout; a request in progress has none.
            if (conn.requestInProgress) {
                core.noDeadline(conn);
            } else {
                core.deadlineIn(conn, limits.idleTimeout());
            }
        }
    }

    private void handleLine(ClientConnection conn, String line) {
        Map<String, Object> request;
        try {
            request = Json.parseObject(line);
        } catch (Json.ParseException e) {
            conn.send(failure("bad-request", e.getMessage()));
            return;
        }
        conn.requestInProgress = true;
        Reply reply = conn.newReply();
        try {
            if (conn.caller == null) {
                conn.caller = handler.caller(conn.peer); // may read the user database: here, once per connection
            }
            handler.handle(conn.caller, request, reply);
        } catch (RuntimeException e) {
            EmperorLog.error("control socket: the request handler failed on " + shown(line), e);
            reply.send(failure("internal", "the emperor failed on this request: " + e));
            reply.done();
        } catch (Error e) {
            throw fatal("the request handler, on " + shown(line), e);
        }
    }

    /** A request as the log shows it: at most 200 characters. */
    private static String shown(String line) {
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    /** Writes what the socket accepts; false when the connection is broken. */
    private boolean flush(ClientConnection conn) {
        while (true) {
            int n = conn.peekOutput(ioBuffer, CHUNK);
            if (n == 0) {
                return true;
            }
            long sent = c.send(conn.fd, ioBuffer, n, Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL);
            if (sent < 0) {
                int err = Native.errno();
                if (err == Native.EINTR) {
                    continue;
                }
                return err == Native.EAGAIN;
            }
            conn.consumeOutput((int) sent);
        }
    }

    private static Answers.Failure failure(String error, String message) {
        return new Answers.Failure(error, message);
    }

    private void checkTimers(long now) {
        if (core.resumeAccepting(now)) {
            epollCtl(Native.EPOLL_CTL_MOD, listenFd, LISTEN_TOKEN, Native.EPOLLIN);
        }
        for (ClientConnection conn : core.expired(now)) {
            closeConnection(conn);
        }
    }

    private void closeConnection(ClientConnection conn) {
        if (connections.remove(conn.id) == null) {
            return;
        }
        core.closed(conn);
        openConnections = connections.size();
        c.epoll_ctl(epfd, Native.EPOLL_CTL_DEL, conn.fd, null);
        c.close(conn.fd);
        conn.markClosed();
    }

    private void epollCtl(int op, int fd, long token, int interest) {
        synchronized (wakeBuffer) {
            wakeBuffer.putInt(0, interest);
            wakeBuffer.putLong(dataOffset, token);
            if (c.epoll_ctl(epfd, op, fd, wakeBuffer) != 0) {
                throw new IllegalStateException("epoll_ctl fd " + fd + ": " + Native.strerror(Native.errno()));
            }
        }
    }

    /** On the control thread as it ends: every connection's callbacks run, every fd is closed. */
    private void shutdown() {
        for (ClientConnection conn : new ArrayList<>(connections.values())) {
            closeConnection(conn);
        }
        releaseResources();
    }

    private void releaseResources() {
        if (listener != null) {
            try {
                listener.close();
            } catch (IOException e) {
                EmperorLog.warn("control socket: closing the listener: " + e.getMessage());
            }
            listener = null;
            listenFd = -1;
        }
        if (wakeBuffer != null) {
            synchronized (wakeBuffer) {
                if (wakeFd >= 0) {
                    c.close(wakeFd);
                    wakeFd = -1;
                }
            }
        }
        if (epfd >= 0) {
            c.close(epfd);
            epfd = -1;
        }
    }

    /** Stops the thread, closes every connection (their onClose callbacks run), removes the socket file. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            if (thread == null) {
                return;
            }
            closing = true;
            wake();
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            removeSocketFile();
        }
    }

    /** Unlinks the socket only if it is still the one we bound: a newer emperor may have replaced it. */
    private void removeSocketFile() {
        try {
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS) && inode(path) == socketInode) {
                Files.delete(path);
            }
        } catch (IOException e) {
            EmperorLog.warn("control socket: cannot remove " + path + ": " + e.getMessage());
        }
    }

    /** How many clients are connected (any thread; the metric emperor_control_connections). */
    public int connections() {
        return openConnections;
    }

    /** Unsent answer bytes of every connection (any thread; the metric emperor_control_pending_bytes). */
    public long pendingOutputBytes() {
        return outputBudget.total();
    }
}
