package io.emperor.control;

/**
 * A peer of the control socket as the rights see it: its credentials and what it may reach,
 * resolved once per connection on the control thread ({@link Rights#resolve}). Plain data: the
 * loop decides with it without reading the user database (docs/threads.md).
 */
public record Caller(Peer peer, Rights.Scope scope) {
    public int uid() {
        return peer.uid();
    }

    public long pid() {
        return peer.pid();
    }

    /** What the loop is told of this caller: plain data it decides with ({@link io.emperor.loop.LoopQuery.Reach}). */
    public io.emperor.loop.LoopQuery.Reach reach() {
        return switch (scope) {
            case ALL -> io.emperor.loop.LoopQuery.Reach.ALL;
            case OWN -> io.emperor.loop.LoopQuery.Reach.own(peer.uid());
            case NONE -> io.emperor.loop.LoopQuery.Reach.NONE;
        };
    }

    /** Whether this caller may see and act on a vassal whose file {@code owner} owns. */
    public boolean mayReach(int owner) {
        return switch (scope) {
            case ALL -> true;
            case OWN -> owner >= 0 && owner == peer.uid();
            case NONE -> false;
        };
    }
}
