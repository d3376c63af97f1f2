package io.emperor.source;

/**
 * The fleet (docs/fleet.md): vassal definitions from an etcd prefix, a source beside the vassal
 * directories. Its implementation ({@code io.emperor.source.etcd.EtcdSource}) and the etcd client
 * live in separate jars that {@link FleetLoader} loads only when emperor.ini sets {@code etcd}.
 *
 * <p>It runs on threads of its own and hands {@link io.emperor.source.dir.Snapshot}s to the
 * {@link FleetContext#sink()}; the emperor loop never waits for etcd.
 */
public interface Fleet extends AutoCloseable {
    /** Starts the source's thread, which connects, lists and watches. Once only. */
    void start();

    /** Asks for a full list (and a new watch) as soon as possible: {@code emperor rescan}. */
    void relistNow();

    /** Whether etcd answers now, since when, and why not; any thread. */
    FleetState state();

    /** Stops the thread and closes the client (status keys go with the lease). */
    @Override
    void close();
}
