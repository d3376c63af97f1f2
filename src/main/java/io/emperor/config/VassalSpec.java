package io.emperor.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything the emperor needs to run one vassal, parsed once from its file and never changed
 * afterwards: a changed file gives a new spec, and the lifecycle compares the two.
 *
 * @param name       the file name without {@code .ini}
 * @param file       the vassal file, absolute
 * @param kind       which section the file has
 * @param argv       the program and its arguments ({@code exec}, split like a POSIX shell would,
 *                   no shell run); empty for a uWSGI vassal, whose command the emperor builds
 * @param chdir      working directory, absolute; defaults to the vassal file's directory
 * @param env        {@code KEY=VALUE} entries added to the vassal's environment, in file order
 * @param umask      the vassal's umask (default 022)
 * @param user       the passwd name to run as, when {@code uid} names one (used for initgroups), else null
 * @param uid        the uid to run as, or -1 to keep the emperor's
 * @param gid        the gid to run as, or -1 to keep the emperor's
 * @param logto      file that receives stdout and stderr (appended), absolute, or null for the emperor log
 * @param stopSignal signal sent to stop the vassal (default TERM)
 * @param stopTimeout how long a stop may take before SIGKILL goes to the whole process group (default 30 s)
 * @param reload     how a change or a touch reaches a running vassal
 * @param reloadSignal signal sent for {@link ReloadMode#SIGNAL} (default HUP)
 * @param rlimits    resource limits, in file order
 * @param uwsgi      what the emperor reads of a {@code [uwsgi]} file; null for a {@code [vassal]} file
 * @param logTag     {@code log-tag}: output lines the emperor logs get a timestamp and {@code [name]}
 *                   (default true); false writes them as printed (JSON logs). Read at each spawn.
 * @param home       the home directory of {@code user} from the passwd entry (HOME of the vassal),
 *                   or null; looked up with the file, so spawning needs no passwd lookup on the loop
 * @param shell      the login shell of {@code user} from the passwd entry (SHELL of a tenant's vassal),
 *                   or null; looked up with the file, as {@code home}
 * @param order      {@code requires}, {@code after}, {@code ready}, {@code ready-timeout}, {@code watchdog}
 *                   ({@link Order}); null gives the defaults of {@code kind}
 * @param listen     the sockets the emperor holds for it ({@link Listen}); null gives {@link Listen#NONE}
 */
public record VassalSpec(
        String name,
        Path file,
        Kind kind,
        List<String> argv,
        Path chdir,
        List<String> env,
        int umask,
        String user,
        int uid,
        int gid,
        Path logto,
        int stopSignal,
        Duration stopTimeout,
        ReloadMode reload,
        int reloadSignal,
        List<Rlimit> rlimits,
        Uwsgi uwsgi,
        boolean logTag,
        String home,
        String shell,
        Order order,
        Listen listen) {

    /**
     * The few keys of a {@code [uwsgi]} section the emperor itself needs.
     *
     * @param master           {@code master}: uWSGI 2.0 does not force master mode under an
     *                         emperor, and a vassal without a master ignores the channel's stop and
     *                         reload bytes (default false, as in uWSGI)
     * @param gracefulShutdown {@code graceful-shutdown}: stop with byte 2 (finish the requests in
     *                         flight) instead of byte 0 (default false)
     */
    public record Uwsgi(boolean master, boolean gracefulShutdown) {
        public static final Uwsgi DEFAULTS = new Uwsgi(false, false);
    }

    /** A spec without sockets held by the emperor. */
    public VassalSpec(String name, Path file, Kind kind, List<String> argv, Path chdir, List<String> env, int umask,
                      String user, int uid, int gid, Path logto, int stopSignal, Duration stopTimeout,
                      ReloadMode reload, int reloadSignal, List<Rlimit> rlimits, Uwsgi uwsgi, boolean logTag,
                      String home, String shell, Order order) {
        this(name, file, kind, argv, chdir, env, umask, user, uid, gid, logto, stopSignal, stopTimeout, reload,
                reloadSignal, rlimits, uwsgi, logTag, home, shell, order, null);
    }

    /** A spec with the default order and readiness of its kind ({@link Order#defaults}). */
    public VassalSpec(String name, Path file, Kind kind, List<String> argv, Path chdir, List<String> env, int umask,
                      String user, int uid, int gid, Path logto, int stopSignal, Duration stopTimeout,
                      ReloadMode reload, int reloadSignal, List<Rlimit> rlimits, Uwsgi uwsgi, boolean logTag,
                      String home, String shell) {
        this(name, file, kind, argv, chdir, env, umask, user, uid, gid, logto, stopSignal, stopTimeout, reload,
                reloadSignal, rlimits, uwsgi, logTag, home, shell, null);
    }

    /** A spec without the owner's shell (only tyrant mode looks it up). */
    public VassalSpec(String name, Path file, Kind kind, List<String> argv, Path chdir, List<String> env, int umask,
                      String user, int uid, int gid, Path logto, int stopSignal, Duration stopTimeout,
                      ReloadMode reload, int reloadSignal, List<Rlimit> rlimits, Uwsgi uwsgi, boolean logTag,
                      String home) {
        this(name, file, kind, argv, chdir, env, umask, user, uid, gid, logto, stopSignal, stopTimeout, reload,
                reloadSignal, rlimits, uwsgi, logTag, home, null);
    }

    /** A tagged spec ({@code log-tag} not given). */
    public VassalSpec(String name, Path file, Kind kind, List<String> argv, Path chdir, List<String> env, int umask,
                      String user, int uid, int gid, Path logto, int stopSignal, Duration stopTimeout,
                      ReloadMode reload, int reloadSignal, List<Rlimit> rlimits, Uwsgi uwsgi) {
        this(name, file, kind, argv, chdir, env, umask, user, uid, gid, logto, stopSignal, stopTimeout, reload,
                reloadSignal, rlimits, uwsgi, true, null);
    }

    /** A spec without uWSGI settings (those of a {@code [uwsgi]} file get {@link Uwsgi#DEFAULTS}). */
    public VassalSpec(String name, Path file, Kind kind, List<String> argv, Path chdir, List<String> env, int umask,
                      String user, int uid, int gid, Path logto, int stopSignal, Duration stopTimeout,
                      ReloadMode reload, int reloadSignal, List<Rlimit> rlimits) {
        this(name, file, kind, argv, chdir, env, umask, user, uid, gid, logto, stopSignal, stopTimeout, reload,
                reloadSignal, rlimits, null);
    }

    /** Which section the file has. */
    public enum Kind {
        /** A {@code [vassal]} section: any program. */
        PROGRAM,
        /** A {@code [uwsgi]} section and no {@code [vassal]}: run by uWSGI. */
        UWSGI
    }

    public VassalSpec {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
        rlimits = List.copyOf(rlimits);
        uwsgi = kind == Kind.UWSGI ? (uwsgi == null ? Uwsgi.DEFAULTS : uwsgi) : null;
        order = order == null ? Order.defaults(kind) : order;
        listen = listen == null ? Listen.NONE : listen;
    }

    /** The same spec with these sockets. */
    public VassalSpec withListen(Listen l) {
        return new VassalSpec(name, file, kind, argv, chdir, env, umask, user, uid, gid, logto, stopSignal,
                stopTimeout, reload, reloadSignal, rlimits, uwsgi, logTag, home, shell, order, l);
    }

    /** The same spec with these order and readiness settings. */
    public VassalSpec withOrder(Order o) {
        return new VassalSpec(name, file, kind, argv, chdir, env, umask, user, uid, gid, logto, stopSignal,
                stopTimeout, reload, reloadSignal, rlimits, uwsgi, logTag, home, shell, o, listen);
    }

    /** A uWSGI vassal that runs without a master process (it does not listen to its channel). */
    public boolean isUwsgiWithoutMaster() {
        return kind == Kind.UWSGI && !uwsgi.master();
    }

    /** The same spec run as {@code uid}/{@code gid} ({@code user}: its passwd name, for initgroups, or null). */
    public VassalSpec withIdentity(String user, int uid, int gid) {
        return withIdentity(user, null, uid, gid);
    }

    /** The same spec run as {@code uid}/{@code gid}, with the passwd name and home of the uid when it has them. */
    public VassalSpec withIdentity(String user, String home, int uid, int gid) {
        return withIdentity(user, home, null, uid, gid);
    }

    /** The same spec run as {@code uid}/{@code gid}, with the passwd name, home and shell of the uid when it has them. */
    public VassalSpec withIdentity(String user, String home, String shell, int uid, int gid) {
        return new VassalSpec(name, file, kind, argv, chdir, env, umask, user, uid, gid, logto, stopSignal,
                stopTimeout, reload, reloadSignal, rlimits, uwsgi, logTag, home, shell, order, listen);
    }

    /** The same in another working directory (a vassal from etcd has no directory of its own: docs/fleet.md). */
    public VassalSpec withChdir(Path dir) {
        return new VassalSpec(name, file, kind, argv, dir, env, umask, user, uid, gid, logto, stopSignal,
                stopTimeout, reload, reloadSignal, rlimits, uwsgi, logTag, home, shell, order, listen);
    }

    /**
     * True when {@code other} can only take effect by starting the process again: everything
     * the exec helper applies at spawn time differs (program, directory, environment, identity,
     * umask, log file, limits, the sockets held for it), or a uWSGI vassal gains or loses its master (a process without a
     * master cannot be told to reload), or a uWSGI vassal's file is another one (its command line
     * names the file, and a reload re-runs that command line). Stop and reload settings take
     * effect without a restart.
     */
    public boolean needsRestartFor(VassalSpec other) {
        return kind != other.kind
                || !argv.equals(other.argv)
                || !chdir.equals(other.chdir)
                || !env.equals(other.env)
                || umask != other.umask
                || uid != other.uid
                || gid != other.gid
                || !java.util.Objects.equals(user, other.user)
                || !java.util.Objects.equals(logto, other.logto)
                || !rlimits.equals(other.rlimits)
                || !listen.equals(other.listen) // other sockets, names or backlog: LISTEN_FDS and the fds change
                || isUwsgiWithoutMaster() != other.isUwsgiWithoutMaster()
                // uWSGI re-execs its own argv on a reload, which names the file: another file
                // (app.ini renamed app.yaml) is a new command line.
                || kind == Kind.UWSGI && !file.equals(other.file);
    }
}
