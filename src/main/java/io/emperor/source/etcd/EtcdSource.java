package io.emperor.source.etcd;

import io.emperor.config.FleetSettings;
import io.emperor.loop.Clock;
import io.emperor.source.Fleet;
import io.emperor.source.FleetContext;
import io.emperor.source.FleetState;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Response;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's source: the vassal keys of an etcd prefix as {@link io.emperor.source.dir.Snapshot}s
 * (docs/fleet.md). Its thread, {@code emperor-etcd}, owns every piece of state; jetcd's callbacks only
 * queue what they got. jetcd is the transport; the resilience is ours (DESIGN §11):
 * <ol>
 *   <li>a full list of the prefix at revision R, then a watch from R+1 whose events update the list
 *       (each change hands a new snapshot to the sink);</li>
 *   <li>a probe every second (a one-key read of the prefix, keys only, the newest by mod revision, with
 *       the count): a failed probe starts an outage (logged once); the first answer after one ends it
 *       (logged once) and lists again, so nothing depends on jetcd resuming its watch (it has been known
 *       to stay silent after a server restart: etcd-io/jetcd#1209, #795, #524); an answer from another
 *       member or another raft term (a restart, a new leader) lists again too; a probe that shows a newer
 *       key or another count than the watch has told of, twice in a row, is a silent watch: list again;</li>
 *   <li>any watch error or end (a compaction past R included) lists again;</li>
 *   <li>a full list every {@link #RELIST_MILLIS} anyway, the safety net.</li>
 * </ol>
 * Listing again is a diff, not a restart: a key unchanged keeps its fingerprint (its revisions), so its
 * vassal goes on. While etcd is unreachable no snapshot is handed over: the last one stands, and every
 * vassal from etcd runs on.
 */
public final class EtcdSource implements Fleet {
    private static final Logger log = LoggerFactory.getLogger("emperor");
    static final long PROBE_MILLIS = 1000;
    static final long RPC_MILLIS = 2000;
    /** A list's deadline: the first one also connects (and loads gRPC and Netty). */
    static final long LIST_MILLIS = 10_000;
    /** gRPC and Netty log through java.util.logging: their INFO lines would reach stderr. Held: JUL keeps loggers weakly. */
    private static final java.util.logging.Logger[] QUIET = {java.util.logging.Logger.getLogger("io.grpc"),
            java.util.logging.Logger.getLogger("io.netty")};

    static {
        // Before any Netty class loads: one event-loop thread, and unpooled buffers (an emperor's etcd
        // traffic is a few small messages a second; Netty's pooled arenas would hold MiBs for it). The
        // operator's -D… wins.
        defaultProperty("io.netty.eventLoopThreads", "1");
        defaultProperty("io.grpc.netty.useCustomAllocator", "false");
        defaultProperty("io.netty.allocator.type", "unpooled");
        for (java.util.logging.Logger l : QUIET) {
            l.setLevel(java.util.logging.Level.WARNING);
        }
        // jetcd logs each retry of its own (every 500 ms while etcd is down); what matters, the outage and
        // its end, is logged once by this class.
        if (LoggerFactory.getLogger("io.etcd") instanceof ch.qos.logback.classic.Logger l) {
            l.setLevel(ch.qos.logback.classic.Level.OFF);
        }
    }
    static final long RELIST_MILLIS = 60_000;
    private static final long JOIN_MILLIS = 5000;

    private final FleetContext context;
    private final FleetSettings settings;
    private final FleetKeys keys;
    private final String root;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Object lock = new Object();
    private volatile FleetState state;
    private volatile boolean closed;
    private Thread thread;
    private Client client;
    private ExecutorService executor;

    // The source's thread only.
    private final Map<String, FleetKeys.Entry> entries = new HashMap<>();
    private long revision;
    private long memberId = -1;
    private long raftTerm = -1;
    private Watch.Watcher watcher;
    private int watchGeneration;
    /** What the last probe showed that the watch had not told: a count and a newest mod revision; null if nothing. */
    private String suspicion;
    private long reachableSince;
    private boolean everListed;
    /** The lease of this node's status keys (and slots); 0 when there is none. */
    private long lease;
    /** When the lease was last granted or kept alive (the clock's nanos). */
    private long leaseKeptAt;
    /** The status JSON put under {@code PREFIX/status/NODE/}, by vassal name, on the current lease. */
    private final Map<String, String> published = new HashMap<>();
    private final String statusRoot;
    private final String slotRoot;
    /** The probe's period: a second, or a quarter of etcd-ttl when that is shorter (the lease is kept at each). */
    private final long tickMillis;
    /** A request's deadline after the first list: 2 s, or a quarter of etcd-ttl when that is shorter (fencing must not wait). */
    private final long rpcMillis;
    /** Whether the placed vassals are fenced now (the lease was not kept alive): logged once per change. */
    private boolean fenced;
    private boolean everLeased;

    private record Events(int generation, WatchResponse response) {}

    private record WatchEnded(int generation, String reason) {}

    private static final Object RELIST = new Object();

    /** How many lists were taken, and why the last one after the first was (the source's thread; in {@link #state}). */
    private long lists;
    private String lastRelistReason;
    /** The source's time: deadlines, the lease's age, the outage's start (the emperor's {@link Clock}). */
    private final Clock clock;
    private final Connector connector;

    /** Makes the jetcd client (the emperor's: {@link #client}; a test's may stand between it and etcd). */
    @FunctionalInterface
    public interface Connector {
        Client connect(FleetSettings settings, String password, ExecutorService executor) throws IOException;
    }

    private static void defaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** What {@link io.emperor.source.FleetLoader} makes: the system clock, a jetcd client to the endpoints. */
    public EtcdSource(FleetContext context) {
        this(context, Clock.system(), EtcdSource::client);
    }

    public EtcdSource(FleetContext context, Clock clock, Connector connector) {
        this.clock = clock;
        this.connector = connector;
        this.context = context;
        this.settings = context.settings();
        this.keys = new FleetKeys(settings, context.parser(), context.users(), context.tyrant(), context.emperorGroup(),
                context.budget());
        this.root = settings.prefix() + "/";
        this.statusRoot = root + "status/" + settings.node() + "/";
        this.slotRoot = root + "slots/";
        this.tickMillis = Math.min(PROBE_MILLIS, settings.ttl().toMillis() / 4);
        this.rpcMillis = Math.min(RPC_MILLIS, settings.ttl().toMillis() / 4);
        this.state = new FleetState(settings.node(), settings.prefix(), false, 0, "not connected yet", 0, 0, 0, null);
    }

    private Client build() throws IOException {
        AtomicInteger n = new AtomicInteger();
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "emperor-etcd-client-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        return connector.connect(settings, context.password(), executor);
    }

    /** A jetcd client for these settings: fails fast (no waiting for a connection, no retries: ours are the probe's). */
    static Client client(FleetSettings settings, String password, ExecutorService executor) throws IOException {
        ClientBuilder b = Client.builder().endpoints(settings.endpoints().toArray(String[]::new))
                .executorService(executor)
                .connectTimeout(Duration.ofMillis(RPC_MILLIS))
                .keepaliveTime(Duration.ofSeconds(5))
                .keepaliveTimeout(Duration.ofSeconds(3))
                .keepaliveWithoutCalls(true)
                .retryMaxAttempts(0)
                .waitForReady(false);
        if (settings.user() != null) {
            b.user(bytes(settings.user())).password(bytes(password == null ? "" : password));
        }
        if (settings.cacert() != null || settings.cert() != null) {
            b.sslContext(ssl -> {
                if (settings.cacert() != null) {
                    ssl.trustManager(settings.cacert().toFile());
                }
                if (settings.cert() != null) {
                    ssl.keyManager(settings.cert().toFile(), settings.key().toFile());
                }
            });
        }
        return b.build();
    }

    @Override
    public void start() {
        synchronized (lock) {
            if (thread != null || closed) {
                throw new IllegalStateException("the etcd source can be started once");
            }
            try {
                client = build();
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("etcd: cannot set up the client: " + e.getMessage(), e);
            }
            thread = new Thread(this::run, "emperor-etcd");
            thread.setDaemon(true);
            thread.start();
        }
    }

    @Override
    public void relistNow() {
        queue.add(RELIST);
    }

    @Override
    public FleetState state() {
        return state;
    }

    @Override
    public void close() {
        Thread running;
        synchronized (lock) {
            closed = true;
            running = thread;
        }
        queue.add(RELIST);
        if (running != null && running != Thread.currentThread()) {
            try {
                running.join(JOIN_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (client != null) {
            if (lease != 0) {
                // A clean stop takes this node's status keys with it; a killed one's expire with the lease.
                try {
                    client.getLeaseClient().revoke(lease).get(RPC_MILLIS, TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    log.debug("etcd: revoking the lease: {}", e.toString());
                }
            }
            client.close();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    private void run() {
        boolean list = true;
        long lastList = 0;
        long nextProbe = 0;
        while (!closed) {
            try {
                if (list) {
                    if (list()) {
                        list = false;
                        lastList = clock.nanoTime();
                        nextProbe = clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(tickMillis);
                    } else {
                        fence();
                        sleepUntil(clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(tickMillis));
                        continue;
                    }
                }
                long wait = nextProbe - clock.nanoTime();
                Object message = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : null;
                if (message == RELIST) {
                    list = true;
                    lastRelistReason = "asked";
                } else if (message instanceof Events e) {
                    if (e.generation() == watchGeneration) {
                        apply(e.response());
                    }
                } else if (message instanceof WatchEnded e) {
                    if (e.generation() == watchGeneration) {
                        log.info("etcd: the watch ended ({}); listing {} again", e.reason(), root);
                        lastRelistReason = "watch ended: " + e.reason();
                        list = true;
                    }
                }
                if (!list && clock.nanoTime() - nextProbe >= 0) {
                    nextProbe = clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(tickMillis);
                    list = !probe();
                    if (state.reachable()) {
                        keepLease();
                        place();
                        keepStatus();
                    }
                    fence();
                }
                if (clock.nanoTime() - lastList >= TimeUnit.MILLISECONDS.toNanos(RELIST_MILLIS)) {
                    lastRelistReason = "periodic";
                    list = true;
                }
            } catch (InterruptedException e) {
                list = true;
            } catch (RuntimeException | StackOverflowError e) {
                // A bug in one turn: logged; a new list after a tick (never a tight loop of failures).
                log.error("etcd source: {}; going on", e.toString(), e);
                list = true;
                try {
                    sleepUntil(clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(tickMillis));
                } catch (InterruptedException ie) {
                    // closing
                }
            }
        }
        cancelWatch();
    }

    private void sleepUntil(long deadline) throws InterruptedException {
        long wait = deadline - clock.nanoTime();
        if (wait > 0) {
            Object m = queue.poll(wait, TimeUnit.NANOSECONDS);
            if (m != null && m != RELIST && !(m instanceof Events) && !(m instanceof WatchEnded)) {
                queue.add(m);
            }
        }
    }

    /** Lists the prefix, hands over the snapshot and watches from the next revision; false when etcd did not answer. */
    private boolean list() throws InterruptedException {
        GetResponse r;
        try {
            r = await(client.getKVClient().get(bytes(root), GetOption.builder().isPrefix(true).build()),
                    everListed ? rpcMillis : LIST_MILLIS);
        } catch (Failed f) {
            unreachable(f.getMessage());
            return false;
        }
        cancelWatch();
        entries.clear();
        for (KeyValue kv : r.getKvs()) {
            FleetKeys.Entry e = entry(kv);
            entries.put(e.key(), e);
        }
        lists++;
        revision = r.getHeader().getRevision();
        memberId = r.getHeader().getMemberId();
        raftTerm = r.getHeader().getRaftTerm();
        suspicion = null;
        reachable(r.getHeader());
        if (!everListed) {
            everListed = true;
            log.info("etcd: listed {} at revision {} ({} key(s)); node {}", root, revision, entries.size(),
                    settings.node());
        }
        watch(revision + 1);
        publish();
        return true;
    }

    /** Watches the prefix from {@code from} (a new generation: what the old watch still sends is dropped). */
    void watch(long from) {
        cancelWatch();
        int generation = ++watchGeneration;
        watcher = client.getWatchClient().watch(bytes(root), WatchOption.builder().isPrefix(true).withRevision(from)
                .build(), new Watch.Listener() {
                    @Override
                    public void onNext(WatchResponse response) {
                        queue.add(new Events(generation, response));
                    }

                    @Override
                    public void onError(Throwable error) {
                        queue.add(new WatchEnded(generation, reason(error)));
                    }

                    @Override
                    public void onCompleted() {
                        queue.add(new WatchEnded(generation, "closed by the server"));
                    }
                });
    }

    private void cancelWatch() {
        if (watcher != null) {
            try {
                watcher.close();
            } catch (RuntimeException e) {
                log.debug("etcd: closing a watch: {}", e.toString());
            }
            watcher = null;
        }
    }

    private void apply(WatchResponse response) {
        boolean matters = false;
        for (WatchEvent event : response.getEvents()) {
            KeyValue kv = event.getKeyValue();
            String key = kv.getKey().toString(StandardCharsets.UTF_8);
            if (event.getEventType() == WatchEvent.EventType.PUT) {
                entries.put(key, entry(kv));
            } else if (event.getEventType() == WatchEvent.EventType.DELETE) {
                entries.remove(key);
            } else {
                continue;
            }
            revision = Math.max(revision, kv.getModRevision());
            matters |= keys.matters(key);
        }
        if (response.getHeader() != null) {
            revision = Math.max(revision, response.getHeader().getRevision());
        }
        if (matters) {
            publish();
        }
    }

    /**
     * One cheap read: the newest key of the prefix by mod revision (keys only) and the count. False when
     * the list must be taken again: etcd answers after an outage, another member or term answers, or the
     * watch has been silent about a change for two probes.
     */
    private boolean probe() throws InterruptedException {
        GetResponse r;
        try {
            r = await(client.getKVClient().get(bytes(root), GetOption.builder().isPrefix(true).withKeysOnly(true)
                    .withSortField(GetOption.SortTarget.MOD).withSortOrder(GetOption.SortOrder.DESCEND)
                    .withLimit(1).build()), rpcMillis);
        } catch (Failed f) {
            unreachable(f.getMessage());
            return true; // the list is taken again once it answers
        }
        Response.Header h = r.getHeader();
        if (!state.reachable()) {
            reachable(h);
            lastRelistReason = "reachable again";
            return false;
        }
        if (h.getMemberId() != memberId || h.getRaftTerm() != raftTerm) {
            lastRelistReason = "another member or term";
            log.info("etcd: member {} term {} answers (was member {} term {}); listing {} again",
                    Long.toHexString(h.getMemberId()), h.getRaftTerm(), Long.toHexString(memberId), raftTerm, root);
            return false;
        }
        long newest = r.getKvs().isEmpty() ? 0 : r.getKvs().get(0).getModRevision();
        String seen = r.getCount() + "@" + newest;
        if (newest > revision || r.getCount() != entries.size()) {
            if (seen.equals(suspicion)) {
                lastRelistReason = "missed changes";
                log.warn("etcd: the watch of {} missed changes (etcd has {} key(s) up to revision {}, the watch told"
                        + " of {} up to {}); listing again", root, r.getCount(), newest, entries.size(), revision);
                return false;
            }
            suspicion = seen;
        } else {
            suspicion = null;
        }
        return true;
    }

    /**
     * The lease of this node's status keys and slots: {@code etcd-ttl}, kept alive every quarter of it. One that
     * etcd says expired, or that could not be kept for {@code etcd-ttl}, is replaced (its keys went with it).
     */
    private void keepLease() throws InterruptedException {
        long ttlNanos = settings.ttl().toNanos();
        try {
            if (lease != 0 && clock.nanoTime() - leaseKeptAt > ttlNanos) {
                log.warn("etcd: the lease of node {} was not kept alive for {} s; taking a new one", settings.node(),
                        settings.ttl().toSeconds());
                lease = 0;
            }
            if (lease == 0) {
                long sent = clock.nanoTime();
                lease = await(client.getLeaseClient().grant(settings.ttl().toSeconds()), rpcMillis).getID();
                leaseKeptAt = sent;
                everLeased = true;
                published.clear();
            } else if (clock.nanoTime() - leaseKeptAt >= ttlNanos / 4) {
                long sent = clock.nanoTime();
                long ttl = await(client.getLeaseClient().keepAliveOnce(lease), rpcMillis).getTTL();
                if (ttl <= 0) {
                    log.warn("etcd: the lease of node {} expired; taking a new one", settings.node());
                    lease = 0;
                    keepLease();
                    return;
                }
                leaseKeptAt = sent;
            }
        } catch (Failed f) {
            if (f.getMessage().contains("lease not found")) {
                lease = 0;
            } else {
                log.debug("etcd: the lease: {}", f.getMessage());
            }
        }
    }

    /**
     * Placement (docs/fleet.md): for each vassal with {@code [fleet] replicas = N} whose {@code nodes} glob this
     * node matches, and of which it holds no slot, claim the first free {@code PREFIX/slots/NAME/K} (K below N)
     * with a create-if-absent transaction on the lease; give back a slot whose vassal is gone or was cut to
     * fewer replicas. The holder runs it ({@link FleetKeys#snapshot}).
     */
    private void place() throws InterruptedException {
        if (lease == 0 || fenced) {
            return;
        }
        Map<String, FleetKeys.Placement> placements = keys.placements();
        boolean changed = false;
        try {
            for (Map.Entry<String, FleetKeys.Entry> e : List.copyOf(entries.entrySet())) {
                FleetKeys.Slot slot = FleetKeys.slot(slotRoot, e.getKey());
                if (slot == null || !settings.node().equals(new String(e.getValue().value(), StandardCharsets.UTF_8))
                        || e.getValue().lease() != lease) {
                    continue;
                }
                FleetKeys.Placement p = placements.get(slot.name());
                if (p == null || slot.index() >= p.replicas() || !p.matches(settings.node())) {
                    await(client.getKVClient().delete(bytes(e.getKey())), rpcMillis);
                    entries.remove(e.getKey());
                    log.info("fleet: {}: gave back slot {}", slot.name(), e.getKey());
                    changed = true;
                }
            }
            for (Map.Entry<String, FleetKeys.Placement> p : placements.entrySet()) {
                String name = p.getKey();
                if (!p.getValue().matches(settings.node()) || !held(name).isEmpty()) {
                    continue;
                }
                for (int k = 0; k < p.getValue().replicas(); k++) {
                    String key = slotRoot + name + "/" + k;
                    if (entries.containsKey(key)) {
                        continue;
                    }
                    io.etcd.jetcd.kv.TxnResponse t = await(client.getKVClient().txn()
                            .If(new io.etcd.jetcd.op.Cmp(bytes(key), io.etcd.jetcd.op.Cmp.Op.EQUAL,
                                    io.etcd.jetcd.op.CmpTarget.createRevision(0)))
                            .Then(io.etcd.jetcd.op.Op.put(bytes(key), bytes(settings.node()),
                                    io.etcd.jetcd.options.PutOption.builder().withLeaseId(lease).build()))
                            .commit(), rpcMillis);
                    if (t.isSucceeded()) {
                        long rev = t.getHeader().getRevision();
                        entries.put(key, new FleetKeys.Entry(key, settings.node().getBytes(StandardCharsets.UTF_8),
                                rev, rev, 1, lease));
                        log.info("fleet: {}: took slot {}", name, key);
                        changed = true;
                    }
                    break; // one claim a tick; the watch tells who won the others
                }
            }
        } catch (Failed f) {
            log.debug("etcd: placement: {}", f.getMessage());
        }
        if (changed) {
            publish();
        }
    }

    /** The slots of {@code name} this node holds on its current lease. */
    private List<String> held(String name) {
        List<String> mine = new java.util.ArrayList<>();
        String from = slotRoot + name + "/";
        for (FleetKeys.Entry e : entries.values()) {
            if (e.key().startsWith(from) && e.lease() == lease && lease != 0
                    && settings.node().equals(new String(e.value(), StandardCharsets.UTF_8))) {
                mine.add(e.key());
            }
        }
        return mine;
    }

    /**
     * Fencing: a node whose lease was not kept alive for {@code etcd-ttl} less two ticks may have lost its slots
     * (etcd expires the lease {@code etcd-ttl} after the last keep-alive it received): it stops its placed vassals
     * before another node can take them, so two copies never run after a partition heals.
     */
    private void fence() {
        if (!everLeased) {
            return;
        }
        // Two ticks before etcd could expire it: a tick may be late by a request's deadline (one tick).
        boolean now = lease == 0
                || clock.nanoTime() - leaseKeptAt > settings.ttl().toNanos() - 2 * TimeUnit.MILLISECONDS.toNanos(tickMillis);
        if (now == fenced) {
            return;
        }
        fenced = now;
        if (now) {
            boolean any = !keys.placements().isEmpty();
            log.warn("fleet: the lease of node {} was not kept alive for {} s; {}", settings.node(),
                    settings.ttl().toSeconds(), any ? "stopping the placed vassals (another node may take their slots)"
                            : "no placed vassal runs here");
            lease = 0;
        } else {
            log.info("fleet: the lease of node {} is kept again; placed vassals may run here", settings.node());
        }
        publish();
    }

    /**
     * This node's status keys: {@code PREFIX/status/NODE/NAME}, the vassal's {@code status --json} record, on the
     * lease; a key is put when its record changed, deleted when its vassal is gone; all are put again on a new lease.
     */
    private void keepStatus() throws InterruptedException {
        if (context.statuses() == null || lease == 0) {
            return;
        }
        try {
            Map<String, String> now = context.statuses().get();
            if (now == null) {
                return;
            }
            for (Map.Entry<String, String> e : now.entrySet()) {
                if (!e.getValue().equals(published.get(e.getKey()))) {
                    await(client.getKVClient().put(bytes(statusRoot + e.getKey()), bytes(e.getValue()),
                            io.etcd.jetcd.options.PutOption.builder().withLeaseId(lease).build()), rpcMillis);
                    published.put(e.getKey(), e.getValue());
                }
            }
            for (String name : List.copyOf(published.keySet())) {
                if (!now.containsKey(name)) {
                    await(client.getKVClient().delete(bytes(statusRoot + name)), rpcMillis);
                    published.remove(name);
                }
            }
        } catch (Failed f) {
            log.debug("etcd: status keys: {}", f.getMessage());
        }
    }

    private void publish() {
        java.util.Set<String> mine = new java.util.HashSet<>();
        for (FleetKeys.Entry e : entries.values()) {
            FleetKeys.Slot slot = FleetKeys.slot(slotRoot, e.key());
            if (slot != null && lease != 0 && !fenced && e.lease() == lease
                    && settings.node().equals(new String(e.value(), StandardCharsets.UTF_8))) {
                mine.add(slot.name());
            }
        }
        io.emperor.source.dir.Snapshot snapshot = keys.snapshot(entries, mine);
        FleetState s = state;
        state = new FleetState(s.node(), s.prefix(), s.reachable(), s.sinceMillis(), s.reason(), revision,
                snapshot.files().size(), lists, lastRelistReason);
        context.sink().accept(snapshot);
    }

    private void unreachable(String reason) {
        FleetState s = state;
        if (s.reachable() || s.sinceMillis() == 0) {
            log.warn("etcd: unreachable ({}) at {}; the vassals from etcd keep running as they are; retrying every"
                    + " second", reason, String.join(",", settings.endpoints()));
            state = new FleetState(s.node(), s.prefix(), false, clock.millis(), reason, s.revision(),
                    s.vassals(), lists, lastRelistReason);
        } else if (!reason.equals(s.reason())) {
            state = new FleetState(s.node(), s.prefix(), false, s.sinceMillis(), reason, s.revision(), s.vassals(),
                    lists, lastRelistReason);
        }
    }

    private void reachable(Response.Header h) {
        FleetState s = state;
        if (!s.reachable()) {
            long now = clock.millis();
            if (s.sinceMillis() != 0) {
                log.info("etcd: reachable again after {} s; listing {} again", (now - s.sinceMillis() + 500) / 1000,
                        root);
            }
            state = new FleetState(s.node(), s.prefix(), true, now, null, s.revision(), s.vassals(), lists,
                    lastRelistReason);
            reachableSince = now;
        }
    }

    private static FleetKeys.Entry entry(KeyValue kv) {
        return new FleetKeys.Entry(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().getBytes(),
                kv.getCreateRevision(), kv.getModRevision(), kv.getVersion(), kv.getLease());
    }

    /** A request that failed or did not answer in time; the message is the reason. */
    private static final class Failed extends Exception {
        Failed(String reason) {
            super(reason, null, false, false);
        }
    }

    private static <T> T await(CompletableFuture<T> future, long millis) throws Failed, InterruptedException {
        try {
            return future.get(millis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new Failed("no answer within " + millis + " ms");
        } catch (ExecutionException e) {
            throw new Failed(reason(e.getCause()));
        }
    }

    static String reason(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c && (c.getMessage() == null
                || c instanceof java.util.concurrent.CompletionException)) {
            c = c.getCause();
        }
        String m = c.getMessage();
        return m == null || m.isBlank() ? c.getClass().getSimpleName() : m.replaceAll("\\s+", " ");
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
