package io.emperor.loop;

/**
 * The port through which the loop has the listening sockets of on-demand vassals watched (issue 15):
 * the I/O thread keeps them in its one epoll set and, at the first connection waiting on any of a
 * vassal's sockets, stops watching all of them and posts one {@link LoopEvent.Connection}. The
 * emperor never accepts: the connection stays in the backlog for the vassal. Only the loop thread calls it.
 */
public interface Connections {
    /**
     * Watches the vassal's listening fds (held by the launcher) until their first readable event,
     * which posts {@code Connection(name, id)} once; replaces what was watched for the name.
     */
    void arm(String name, long id, int[] fds);

    /** Stops watching the vassal's fds (before they are closed); nothing watched is fine. Returns at once. */
    void disarm(String name);

    /** Nothing watched (loop tests that do not need it). */
    Connections NONE = new Connections() {
        @Override
        public void arm(String name, long id, int[] fds) {}

        @Override
        public void disarm(String name) {}
    };
}
