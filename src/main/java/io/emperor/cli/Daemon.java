package io.emperor.cli;

import io.emperor.config.ControlSettings;
import io.emperor.config.EmperorConfig;
import io.emperor.control.ControlHandler;
import io.emperor.control.ControlServer;
import io.emperor.control.Rights;
import io.emperor.control.StatsServer;
import io.emperor.control.StatusView;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.VassalParser;
import io.emperor.log.EmperorLog;
import io.emperor.log.LogSetup;
import io.emperor.log.VassalOutput;
import io.emperor.log.EmperorLayout;
import io.emperor.log.VassalTails;
import io.emperor.loop.Clock;
import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopEvent;
import io.emperor.loop.TrimmingHost;
import io.emperor.os.Capabilities;
import io.emperor.os.Containment;
import io.emperor.os.Environment;
import io.emperor.os.HeapTrim;
import io.emperor.os.HelperLauncher;
import io.emperor.os.HelperLocator;
import io.emperor.os.IoThread;
import io.emperor.os.PosixUserDb;
import io.emperor.os.PrivilegeDrop;
import io.emperor.os.SignalHandlers;
import io.emperor.source.dir.DirectoryScanner;
import io.emperor.source.dir.DirectoryWatcher;
import io.emperor.source.Fleet;
import io.emperor.source.FleetContext;
import io.emperor.source.FleetLoader;
import io.emperor.source.FleetState;
import io.emperor.source.Sources;
import io.emperor.systemd.Notifier;
import io.emperor.systemd.NotifyingHost;
import io.emperor.systemd.Watchdog;
import io.emperor.vassal.Lifecycle;
import io.emperor.vassal.Policy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** Wires the emperor together (every seam is a constructor parameter) and runs it. */
final class Daemon {
    /**
     * Whose the emperor's lines about a vassal are in its tail: in tyrant mode the owner of the
     * version of its file the loop knows (the uid the control socket's rights go by), else nobody
     * in particular. Loop thread.
     */
    static int tailOwner(EmperorLoop loop, String name, boolean tyrant) {
        io.emperor.source.dir.VassalFile f = loop.file(name);
        return !tyrant ? VassalTails.NO_OWNER : f == null ? VassalTails.NO_OWNER : f.fingerprint().uid();
    }

    private final Supplier<Parsed<EmperorConfig>> reload;
    private EmperorConfig config;
    private DirectoryWatcher watcher;
    /** The fleet's source when emperor.ini sets etcd, else null (docs/fleet.md). */
    private Fleet fleet;
    private VassalOutput output;

    // What run() finds and builds in its steps (each step below says which), on the main thread;
    // from loop.run() on, the thread is the loop's.
    private PrivilegeDrop.Plan drop;
    private Path helper;
    private String containmentMode;
    private int pid;
    private IoThread ioThread;
    private Containment containment;
    private Optional<String> noSubreaper;
    private io.emperor.os.NotifySocket notify;
    private HelperLauncher launcher;
    private Notifier notifier;
    private EmperorLoop loop;
    private ControlHandler handler;
    /** The control socket's server, set before it starts: the handler's off-loop work runs on its thread. */
    private final java.util.concurrent.atomic.AtomicReference<ControlServer> controlServer = new java.util.concurrent.atomic.AtomicReference<>();
    private Optional<ControlServer> control = Optional.empty();
    private StatsServer stats;
    /** Lines for the log that wait until "started" has been written (the sockets', the drop's). */
    private final List<Runnable> deferred = new java.util.ArrayList<>();

    Daemon(EmperorConfig config, Supplier<Parsed<EmperorConfig>> reload) {
        this.config = config;
        this.reload = reload;
    }

    /**
     * The emperor's life: checks, parts built, sockets opened and privileges dropped, the start
     * announced, the previous incarnation's leftovers stopped, the sources started; then the loop
     * until it ends, and the tear-down. The exit status: 1 when it could not start (said on stderr,
     * or in the log once it is open).
     */
    int run() throws InterruptedException {
        FatalErrors.install();
        if (!checks() || !assemble()) {
            return 1;
        }
        if (!openSockets()) {
            closeSockets();
            return 1;
        }
        announce();
        stopLeftovers(containment, launcher);
        ioThread.start();
        if (!startSources()) {
            closeSockets();
            ioThread.close();
            return 1;
        }
        loop.run();
        tearDown();
        return loop.exitCode();
    }

