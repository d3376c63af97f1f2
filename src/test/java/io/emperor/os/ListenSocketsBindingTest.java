package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Listen;
import io.emperor.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A unix bind as the vassal is never waited for (issue 15, docs/threads.md): with a bind child that does not
 * answer (a tenant stopped it, or hung it on a FUSE path of its own), a hold returns at once and holds nothing
 * yet, other vassals' holds go on, and once its time is up the child is killed and the bind fails with the
 * reason. A change of the listen or a release ends a bind under way.
 */
class ListenSocketsBindingTest {
    /** Binds that answer when the test says so; each has a real pipe as its answer fd. */
    final class Binds implements ListenSockets.UnixBinder {
        final List<Child> started = new ArrayList<>();
        /** Whether the children it starts outlive their SIGKILL. */
        boolean hung;

        @Override
        public ListenSockets.Binding start(Listen.Address.Unix unix, int mode, int backlog, int uid, int gid,
                                           String user) {
            Child c = new Child(unix);
            c.exits = !hung;
            started.add(c);
            return c;
        }
    }

    final class Child implements ListenSockets.Binding {
        final Listen.Address.Unix address;
        final int[] pipe = new int[2];
        ListenSockets.Bound answer;
        boolean closed;
        boolean killed;
        /** Whether its process has gone after its SIGKILL (one hung in a FUSE lookup does not). */
        boolean exits = true;

        Child(Listen.Address.Unix address) {
            this.address = address;
            assertEquals(0, Native.libc().pipe2(pipe, Native.O_CLOEXEC));
        }

        @Override
        public int fd() {
            return pipe[0];
        }

        @Override
        public Optional<ListenSockets.Bound> receive() {
            return Optional.ofNullable(answer);
        }

        @Override
        public void close() {
            kill();
        }

        @Override
        public void kill() {
            if (!closed) {
                Native.libc().close(pipe[0]);
                Native.libc().close(pipe[1]);
            }
            closed = true;
            killed = true;
        }

        @Override
        public boolean gone() {
            return exits;
        }
    }

    final Binds binds = new Binds();
    final RecordingWatcher watcher = new RecordingWatcher();
    ListenSockets sockets = new ListenSockets(binds, watcher, 30_000);

    @AfterEach
    void release() {
        sockets.release("app");
        sockets.release("other");
    }

    static Listen unix(String... paths) {
        List<Listen.Address> a = new ArrayList<>();
        for (String p : paths) {
            a.add(new Listen.Address.Unix(Path.of(p)));
        }
        return new Listen(a, -1, 16, List.of(), false, false);
    }

    @Test
    void aHoldDoesNotWaitForTheBindChildAndOthersGoOn() throws Exception {
        assertEquals(Optional.empty(), sockets.hold("app", unix("/run/app.sock"), 1000, 1000, "alice"));
        assertEquals(Optional.of("unix:/run/app.sock"), sockets.binding("app", unix("/run/app.sock")));
        assertEquals(0, sockets.fds("app").length, "nothing held yet");
        Child child = binds.started.get(0);
        assertEquals(List.of(child.fd()), List.copyOf(watcher.watched.values()), "its answer fd is watched");
        assertEquals(30_000L, watcher.timeouts.values().iterator().next());
        // Another vassal is not held up.
        int port = ListenSocketsTest.freePort();
        assertEquals(Optional.empty(), sockets.hold("other", ListenSocketsTest.listen(16, ListenSocketsTest.tcp(port)),
                -1, -1, null));
        assertEquals(1, sockets.fds("other").length);
        // A hold again while it binds starts no second child.
        assertEquals(Optional.empty(), sockets.hold("app", unix("/run/app.sock"), 1000, 1000, "alice"));
        assertEquals(1, binds.started.size());
        // Readable but not complete yet (a line of text without the end): watched again, still binding.
        long id = watcher.watched.keySet().iterator().next();
        watcher.watched.clear();
        assertFalse(sockets.answered(id));
        assertEquals(List.of(id), List.copyOf(watcher.watched.keySet()));
        assertTrue(sockets.binding("app", unix("/run/app.sock")).isPresent());
    }

