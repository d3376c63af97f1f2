package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.log.VassalTails;
import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopEvent;
import io.emperor.source.dir.Fingerprint;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Lifecycle;
import io.emperor.vassal.Policy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The commands of the control socket, on a real loop thread with a fake launcher. */
class ControlHandlerTest {

    @Test
    void theLinesAFollowerSawBeforeTheCopyAreNotSentTwice() {
        assertEquals(0, LogsCommand.overlap(List.of("a", "b"), List.of()));
        assertEquals(0, LogsCommand.overlap(List.of(), List.of("a")));
        assertEquals(0, LogsCommand.overlap(List.of("a", "b"), List.of("c", "d")), "all new");
        assertEquals(1, LogsCommand.overlap(List.of("a", "b"), List.of("b", "c")), "b was in the copy");
        assertEquals(2, LogsCommand.overlap(List.of("a", "b", "c"), List.of("b", "c")), "both were");
        assertEquals(2, LogsCommand.overlap(List.of("x", "x"), List.of("x", "x", "x")), "the longest match");
    }

    /** The vassal here has a broken file: nothing is ever spawned. */
    /** A real loop on the system clock whose launcher starts nothing, and whose host reloads nothing. */
    static EmperorLoop loopWithoutProcesses() {
        return new EmperorLoop(new Lifecycle(new Policy(Duration.ofSeconds(10), Duration.ofSeconds(60))),
                NO_PROCESSES, io.emperor.loop.Clock.system(), new EmperorLoop.Host() {
                    @Override
                    public Optional<Policy> reloadConfig() {
                        return Optional.empty();
                    }

                    @Override
                    public void stopWatching() {}
                });
    }

    static final io.emperor.loop.Launcher NO_PROCESSES = new io.emperor.loop.Launcher() {
        @Override
        public SpawnResult spawn(String name, long runId, io.emperor.config.VassalSpec spec) {
            return new SpawnResult.Failed("no processes in this test");
        }

        @Override
        public void watch(long runId) {}

        @Override
        public void signal(long runId, int signal) {}

        @Override
        public Optional<String> tell(long runId, int message) {
            return Optional.of("no processes in this test");
        }

        @Override
        public void killGroup(long runId) {}

        @Override
        public io.emperor.vassal.ExitStatus reap(long runId) {
            throw new IllegalStateException("no processes in this test");
        }
    };

    /** A reply that keeps what it is sent. */
    static final class Kept implements Reply {
        final List<Map<String, Object>> sent = new CopyOnWriteArrayList<>();
        final CountDownLatch done = new CountDownLatch(1);

        @Override
        public boolean send(Object answer) {
            try {
                sent.add(Json.parseObject(Json.write(answer)));
            } catch (Json.ParseException e) {
                throw new AssertionError(e);
            }
            return true;
        }

        @Override
        public void done() {
            done.countDown();
        }

        @Override
        public void onClose(Runnable r) {}

        @Override
        public boolean isOpen() {
            return true;
        }
    }

    /**
     * Issue 16 §6: a tenant's {@code stop}, {@code logs} and {@code status} are decided on the loop
     * without the user database. The group database here stalls (a hung LDAP) on any thread but the
     * one that resolves the caller; the loop answers every request all the same, and is never the
     * thread that asked.
     */
    @Test
    void aStalledGroupDatabaseDoesNotStallTheLoop() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<String> askedOn = new CopyOnWriteArrayList<>();
        Thread control = Thread.currentThread(); // plays the control thread
        Rights rights = new Rights(true, 998, 998, "emperor", uid -> {
            askedOn.add(Thread.currentThread().getName());
            if (Thread.currentThread() != control) {
                try {
                    release.await(60, TimeUnit.SECONDS); // a slow NSS
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return false;
        });
        EmperorLoop loop = loopWithoutProcesses();
        Path file = Path.of("/v/alice.ini");
        VassalFile broken = new VassalFile("alice", file, new Fingerprint(1, 1, 0, 1, 1, 1001, 1001, 0100644), null,
                Parsed.failed(List.of(new Problem(file, 1, "exec: unterminated quote")), List.of()));
        loop.post(new LoopEvent.Scanned(new Snapshot(Map.of("alice", broken), Set.of())));
        ControlHandler handler = new ControlHandler(loop, rights, new VassalTails(), () -> {},
                new StatusView.Emperor("test", 1, 998, 998, "/", true, 0), List::of, Runnable::run);
        Thread loopThread = io.emperor.testing.LoopThread.start(loop, "emperor-loop");
        try {
            Caller alice = handler.caller(new Peer(4242, 1001, 1001));
            assertEquals(Rights.Scope.OWN, alice.scope());
            List<Kept> answers = new ArrayList<>();
            for (Map<String, Object> request : List.<Map<String, Object>>of(
                    Map.of("cmd", "stop", "names", List.of("alice")),
                    Map.of("cmd", "logs", "name", "alice"),
                    Map.of("cmd", "status"))) {
                Kept a = new Kept();
                answers.add(a);
                handler.handle(alice, request, a);
            }
            for (Kept a : answers) {
                assertTrue(a.done.await(30, TimeUnit.SECONDS), "answered while the group database hangs: " + a.sent);
            }
            assertEquals(List.of("alice"), answers.get(2).sent.get(0).get("vassals") instanceof List<?> l
                    ? l.stream().map(v -> ((Map<?, ?>) v).get("name")).toList() : null, "alice sees her vassal");
            assertEquals(List.of(control.getName()), askedOn, "asked once, on the thread that resolved the caller");
        } finally {
            release.countDown();
            loop.post(new LoopEvent.SignalReceived("TERM"));
            loopThread.join(10_000);
        }
    }
}