    /** What must hold before anything is built: emperor.ini's drop, the log, the helper, the containment mode, tyrant's capabilities. */
    private boolean checks() {
        // emperor.ini's uid/gid/cap: resolved before anything starts, applied once the sockets are open.
        drop = Drop.plan(config);
        if (drop instanceof PrivilegeDrop.Plan.Refused r) {
            System.err.println(r.message());
            return false;
        }
        Optional<String> logProblem = LogSetup.configure(logTarget(config));
        if (logProblem.isPresent()) {
            System.err.println("emperor: " + logProblem.get());
            return false;
        }
        Optional<Path> found = HelperLocator.find();
        if (found.isEmpty()) {
            System.err.println("emperor: the exec helper " + HelperLocator.NAME + " was not found; looked at "
                    + HelperLocator.candidates() + " (build it with 'mvn package', or set -Demperor.helper=PATH)");
            return false;
        }
        helper = found.get();
        containmentMode = System.getProperty("emperor.containment", "auto");
        if (!Containment.MODES.contains(containmentMode)) {
            System.err.println("emperor: -Demperor.containment=" + containmentMode + ": expected one of "
                    + String.join(", ", Containment.MODES));
            return false;
        }
        return !config.tyrant() || tyrantCapabilities();
    }

    /** Every part built and wired, nothing started (the fleet's client is loaded here when etcd is set). */
    private boolean assemble() {
        Warmup.await(); // jnr's set-up, begun as run started (Main)
        io.emperor.os.LibC libc = io.emperor.os.Native.libc();
        pid = libc.getpid();
        PosixUserDb users = new PosixUserDb();
        Environment environment = new Environment(System.getenv(), config.uwsgi().binary(), config.locale());
        // Tyrant mode: $(VAR) in a tenant's file reads only what its vassal gets (docs/tyrant.md).
        VassalParser parser = new VassalParser(users, HostName.name(), System.getenv(), config.tyrant(),
                owner -> environment.forTenant(owner < 0 ? null : users.userById(owner).orElse(null)))
                .withTenantListen(config.tenantBudget().listen());
        int uid = Drop.uid(drop, libc.getuid());
        int gid = Drop.gid(drop, libc.getgid());
        Rights rights = rights(users, config.tyrant(), uid, gid);
        // uWSGI's on-demand vassals (issue 15): their socket, read beside their file (start-only settings)
        io.emperor.config.UwsgiCommand startUwsgi = config.uwsgi();
        io.emperor.source.dir.OnDemandSockets files = new io.emperor.source.dir.OnDemandSockets(parser,
                () -> startUwsgi, config.tyrant(), parser::tenantListen);
        DirectoryScanner scanner = new DirectoryScanner(config.vassalDirs(), files, !config.nofollow(),
                config.tyrant() ? Optional.of(users) : Optional.empty(), rights.emperorGroup(), config.tenantBudget());
        Policy policy = new Policy(config.minUptime(), config.maxBackoff(), config.requiredHeartbeat());

        EmperorLoop[] loopRef = new EmperorLoop[1];
        output = new VassalOutput(new VassalTails());
        output.reconfigure(config.logging());
        ioThread = new IoThread(e -> loopRef[0].post(e), output);
        containment = Containment.detect(config.vassalDirs(), containmentMode, runtimeDirectory(config));
        noSubreaper = Containment.becomeSubreaper();
        notify = openNotify(runtimeDirectory(config), containment, ioThread, loopRef, deferred);
        launcher = new HelperLauncher(helper, ioThread, environment, config.tyrant(), config.uwsgi(), containment, notify);
        launcher.allowTenants(config.tenantBudget().listen()); // tenant-listen, checked again at each hold
        notifier = Notifier.fromEnvironment(System.getenv());
        loop = new EmperorLoop(new Lifecycle(policy), launcher, ioThread, Clock.system(), new NotifyingHost(new TrimmingHost(new EmperorLoop.Host() {
            @Override
            public Optional<Policy> reloadConfig() {
                return Daemon.this.reloadConfig();
            }

            @Override
            public void stopWatching() {
                watcher.close();
                // The fleet stays until every vassal has stopped (the end of run): its lease holds the
                // placed vassals' slots, which another node must not take while they still run here.
                // The loop ignores what it posts meanwhile.
            }

            @Override
            public void vassalLine(String name, io.emperor.vassal.Effect.Level level, String message) {
                output.tails().appendEmperor(name, tailOwner(loopRef[0], name, config.tyrant()), EmperorLayout.tailLine(name, message));
            }
        }, Clock.system(), HeapTrim::trim), notifier, Clock.system(), Watchdog.interval(System.getenv(), ProcessHandle.current().pid())));
        loopRef[0] = loop;
        loop.watchConnections(ioThread); // on-demand vassals' sockets (issue 15)
        if (config.tyrant()) {
            loop.separateTenants();
        }
        // The directories and the fleet: one union of snapshots for the loop (io.emperor.source.Sources).
        Sources sources = new Sources(s -> loop.post(new LoopEvent.Scanned(s)));
        watcher = new DirectoryWatcher(scanner, config.rescan(), sources::fromDirectories, false);
        if (config.fleet().enabled()) {
            try {
                fleet = FleetLoader.load(new FleetContext(config.fleet(), parser,
                        users, config.tyrant(), rights.emperorGroup(), config.tenantBudget(),
                        FleetLoader.password(config.fleet()), () -> statuses(handler), sources::fromFleet));
            } catch (IllegalStateException | java.io.IOException e) {
                System.err.println("emperor: etcd: " + e.getMessage());
                return false;
            }
        }
        // The handler's off-loop work runs on the control server's thread; without a server no
        // request comes, so nothing is ever queued there.
        handler = new ControlHandler(loop, rights, output.tails(), () -> {
                    watcher.rescanNow();
                    if (fleet != null) {
                        fleet.relistNow();
                    }
                },
                new StatusView.Emperor(Main.version(), pid, uid, gid,
                        Path.of("").toAbsolutePath().toString(), config.tyrant(), System.currentTimeMillis()),
                () -> config.vassalDirs().stream().map(Path::toString).toList(), task -> controlServer.get().execute(task));
        return true;
    }

