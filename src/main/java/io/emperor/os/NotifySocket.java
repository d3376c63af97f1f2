package io.emperor.os;

import io.emperor.log.EmperorLog;
import io.emperor.loop.Clock;
import io.emperor.loop.LoopEvent;
import io.emperor.vassal.NotifyMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * The vassals' notify socket ({@code ready = notify}, {@code watchdog}; docs/vassal.ini.5.md): ONE
 * {@code SOCK_DGRAM} unix socket of the emperor's, {@code notify.sock} in its runtime directory, mode 0666 so that
 * every tenant's vassal may send to it, with {@code SO_PASSCRED}, so that the kernel writes each sender's pid and
 * uid into its datagram. Who may send is not what keeps it safe: what a datagram says counts only for the run
 * {@link NotifySenders} attributes it to by those credentials, so a tenant can speak for its own vassals only. It
 * is read by the I/O thread (its fd in the same epoll set; no thread of its own).
 *
 * <p>Bounds: a datagram larger than {@value NotifyMessage#MAX_DATAGRAM} bytes is dropped; every fd a datagram
 * carries ({@code SCM_RIGHTS}: sd_notify's {@code BARRIER=1} and {@code FDSTORE=1}) is closed at once (received
 * close-on-exec; closing a barrier's fd is its answer); at most {@value #PER_WAKE} datagrams are read per
 * wake-up (the other fds of the round get their turn) and {@value #PER_SECOND} a second, then the socket is out
 * of epoll until the next second (senders then find its queue full); what one run says is <b>coalesced</b>
 * ({@link NotifyMessage#then}) until the loop takes it: one event per run in the loop's queue at most, whatever
 * it sends. Dropped datagrams are counted and logged: the first at once, then at most one line a minute with the
 * counts.
 *
 * <p>I/O thread only, but {@link #close} and the {@code take} of the events it posts (loop thread).
 */
public final class NotifySocket implements AutoCloseable {
    public static final String FILE_NAME = "notify.sock";
    static final int PER_WAKE = 64;
    static final int PER_SECOND = 2_000;
    private static final long MINUTE = 60_000_000_000L;
    private static final long SECOND = 1_000_000_000L;
    private static final int SOCK_DGRAM = 2;
    private static final int SOL_SOCKET = 1;
    private static final int SO_PASSCRED = 16;
    private static final int SCM_RIGHTS = 1;
    private static final int SCM_CREDENTIALS = 2;
    private static final int MSG_TRUNC = 0x20;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int CONTROL = 2048;
    private static final int SUN_PATH = 108;

    private final LibC c = Native.libc();
    private final int fd;
    private final Path path;
    private final NotifySenders senders;
    private final Clock clock;
    private final Consumer<LoopEvent> sink;
    private final Pointer msg = Memory.allocateDirect(Native.runtime(), 64);
    private final Pointer iov = Memory.allocateDirect(Native.runtime(), 16);
    private final Pointer data = Memory.allocateDirect(Native.runtime(), NotifyMessage.MAX_DATAGRAM);
    private final Pointer control = Memory.allocateDirect(Native.runtime(), CONTROL);
    private final byte[] bytes = new byte[NotifyMessage.MAX_DATAGRAM];
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final Map<NotifySenders.Refusal, Long> dropped = new EnumMap<>(NotifySenders.Refusal.class);
    private ChannelReader.Epoll epoll;
    private long token;
    private boolean paused;
    private long second;
    private int thisSecond;
    private long lastLine = Long.MIN_VALUE;
    private long lastError = Long.MIN_VALUE;
    private String lastSender = "";
    // Written by the I/O thread only, read by any (the metrics).
    private volatile long datagrams;
    private volatile long fdsClosed;

    /** What one run said and the loop has not taken yet. */
    private static final class Pending {
        NotifyMessage said = NotifyMessage.NOTHING;
        boolean queued;
    }

    private NotifySocket(int fd, Path path, NotifySenders senders, Clock clock, Consumer<LoopEvent> sink) {
        this.fd = fd;
        this.path = path;
        this.senders = senders;
        this.clock = clock;
        this.sink = sink;
    }

    /**
     * Binds {@code path} (a stale socket there is removed; anything else there is an error), mode 0666,
     * {@code SO_PASSCRED}, non-blocking and close-on-exec.
     */
    public static NotifySocket open(Path path, Containment containment, Clock clock, Consumer<LoopEvent> sink)
            throws IOException {
        return open(path, NotifySenders.of(containment), clock, sink);
    }

    static NotifySocket open(Path path, NotifySenders senders, Clock clock, Consumer<LoopEvent> sink) throws IOException {
        LibC c = Native.libc();
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH) {
            throw new IOException(path + ": longer than a unix socket's " + (SUN_PATH - 1) + " bytes");
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isOther()) {
                throw new IOException(path + " exists and is not a socket");
            }
            Files.delete(path);
        }
        int fd = c.socket(Native.AF_UNIX, SOCK_DGRAM | Native.SOCK_CLOEXEC | Native.SOCK_NONBLOCK, 0);
        if (fd < 0) {
            throw new IOException("socket: " + Native.strerror(Native.errno()));
        }
        Pointer one = Memory.allocateDirect(Native.runtime(), 4);
        one.putInt(0, 1);
        Pointer addr = Memory.allocateDirect(Native.runtime(), 2 + SUN_PATH);
        addr.setMemory(0, 2 + SUN_PATH, (byte) 0);
        addr.putShort(0, (short) Native.AF_UNIX);
        addr.put(2, name, 0, name.length);
        if (c.setsockopt(fd, SOL_SOCKET, SO_PASSCRED, one, 4) != 0 || c.bind(fd, addr, 2 + name.length + 1) != 0) {
            String why = Native.strerror(Native.errno());
            c.close(fd);
            throw new IOException(path + ": " + why);
        }
        try {
            // Sending needs write permission on the socket file: every vassal's uid may write.
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
        } catch (IOException e) {
            c.close(fd);
            Files.deleteIfExists(path);
            throw e;
        }
        return new NotifySocket(fd, path, senders, clock, sink);
    }

    public Path path() {
        return path;
    }

    int fd() {
        return fd;
    }

    /** The I/O thread's epoll (before its start): the socket is read under {@code token}. */
    void register(ChannelReader.Epoll epoll, long token) {
        this.epoll = epoll;
        this.token = token;
        epoll.add(fd, token);
    }

    /** Loop thread (the launcher): a run was spawned; datagrams of its processes count for it from now. */
    public void started(String name, long runId, long pid, int uid) {
        senders.started(name, runId, pid, uid);
    }

    /** Loop thread (the launcher, at the reap): the run is over; what it still has pending is dropped. */
    public void ended(long runId) {
        senders.ended(runId);
        pending.remove(runId);
    }

    /** How many datagrams were read, dropped ones included (any thread; the metric emperor_notify_datagrams_total). */
    public long datagrams() {
        return datagrams;
    }

    /**
     * How many fds that came with datagrams ({@code SCM_RIGHTS}) were closed (any thread; the metric
     * emperor_notify_fds_closed_total).
     */
    public long fdsClosed() {
        return fdsClosed;
    }

    /** I/O thread, the socket is readable: at most {@value #PER_WAKE} datagrams, within the second's budget. */
    void read() {
        long now = clock.nanoTime();
        if (now - second >= SECOND) {
            second = now;
            thisSecond = 0;
        }
        for (int i = 0; i < PER_WAKE; i++) {
            if (thisSecond >= PER_SECOND) {
                pause();
                return;
            }
            if (!receive()) {
                if (thisSecond >= PER_SECOND) {
                    pause(); // an error: rest until the next second
                }
                return;
            }
            thisSecond++;
        }
    }

    /** One datagram; false when there is none. */
    private boolean receive() {
        msg.setMemory(0, 64, (byte) 0);
        iov.putAddress(0, data.address());
        iov.putLong(8, NotifyMessage.MAX_DATAGRAM);
        msg.putAddress(16, iov.address());
        msg.putLong(24, 1);
        msg.putAddress(32, control.address());
        msg.putLong(40, CONTROL);
        long n = c.recvmsg(fd, msg, Native.MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            int err = Native.errno();
            if (err != Native.EAGAIN && err != Native.EINTR) {
                // Not expected of a datagram socket: said at most once a minute, and the socket rests
                // until the next second rather than wake the thread again at once.
                long now = clock.nanoTime();
                if (lastError == Long.MIN_VALUE || now - lastError >= MINUTE) {
                    lastError = now;
                    EmperorLog.warn("notify: recvmsg on " + path + ": " + Native.strerror(err));
                }
                thisSecond = PER_SECOND;
            }
            return err == Native.EINTR;
        }
        datagrams++;
        int flags = msg.getInt(48);
        long controlLength = Math.min(msg.getLong(40), CONTROL);
        long pid = -1;
        int uid = -1;
        for (long off = 0; off + 16 <= controlLength; ) {
            long len = control.getLong(off);
            if (len < 16 || off + len > controlLength) {
                break;
            }
            int level = control.getInt(off + 8);
            int type = control.getInt(off + 12);
            if (level == SOL_SOCKET && type == SCM_CREDENTIALS && len >= 16 + 12) {
                pid = control.getInt(off + 16);
                uid = control.getInt(off + 20);
            } else if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                for (long at = off + 16; at + 4 <= off + len; at += 4) {
                    c.close(control.getInt(at)); // never kept, whoever sent it
                    fdsClosed++;
                }
            }
            off += (len + 7) & ~7L;
        }
        if ((flags & MSG_TRUNC) != 0) {
            drop(NotifySenders.Refusal.TOO_LARGE, pid, uid);
            return true;
        }
        if (pid <= 0) {
            drop(NotifySenders.Refusal.NO_CREDENTIALS, pid, uid);
            return true;
        }
        NotifySenders.Verdict v = senders.attribute(pid, uid);
        if (v.run() == null) {
            drop(v.refusal(), pid, uid);
            return true;
        }
        data.get(0, bytes, 0, (int) n);
        NotifyMessage said = NotifyMessage.parse(bytes, (int) n);
        if (!said.isEmpty()) {
            coalesce(v.run(), said);
        }
        return true;
    }

    /** What the run said joins what it said before and the loop has not taken; one event in the queue at most. */
    private void coalesce(NotifySenders.Run run, NotifyMessage said) {
        Pending p = pending.computeIfAbsent(run.runId(), id -> new Pending());
        boolean post;
        synchronized (p) {
            p.said = p.said.then(said);
            post = !p.queued;
            p.queued = true;
        }
        if (post) {
            sink.accept(new LoopEvent.Notified(run.name(), run.runId(), () -> take(run.runId(), p)));
        }
    }

    /**
     * Loop thread: what the run said since the last take; the next datagram posts a new event. A run that
     * ended meanwhile (its datagram was attributed just before {@link #ended}) leaves nothing behind.
     */
    private NotifyMessage take(long runId, Pending p) {
        NotifyMessage m;
        synchronized (p) {
            m = p.said;
            p.said = NotifyMessage.NOTHING;
            p.queued = false;
        }
        if (senders.run(runId) == null) {
            pending.remove(runId, p);
        }
        return m;
    }

    /**
     * How many runs have something pending or an entry for it; an ended run's goes at its reap (any thread; the
     * metric emperor_notify_runs).
     */
    public int pendingRuns() {
        return pending.size();
    }

    private void drop(NotifySenders.Refusal why, long pid, int uid) {
        dropped.merge(why, 1L, Long::sum);
        lastSender = "pid " + pid + " uid " + uid;
        long now = clock.nanoTime();
        if (lastLine == Long.MIN_VALUE || now - lastLine >= MINUTE) {
            lastLine = now;
            flushDropped();
        }
    }

    /** The drop line: how many datagrams were dropped since the last one, and why. */
    private void flushDropped() {
        if (dropped.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder("notify: dropped ");
        long total = 0;
        StringBuilder why = new StringBuilder();
        for (Map.Entry<NotifySenders.Refusal, Long> e : dropped.entrySet()) {
            total += e.getValue();
            why.append(why.length() == 0 ? "" : ", ").append(e.getValue()).append(' ').append(e.getKey().text);
        }
        sb.append(total).append(total == 1 ? " datagram (" : " datagrams (").append(why)
                .append("; the last from ").append(lastSender).append(')');
        EmperorLog.warn(sb.toString());
        dropped.clear();
    }

    /** The second's budget is spent: out of epoll until the next second. */
    private void pause() {
        if (!paused) {
            paused = true;
            epoll.remove(fd);
        }
    }

    /** After each epoll round: back in epoll once the second is over; a pending drop line once a minute passed. */
    void resume() {
        long now = clock.nanoTime();
        if (paused && now - second >= SECOND) {
            paused = false;
            second = now;
            thisSecond = 0;
            epoll.add(fd, token);
        }
        if (!dropped.isEmpty() && now - lastLine >= MINUTE) {
            lastLine = now;
            flushDropped();
        }
    }

    /** How long the next epoll_wait may last for this socket: until the paused socket's next second, else -1. */
    int waitMillis() {
        if (!paused) {
            return -1;
        }
        long wait = Math.max(0, second + SECOND - clock.nanoTime());
        return (int) ((wait + 999_999) / 1_000_000);
    }

    /** At the emperor's end: the fd closed, the file removed. */
    @Override
    public void close() {
        c.close(fd);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // a stale socket file is removed by the next start
        }
    }
}
