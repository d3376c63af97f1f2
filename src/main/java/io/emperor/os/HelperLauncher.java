package io.emperor.os;

import io.emperor.config.Rlimit;
import io.emperor.config.TenantListen;
import io.emperor.config.UwsgiCommand;
import io.emperor.config.VassalSpec;
import io.emperor.log.EmperorLog;
import io.emperor.loop.Launcher;
import io.emperor.vassal.ExitStatus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * Starts vassals through the native exec helper (DESIGN §5): by a request to its spawn server
 * ({@link SpawnServer}: the clone is the emperor's child and runs the helper's steps without an
 * exec of the helper), or with {@code posix_spawnp} of the helper while there is no server. The
 * helper gets an empty environment (the dynamic loader of a privileged helper would honour
 * LD_PRELOAD and its kind) and the vassal's on fd {@value #ENV_FD}, a memfd of NUL-terminated
 * {@code KEY=VALUE} strings ({@code -E}) used only by its final execve; {@code /dev/null} on stdin, the output pipe (or
 * {@code /dev/null} with logto) on stdout/stderr and the report pipe on fd 3, applies every
 * setting and execs the program, so the pid held here is the vassal's. A {@code [uwsgi]} vassal
 * also gets its end of the emperor channel, a {@code socketpair}, on fd {@value #CHANNEL_FD}
 * ({@code UWSGI_EMPEROR_FD}; the helper keeps it with {@code -K}); the emperor's end is read by
 * the I/O thread and written by {@link #tell}, never blocking. A vassal whose sockets the emperor
 * holds ({@code listen}, issue 15, docs/sockets.md) gets them on fds 3, 4, … in {@code listen} order
 * (the helper's {@code -L N}: LISTEN_FDS, LISTEN_PID, and LISTEN_FDNAMES from here), and the report
 * fd, the channel and the env memfd move up by N; a uWSGI on-demand vassal gets its one socket on
 * fd 0 instead of {@code /dev/null}. Exits are watched
 * through a pidfd per run. Only the loop thread calls this class; it is the thread that spawns,
 * and it lives as long as the emperor, which the parent-death signal relies on.
 *
 * <p>In tyrant mode every vassal gets the whole drop ({@code -u -g [-U] -C -N}), even when its
 * owner is the emperor's own uid, its rlimits after the drop ({@code -A}: they can only go down),
 * the clean environment of {@link Environment#forTenantVassal}, and a spec that would run as
 * uid 0 or gid 0 is refused here too, whatever the scanner decided: the last line of defence.
 * Every vassal that does not run as root gets {@code -C}: an emperor holding ambient capabilities
 * (the shipped unit) passes none of them on, tyrant mode or not.
 */
public final class HelperLauncher implements Launcher {
    /** The report fd of a vassal without held sockets; with N of them on 3 .. 3+N-1 it is 3+N, and the rest move up as much. */
    private static final int REPORT_FD = 3;
    /** Where a uWSGI vassal finds its end of the emperor channel ({@code UWSGI_EMPEROR_FD}), without held sockets. */
    static final int CHANNEL_FD = 4;
    /** Where the helper reads the vassal's environment ({@code -E}), without held sockets. */
    static final int ENV_FD = 5;
    /** The most sockets a vassal is handed (the helper's MAX_LISTEN_FDS, {@code -L}; docs/sockets.md). */
    public static final int MAX_LISTEN = 32;
    /**
     * How long a unix bind child may take before it is killed and the bind failed (docs/sockets.md). It takes
     * milliseconds; only the vassal whose socket it is waits for it meanwhile.
     */
    static final long BIND_TIMEOUT_MILLIS = 30_000;
    /** The socket-activation variables: set by the emperor only, whatever the vassal's {@code env} says. */
    private static final List<String> LISTEN_VARS = List.of("LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=");
    /** The helper's bound on the environment it reads (MAX_ENV_BYTES in emperor-exec.c). */
    static final int MAX_ENV_BYTES = 1024 * 1024;
    private static final int SIGKILL = 9;
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;

    private final Path helper;
    private final IoThread io;
    private final Environment environment;
    private final boolean tyrant;
    private final UwsgiCommand uwsgi;
    private final int euid;
    private final int egid;
    private final int pid;
    private final Containment containment;
    /** The vassals' notify socket ({@code ready = notify}, {@code watchdog}), or null when there is none. */
    private final NotifySocket notify;
    private final LibC c = Native.libc();
    private final Spawner spawner = new Spawner();
    private final SpawnServer server;
    /** The sockets held for vassals ({@code listen}, issue 15). */
    private final ListenSockets listens;
    /** Tyrant mode: the addresses a tenant's sockets may have ({@code tenant-listen}), checked again at each hold. */
    private TenantListen tenantListen = TenantListen.ANY;
    private final Map<Long, Proc> procs = new HashMap<>();
    /** The main pids of {@link #procs}: reaped through their pidfds, never by {@link #reapAdopted}. */
    private final java.util.Set<Long> vassalPids = new java.util.HashSet<>();
    private final Pointer siginfo = Memory.allocateDirect(Native.runtime(), 128);
    private final Pointer oneByte = Memory.allocateDirect(Native.runtime(), 8);
    /** Where {@link #envFile} copies the environment for its write (loop thread only). */
    private Pointer envBuffer;

    /**
     * A run not reaped yet; name, outFd and reportFd wait here until {@link #watch}. channelFd is
     * the emperor's end of a uWSGI run's channel (else -1): written here, read by the I/O thread,
     * closed at the reap.
     */
    private record Proc(long pid, int pidfd, io.emperor.log.VassalOutput.Route route, int outFd, int reportFd,
                        int channelFd) {
        String name() {
            return route.name();
        }
    }

    public HelperLauncher(Path helper, IoThread io, Environment environment) {
        this(helper, io, environment, false);
    }

    /** How a run's output is routed; in tyrant mode its lines in the in-memory tail are its owner's. */
    private io.emperor.log.VassalOutput.Route route(String name, VassalSpec spec) {
        return tyrant ? new io.emperor.log.VassalOutput.Route(name, spec.logTag(), spec.uid())
                : new io.emperor.log.VassalOutput.Route(name, spec.logTag());
    }

    /** @param tyrant tyrant mode: always drop to the spec's uid/gid, never to root */
    public HelperLauncher(Path helper, IoThread io, Environment environment, boolean tyrant) {
        this(helper, io, environment, tyrant, UwsgiCommand.of(environment.uwsgiBinary()));
    }

    /** @param uwsgi how {@code [uwsgi]} vassals are started */
    public HelperLauncher(Path helper, IoThread io, Environment environment, boolean tyrant,
                          UwsgiCommand uwsgi) {
        this(helper, io, environment, tyrant, uwsgi, Containment.none("not set up"));
    }

    /** @param containment where each vassal's processes are kept together (a cgroup per vassal) */
    public HelperLauncher(Path helper, IoThread io, Environment environment, boolean tyrant,
                          UwsgiCommand uwsgi, Containment containment) {
        this(helper, io, environment, tyrant, uwsgi, containment, (NotifySocket) null);
    }

    /** @param notify the notify socket the vassals with {@code ready = notify} or {@code watchdog} are told of, or null */
    public HelperLauncher(Path helper, IoThread io, Environment environment, boolean tyrant,
                          UwsgiCommand uwsgi, Containment containment, NotifySocket notify) {
        this(helper, io, environment, tyrant, uwsgi, containment, notify, null);
    }

    /**
     * @param server the spawn server, made by the caller on a clock of its own (its restart interval and
     *               reply deadline) and with its own place for the server's lines (injected)
     */
    HelperLauncher(Path helper, IoThread io, Environment environment, boolean tyrant, UwsgiCommand uwsgi,
                   Containment containment, SpawnServer server) {
        this(helper, io, environment, tyrant, uwsgi, containment, null, server);
    }

    /** @param server the spawn server, or null for the emperor's own (the system clock, the emperor's log) */
    private HelperLauncher(Path helper, IoThread io, Environment environment, boolean tyrant, UwsgiCommand uwsgi,
                           Containment containment, NotifySocket notify, SpawnServer server) {
        this.notify = notify;
        this.containment = containment;
        this.uwsgi = uwsgi;
        this.helper = helper;
        this.io = io;
        this.environment = environment;
        this.tyrant = tyrant;
        this.euid = c.geteuid();
        this.egid = c.getegid();
        this.pid = c.getpid();
        this.server = server != null ? server : new SpawnServer(helper, spawner, pid, System::nanoTime, EmperorLog::warn);
        this.listens = new ListenSockets(new UnixListenBinder(helper, pid, tyrant), new ListenSockets.Watcher() {
            @Override
            public void watch(String name, long id, int fd, long timeoutMillis) {
                io.awaitAnswer(name, id, fd, timeoutMillis);
            }

            @Override
            public void unwatch(long id) {
                io.unawaitAnswer(id);
            }
        }, BIND_TIMEOUT_MILLIS);
    }

    /**
     * At the emperor's end, after the last reap: the spawn server goes (its socket closed, then
     * SIGKILL, reaped). Spawning after this goes through posix_spawn.
     */
    public void close() {
        server.disable();
    }

    @Override
    public SpawnResult spawn(String name, long runId, VassalSpec spec) {
        return spawn(name, runId, spec, spec.listen().any() ? held(name) : new int[0]);
    }

    /**
     * {@link #spawn} with {@code sockets}, the listening fds held for the vassal (the emperor's
     * copies, left open), one per {@code spec.listen()} address in its order: on fds 3, 4, … with
     * {@code -L} ({@code LISTEN_FDS}, {@code LISTEN_PID}) and {@code LISTEN_FDNAMES}, the report
     * fd, the channel and the env memfd above them; or with {@code listen.stdin()} the one socket
     * on fd 0. Its refusals (a count that does not match, more than the helper takes, names systemd
     * refuses) are the last line of defence behind the parser and {@link #hold}; HandedSocketsTest reaches
     * them by handing over sockets of its own, which the parser would never let through.
     */
    SpawnResult spawn(String name, long runId, VassalSpec spec, int[] sockets) {
        io.emperor.config.Listen listen = spec.listen();
        int expected = listen.addresses().size();
        if (sockets.length != expected) {
            return new SpawnResult.Failed("listen: " + sockets.length + " of the " + expected
                    + " sockets are held (see the listen line above)");
        }
        if (listen.stdin() && expected != 1) {
            return new SpawnResult.Failed("listen: " + expected + " sockets for fd 0, which takes one");
        }
        if (expected > MAX_LISTEN) {
            return new SpawnResult.Failed("listen: " + expected + " sockets, more than " + MAX_LISTEN);
        }
        String names = listen.stdin() || expected == 0 ? null : fdNames(name, listen);
        if (names != null && names.startsWith("!")) {
            return new SpawnResult.Failed(names.substring(1));
        }
        // The listening sockets on 3 .. 3+n-1; what the helper uses moves above them.
        int n = listen.stdin() ? 0 : expected;
        int reportFd = REPORT_FD + n;
        int channelFd = CHANNEL_FD + n;
        int envFd = ENV_FD + n;
        if (tyrant && (spec.uid() <= 0 || spec.gid() <= 0)) {
            return new SpawnResult.Failed("tyrant mode: refusing to run as uid " + spec.uid() + " gid " + spec.gid());
        }
        boolean notifies = wantsNotify(spec);
        if (notifies && notify == null) {
            return new SpawnResult.Failed("ready = notify and watchdog need the emperor's notify socket, which it"
                    + " could not open (see the notify: line at its start)");
        }
        Containment.Result group = containment.prepare(name);
        if (group.problem() != null) {
            return new SpawnResult.Failed(group.problem());
        }
        boolean piped = spec.logto() == null;
        int[] out = piped ? pipe() : null;
        if (piped && out == null) {
            return failed("pipe");
        }
        int[] report = pipe();
        if (report == null) {
            return abandon(failed("pipe"), -1, out); // failed() reads errno before any close
        }
        boolean channel = spec.kind() == VassalSpec.Kind.UWSGI;
        int[] chan = channel ? socketpair() : null;
        if (channel && chan == null) {
            return abandon(failed("socketpair"), -1, out, report);
        }
        Identity id = identity(spec);
        List<SpawnServer.Placement> fds = new ArrayList<>();
        fds.add(new SpawnServer.Placement(0, listen.stdin() ? sockets[0] : SpawnServer.NULL_IN));
        for (int i = 0; i < n; i++) {
            fds.add(new SpawnServer.Placement(3 + i, sockets[i])); // the helper keeps them (-L) and clears CLOEXEC
        }
        if (piped) {
            fds.add(new SpawnServer.Placement(1, out[1]));
            fds.add(new SpawnServer.Placement(2, out[1]));
        } else {
            // The helper opens the logto file itself, as the vassal, and puts it on 1 and 2.
            fds.add(new SpawnServer.Placement(1, SpawnServer.NULL_OUT));
            fds.add(new SpawnServer.Placement(2, SpawnServer.NULL_OUT));
        }
        fds.add(new SpawnServer.Placement(reportFd, report[1]));
        List<String> env = new ArrayList<>(tyrant ? environment.forTenantVassal(spec, id.account())
                : environment.forVassal(spec, id.uid() != euid, id.account()));
        containment.markFor(runId).ifPresent(env::add); // without cgroups: what every descendant inherits
        // Whatever the vassal's env or the emperor's own environment says: the helper's -L adds
        // LISTEN_PID and LISTEN_FDS, and a vassal without sockets gets none of them.
        env.removeIf(kv -> LISTEN_VARS.stream().anyMatch(kv::startsWith));
        if (names != null) {
            env.add("LISTEN_FDNAMES=" + names);
        }
        if (notifies) {
            notifyEnvironment(env, spec);
        }
        if (channel) {
            // Placed without CLOEXEC; the helper keeps it open (-K) through its fd sweep.
            fds.add(new SpawnServer.Placement(channelFd, chan[1]));
            env.add("UWSGI_EMPEROR_FD=" + channelFd);
        }
        EnvFile envFile = envFile(env);
        if (envFile.fd() < 0) {
            return abandon(new SpawnResult.Failed(envFile.problem()), -1, out, report, chan);
        }
        fds.add(new SpawnServer.Placement(envFd, envFile.fd()));
        List<String> argv = helperArgv(spec, id, group.procs(), n);
        long child;
        String failure = null;
        SpawnServer.Outcome outcome = server.spawn(fds, argv);
        if (outcome instanceof SpawnServer.Outcome.Started s) {
            child = s.pid();
        } else if (outcome instanceof SpawnServer.Outcome.Failed f) {
            child = -1;
            failure = f.reason();
        } else {
            // No environment at all for the helper: nothing a tenant chose reaches its dynamic loader.
            // SETSIGMASK with the mask of a fresh attribute: the helper starts with no signal blocked.
            child = spawner.spawnp(helper.toString(), actions(fds), Spawner.SETSIGMASK, argv, List.of());
            if (child <= 0) {
                failure = "posix_spawn " + helper + ": " + Native.strerror((int) -child);
            }
        }
        // The write ends now live in the child (or nowhere): the emperor must not keep them, or it
        // would never see EOF on its read ends.
        c.close(envFile.fd());
        closeEnd(chan, 1);
        closeEnd(report, 1);
        closeEnd(out, 1);
        if (child <= 0) {
            return abandon(new SpawnResult.Failed(failure), -1, out, report, chan);
        }
        int pidfd = (int) c.syscall(Native.SYS_PIDFD_OPEN, child, 0, 0, 0);
        if (pidfd < 0) {
            return abandon(new SpawnResult.Failed("pidfd_open: " + Native.strerror(Native.errno())), child, out,
                    report, chan);
        }
        vassalPids.add(child);
        containment.started(name, runId, child, id.uid());
        if (notifies) {
            notify.started(name, runId, child, id.uid()); // its datagrams count from now on
        }
        procs.put(runId, new Proc(child, pidfd, route(name, spec), piped ? out[0] : -1, report[0], channel ? chan[0] : -1));
        return new SpawnResult.Started(child, id.uid, id.gid);
    }

    /** Whether the vassal is told of the notify socket: {@code ready = notify}, or a {@code watchdog}. */
    static boolean wantsNotify(VassalSpec spec) {
        return spec.order().ready() instanceof io.emperor.config.Readiness.Notify
                || spec.order().watchdog().compareTo(java.time.Duration.ZERO) > 0;
    }

    /**
     * NOTIFY_SOCKET, and with a watchdog WATCHDOG_USEC, as systemd sets them, replacing what the vassal's own
     * {@code env} says of them (glibc's getenv takes the first of two entries). WATCHDOG_PID: the helper's
     * {@code -W} adds it, with its own pid, which exec makes the vassal's.
     */
    private void notifyEnvironment(List<String> env, VassalSpec spec) {
        env.removeIf(kv -> kv.startsWith("NOTIFY_SOCKET=") || kv.startsWith("WATCHDOG_USEC=")
                || kv.startsWith("WATCHDOG_PID="));
        env.add("NOTIFY_SOCKET=" + notify.path());
        long usec = spec.order().watchdog().toNanos() / 1000;
        if (usec > 0) {
            env.add("WATCHDOG_USEC=" + usec);
        }
    }

    /**
     * The placements as posix_spawn file actions (the way without the spawn server): dup2 of an
     * fd, or /dev/null opened there.
     */
    private static List<Spawner.Action> actions(List<SpawnServer.Placement> fds) {
        List<Spawner.Action> actions = new ArrayList<>(fds.size());
        for (SpawnServer.Placement p : fds) {
            actions.add(p.fd() == SpawnServer.NULL_IN ? Spawner.Action.open("/dev/null", p.target(), O_RDONLY, 0)
                    : p.fd() == SpawnServer.NULL_OUT ? Spawner.Action.open("/dev/null", p.target(), O_WRONLY, 0)
                    : Spawner.Action.dup(p.fd(), p.target()));
        }
        return actions;
    }

    /** Who the vassal runs as, and whether the helper must change identity at all. */
    private record Identity(int uid, int gid, boolean change, io.emperor.config.Account account) {}

    private Identity identity(VassalSpec spec) {
        int uid = spec.uid() >= 0 ? spec.uid() : euid;
        int gid = spec.gid() >= 0 ? spec.gid() : egid;
        boolean change = tyrant || uid != euid || gid != egid;
        // The passwd entry was read with the file (watcher thread): no NSS lookup on the loop.
        io.emperor.config.Account account = change && spec.user() != null
                ? new io.emperor.config.Account(spec.user(), uid, gid, spec.home() == null ? "/" : spec.home(),
                        spec.shell())
                : null;
        return new Identity(uid, gid, change, account);
    }

    /** @param listenFds how many listening sockets are on fds 3, 4, … (the helper's {@code -L}) */
    private List<String> helperArgv(VassalSpec spec, Identity id, Path cgroupProcs, int listenFds) {
        List<String> a = new ArrayList<>();
        a.add(helper.toString());
        a.add("-R");
        a.add(Integer.toString(REPORT_FD + listenFds));
        a.add("-P");
        a.add(Integer.toString(pid));
        a.add("-s");
        a.add(Integer.toString(SIGKILL));
        a.add("-E");
        a.add(Integer.toString(ENV_FD + listenFds));
        if (listenFds > 0) {
            a.add("-L"); // LISTEN_PID=<its own pid>, LISTEN_FDS, the fds kept without CLOEXEC
            a.add(Integer.toString(listenFds));
        }
        if (notify != null && spec.order().watchdog().compareTo(java.time.Duration.ZERO) > 0) {
            a.add("-W"); // WATCHDOG_PID=<its own pid>, which exec makes the vassal's
        }
        if (cgroupProcs != null) {
            a.add("-G"); // joined before the drop: everything the vassal starts is found there
            a.add(cgroupProcs.toString());
        }
        if (spec.kind() == VassalSpec.Kind.UWSGI) {
            a.add("-K");
            a.add(Integer.toString(CHANNEL_FD + listenFds));
        }
        for (Rlimit r : spec.rlimits()) {
            a.add("-r");
            a.add(r.resource().helperName + "=" + limit(r.soft()) + ":" + limit(r.hard()));
        }
        if (id.change()) {
            a.add("-u");
            a.add(Integer.toString(id.uid()));
            a.add("-g");
            a.add(Integer.toString(id.gid()));
            if (spec.user() != null) {
                a.add("-U");
                a.add(spec.user());
            }
            if (tyrant) {
                a.add("-N"); // no setuid binary or file capability can give back what was dropped
                a.add("-A"); // rlimits as the tenant: a hard limit can only go down
            }
        }
        if (id.uid() != 0) {
            // No capability may reach a vassal that does not run as root, with or without a uid
            // change: an emperor holding ambient capabilities (the shipped unit) would pass them
            // on, and after a change the helper's check would refuse. A vassal of a root emperor
            // that runs as root keeps root's capabilities.
            a.add("-C");
        }
        a.add("-m");
        a.add(octal4(spec.umask()));
        a.add("-d");
        a.add(spec.chdir().toString());
        if (spec.logto() != null) {
            a.add("-l");
            a.add(spec.logto().toString());
        }
        a.add("--");
        a.addAll(argv(spec));
        return a;
    }

    /**
     * {@code LISTEN_FDNAMES}: {@code listen-names} in order, and for each socket without one the
     * name systemd gives a socket unit's fds by default, the unit's name ({@code NAME.socket}), or
     * {@code unknown} (what sd_listen_fds_with_names(3) says without names) when that is not a valid
     * fd name. A name that is not one (sd_listen_fds(3): at most 255 printable ASCII characters,
     * no {@code :}) gives {@code "!"} and why: the spawn fails rather than shift the others.
     */
    static String fdNames(String vassal, io.emperor.config.Listen listen) {
        int n = listen.addresses().size();
        if (listen.names().size() > n) {
            return "!listen-names: " + listen.names().size() + " names for " + n + " sockets";
        }
        String fallback = validFdName(vassal + ".socket") ? vassal + ".socket" : "unknown";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String name = i < listen.names().size() ? listen.names().get(i) : fallback;
            if (!validFdName(name)) {
                return "!listen-names: not a valid fd name (at most 255 printable ASCII characters, no ':'): \""
                        + name.replaceAll("\\p{Cntrl}", "?") + "\"";
            }
            b.append(i == 0 ? "" : ":").append(name);
        }
        return b.toString();
    }

    /** systemd's fdname_is_valid: at most 255 printable ASCII characters (none is valid too), no {@code :}. */
    static boolean validFdName(String s) {
        if (s.length() > 255) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < 0x20 || ch > 0x7e || ch == ':') {
                return false;
            }
        }
        return true;
    }

    private List<String> argv(VassalSpec spec) {
        if (spec.kind() == VassalSpec.Kind.UWSGI) {
            return uwsgi.argv(spec.file());
        }
        return spec.argv();
    }

    /** KEY=VALUE strings, each followed by a NUL: what the helper reads on {@code -E}. */
    static byte[] envBytes(List<String> env) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (String kv : env) {
            b.writeBytes(kv.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            b.write(0);
        }
        return b.toByteArray();
    }

    /** The vassal's environment for the helper's {@code -E}: a memfd's fd, or -1 and why there is none. */
    private record EnvFile(int fd, String problem) {}

    /** A memfd holding {@link #envBytes} of {@code env} (close-on-exec here: the spawn's dup puts a copy on ENV_FD). */
    private EnvFile envFile(List<String> env) {
        byte[] bytes = envBytes(env);
        if (bytes.length > MAX_ENV_BYTES) {
            return new EnvFile(-1, "environment: " + bytes.length + " bytes, more than the helper reads ("
                    + MAX_ENV_BYTES + ")");
        }
        int fd = c.memfd_create("emperor-env", Native.MFD_CLOEXEC);
        if (fd < 0) {
            return new EnvFile(-1, "environment memfd: " + Native.strerror(Native.errno()));
        }
        if (envBuffer == null || envBuffer.size() < bytes.length) {
            // Grown, never shrunk: one native buffer instead of one (and its finalizer) per spawn.
            envBuffer = Memory.allocateDirect(Native.runtime(), Math.max(4096, Integer.highestOneBit(bytes.length) * 2));
        }
        Pointer buf = envBuffer;
        buf.put(0, bytes, 0, bytes.length);
        long done = 0;
        while (done < bytes.length) {
            long n = c.write(fd, buf.slice(done), bytes.length - done);
            if (n < 0 && Native.errno() == Native.EINTR) {
                continue;
            }
            if (n <= 0) {
                String why = n < 0 ? Native.strerror(Native.errno()) : "short write";
                c.close(fd);
                return new EnvFile(-1, "environment memfd: " + why);
            }
            done += n;
        }
        return new EnvFile(fd, null);
    }

    /** {@code %04o} without {@link String#format}, a third of the loop's own work per spawn (docs/performance.md). */
    static String octal4(int mode) {
        String o = Integer.toOctalString(mode);
        return o.length() >= 4 ? o : "0000".substring(o.length()) + o;
    }

    private static String limit(long v) {
        return v == Rlimit.UNLIMITED ? "unlimited" : Long.toString(v);
    }

    /**
     * Holds the spec's sockets ({@link ListenSockets}): the same settings keep the same fds, a change binds the
     * new ones before the old are closed, no listen releases them. Unix sockets are bound as the vassal, by a
     * child nobody waits for ({@link Hold.Binding} until it has {@link #answered}).
     */
    @Override
    public Hold hold(String name, VassalSpec spec) {
        if (!spec.listen().any()) {
            listens.release(name); // the common case, before every spawn: a map lookup
            return Hold.HELD;
        }
        Identity id = identity(spec);
        if (tyrant) {
            // The last line of defence: the parser refused these with file:line already.
            if (id.uid() <= 0 || id.gid() <= 0) {
                return new Hold.Failed("listen: tyrant mode: refusing to bind as uid " + id.uid() + " gid " + id.gid());
            }
            for (io.emperor.config.Listen.Address a : spec.listen().addresses()) {
                if (a instanceof io.emperor.config.Listen.Address.Inet inet && inet.port() < 1024) {
                    return new Hold.Failed("listen " + a.text() + ": port " + inet.port()
                            + " is below 1024: refused in tyrant mode");
                }
                java.util.Optional<String> refused = tenantListen.refusal(a);
                if (refused.isPresent()) {
                    return new Hold.Failed("listen " + a.text() + ": " + refused.get());
                }
            }
        }
        java.util.Optional<String> problem = listens.hold(name, spec.listen(), id.uid(), id.gid(),
                id.change() ? spec.user() : null);
        if (problem.isPresent()) {
            return new Hold.Failed(problem.get());
        }
        return listens.binding(name, spec.listen()).isPresent() ? Hold.BINDING : Hold.HELD;
    }

    @Override
    public java.util.Optional<String> binding(String name, VassalSpec spec) {
        return spec.listen().any() ? listens.binding(name, spec.listen()) : java.util.Optional.empty();
    }

    @Override
    public void answered(String name, long id) {
        listens.answered(id);
    }

    /** Tyrant mode: {@code tenant-listen}, which {@link #hold} checks again (the parser did, with the line). */
    public void allowTenants(TenantListen allowed) {
        tenantListen = java.util.Objects.requireNonNull(allowed, "allowed");
    }

    @Override
    public int[] held(String name) {
        return listens.fds(name);
    }

    /** What the sockets held for {@code name} listen on ({@code status}); empty if none. */
    public java.util.List<String> heldAddresses(String name) {
        return listens.addresses(name);
    }

    @Override
    public void forget(String name) {
        listens.release(name);
        io.forget(name);
        containment.release(name);
    }

    @Override
    public void watch(long runId) {
        Proc p = procs.get(runId);
        if (p != null) {
            io.watch(p.route(), runId, p.outFd(), p.reportFd(), p.pidfd(), p.channelFd());
        }
    }

    @Override
    public void signal(long runId, int signal) {
        Proc p = procs.get(runId);
        if (p != null) {
            c.kill((int) p.pid, signal);
        }
    }

    @Override
    public java.util.Optional<String> tell(long runId, int message) {
        Proc p = procs.get(runId);
        if (p == null || p.channelFd() < 0) {
            return java.util.Optional.of("no emperor channel");
        }
        io.told(runId); // before the byte: what the vassal answers counts again (ChannelGate)
        oneByte.putByte(0, (byte) message);
        // Never blocks, and a vassal that closed its end gives EPIPE, not a SIGPIPE.
        long n = c.send(p.channelFd(), oneByte, 1, Native.MSG_DONTWAIT | Native.MSG_NOSIGNAL);
        if (n == 1) {
            return java.util.Optional.empty();
        }
        int err = Native.errno();
        return java.util.Optional.of(err == Native.EAGAIN ? "channel full" : Native.strerror(err));
    }

    @Override
    public void killGroup(long runId) {
        Proc p = procs.get(runId);
        if (p != null) {
            c.kill((int) -p.pid, SIGKILL);
            containment.kill(p.name(), runId); // what left the process group (a setsid daemon) too
        }
    }

    @Override
    public ExitStatus reap(long runId) {
        Proc p = procs.remove(runId);
        if (p == null) {
            throw new IllegalStateException("reap of unknown run " + runId);
        }
        // The zombie still holds the pid, so -pid is still this vassal's process group; and
        // whatever is left in its cgroup is the vassal's, wherever it went.
        c.kill((int) -p.pid, SIGKILL);
        containment.kill(p.name(), runId);
        siginfo.setMemory(0, 128, (byte) 0);
        int rc = c.waitid(Native.P_PIDFD, p.pidfd, siginfo, Native.WEXITED);
        int err = Native.errno();
        vassalPids.remove(p.pid);
        containment.ended(runId);
        if (notify != null) {
            notify.ended(runId);
        }
        c.close(p.pidfd);
        if (p.channelFd() >= 0) {
            c.close(p.channelFd()); // the I/O thread stopped watching it before it posted the end
        }
        if (rc != 0) {
            throw new IllegalStateException("waitid pid " + p.pid + ": " + Native.strerror(err));
        }
        int code = siginfo.getInt(8);
        int status = siginfo.getInt(24);
        reapAdopted(); // an adopted zombie behind this one in the child list can be seen now
        return switch (code) {
            case Native.CLD_EXITED -> ExitStatus.exited(status);
            case Native.CLD_DUMPED -> ExitStatus.killed(status, true);
            default -> ExitStatus.killed(status, false);
        };
    }

    /**
     * Reaps the orphans the emperor adopted as a subreaper (SIGCHLD, and after every reap): a
     * look with {@code waitid(P_ALL, WNOHANG|WNOWAIT)} finds a waitable child without reaping it;
     * one that is not a vassal's main process is reaped by pid, and the next looked at. A vassal's
     * main process is left for its pidfd's reap, which keeps its exit status: the look stops
     * there, and the reap looks again after it. On the loop thread only, like every reap.
     */
    @Override
    public void reapAdopted() {
        for (int i = 0; i < 100_000; i++) {
            siginfo.setMemory(0, 128, (byte) 0);
            if (c.waitid(Native.P_ALL, 0, siginfo, Native.WEXITED | Native.WNOHANG | Native.WNOWAIT) != 0) {
                break; // ECHILD: no child at all
            }
            int child = siginfo.getInt(16);
            if (child <= 0 || vassalPids.contains((long) child)) {
                break;
            }
            if (child == server.pid()) {
                server.exited(); // not an orphan: logged, reaped, and a new one started at the next spawn
                continue;
            }
            int reaped = c.waitpid(child, null, Native.WNOHANG);
            if (reaped < 0 && Native.errno() == Native.ECHILD) {
                // Reaped by another waiter between the two calls (the JDK's process reaper reaps
                // what a ProcessBuilder started): the next child, which may be the spawn server.
                continue;
            }
            if (reaped <= 0) {
                break; // not reaped after all: look again at the next SIGCHLD rather than spin
            }
        }
        containment.retryPending();
    }

    private int[] pipe() {
        int[] fds = new int[2];
        if (c.pipe2(fds, Native.O_CLOEXEC) != 0) {
            return null;
        }
        // Only our end is non-blocking: the vassal's stdout must stay an ordinary blocking pipe.
        int fl = c.fcntl(fds[0], Native.F_GETFL, 0);
        c.fcntl(fds[0], Native.F_SETFL, fl | Native.O_NONBLOCK);
        return fds;
    }

    /** The uWSGI emperor channel: both ends CLOEXEC; ours non-blocking, the vassal's blocking. */
    private int[] socketpair() {
        int[] fds = new int[2];
        if (c.socketpair(Native.AF_UNIX, Native.SOCK_STREAM | Native.SOCK_CLOEXEC, 0, fds) != 0) {
            return null;
        }
        int fl = c.fcntl(fds[0], Native.F_GETFL, 0);
        c.fcntl(fds[0], Native.F_SETFL, fl | Native.O_NONBLOCK);
        return fds;
    }

    /**
     * The one way out of a spawn that failed: the child (if any, {@code child > 0}) killed and
     * reaped, then every end of these fd pairs still open here closed (an end already closed
     * is -1); returns {@code failure}.
     */
    private SpawnResult abandon(SpawnResult failure, long child, int[]... pairs) {
        if (child > 0) {
            c.kill((int) child, SIGKILL);
            c.waitpid((int) child, null, 0);
        }
        for (int[] pair : pairs) {
            closeEnd(pair, 0);
            closeEnd(pair, 1);
        }
        return failure;
    }

    /** Closes end {@code i} of {@code pair} (null: none) unless it is closed already, and marks it so (-1). */
    private void closeEnd(int[] pair, int i) {
        if (pair != null && pair[i] >= 0) {
            c.close(pair[i]);
            pair[i] = -1;
        }
    }

    private static SpawnResult failed(String what) {
        return new SpawnResult.Failed(what + ": " + Native.strerror(Native.errno()));
    }
}