    /** The control socket and the stats server opened, then emperor.ini's uid/gid/cap applied; false when one failed (said). */
    private boolean openSockets() {
        ControlServer server = config.control().socket() == null ? null : new ControlServer(config.control().socket(), handler);
        controlServer.set(server);
        handler.internals(() -> {
            io.emperor.os.NotifySocket n = notify;
            return new io.emperor.control.EmperorStatus.Internals(server == null ? 0 : server.connections(),
                    server == null ? 0 : server.pendingOutputBytes(), ioThread.watchedRuns(), ioThread.probing(),
                    output.tails().count(), output.tails().totalBytes(), n == null ? 0 : n.datagrams(),
                    n == null ? 0 : n.fdsClosed(), n == null ? 0 : n.pendingRuns());
        });
        // What the sockets have to say is logged after the "started" line, which comes first.
        Optional<ControlServer> started = startControl(config.control(), server, deferred);
        if (started == null) {
            return false;
        }
        control = started;
        if (config.control().stats() != null) {
            StatsServer s = new StatsServer(config.control().stats(), handler::snapshot);
            try {
                s.start();
                stats = s;
                String bound = s.boundAddress();
                deferred.add(() -> EmperorLog.info("stats: serving on " + bound
                        + " (uWSGI stats JSON; Prometheus text at GET /metrics)"));
            } catch (java.io.IOException e) {
                System.err.println(statsFailure(config.control().stats(), e));
                return false;
            }
        }
        return Drop.apply(drop, config, deferred, helper.getParent(), containment);
    }

    private void closeSockets() {
        control.ifPresent(ControlServer::close);
        if (stats != null) {
            stats.close();
        }
    }

    /** The signals taken over, then "started" and what waited for it. */
    private void announce() {
        List<String> missed = SignalHandlers.install(loop::post, ioThread, helper.getParent());
        Thread.currentThread().setName("emperor-loop");
        EmperorLog.info("started version=" + Main.version() + " pid=" + pid
                + " vassals=" + config.vassalDirs().stream().map(Path::toString).collect(Collectors.joining(","))
                + " helper=" + helper);
        if (config.tyrant()) {
            EmperorLog.info("tyrant mode: every vassal runs as the owner of its file"
                    + (config.nofollow() ? " (nofollow: a symlink's own owner)" : ""));
        }
        if (!missed.isEmpty()) {
            EmperorLog.warn("signals not taken over: " + missed);
        }
        deferred.forEach(Runnable::run);
        EmperorLog.info("containment: " + containment.describe()
                + noSubreaper.map(why -> "; not a subreaper: " + why).orElse("; subreaper"));
    }

