package io.emperor.os;

import io.emperor.config.Listen;
import io.emperor.testing.Poll;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The I/O thread's part for {@link ListenSockets} without an I/O thread: it keeps the answer fds it is asked to
 * watch, and {@link #hold} does what the loop does with a unix bind: hold, and while a socket is being bound,
 * hand each watched answer to {@link ListenSockets#answered} until the child has answered, then hold again.
 */
final class RecordingWatcher implements ListenSockets.Watcher {
    /** Watched now: bind id to answer fd. */
    final Map<Long, Integer> watched = new ConcurrentHashMap<>();
    /** The ids the sockets stopped watching (a bind no longer wanted), in order. */
    final List<Long> unwatched = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The timeout of each watch, by id (the last one asked). */
    final Map<Long, Long> timeouts = new ConcurrentHashMap<>();

    @Override
    public void watch(String name, long id, int fd, long timeoutMillis) {
        watched.put(id, fd);
        timeouts.put(id, timeoutMillis);
    }

    @Override
    public void unwatch(long id) {
        watched.remove(id);
        unwatched.add(id);
    }

    /** {@link ListenSockets#hold}, and the answers of its unix binds as the loop gets them. */
    Optional<String> hold(ListenSockets sockets, String name, Listen listen, int uid, int gid, String user) {
        Optional<String> problem = sockets.hold(name, listen, uid, gid, user);
        if (problem.isPresent() || sockets.binding(name, listen).isEmpty()) {
            return problem;
        }
        Poll.until("the unix bind children of " + name + " answer", Duration.ofSeconds(60), () -> {
            for (Long id : List.copyOf(watched.keySet())) {
                watched.remove(id);
                sockets.answered(id); // not complete yet: watched again
            }
            return sockets.binding(name, listen).isEmpty();
        });
        return sockets.hold(name, listen, uid, gid, user);
    }
}
