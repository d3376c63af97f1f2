package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.emperor.log.VassalOutput;
import io.emperor.log.VassalTails;
import io.emperor.loop.LoopEvent;
import io.emperor.testing.Poll;
import io.emperor.testing.ProcSelf;
import io.emperor.vassal.Event;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The I/O thread with real pipes and processes, a fake clock and a sink that plays the loop:
 * what one run's channel may queue is bounded, and a failure while handling one fd is that
 * vassal's alone (an {@link Error} is logged and rethrown, never swallowed).
 */
class IoThreadRobustnessTest {
    private static final Duration WAIT = io.emperor.testing.Poll.WAIT;
    private final LibC c = Native.libc();
    private final List<Integer> fds = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final Queue<LoopEvent> events = new ConcurrentLinkedQueue<>();
    private final Queue<String> logged = new ConcurrentLinkedQueue<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger("emperor");
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            logged.add(e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : " | " + e.getThrowableProxy().getClassName()));
        }
    };

    IoThreadRobustnessTest() {
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        logger.detachAppender(appender);
        for (Process p : processes) {
            p.destroyForcibly().waitFor();
        }
        for (int fd : fds) {
            c.close(fd);
        }
    }

    /** A non-blocking pipe: [read end, write end], closed after the test unless handed over. */
    private int[] pipe() {
        int[] p = new int[2];
        assertEquals(0, c.pipe2(p, Native.O_CLOEXEC | Native.O_NONBLOCK));
        return p;
    }

    /** A copy of {@code fd} (F_DUPFD_CLOEXEC): another reference to the same open file. */
    private int dup(int fd) {
        int copy = c.fcntl(fd, 1030, 3);
        assertTrue(copy >= 0, "F_DUPFD_CLOEXEC");
        return copy;
    }

    /** A live process to watch and its pidfd (closed after the test). */
    private int pidfd(Process p) {
        int fd = (int) c.syscall(Native.SYS_PIDFD_OPEN, p.pid(), 0, 0, 0);
        assertTrue(fd >= 0, "pidfd_open");
        fds.add(fd);
        return fd;
    }

    private Process sleeper() throws Exception {
        Process p = new ProcessBuilder("sleep", "60").start();
        processes.add(p);
        return p;
    }

    private void write(int fd, byte[] b) {
        Pointer p = Memory.allocateDirect(Native.runtime(), b.length);
        p.put(0, b, 0, b.length);
        assertEquals(b.length, c.write(fd, p, b.length));
    }

    private List<LoopEvent.Said> said() {
        return events.stream().filter(LoopEvent.Said.class::isInstance).map(LoopEvent.Said.class::cast).toList();
    }

    private <T extends LoopEvent> List<T> of(Class<T> type, String name) {
        List<T> found = new ArrayList<>();
        for (LoopEvent e : events) {
            if (type.isInstance(e) && (!(e instanceof LoopEvent.Ended x) || x.name().equals(name))
                    && (!(e instanceof LoopEvent.ForVassal f) || f.name().equals(name))) {
                found.add(type.cast(e));
            }
        }
        return found;
    }

    /**
     * A spawn's child holds a copy of every fd of the emperor until it execs (here: the test's
     * dups of the read ends). The report pipe's EOF and the run's end close the thread's fds; their
     * epoll registrations must go with them, not live on with the copies: an ended pipe that stays
     * registered is reported ready at every wait, and the thread spun on it (70 empty wake-ups a
     * spawn in a burst of 1000).
     */
    @Test
    void noRegistrationOutlivesItsFdWhileACopyOfTheFileLivesElsewhere() throws Exception {
        IoThread[] made = new IoThread[1];
        int epfd = ProcSelf.newEpollFd(() -> made[0] = new IoThread(events::add, new VassalOutput(new VassalTails())));
        try (IoThread io = made[0]) {
            io.start();
            int before = ProcSelf.epollRegistrations(epfd);
            int[] out = pipe();
            int[] report = pipe();
            fds.add(dup(out[0])); // what a child between fork and exec holds
            fds.add(dup(report[0]));
            fds.add(out[1]);
            Process sleeper = sleeper();
            io.watch(VassalOutput.Route.tagged("held"), 1, out[0], report[0], pidfd(sleeper), -1);
            assertEquals(before + 3, ProcSelf.epollRegistrations(epfd), "output pipe, report pipe, pidfd");
            c.close(report[1]); // the exec was reached
            Poll.until("exec reached", WAIT, () -> !of(LoopEvent.ForVassal.class, "held").isEmpty());
            Poll.until("the report pipe's registration gone with its fd", WAIT,
                    () -> ProcSelf.epollRegistrations(epfd) == before + 2, () -> ProcSelf.epollRegistrations(epfd) + " registrations");
            sleeper.destroyForcibly().waitFor();
            Poll.until("the end of the run", WAIT, () -> !of(LoopEvent.Ended.class, "held").isEmpty());
            assertEquals(before, ProcSelf.epollRegistrations(epfd), "the output pipe's and the pidfd's registrations are gone too");
        }
    }

    /**
     * The loop takes nothing: one heartbeat a (fake) second makes an event per read, and after
     * {@link ChannelReader#QUEUE_LIMIT} of them the channel is not read any more, however much
     * is written, until the loop has taken half of them.
     */
    @Test
    void whatOneChannelQueuesIsBoundedUntilTheLoopTakesIt() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000_000L);
        // Every read of the clock is a second later: every read passes its heartbeat.
        try (IoThread io = new IoThread(events::add, new VassalOutput(new VassalTails()),
                () -> now.addAndGet(1_000_000_000L))) {
            io.start();
            int[] report = pipe();
            int[] channel = pipe();
            fds.add(report[1]);
            fds.add(channel[0]);
            fds.add(channel[1]);
            io.watch(VassalOutput.Route.tagged("beats"), 1, -1, report[0], pidfd(sleeper()), channel[0]);
            for (int i = 1; i <= ChannelReader.QUEUE_LIMIT; i++) {
                write(channel[1], new byte[] {Event.VassalSays.HEARTBEAT});
                int n = i;
                Poll.until(n + " heartbeat event(s)", WAIT, () -> said().size() == n, () -> said().size() + " events");
            }
            write(channel[1], new byte[] {Event.VassalSays.HEARTBEAT});
            // Nothing proves a read that does not happen but waiting for it: it must not come.
            assertEquals(Optional.empty(), Poll.within(Duration.ofMillis(500),
                    () -> said().size() > ChannelReader.QUEUE_LIMIT ? Optional.of(said().size()) : Optional.empty()),
                    "the channel is paused while " + ChannelReader.QUEUE_LIMIT + " events wait");

            List<LoopEvent.Said> waiting = said();
            for (int i = 0; i < ChannelReader.QUEUE_LIMIT - ChannelReader.RESUME_AT - 1; i++) {
                waiting.get(i).taken().run();
            }
            assertEquals(Optional.empty(), Poll.within(Duration.ofMillis(200),
                    () -> said().size() > ChannelReader.QUEUE_LIMIT ? Optional.of(said().size()) : Optional.empty()),
                    "still paused above the resume mark");
            waiting.get(ChannelReader.QUEUE_LIMIT - ChannelReader.RESUME_AT - 1).taken().run();
            Poll.until("the channel is read again once half the events are taken", WAIT,
                    () -> said().size() == ChannelReader.QUEUE_LIMIT + 1, () -> said().size() + " events");
            for (LoopEvent.Said s : said()) {
                assertEquals("beats", s.name());
                assertEquals(new Event.VassalSays(1, Event.VassalSays.HEARTBEAT), s.says());
            }
        }
    }

    /** A channel is read {@link ChannelReader#BYTES_PER_SECOND} a second at most: the rest waits for the next second. */
    @Test
    void aChannelIsReadAtMostSoMuchASecond() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000_000L);
        try (IoThread io = new IoThread(events::add, new VassalOutput(new VassalTails()), now::get)) {
            io.start();
            int[] report = pipe();
            int[] channel = pipe();
            fds.add(report[1]);
            fds.add(channel[0]);
            fds.add(channel[1]);
            io.watch(VassalOutput.Route.tagged("flood"), 1, -1, report[0], pidfd(sleeper()), channel[0]);
            // Loyal comes after more than a second's worth of unknown bytes (and two reads more).
            byte[] flood = new byte[ChannelReader.BYTES_PER_SECOND + 8192 + 1];
            java.util.Arrays.fill(flood, (byte) 99);
            flood[flood.length - 1] = Event.VassalSays.LOYAL;
            write(channel[1], flood);
            Poll.until("the first unknown byte", WAIT, () -> said().size() == 1, () -> said().toString());
            assertEquals(Optional.empty(), Poll.within(Duration.ofMillis(500),
                    () -> said().size() > 1 ? Optional.of(said()) : Optional.empty()), "the rest waits for the next second");
            now.addAndGet(1_000_000_000L);
            Poll.until("the next second's read", WAIT, () -> said().size() == 2, () -> said().toString());
            assertEquals(new Event.VassalSays(1, Event.VassalSays.LOYAL), said().get(1).says());
        }
    }

    /** A repeated accepting is dropped, but the one that answers a reload byte (told first) counts. */
    @Test
    void whatAVassalAnswersToTheEmperorCountsAgain() throws Exception {
        try (IoThread io = new IoThread(events::add, new VassalOutput(new VassalTails()))) {
            io.start();
            int[] report = pipe();
            int[] channel = pipe();
            fds.add(report[1]);
            fds.add(channel[0]);
            fds.add(channel[1]);
            io.watch(VassalOutput.Route.tagged("u"), 1, -1, report[0], pidfd(sleeper()), channel[0]);
            write(channel[1], new byte[] {Event.VassalSays.ACCEPTING});
            Poll.until("accepting", WAIT, () -> said().size() == 1);
            write(channel[1], new byte[] {Event.VassalSays.ACCEPTING, Event.VassalSays.ACCEPTING, Event.VassalSays.LOYAL});
            Poll.until("loyal", WAIT, () -> said().size() == 2, () -> said().toString());
            io.told(1); // the loop is about to write byte 1 (reload)
            write(channel[1], new byte[] {Event.VassalSays.ACCEPTING});
            Poll.until("accepting after the reload", WAIT, () -> said().size() == 3, () -> said().toString());
            assertEquals(List.of(5, 17, 5), said().stream().map(s -> s.says().message()).toList());
        }
    }

    /**
     * A bug while handling one vassal's fd (here the loop's queue throws on its exec report) is
     * logged with its name; that fd is no longer watched, and the other vassal's output, and both
     * exits, still come through.
     */
    @Test
    void aFailureWithOneVassalsFdIsLoggedWithItsNameAndOthersGoOn() throws Exception {
        Consumer<LoopEvent> sink = e -> {
            if (e instanceof LoopEvent.ForVassal f && f.name().equals("bad")) {
                throw new IllegalStateException("the loop refuses this event");
            }
            events.add(e);
        };
        VassalTails tails = new VassalTails();
        try (IoThread io = new IoThread(sink, new VassalOutput(tails))) {
            io.start();
            int[] badReport = pipe();
            int[] goodOut = pipe();
            int[] goodReport = pipe();
            fds.add(goodOut[1]);
            Process bad = sleeper();
            Process good = sleeper();
            io.watch(VassalOutput.Route.tagged("bad"), 1, -1, badReport[0], pidfd(bad), -1);
            io.watch(VassalOutput.Route.tagged("good"), 2, goodOut[0], goodReport[0], pidfd(good), -1);
            c.close(badReport[1]);
            Poll.until("the failure logged with the vassal's name", WAIT, () -> logged.stream().anyMatch(l -> l.equals(
                    "bad: bug in the I/O thread (report pipe); that fd is no longer watched | java.lang.IllegalStateException")),
                    logged::toString);

            write(goodOut[1], "still here\n".getBytes(StandardCharsets.UTF_8));
            c.close(goodReport[1]);
            Poll.until("the other vassal's output", WAIT, () -> tails.lines("good").equals(List.of("still here")));
            Poll.until("the other vassal's exec report", WAIT, () -> of(LoopEvent.ForVassal.class, "good").size() == 1);
            bad.destroy();
            good.destroy();
            Poll.until("both exits", WAIT, () -> of(LoopEvent.Ended.class, "bad").size() == 1
                    && of(LoopEvent.Ended.class, "good").size() == 1, events::toString);
            assertEquals(0, io.watchedRuns());
            assertEquals(1, logged.stream().filter(l -> l.contains("bug in the I/O thread")).count(), logged::toString);
        }
    }

    /** An Error is not swallowed: logged with the vassal's name, posted as fatal, and rethrown (the thread ends). */
    @Test
    void anErrorIsLoggedPostedAsFatalAndRethrown() throws Exception {
        Consumer<LoopEvent> sink = e -> {
            if (e instanceof LoopEvent.ForVassal f && f.name().equals("doomed")) {
                throw new StackOverflowError("test");
            }
            events.add(e);
        };
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Queue<Throwable> uncaught = new ConcurrentLinkedQueue<>();
        Thread.setDefaultUncaughtExceptionHandler((t, x) -> uncaught.add(x));
        try (IoThread io = new IoThread(sink, new VassalOutput(new VassalTails()))) {
            io.start();
            int[] report = pipe();
            io.watch(VassalOutput.Route.tagged("doomed"), 1, -1, report[0], pidfd(sleeper()), -1);
            c.close(report[1]);
            Poll.until("the fatal event", WAIT, () -> !of(LoopEvent.Fatal.class, "").isEmpty(), events::toString);
            assertEquals("I/O thread: java.lang.StackOverflowError: test", of(LoopEvent.Fatal.class, "").get(0).reason());
            assertTrue(logged.contains("doomed: fatal error in the I/O thread (report pipe) | java.lang.StackOverflowError"),
                    logged::toString);
            Poll.until("the Error reaches the thread's end", WAIT, () -> !uncaught.isEmpty());
            assertTrue(uncaught.peek() instanceof StackOverflowError, uncaught::toString);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }
}