    /** The directory watcher and the fleet started; false when the directories cannot be watched (logged). */
    private boolean startSources() {
        if (fleet != null) {
            handler.fleet(() -> fleetJson(fleet.state()));
        }
        try {
            watcher.start();
            if (fleet != null) {
                fleet.start();
                EmperorLog.info("fleet: etcd " + String.join(",", config.fleet().endpoints()) + " prefix "
                        + config.fleet().prefix() + " node " + config.fleet().node());
            }
            return true;
        } catch (java.io.IOException | IllegalStateException e) {
            EmperorLog.error("cannot watch the vassal directories: " + e.getMessage(), e);
            return false;
        }
    }

    /** After the loop: what was killed at the last reaps waited for, the cgroups removed, every part closed. */
    private void tearDown() throws InterruptedException {
        List<Long> still = containment.stopAll(LEFTOVER_WAIT.toNanos(), launcher::reapAdopted);
        if (!still.isEmpty()) {
            EmperorLog.warn("containment: " + still.size() + " process(es) still in " + containment.root()
                    + " after " + LEFTOVER_WAIT.toSeconds() + " s: " + still);
        }
        containment.removeRoot();
        launcher.close(); // the spawn server
        closeSockets();
        watcher.close();
        if (fleet != null) {
            fleet.close();
        }
        ioThread.close();
        if (notify != null) {
            notify.close();
        }
        notifier.close();
        EmperorLog.info("stopped");
    }

    /**
     * What {@code PREFIX/status/NODE/NAME} holds for each vassal (docs/fleet.md): its {@code status --json}
     * record without {@code uptime} and {@code backoff}, which change every second ({@code started_at}
     * gives the uptime). On the fleet's thread; null when the loop did not answer within 2 s.
     */
    static Map<String, String> statuses(ControlHandler handler) {
        if (handler == null) {
            return null;
        }
        io.emperor.control.EmperorStatus all;
        try {
            all = handler.snapshot().get(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return null;
        }
        Map<String, String> m = new java.util.TreeMap<>();
        for (io.emperor.control.VassalStatus v : all.vassals()) {
            m.put(v.name(), StatusView.publishedJsonText(v));
        }
        return m;
    }

    /** The fleet's part of {@code status --json}: {@code emperor.etcd} (docs/control.md). */
    static Map<String, Object> fleetJson(FleetState s) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("node", s.node());
        m.put("prefix", s.prefix());
        m.put("reachable", s.reachable());
        m.put("since", s.sinceMillis() == 0 ? null : s.sinceMillis() / 1000.0);
        m.put("reason", s.reason());
        m.put("revision", s.revision());
        m.put("vassals", s.vassals());
        m.put("lists", s.lists());
        m.put("relisted", s.relisted());
        return m;
    }

    /** How long the start waits for a previous emperor's processes to be gone, and the end for its own. */
    private static final java.time.Duration LEFTOVER_WAIT = java.time.Duration.ofSeconds(10);

    /**
     * Before the first spawn: what a previous emperor on the same vassal directories left in its
     * cgroups (it was killed, or its stop timed out) is logged, killed and waited for, so that
     * nothing of it holds a port or a file the new vassals need (docs/emperor.8.md).
     */
    private static void stopLeftovers(Containment containment, HelperLauncher launcher) {
        Map<String, Long> held = new java.util.TreeMap<>();
        Map<String, List<Long>> found = containment.leftovers(held);
        held.forEach((group, emperor) -> EmperorLog.warn("leftovers: " + Containment.vassalOf(group)
                + ": its processes are children of another running emperor (pid " + emperor + "); not touched"));
        if (found.isEmpty()) {
            containment.resetState();
            return;
        }
        int total = 0;
        for (Map.Entry<String, List<Long>> e : found.entrySet()) {
            total += e.getValue().size();
            EmperorLog.warn("leftovers: " + Containment.vassalOf(e.getKey()) + ": " + e.getValue().size()
                    + " process(es) of a previous emperor: " + describe(e.getValue()) + " ("
                    + containment.where(e.getKey()) + ")");
        }
        List<Long> still = containment.stop(found.keySet(), LEFTOVER_WAIT.toNanos(), launcher::reapAdopted);
        if (still.isEmpty()) {
            EmperorLog.info("leftovers: stopped " + total + " process(es) of " + found.size() + " vassal(s)");
        } else {
            EmperorLog.warn("leftovers: " + still.size() + " of " + total + " process(es) still there after "
                    + LEFTOVER_WAIT.toSeconds() + " s of SIGKILL: " + describe(still));
        }
    }