    @Test
    void aChildThatDoesNotAnswerInTimeIsKilledAndItsBindFailsWithTheReason() {
        sockets = new ListenSockets(binds, watcher, 250);
        assertEquals(Optional.empty(), sockets.hold("app", unix("/run/app.sock"), 1000, 1000, "alice"));
        long id = watcher.watched.keySet().iterator().next();
        Poll.until("the bind's time is up", Duration.ofSeconds(30), () -> {
            watcher.watched.remove(id);
            return sockets.answered(id);
        });
        assertTrue(binds.started.get(0).closed, "the child killed");
        assertEquals(Optional.empty(), sockets.binding("app", unix("/run/app.sock")), "no longer binding");
        assertEquals(Optional.of("listen unix:/run/app.sock: the exec helper did not answer within 0.25 s (stopped,"
                + " or hung on the path?); it was killed"), sockets.hold("app", unix("/run/app.sock"), 1000, 1000,
                "alice"));
        assertEquals(0, sockets.fds("app").length);
        assertFalse(sockets.answered(id), "a late answer changes nothing");
        // The next try starts a new child.
        assertEquals(Optional.empty(), sockets.hold("app", unix("/run/app.sock"), 1000, 1000, "alice"));
        assertEquals(2, binds.started.size());
    }

    @Test
    void aChangeOfTheListenEndsTheBindItNoLongerWants() {
        sockets.hold("app", unix("/run/old.sock"), 1000, 1000, "alice");
        long old = watcher.watched.keySet().iterator().next();
        assertEquals(Optional.empty(), sockets.hold("app", unix("/run/new.sock"), 1000, 1000, "alice"));
        assertTrue(binds.started.get(0).closed, "the old child killed");
        assertEquals(List.of(old), watcher.unwatched);
        assertEquals(Optional.empty(), sockets.binding("app", unix("/run/old.sock")));
        assertEquals(Optional.of("unix:/run/new.sock"), sockets.binding("app", unix("/run/new.sock")));
        // The same path as another user is another bind too.
        sockets.hold("app", unix("/run/new.sock"), 1001, 1001, "bob");
        assertTrue(binds.started.get(1).closed);
        assertEquals(3, binds.started.size());
    }

    @Test
    void aReleaseEndsABindUnderWayAndItsLateAnswerChangesNothing() {
        sockets.hold("app", unix("/run/app.sock"), 1000, 1000, "alice");
        long id = watcher.watched.keySet().iterator().next();
        sockets.release("app");
        assertTrue(binds.started.get(0).closed);
        assertEquals(List.of(id), watcher.unwatched);
        assertFalse(sockets.answered(id));
        assertEquals(Optional.empty(), sockets.binding("app", unix("/run/app.sock")));
    }

    @Test
    void aFailedAnswerIsTheHoldsReasonAndEndsTheOtherBindsOfTheVassal() {
        sockets.hold("app", unix("/run/a.sock", "/run/b.sock"), 1000, 1000, "alice");
        assertEquals(Optional.of("unix:/run/a.sock, unix:/run/b.sock"), sockets.binding("app",
                unix("/run/a.sock", "/run/b.sock")));
        Child a = binds.started.get(0);
        a.answer = ListenSockets.Bound.failed("bind /run/a.sock: Permission denied");
        long idA = watcher.watched.entrySet().stream().filter(e -> e.getValue() == a.fd()).findFirst().orElseThrow()
                .getKey();
        assertTrue(sockets.answered(idA));
        assertEquals(Optional.of("listen unix:/run/a.sock: bind /run/a.sock: Permission denied"),
                sockets.hold("app", unix("/run/a.sock", "/run/b.sock"), 1000, 1000, "alice"));
        assertTrue(binds.started.get(1).closed, "b's child ended too: the next try starts over");
        assertEquals(Optional.empty(), sockets.binding("app", unix("/run/a.sock", "/run/b.sock")));
    }

