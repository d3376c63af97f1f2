package io.emperor.os;

import io.emperor.log.EmperorLog;
import io.emperor.log.LineSplitter;
import io.emperor.log.VassalOutput;
import io.emperor.loop.Clock;
import io.emperor.loop.LoopEvent;
import io.emperor.vassal.Event;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * The one thread that watches every vassal fd with epoll (DESIGN §7): output pipes, exec-helper
 * report pipes, uWSGI emperor channels and pidfds, and the vassals' notify socket ({@link NotifySocket}). It writes
 * vassal output to the log, and posts "exec reached/failed", "process ended" and what a run said on the notify
 * socket to the loop. Thread count stays constant whatever the number of vassals.
 *
 * <p>Ownership: {@link #watch} (loop thread) hands the output and report fds over to this thread,
 * which reads and closes them. The pidfd and the emperor's end of a uWSGI channel stay the
 * launcher's (the loop writes to the channel): this thread only reads them, and stops watching
 * them at EOF or exit; the loop reaps and closes.
 *
 * <p>Fairness: each wake-up reads each ready fd once, at most {@value #CHUNK} bytes of an output
 * pipe (the level-triggered epoll comes back for the rest), so a vassal that writes without
 * pause slows only itself; channels are read by a {@link ChannelReader}, with a read budget and a
 * bound on what one run may have queued.
 *
 * <p>A failure while handling one fd is logged with the vassal's name and ends the watch of that
 * fd only; an {@link Error} is logged, posted as {@link LoopEvent.Fatal} and rethrown.
 */
public final class IoThread implements AutoCloseable, io.emperor.loop.Probes, io.emperor.loop.Connections {
    private static final int OUT = 0;
    private static final int REPORT = 1;
    private static final int PID = 2;
    private static final int CHANNEL = 3;
    private static final long WAKE_TOKEN = -1;
    private static final long SIGNAL_TOKEN = -2;
    private static final long NOTIFY_TOKEN = -3;
    /** The tokens of on-demand vassals' listening sockets: this bit and the id they were armed with. */
    static final long LISTEN_BIT = 1L << 61;
    /** The tokens of unix bind children's answer fds ({@link #awaitAnswer}): both bits and the bind's id. */
    static final long ANSWER_BITS = LISTEN_BIT | ReadyProbes.TOKEN_BIT;
    private static final int CHUNK = 64 * 1024;
    /** At an exit, at most this much is still read from the output pipe before it is closed. */
    private static final int EXIT_DRAIN_LIMIT = 1024 * 1024;
    private static final int REPORT_LIMIT = 4096;
    private static final int MAX_EVENTS = 256;
    private static final String[] FD_KINDS = {"output pipe", "report pipe", "pidfd", "emperor channel"};

    private final LibC c = Native.libc();
    private final Consumer<LoopEvent> sink;
    private final VassalOutput output;
    private final ChannelReader channels;
    private final ReadyProbes probes;
    private final int epfd;
    private final int wakeFd;
    private final Map<Long, RunIo> runs = new ConcurrentHashMap<>();
    private final Pointer events;
    private final Pointer buffer;
    private final Pointer tokenBuf;
    private final byte[] bytes = new byte[CHUNK];
    private final int eventSize = Native.epollEventSize();
    private final int dataOffset = Native.epollDataOffset();
    private final Thread thread;
    private final Clock clock;
    private volatile boolean closing;
    private volatile int signalFd = -1;
    /** The vassals' notify socket, or null ({@link #watchNotify}). */
    private volatile NotifySocket notify;

    /**
     * Fds of one vassal watched until the first readable event on any of them: the listening sockets of an
     * on-demand vassal until their first connection ({@link #arm}), or a unix bind child's answer fd until it is
     * readable or its deadline has passed ({@link #awaitAnswer}).
     */
    private static final class Watched {
        final String name;
        final long id;
        final int[] fds;
        /** Monotonic nanos (the clock's) at which it is given up: an answer's time; Long.MAX_VALUE for none. */
        final long deadline;
        /** Guarded by this: no longer in the epoll set (the event came, its time is up, or the loop took it back). */
        boolean done;

        Watched(String name, long id, int[] fds, long deadline) {
            this.name = name;
            this.id = id;
            this.fds = fds;
            this.deadline = deadline;
        }
    }

    /** By bind id: the answers awaited (few: a bind is rare and takes milliseconds). */
    private final Map<Long, Watched> awaited = new ConcurrentHashMap<>();

    /** On-demand vassals' sockets by arm id: what the I/O thread looks up at an event. */
    private final Map<Long, Watched> listening = new ConcurrentHashMap<>();
    /** By vassal name: loop thread only. */
    private final Map<String, Watched> listeningByName = new java.util.HashMap<>();

    /** The fds of one run, touched only by the I/O thread once registered. */
    private static final class RunIo {
        final String name;
        final VassalOutput.Route route;
        final long runId;
        int outFd;
        int reportFd;
        final int pidfd;
        /** A uWSGI run's emperor channel, else null. */
        ChannelReader.Channel channel;
        final LineSplitter splitter = new LineSplitter();
        final StringBuilder report = new StringBuilder();

        RunIo(VassalOutput.Route route, long runId, int outFd, int reportFd, int pidfd) {
            this.route = route;
            this.name = route.name();
            this.runId = runId;
            this.outFd = outFd;
            this.reportFd = reportFd;
            this.pidfd = pidfd;
        }
    }

    public IoThread(Consumer<LoopEvent> sink) {
        this(sink, new VassalOutput(new io.emperor.log.VassalTails()));
    }

    /** @param output where vassal output lines go; called on this thread only */
    public IoThread(Consumer<LoopEvent> sink, VassalOutput output) {
        this(sink, output, Clock.system());
    }

    /** @param clock the time of what a channel says (its coalescing, {@link ChannelGate}) */
    public IoThread(Consumer<LoopEvent> sink, VassalOutput output, Clock clock) {
        this.sink = sink;
        this.output = output;
        this.clock = clock;
        this.channels = new ChannelReader(epollPort(), clock, sink, this::wake);
        this.probes = new ReadyProbes(new ReadyProbes.Epoll() {
            @Override
            public void addOut(int fd, long token) {
                IoThread.this.add(fd, token, Native.EPOLLOUT);
            }

            @Override
            public void remove(int fd) {
                c.epoll_ctl(epfd, Native.EPOLL_CTL_DEL, fd, null);
            }
        }, clock, sink);
        jnr.ffi.Runtime rt = Native.runtime();
        this.events = Memory.allocateDirect(rt, MAX_EVENTS * eventSize);
        this.buffer = Memory.allocateDirect(rt, CHUNK);
        this.tokenBuf = Memory.allocateDirect(rt, 16);
        this.epfd = c.epoll_create1(Native.EPOLL_CLOEXEC);
        if (epfd < 0) {
            throw new IllegalStateException("epoll_create1: " + Native.strerror(Native.errno()));
        }
        this.wakeFd = c.eventfd(0, Native.EFD_CLOEXEC | Native.EFD_NONBLOCK);
        if (wakeFd < 0) {
            throw new IllegalStateException("eventfd: " + Native.strerror(Native.errno()));
        }
        add(wakeFd, WAKE_TOKEN);
        this.thread = new Thread(this::run, "emperor-io");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /**
     * Starts watching a run. {@code outFd} (or -1 when output goes to a logto file) and
     * {@code reportFd} now belong to this thread; {@code pidfd} stays the caller's, and so does
     * {@code channelFd}, the emperor's end of a uWSGI run's channel (-1 for none). {@code route}:
     * how the run's output lines are routed.
     */
    public void watch(VassalOutput.Route route, long runId, int outFd, int reportFd, int pidfd, int channelFd) {
        RunIo r = new RunIo(route, runId, outFd, reportFd, pidfd);
        if (channelFd >= 0) {
            r.channel = channels.watch(route.name(), runId, channelFd, token(runId, CHANNEL));
        }
        runs.put(runId, r);
        if (outFd >= 0) {
            add(outFd, token(runId, OUT));
        }
        add(reportFd, token(runId, REPORT));
        add(pidfd, token(runId, PID));
    }

    /**
     * Watches the read end of the pipe the native signal handler writes signal numbers to
     * (see {@link SignalHandlers}); each byte becomes a {@link LoopEvent.SignalReceived}.
     */
    public void watchSignals(int readFd) {
        signalFd = readFd;
        add(readFd, SIGNAL_TOKEN);
    }

    /** This thread's epoll set, as the uWSGI channels and the notify socket register their fds in it. */
    private ChannelReader.Epoll epollPort() {
        return new ChannelReader.Epoll() {
            @Override
            public void add(int fd, long token) {
                IoThread.this.add(fd, token);
            }

            @Override
            public void remove(int fd) {
                c.epoll_ctl(epfd, Native.EPOLL_CTL_DEL, fd, null);
            }
        };
    }

    /** Watches the vassals' notify socket (before {@link #start}); the socket stays the caller's to close. */
    public void watchNotify(NotifySocket socket) {
        notify = socket;
        socket.register(epollPort(), NOTIFY_TOKEN);
    }

    /** The vassal is forgotten (loop thread; its runs have ended): drop what its output kept. */
    public void forget(String name) {
        output.forget(name);
    }

    /**
     * The emperor is about to tell a run's vassal something on its channel (loop thread, before
     * the byte goes out): what the vassal says next counts again ({@link ChannelGate#reset}).
     */
    public void told(long runId) {
        RunIo r = runs.get(runId);
        if (r != null && r.channel != null) {
            r.channel.told();
        }
    }

    /** How many runs are probed for readiness now (any thread; the metric emperor_io_probes). */
    public int probing() {
        return probes.probing();
    }

    /** How many runs are watched, each until reaped (any thread; the metric emperor_io_runs). */
    public int watchedRuns() {
        return runs.size();
    }

    private static long token(long runId, int kind) {
        return (runId << 2) | kind;
    }

    private void add(int fd, long token) {
        add(fd, token, Native.EPOLLIN);
    }

    private void add(int fd, long token, int events) {
        synchronized (tokenBuf) {
            tokenBuf.putInt(0, events);
            tokenBuf.putLong(dataOffset, token);
            if (c.epoll_ctl(epfd, Native.EPOLL_CTL_ADD, fd, tokenBuf) != 0) {
                throw new IllegalStateException("epoll_ctl ADD fd " + fd + ": " + Native.strerror(Native.errno()));
            }
        }
    }

    private void run() {
        try {
            while (!closing) {
                int n = c.epoll_wait(epfd, events, MAX_EVENTS, waitMillis());
                if (n < 0) {
                    int err = Native.errno();
                    if (err == Native.EINTR) {
                        continue;
                    }
                    // Without this thread no output and no exit is seen: the emperor must stop.
                    sink.accept(new LoopEvent.Fatal("I/O thread: epoll_wait: " + Native.strerror(err)));
                    return;
                }
                for (int i = 0; i < n; i++) {
                    handle(events.getLong((long) i * eventSize + dataOffset));
                }
                try {
                    channels.resume();
                } catch (RuntimeException e) {
                    EmperorLog.error("bug in the I/O thread (resuming emperor channels)", e);
                }
                NotifySocket n2 = notify;
                if (n2 != null) {
                    try {
                        n2.resume();
                    } catch (RuntimeException e) {
                        EmperorLog.error("bug in the I/O thread (resuming the notify socket)", e);
                    }
                }
                try {
                    probes.runDue();
                } catch (RuntimeException e) {
                    EmperorLog.error("bug in the I/O thread (readiness probes)", e);
                }
                if (!awaited.isEmpty()) {
                    long now = clock.nanoTime();
                    for (Watched a : awaited.values()) {
                        if (a.deadline <= now) {
                            answered(a);
                        }
                    }
                }
            }
        } catch (Error e) {
            // Without this thread no output and no exit is seen: the loop stops every vassal and
            // exits 70, unless the JVM's handler of the Error is faster.
            try {
                EmperorLog.error("the I/O thread ends: " + e, null);
                sink.accept(new LoopEvent.Fatal("I/O thread: " + e));
            } catch (Throwable t) {
                e.addSuppressed(t);
            }
            throw e;
        }
    }

    /** How long epoll may wait: the channels', the probes' and the paused notify socket's next timed work, -1 for none. */
    private int waitMillis() {
        int a = min(channels.waitMillis(), probes.waitMillis());
        NotifySocket n = notify;
        return min(min(a, n == null ? -1 : n.waitMillis()), answerWaitMillis());
    }

    /** Until the first awaited answer's time is up, -1 for none. */
    private int answerWaitMillis() {
        if (awaited.isEmpty()) {
            return -1;
        }
        long first = Long.MAX_VALUE;
        for (Watched a : awaited.values()) {
            first = Math.min(first, a.deadline);
        }
        long left = first - clock.nanoTime();
        return left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
    }

    /** The earlier of two epoll timeouts, -1 meaning none. */
    private static int min(int a, int b) {
        return a < 0 ? b : b < 0 ? a : Math.min(a, b);
    }

    /** Loop thread: probe a run's readiness ({@link ReadyProbes}). */
    @Override
    public void start(String name, long runId, io.emperor.config.Readiness how, int uid) {
        probes.start(name, runId, how, uid);
        wake();
    }

    /** Loop thread: the run has ended; its probe, if any, ends. */
    @Override
    public void cancel(long runId) {
        if (probes.cancel(runId)) {
            wake();
        }
    }

    /**
     * Loop thread: watch an on-demand vassal's listening fds (level-triggered: a connection already in
     * the backlog is an event at once). The fds stay the launcher's; they are only ever in the epoll
     * set, never accepted on.
     */
    @Override
    public void arm(String name, long id, int[] fds) {
        if (id <= 0 || id >= LISTEN_BIT) {
            throw new IllegalArgumentException("arm id " + id);
        }
        disarm(name);
        Watched l = new Watched(name, id, fds.clone(), Long.MAX_VALUE);
        listening.put(id, l);
        listeningByName.put(name, l);
        int added = 0;
        try {
            for (int fd : l.fds) {
                add(fd, LISTEN_BIT | id);
                added++;
            }
        } catch (RuntimeException e) {
            synchronized (l) {
                l.done = true;
                for (int i = 0; i < added; i++) {
                    c.epoll_ctl(epfd, Native.EPOLL_CTL_DEL, l.fds[i], null);
                }
            }
            listening.remove(id);
            listeningByName.remove(name);
            throw e;
        }
    }

    /**
     * Loop thread: stop watching the vassal's listening fds. When this returns, none of them is in the
     * epoll set nor about to be removed from it by this thread: the launcher may close them.
     */
    @Override
    public void disarm(String name) {
        Watched l = listeningByName.remove(name);
        if (l == null) {
            return;
        }
        listening.remove(l.id);
        unwatch(l);
    }

    /** Removes the fds from the epoll set once; false if that was done already. */
    private boolean unwatch(Watched l) {
        synchronized (l) {
            if (l.done) {
                return false;
            }
            l.done = true;
            for (int fd : l.fds) {
                c.epoll_ctl(epfd, Native.EPOLL_CTL_DEL, fd, null);
            }
            return true;
        }
    }

    /**
     * Loop thread: wait for a unix bind child's answer on {@code fd} ({@link ListenSockets.Watcher}): once it
     * is readable, or {@code timeoutMillis} has passed, the loop gets one {@link LoopEvent.BindAnswer}. The fd
     * stays the launcher's; it is only ever in the epoll set here, never read.
     */
    public void awaitAnswer(String name, long id, int fd, long timeoutMillis) {
        if (id <= 0 || (id & ANSWER_BITS) != 0) {
            throw new IllegalArgumentException("bind id " + id);
        }
        Watched a = new Watched(name, id, new int[] {fd}, clock.nanoTime() + timeoutMillis * 1_000_000);
        Watched before = awaited.put(id, a);
        if (before != null) {
            unwatch(before);
        }
        add(fd, ANSWER_BITS | id);
        wake(); // its deadline may be the first
    }

    /** Loop thread: no longer; when this returns, the fd is not in the epoll set, nor about to be removed from it. */
    public void unawaitAnswer(long id) {
        Watched a = awaited.remove(id);
        if (a != null) {
            unwatch(a);
        }
    }

    /** I/O thread: the answer fd is readable, or its time is up: unwatched, the loop told once. */
    private void answered(Watched a) {
        if (awaited.remove(a.id, a) && unwatch(a)) {
            sink.accept(new LoopEvent.BindAnswer(a.name, a.id));
        }
    }

    /** I/O thread: a connection waits on one of a vassal's sockets: all of them are unwatched, the loop told once. */
    private void connection(long token) {
        Watched l = listening.remove(token & ~LISTEN_BIT);
        if (l != null && unwatch(l)) {
            sink.accept(new LoopEvent.Connection(l.name, l.id));
        }
    }

    /** One ready fd: one unit of work, whose failure is logged with the vassal's name and ends the watch of that fd only. */
    private void handle(long token) {
        if (token == NOTIFY_TOKEN) {
            try {
                notify.read();
            } catch (RuntimeException e) {
                EmperorLog.error("bug in the I/O thread (notify socket)", e);
            } catch (Error e) {
                EmperorLog.error("fatal error in the I/O thread (notify socket)", e);
                throw e;
            }
            return;
        }
        if (token == WAKE_TOKEN || token == SIGNAL_TOKEN) {
            try {
                if (token == WAKE_TOKEN) {
                    c.read(wakeFd, buffer, 8); // reset the eventfd: only the loop after it matters
                } else {
                    readSignals();
                }
            } catch (RuntimeException e) {
                EmperorLog.error("bug in the I/O thread (" + (token == WAKE_TOKEN ? "wake-up" : "signal pipe") + ")", e);
            } catch (Error e) {
                EmperorLog.error("fatal error in the I/O thread (" + (token == WAKE_TOKEN ? "wake-up" : "signal pipe") + ")", e);
                throw e;
            }
            return;
        }
        if ((token & ANSWER_BITS) == ANSWER_BITS) {
            try {
                Watched a = awaited.get(token & ~ANSWER_BITS);
                if (a != null) {
                    answered(a);
                }
            } catch (RuntimeException e) {
                EmperorLog.error("bug in the I/O thread (unix bind answers)", e);
            }
            return;
        }
        if ((token & LISTEN_BIT) != 0 && (token & ReadyProbes.TOKEN_BIT) == 0) {
            try {
                connection(token);
            } catch (RuntimeException e) {
                EmperorLog.error("bug in the I/O thread (on-demand sockets)", e);
            }
            return;
        }
        if ((token & ReadyProbes.TOKEN_BIT) != 0) {
            try {
                probes.connected(token);
            } catch (RuntimeException e) {
                EmperorLog.error("bug in the I/O thread (readiness probe)", e);
            }
            return;
        }
        RunIo r = runs.get(token >>> 2);
        if (r == null) {
            return; // already finished earlier in this batch
        }
        int kind = (int) (token & 3);
        try {
            switch (kind) {
                case OUT -> readOutput(r, false);
                case REPORT -> readReport(r);
                case PID -> ended(r);
                case CHANNEL -> channels.read(r.channel);
                default -> { }
            }
        } catch (RuntimeException e) {
            EmperorLog.error(r.name + ": bug in the I/O thread (" + FD_KINDS[kind] + "); that fd is no longer watched", e);
            abandon(r, kind);
        } catch (Error e) {
            EmperorLog.error(r.name + ": fatal error in the I/O thread (" + FD_KINDS[kind] + ")", e);
            throw e;
        }
    }

    /**
     * After a bug while handling one of a run's fds: stop watching that fd, so that the same
     * failure does not come back at every wake-up. A run whose pidfd failed still ends, so the
     * loop reaps it.
     */
    private void abandon(RunIo r, int kind) {
        try {
            switch (kind) {
                case OUT -> {
                    if (r.outFd >= 0) {
                        closeWatched(r.outFd);
                        r.outFd = -1;
                    }
                }
                case REPORT -> {
                    if (r.reportFd >= 0) {
                        closeWatched(r.reportFd);
                        r.reportFd = -1;
                    }
                }
                case CHANNEL -> stopChannel(r);
                case PID -> {
                    stopChannel(r);
                    abandon(r, OUT);
                    abandon(r, REPORT);
                    c.epoll_ctl(epfd, Native.EPOLL_CTL_DEL, r.pidfd, null);
                    if (runs.remove(r.runId) != null) {
                        sink.accept(new LoopEvent.Ended(r.name, r.runId));
                    }
                }
                default -> { }
            }
        } catch (RuntimeException e) {
            EmperorLog.error(r.name + ": bug in the I/O thread while giving up its " + FD_KINDS[kind], e);
        }
    }

    /**
     * Reads the output pipe: one read when {@code drain} is false (fairness between vassals; the
     * level-triggered epoll comes back for more), else until it is empty, closed, or the drain limit.
     */
    private void readOutput(RunIo r, boolean drain) {
        int total = 0;
        while (r.outFd >= 0) {
            long n = c.read(r.outFd, buffer, CHUNK);
            if (n > 0) {
                buffer.get(0, bytes, 0, (int) n);
                output.write(r.route, r.splitter, bytes, 0, (int) n);
                total += (int) n;
                if (!drain || total >= EXIT_DRAIN_LIMIT) {
                    return;
                }
                continue;
            }
            if (n < 0 && Native.errno() == Native.EINTR) {
                continue;
            }
            if (n < 0 && Native.errno() == Native.EAGAIN) {
                return;
            }
            closeOutput(r); // EOF or a read error
        }
    }

    private void readSignals() {
        long n;
        while ((n = c.read(signalFd, buffer, 64)) > 0) {
            for (int i = 0; i < n; i++) {
                int sig = buffer.getByte(i) & 0xff;
                sink.accept(new LoopEvent.SignalReceived(io.emperor.config.Signals.name(sig)));
            }
        }
    }

    private void closeOutput(RunIo r) {
        output.finish(r.route, r.splitter);
        closeWatched(r.outFd);
        r.outFd = -1;
    }

    /**
     * Stops watching {@code fd}, then closes it. Closing alone is not enough: epoll keeps a
     * registration while the open file lives on elsewhere, and during a spawn it does, in the
     * child between its fork and its exec (it inherited every fd of the emperor). An ended pipe
     * whose registration outlives its fd is reported ready (EPOLLHUP) at every wait until that
     * child execs, and the thread spun on it: with 1000 vassals spawned in a burst, about 70 empty
     * wake-ups per spawn, a CPU's worth of them (docs/performance.md, "1000 vassals").
     */
    private void closeWatched(int fd) {
        c.epoll_ctl(epfd, Native.EPOLL_CTL_DEL, fd, null);
        c.close(fd);
    }

    private void readReport(RunIo r) {
        while (r.reportFd >= 0) {
            long n = c.read(r.reportFd, buffer, CHUNK);
            if (n > 0) {
                if (r.report.length() < REPORT_LIMIT) {
                    buffer.get(0, bytes, 0, (int) n);
                    r.report.append(new String(bytes, 0, (int) Math.min(n, REPORT_LIMIT), StandardCharsets.UTF_8));
                }
                continue;
            }
            if (n < 0 && Native.errno() == Native.EINTR) {
                continue;
            }
            if (n < 0 && Native.errno() == Native.EAGAIN) {
                return;
            }
            closeWatched(r.reportFd);
            r.reportFd = -1;
            String text = r.report.toString().strip();
            sink.accept(new LoopEvent.ForVassal(r.name, text.isEmpty()
                    ? new Event.ExecDone(r.runId)
                    : new Event.ExecFailed(r.runId, text)));
        }
    }

    private void stopChannel(RunIo r) {
        if (r.channel != null) {
            channels.stop(r.channel);
        }
    }

    /** Any thread: the I/O thread makes one more round (a paused channel to resume, or {@link #close}). */
    private void wake() {
        synchronized (tokenBuf) {
            tokenBuf.putLong(0, 1);
            c.write(wakeFd, tokenBuf, 8);
        }
    }

    /** The main process is gone: finish its report and output first, so log lines stay in order. */
    private void ended(RunIo r) {
        readReport(r);
        if (r.reportFd >= 0) {
            // The process is gone, and what it wrote is all there will be; the write end is still
            // open elsewhere: in the spawn server, whose thread closes its copies once its clone
            // has exec'd or exited (emperor-exec.c, worker_main), a moment after the pidfd says so.
            closeWatched(r.reportFd);
            r.reportFd = -1;
            String text = r.report.toString().strip();
            if (!text.isEmpty()) {
                sink.accept(new LoopEvent.ForVassal(r.name, new Event.ExecFailed(r.runId, text)));
            }
        }
        if (r.channel != null) {
            channels.drainAtExit(r.channel); // the fd stays open: the launcher closes it at the reap
        }
        readOutput(r, true);
        if (r.outFd >= 0) {
            closeOutput(r);
        }
        c.epoll_ctl(epfd, Native.EPOLL_CTL_DEL, r.pidfd, null);
        runs.remove(r.runId);
        sink.accept(new LoopEvent.Ended(r.name, r.runId));
    }

    @Override
    public void close() throws InterruptedException {
        closing = true;
        wake();
        thread.join(5000);
        for (RunIo r : runs.values()) {
            if (r.outFd >= 0) {
                c.close(r.outFd);
            }
            if (r.reportFd >= 0) {
                c.close(r.reportFd);
            }
        }
        runs.clear();
        probes.closeAll();
        c.close(wakeFd);
        c.close(epfd);
    }
}