    /**
     * Where the state file of containment without cgroups goes: the control socket's directory,
     * else systemd's {@code $RUNTIME_DIRECTORY}, else {@code /run/emperor}.
     */
    private static Path runtimeDirectory(EmperorConfig c) {
        Path dir = c.control().socket() != null ? c.control().socket().toAbsolutePath().getParent()
                : System.getenv("RUNTIME_DIRECTORY") != null ? Path.of(System.getenv("RUNTIME_DIRECTORY").split(":")[0])
                : ControlSettings.DEFAULT_SOCKET.getParent();
        try {
            java.nio.file.Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            // the state file then cannot be written: said nowhere else, the mark still works
        }
        return dir;
    }

    /**
     * The vassals' notify socket ({@code ready = notify}, {@code watchdog}): {@code notify.sock} in the runtime
     * directory, watched by the I/O thread; null when it cannot be opened (said after the start line: the
     * vassals that need it then fail to spawn with the reason, the others run).
     */
    private static io.emperor.os.NotifySocket openNotify(Path dir, Containment containment, IoThread ioThread,
                                                        EmperorLoop[] loopRef, List<Runnable> log) {
        Path path = dir.resolve(io.emperor.os.NotifySocket.FILE_NAME);
        try {
            io.emperor.os.NotifySocket s = io.emperor.os.NotifySocket.open(path, containment, Clock.system(),
                    e -> loopRef[0].post(e));
            ioThread.watchNotify(s);
            String unreachable = notReachable(dir);
            log.add(() -> EmperorLog.info("notify: vassal notify socket " + path + " (mode 0666)"
                    + (unreachable == null ? "" : "; " + unreachable)));
            return s;
        } catch (java.io.IOException | RuntimeException e) {
            log.add(() -> EmperorLog.warn("notify: no vassal notify socket: " + e.getMessage()
                    + " (vassals with ready = notify or watchdog cannot start)"));
            return null;
        }
    }

    /** Why a vassal of another user could not reach a socket in {@code dir} (a directory on the way without o+x), or null. */
    private static String notReachable(Path dir) {
        for (Path d = dir.toAbsolutePath(); d != null; d = d.getParent()) {
            try {
                if (!java.nio.file.Files.getPosixFilePermissions(d).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                    return d + " is not searchable by other users (o+x): only vassals of its owner or group can send";
                }
            } catch (java.io.IOException | UnsupportedOperationException e) {
                return null;
            }
        }
        return null;
    }

    /** "PID (comm), ...": at most ten. */
    private static String describe(List<Long> pids) {
        List<String> parts = new java.util.ArrayList<>();
        for (long pid : pids.subList(0, Math.min(10, pids.size()))) {
            String comm;
            try {
                comm = java.nio.file.Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
            } catch (java.io.IOException e) {
                comm = "gone";
            }
            parts.add(pid + " (" + comm + ")");
        }
        return String.join(", ", parts) + (pids.size() > 10 ? ", ..." : "");
    }

    /**
     * The control socket: empty when there is none ({@code control =} empty, or the default
     * path cannot be created: warned); null when a configured one cannot be created (said on
     * stderr: the start fails, as for a log file that cannot be opened).
     */
    private static Optional<ControlServer> startControl(ControlSettings settings, ControlServer server,
                                                        List<Runnable> log) {
        if (server == null) {
            return Optional.empty();
        }
        try {
            server.start();
            log.add(() -> EmperorLog.info("control socket " + settings.socket()));
            return Optional.of(server);
        } catch (java.io.IOException e) {
            String why = io.emperor.control.SocketAdvice.explain(settings.socket(), e, System.getProperty("user.name"));
            if (settings.configured()) {
                System.err.println("emperor: control = " + settings.socket() + ": " + why);
                return null;
            }
            log.add(() -> EmperorLog.warn("no control socket: " + why));
            return Optional.empty();
        }
    }

    /**
     * The stderr line when the stats server cannot start: {@code emperor: stats = ADDR: REASON}
     * (emperor.8.md). The server's own messages already start with {@code stats = ADDR: }
     * ({@code stats: } for an empty address): the prefix is not written twice.
     */
    static String statsFailure(String address, java.io.IOException e) {
        String why = String.valueOf(e.getMessage());
        return "emperor: " + (why.startsWith("stats = ") || why.startsWith("stats: ") ? why
                : "stats = " + address + ": " + why);
    }