    /**
     * At most {@value ListenSockets#MAX_CHILDREN} bind children of one uid run at once: the next wait for their turn
     * (still "binding"), in order, and start as earlier ones answer; another uid does not wait for them.
     */
    @Test
    void aUidsBindsBeyondItsShareWaitForTheirTurnAndOthersDoNot() {
        int n = ListenSockets.MAX_CHILDREN + 4;
        for (int i = 0; i < n; i++) {
            assertEquals(Optional.empty(), sockets.hold("v" + i, unix("/run/v" + i + ".sock"), 1000, 1000, "alice"));
            assertTrue(sockets.binding("v" + i, unix("/run/v" + i + ".sock")).isPresent(), "v" + i + " binding");
        }
        assertEquals(ListenSockets.MAX_CHILDREN, binds.started.size(), "the others wait for their turn");
        assertEquals(Optional.empty(), sockets.hold("bobs", unix("/run/bob.sock"), 1001, 1001, "bob"));
        assertEquals(ListenSockets.MAX_CHILDREN + 1, binds.started.size(), "bob's starts at once");
        Child first = binds.started.get(0);
        first.answer = ListenSockets.Bound.failed("bind /run/v0.sock: Permission denied");
        long id = watcher.watched.entrySet().stream().filter(e -> e.getValue() == first.fd()).findFirst()
                .orElseThrow().getKey();
        assertTrue(sockets.answered(id));
        assertEquals(ListenSockets.MAX_CHILDREN + 2, binds.started.size(), "v16's turn");
        assertEquals(Path.of("/run/v" + ListenSockets.MAX_CHILDREN + ".sock"),
                binds.started.get(ListenSockets.MAX_CHILDREN + 1).address.path());
        sockets.release("v1"); // no longer wanted: its turn goes to the next
        assertEquals(ListenSockets.MAX_CHILDREN + 3, binds.started.size());
        for (int i = 0; i < n; i++) {
            sockets.release("v" + i);
        }
        sockets.release("bobs");
        assertTrue(binds.started.stream().allMatch(c -> c.closed), "every child ended");
        assertTrue(binds.started.size() <= n + 1, "each bind started at most once");
    }

    /**
     * A tenant whose bind children hang past their SIGKILL (its FUSE path) would leave one more unkillable process
     * at each retry: after {@value ListenSockets#MAX_CHILDREN} of one uid, its next bind fails at once, until some
     * are gone; other users bind as before.
     */
    @Test
    void aTenantsChildrenThatOutliveTheirKillStopItsNewBindsUntilTheyAreGone() {
        binds.hung = true;
        for (int i = 0; i < ListenSockets.MAX_CHILDREN; i++) {
            assertEquals(Optional.empty(), sockets.hold("v" + i, unix("/hung/v" + i + ".sock"), 1000, 1000, "alice"));
            sockets.release("v" + i); // no longer wanted: killed, and it stays
        }
        int started = binds.started.size();
        assertEquals(Optional.of("listen unix:/hung/next.sock: " + ListenSockets.MAX_CHILDREN + " earlier bind"
                + " children of uid 1000 were killed unanswered and are still there (hung on their path?); no new one"
                + " until they are gone"), sockets.hold("next", unix("/hung/next.sock"), 1000, 1000, "alice"));
        assertEquals(started, binds.started.size(), "no child started");
        assertEquals(Optional.empty(), sockets.hold("bobs", unix("/run/bob.sock"), 1001, 1001, "bob"), "bob binds");
        assertEquals(started + 1, binds.started.size());
        binds.started.get(0).exits = true; // one is gone (its file system answered, or went)
        assertEquals(Optional.empty(), sockets.hold("next", unix("/hung/next.sock"), 1000, 1000, "alice"));
        assertEquals(started + 2, binds.started.size());
        sockets.release("next");
        sockets.release("bobs");
    }
}
