package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.log.VassalOutput;
import io.emperor.log.VassalTails;
import io.emperor.loop.LoopEvent;
import io.emperor.testing.Poll;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.Test;

/** The I/O thread keeps each vassal's last lines in its tail, readable from another thread. */
class IoThreadTailTest {
    private final LibC c = Native.libc();

    @Test
    void outputLinesReachTheTailAndTheLastPartialLineIsFlushedAtTheEnd() throws Exception {
        VassalTails tails = new VassalTails();
        LinkedBlockingQueue<LoopEvent> events = new LinkedBlockingQueue<>();
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        int[] out = new int[2];
        int[] report = new int[2];
        assertEquals(0, c.pipe2(out, Native.O_CLOEXEC | Native.O_NONBLOCK));
        assertEquals(0, c.pipe2(report, Native.O_CLOEXEC | Native.O_NONBLOCK));
        int pidfd = (int) c.syscall(Native.SYS_PIDFD_OPEN, sleeper.pid(), 0, 0, 0);
        assertTrue(pidfd >= 0, "pidfd_open");
        try (IoThread io = new IoThread(events::add, new VassalOutput(tails))) {
            io.start();
            io.watch(new VassalOutput.Route("app", false), 1, out[0], report[0], pidfd, -1);
            write(out[1], "one\r\ntwo\nthr");
            c.close(report[1]);
            assertTrue(events.poll(10, TimeUnit.SECONDS) instanceof LoopEvent.ForVassal, "exec done");
            Poll.until("two lines in the tail", Poll.WAIT, () -> tails.lines("app").size() >= 2);
            assertEquals(List.of("one", "two"), tails.lines("app"));
            sleeper.destroy();
            LoopEvent ended = events.poll(10, TimeUnit.SECONDS);
            assertTrue(ended instanceof LoopEvent.Ended, "ended: " + ended);
            assertEquals(List.of("one", "two", "thr"), tails.lines("app"), "the unfinished last line is flushed");
            io.forget("app");
            assertEquals(List.of(), tails.lines("app"));
            assertEquals(0, io.watchedRuns());
        } finally {
            sleeper.destroyForcibly().waitFor();
            c.close(out[1]);
            c.close(pidfd);
        }
    }

    private void write(int fd, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        Pointer p = Memory.allocateDirect(Native.runtime(), b.length);
        p.put(0, b, 0, b.length);
        assertEquals(b.length, c.write(fd, p, b.length));
    }
}
