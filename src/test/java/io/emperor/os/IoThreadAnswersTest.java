package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.loop.LoopEvent;
import io.emperor.testing.Poll;
import io.emperor.testing.ProcSelf;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The answer fds of unix bind children in the I/O thread's one epoll set (issue 15, docs/threads.md): readable
 * (the fd came, the child wrote why not, or it exited) is one {@link LoopEvent.BindAnswer}, and so is the end of
 * its time without anything; after either, or after the loop took it back, the fd is no longer watched.
 */
class IoThreadAnswersTest {
    private final Queue<LoopEvent> events = new ConcurrentLinkedQueue<>();
    private IoThread io;
    private final int epfd = ProcSelf.newEpollFd(() -> io = new IoThread(events::add));
    private final LibC c = Native.libc();
    private final List<Integer> open = new java.util.ArrayList<>();

    IoThreadAnswersTest() {
        io.start();
    }

    @AfterEach
    void close() throws InterruptedException {
        io.close();
        for (int fd : open) {
            c.close(fd);
        }
    }

    private int[] pipe() {
        int[] p = new int[2];
        assertEquals(0, c.pipe2(p, Native.O_CLOEXEC));
        open.add(p[0]);
        open.add(p[1]);
        return p;
    }

    private List<LoopEvent.BindAnswer> answers() {
        return events.stream().filter(LoopEvent.BindAnswer.class::isInstance).map(LoopEvent.BindAnswer.class::cast)
                .toList();
    }

    private int registrations() {
        return ProcSelf.epollRegistrations(epfd);
    }

    @Test
    void aReadableAnswerIsOneEventAndIsNoLongerWatched() {
        int before = registrations();
        int[] p = pipe();
        io.awaitAnswer("app", 5, p[0], 60_000);
        assertEquals(before + 1, registrations());
        Pointer b = Memory.allocateDirect(Native.runtime(), 1);
        b.putByte(0, (byte) 'x');
        assertEquals(1L, c.write(p[1], b, 1));
        Poll.until("the answer event", () -> !answers().isEmpty());
        assertEquals(List.of(new LoopEvent.BindAnswer("app", 5)), answers());
        assertEquals(before, registrations(), "unwatched: the loop reads it");
        c.write(p[1], b, 1);
        assertEquals(1, answers().size(), "one event, whatever comes next");
    }

    @Test
    void nothingWithinItsTimeIsAnEventToo() {
        int[] p = pipe();
        long t0 = System.nanoTime();
        io.awaitAnswer("app", 9, p[0], 300);
        Poll.until("the time-up event", () -> !answers().isEmpty());
        assertTrue(System.nanoTime() - t0 >= 300_000_000L, "not before its time");
        assertEquals(List.of(new LoopEvent.BindAnswer("app", 9)), answers());
    }

    @Test
    void takenBackItIsNotWatchedAndNoEventComes() {
        int before = registrations();
        int[] p = pipe();
        int[] q = pipe();
        io.awaitAnswer("app", 1, p[0], 60_000);
        io.awaitAnswer("other", 2, q[0], 60_000);
        io.unawaitAnswer(1);
        assertEquals(before + 1, registrations(), "only the other one");
        c.close(p[1]); // EOF on the taken-back fd: not watched, no event
        open.remove(Integer.valueOf(p[1]));
        c.close(q[1]);
        open.remove(Integer.valueOf(q[1]));
        Poll.until("the other's event", () -> !answers().isEmpty());
        assertEquals(List.of(new LoopEvent.BindAnswer("other", 2)), answers(), "nothing for the taken-back one");
    }
}
