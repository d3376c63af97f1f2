package io.emperor.source.etcd;

import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Cluster;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Lock;
import io.etcd.jetcd.Maintenance;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A jetcd client between the source and etcd whose watches can lose what etcd sends, as a watch
 * that went silent does (etcd-io/jetcd#1209): {@link #pause} drops what the open watches get from
 * then on, and {@link #resume} watches again from after the last response they passed on, as jetcd
 * does when it resumes a watch after a reconnection (a compaction meanwhile ends it). A watch opened
 * after a pause is not paused. Everything else goes to the real client.
 */
final class PausableWatchClient implements Client {
    private final Client real;
    private final List<Held> open = new CopyOnWriteArrayList<>();

    PausableWatchClient(Client real) {
        this.real = real;
    }

    /** What the open watches get is dropped from now on (events, errors, the end). */
    void pause() {
        for (Held h : open) {
            h.paused = true;
        }
    }

    /** The paused watches watch again from after the last response they passed on. */
    void resume() {
        for (Held h : open) {
            if (h.paused) {
                h.paused = false;
                h.start(h.passedOn + 1);
            }
        }
    }

    /** One watch of the source's: the real watch under it changes at a resume. */
    private final class Held implements Watch.Watcher {
        final ByteSequence key;
        final WatchOption option;
        final Watch.Listener listener;
        volatile boolean paused;
        volatile long passedOn;
        private Watch.Watcher current;
        private volatile int generation;
        private boolean closed;

        Held(ByteSequence key, WatchOption option, Watch.Listener listener) {
            this.key = key;
            this.option = option;
            this.listener = listener;
            this.passedOn = option.getRevision() - 1;
        }

        /** Watches from {@code from}; what the real watch it replaces still says is dropped (its end at the close too). */
        synchronized void start(long from) {
            if (closed) {
                return;
            }
            int mine = ++generation;
            if (current != null) {
                current.close();
            }
            current = real.getWatchClient().watch(key, WatchOption.builder().isPrefix(option.isPrefix())
                    .withRevision(from).build(), new Watch.Listener() {
                        private boolean passes() {
                            return !paused && generation == mine;
                        }

                        @Override
                        public void onNext(WatchResponse response) {
                            if (passes()) {
                                passedOn = Math.max(passedOn, response.getHeader().getRevision());
                                listener.onNext(response);
                            }
                        }

                        @Override
                        public void onError(Throwable error) {
                            if (passes()) {
                                listener.onError(error);
                            }
                        }

                        @Override
                        public void onCompleted() {
                            if (passes()) {
                                listener.onCompleted();
                            }
                        }
                    });
        }

        @Override
        public synchronized void close() {
            closed = true;
            open.remove(this);
            if (current != null) {
                current.close();
            }
        }

        @Override
        public synchronized boolean isClosed() {
            return closed;
        }

        @Override
        public synchronized void requestProgress() {
            if (current != null) {
                current.requestProgress();
            }
        }
    }

    @Override
    public Watch getWatchClient() {
        Watch w = real.getWatchClient();
        return new Watch() {
            @Override
            public Watcher watch(ByteSequence key, WatchOption option, Listener listener) {
                Held h = new Held(key, option, listener);
                open.add(h);
                h.start(option.getRevision());
                return h;
            }

            @Override
            public void requestProgress() {
                w.requestProgress();
            }

            @Override
            public void close() {
                w.close();
            }
        };
    }

    @Override
    public Auth getAuthClient() {
        return real.getAuthClient();
    }

    @Override
    public KV getKVClient() {
        return real.getKVClient();
    }

    @Override
    public Cluster getClusterClient() {
        return real.getClusterClient();
    }

    @Override
    public Maintenance getMaintenanceClient() {
        return real.getMaintenanceClient();
    }

    @Override
    public Lease getLeaseClient() {
        return real.getLeaseClient();
    }

    @Override
    public Lock getLockClient() {
        return real.getLockClient();
    }

    @Override
    public Election getElectionClient() {
        return real.getElectionClient();
    }

    @Override
    public void close() {
        real.close();
    }
}