    /** Root, the emperor's own uid and its group's members may do everything (docs/control.md). */
    private static Rights rights(PosixUserDb users, boolean tyrant, int uid, int gid) {
        String groupName = users.groupById(gid).map(PosixUserDb.Group::name).orElse(String.valueOf(gid));
        // Read once per connection, on the control thread (never on the loop): a user added to the group
        // need not wait for a restart, only reconnect.
        return new Rights(tyrant, uid, gid, groupName, peer -> {
            Optional<PosixUserDb.Group> g = users.groupById(gid);
            Optional<io.emperor.config.Account> pw = users.userById(peer);
            return g.isPresent() && pw.isPresent() && pw.get().name() != null
                    && g.get().members().contains(pw.get().name());
        });
    }

    /** Tyrant mode: true when this process holds what it needs; else says so on stderr. */
    private static boolean tyrantCapabilities() {
        List<String> missing;
        try {
            missing = Capabilities.missingForTyrant(Capabilities.readSelfStatus());
        } catch (java.io.IOException e) {
            System.err.println("emperor: tyrant mode: cannot read /proc/self/status: " + e.getMessage());
            return false;
        }
        if (!missing.isEmpty()) {
            System.err.println(Capabilities.refusal(missing));
            return false;
        }
        return true;
    }

    private static LogSetup.Target logTarget(EmperorConfig c) {
        return new LogSetup.Target(c.log(), c.logging().formatFor(System.getenv()), c.logging().logMaxSize(),
                c.logging().logBackups());
    }

    /** SIGHUP, on the loop thread: re-read emperor.ini; on errors keep everything as it is. */
    private Optional<Policy> reloadConfig() {
        Parsed<EmperorConfig> p = reload.get();
        if (!p.isOk()) {
            for (Problem e : p.errors()) {
                EmperorLog.warn("emperor.ini not reloaded: " + e);
            }
            watcher.rescanNow();
            return Optional.empty();
        }
        EmperorConfig next = p.value();
        if (next.tyrant() != config.tyrant() || next.nofollow() != config.nofollow()) {
            // The parser, scanner and launcher were built for one mode; switching under running
            // vassals would leave them running as whoever the old mode chose.
            EmperorLog.warn("emperor.ini: tyrant and nofollow take effect only at start; keeping tyrant="
                    + config.tyrant() + " nofollow=" + config.nofollow());
            next = next.withMode(config.tyrant(), config.nofollow());
        }
        if (!next.control().equals(config.control())) {
            EmperorLog.warn("emperor.ini: control and stats take effect only at start");
        }
        if (!next.uwsgi().equals(config.uwsgi())) {
            // The launcher builds every uWSGI command from the settings of the start.
            EmperorLog.warn("emperor.ini: uwsgi-binary, vassal-set, vassals-include, on-demand-extension and"
                    + " on-demand-directory take effect only at start");
        }
        if (!next.fleet().equals(config.fleet())) {
            EmperorLog.warn("emperor.ini: etcd, etcd-prefix, node, etcd-ttl and the etcd TLS and user keys take"
                    + " effect only at start");
        }
        if (!next.drop().equals(config.drop())) {
            EmperorLog.warn("emperor.ini: uid, gid and cap take effect only at start");
        }
        if (!next.locale().equals(config.locale())) {
            // The parser and the launcher hold the environment of the start.
            EmperorLog.warn("emperor.ini: env takes effect only at start");
        }
        if (!next.tenantBudget().equals(config.tenantBudget())) {
            // The scanner holds the budget of the start.
            EmperorLog.warn("emperor.ini: tenant-max-vassals, tenant-max-bytes, tenant-max-total-bytes and"
                    + " tenant-listen take effect only at start");
        }
        for (Problem w : p.warnings()) {
            EmperorLog.warn("emperor.ini: warning: " + w);
        }
        LogSetup.Target target = logTarget(next);
        if (next.log() != null || !target.equals(logTarget(config))) {
            // Also reopens the same file: what an external logrotate needs after a rename.
            LogSetup.configure(target).ifPresent(why -> EmperorLog.warn(why + "; keeping the current log"));
        }
        output.reconfigure(next.logging()); // reopens every vassal-logs file at its next line
        config = next;
        watcher.reconfigure(next.vassalDirs(), next.rescan());
        return Optional.of(new Policy(next.minUptime(), next.maxBackoff(), next.requiredHeartbeat()));
    }
}
