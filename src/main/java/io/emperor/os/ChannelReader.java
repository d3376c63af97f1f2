package io.emperor.os;

import io.emperor.log.EmperorLog;
import io.emperor.loop.Clock;
import io.emperor.loop.LoopEvent;
import io.emperor.vassal.Event;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * How the I/O thread reads the uWSGI emperor channels (DESIGN §4; issue 11: a flood starves
 * nobody). Each wake-up reads a ready channel once, at most {@value #CHUNK} bytes, through the
 * run's {@link ChannelGate} (a flood becomes a few events). A channel is out of epoll ("paused")
 * while its second's read budget ({@value #BYTES_PER_SECOND} bytes) is spent, or while
 * {@value #QUEUE_LIMIT} of its events wait in the loop's queue, until the loop has taken half:
 * the vassal's writes then fill the socket and block, and the emperor does next to no work for it.
 *
 * <p>I/O thread only, except {@link Channel#told} and the {@code taken} callback of the events
 * it posts, which the loop thread runs.
 */
final class ChannelReader {
    /** One read of a channel takes at most this much (a message is one byte). */
    static final int CHUNK = 4096;
    static final int BYTES_PER_SECOND = ChannelGate.BYTES_PER_SECOND;
    /** Events of one run that may wait in the loop's queue; then its channel pauses. */
    static final int QUEUE_LIMIT = 32;
    /** A paused channel is read again once no more than this many of its events wait. */
    static final int RESUME_AT = QUEUE_LIMIT / 2;
    /** At an exit, at most this much is still read from the channel. */
    private static final int EXIT_LIMIT = 64 * 1024;

    /** Registration in the I/O thread's epoll. */
    interface Epoll {
        void add(int fd, long token);

        void remove(int fd);
    }

    /** One run's channel: the emperor's end, which stays the launcher's (it closes it at the reap). */
    static final class Channel {
        final String name;
        final long runId;
        private final long token;
        private int fd;
        private final ChannelGate gate;
        /** Events posted and not yet taken by the loop (both threads). */
        private final AtomicInteger queued = new AtomicInteger();
        /** Out of epoll; read by the loop to know whether to wake the I/O thread. */
        private volatile boolean paused;
        /** How often the emperor told the vassal something (the loop counts, the I/O thread compares). */
        private final AtomicLong told = new AtomicLong();
        private long toldSeen;
        /** Paused for its read budget until resumeAt, not only for the queue. */
        private boolean throttled;
        private long resumeAt;

        private Channel(String name, long runId, int fd, long token) {
            this.name = name;
            this.runId = runId;
            this.fd = fd;
            this.token = token;
            this.gate = new ChannelGate(runId);
        }

        /**
         * Loop thread, just before the emperor writes a byte to the channel: what the vassal says
         * next counts again ({@link ChannelGate#reset}).
         */
        void told() {
            told.incrementAndGet();
        }

        boolean isOpen() {
            return fd >= 0;
        }
    }

    private final LibC c = Native.libc();
    private final Epoll epoll;
    private final Clock clock;
    private final Consumer<LoopEvent> sink;
    /** Wakes the I/O thread for one more round (any thread). */
    private final Runnable wake;
    private final Pointer buffer = Memory.allocateDirect(Native.runtime(), CHUNK);
    private final byte[] bytes = new byte[CHUNK];
    private final Set<Channel> paused = new LinkedHashSet<>();

    ChannelReader(Epoll epoll, Clock clock, Consumer<LoopEvent> sink, Runnable wake) {
        this.epoll = epoll;
        this.clock = clock;
        this.sink = sink;
        this.wake = wake;
    }

    /** Starts watching a run's channel under {@code token} (any thread, before the run's first event). */
    Channel watch(String name, long runId, int fd, long token) {
        Channel ch = new Channel(name, runId, fd, token);
        epoll.add(fd, token);
        return ch;
    }

    /**
     * One read (at most {@value #CHUNK} bytes) through the gate; EOF or an error ends the watch
     * and posts {@link Event.ChannelClosed}. Returns how many bytes were read (0 at EAGAIN or EOF).
     */
    int read(Channel ch) {
        while (ch.fd >= 0) {
            long n = c.read(ch.fd, buffer, CHUNK);
            if (n > 0) {
                long now = clock.nanoTime();
                long told = ch.told.get();
                if (told != ch.toldSeen) {
                    ch.toldSeen = told;
                    ch.gate.reset();
                }
                buffer.get(0, bytes, 0, (int) n);
                for (Event.VassalSays says : ch.gate.read(bytes, 0, (int) n, now)) {
                    post(ch, says);
                }
                if (ch.gate.budgetSpent()) {
                    ch.throttled = true;
                    ch.resumeAt = ch.gate.nextSecond();
                    pause(ch);
                } else if (ch.queued.get() >= QUEUE_LIMIT) {
                    pause(ch);
                }
                return (int) n;
            }
            if (n < 0 && Native.errno() == Native.EINTR) {
                continue;
            }
            if (n < 0 && Native.errno() == Native.EAGAIN) {
                return 0;
            }
            stop(ch);
            sink.accept(new LoopEvent.ForVassal(ch.name, new Event.ChannelClosed(ch.runId)));
        }
        return 0;
    }

    /**
     * The run's main process is gone: what it said before it went, up to a limit (workers may
     * hold the other end and go on writing), then the channel is no longer watched.
     */
    void drainAtExit(Channel ch) {
        int total = 0;
        int n;
        while (ch.fd >= 0 && total < EXIT_LIMIT && (n = read(ch)) > 0) {
            total += n;
        }
        stop(ch);
    }

    /** The channel is no longer watched (EOF, exit, or a failure); what the gate still counts is posted. */
    void stop(Channel ch) {
        int fd = ch.fd;
        if (fd < 0) {
            return;
        }
        ch.fd = -1;
        if (!paused.remove(ch)) {
            epoll.remove(fd);
        }
        ch.paused = false;
        ch.gate.flush().ifPresent(says -> post(ch, says));
    }

    /** After each epoll round: the paused channels whose events the loop has taken, and whose second is over, are watched again. */
    void resume() {
        if (paused.isEmpty()) {
            return;
        }
        long now = clock.nanoTime();
        for (Channel ch : new ArrayList<>(paused)) {
            if (ch.fd < 0) {
                paused.remove(ch);
            } else if (ch.queued.get() <= RESUME_AT && (!ch.throttled || now - ch.resumeAt >= 0)) {
                paused.remove(ch);
                ch.paused = false;
                ch.throttled = false;
                try {
                    epoll.add(ch.fd, ch.token);
                } catch (RuntimeException e) {
                    EmperorLog.error(ch.name + ": bug in the I/O thread (emperor channel); that fd is no longer watched", e);
                    ch.fd = -1;
                }
            }
        }
    }

    /** How long the next epoll_wait may last: until the first throttled channel may be read again, else -1 (for ever). */
    int waitMillis() {
        if (paused.isEmpty()) {
            return -1;
        }
        long now = clock.nanoTime();
        long wait = Long.MAX_VALUE;
        for (Channel ch : paused) {
            if (ch.throttled) {
                wait = Math.min(wait, Math.max(0, ch.resumeAt - now));
            }
        }
        return wait == Long.MAX_VALUE ? -1 : (int) Math.min(Integer.MAX_VALUE, (wait + 999_999) / 1_000_000);
    }

    /** Posts what a channel said; the loop's {@link LoopEvent.Said#taken} counts it back. */
    private void post(Channel ch, Event.VassalSays says) {
        ch.queued.incrementAndGet();
        sink.accept(new LoopEvent.Said(ch.name, says, () -> taken(ch)));
    }

    /** Loop thread: one of the channel's events was taken; a paused channel is resumed once half are. */
    private void taken(Channel ch) {
        if (ch.queued.decrementAndGet() <= RESUME_AT && ch.paused) {
            wake.run();
        }
    }

    /** Stops reading the channel for now (the vassal's writes fill the socket, then block). */
    private void pause(Channel ch) {
        if (paused.add(ch)) {
            epoll.remove(ch.fd);
        }
        ch.paused = true;
        // The loop may have taken them all between the count and the flag: look again next round.
        if (!ch.throttled && ch.queued.get() <= RESUME_AT) {
            wake.run();
        }
    }
}
