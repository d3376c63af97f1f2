package io.emperor.os;

import io.emperor.config.Rlimit;
import io.emperor.config.UwsgiCommand;
import io.emperor.config.VassalSpec;
import io.emperor.loop.Launcher;
import io.emperor.vassal.ExitStatus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.posix.POSIX;
import jnr.posix.SpawnAttribute;
import jnr.posix.SpawnFileAction;

/**
 * Starts vassals through the native exec helper with {@code posix_spawnp} (DESIGN §5): the
 * helper gets the vassal's environment, {@code /dev/null} on stdin, the output pipe (or
 * {@code /dev/null} with logto) on stdout/stderr and the report pipe on fd 3, applies every
 * setting and execs the program, so the pid held here is the vassal's. A {@code [uwsgi]} vassal
 * also gets its end of the emperor channel, a {@code socketpair}, on fd {@value #CHANNEL_FD}
 * ({@code UWSGI_EMPEROR_FD}; the helper keeps it with {@code -K}); the emperor's end is read by
 * the I/O thread and written by {@link #tell}, never blocking. Exits are watched
 * through a pidfd per run. Only the loop thread calls this class; it is the thread that spawns,
 * and it lives as long as the emperor, which the parent-death signal relies on.
 *
 * <p>In tyrant mode every vassal gets the whole drop ({@code -u -g [-U] -C -N}), even when its
 * owner is the emperor's own uid, and a spec that would run as uid 0 or gid 0 is refused here
 * too, whatever the scanner decided: the last line of defence.
 */
public final class HelperLauncher implements Launcher {
    private static final int REPORT_FD = 3;
    /** Where a uWSGI vassal finds its end of the emperor channel ({@code UWSGI_EMPEROR_FD}). */
    static final int CHANNEL_FD = 4;
    private static final int SIGKILL = 9;
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;

    private final Path helper;
    private final POSIX posix;
    private final IoThread io;
    private final Environment environment;
    private final boolean tyrant;
    private final UwsgiCommand uwsgi;
    private final int euid;
    private final int egid;
    private final int pid;
    private final LibC c = Native.libc();
    private final Map<Long, Proc> procs = new HashMap<>();
    private final Pointer siginfo = Memory.allocateDirect(Native.runtime(), 128);
    private final Pointer oneByte = Memory.allocateDirect(Native.runtime(), 8);

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

    public HelperLauncher(Path helper, POSIX posix, IoThread io, Environment environment) {
        this(helper, posix, io, environment, false);
    }

    /** @param tyrant tyrant mode: always drop to the spec's uid/gid, never to root */
    public HelperLauncher(Path helper, POSIX posix, IoThread io, Environment environment, boolean tyrant) {
        this(helper, posix, io, environment, tyrant, UwsgiCommand.of(environment.uwsgiBinary()));
    }

    /** @param uwsgi how {@code [uwsgi]} vassals are started */
    public HelperLauncher(Path helper, POSIX posix, IoThread io, Environment environment, boolean tyrant,
                          UwsgiCommand uwsgi) {
        this.uwsgi = uwsgi;
        this.helper = helper;
        this.posix = posix;
        this.io = io;
        this.environment = environment;
        this.tyrant = tyrant;
        this.euid = posix.geteuid();
        this.egid = posix.getegid();
        this.pid = posix.getpid();
    }

    /** How many runs are not reaped yet (for tests). */
    public int liveRuns() {
        return procs.size();
    }

    @Override
    public SpawnResult spawn(String name, long runId, VassalSpec spec) {
        if (tyrant && (spec.uid() <= 0 || spec.gid() <= 0)) {
            return new SpawnResult.Failed("tyrant mode: refusing to run as uid " + spec.uid() + " gid " + spec.gid());
        }
        boolean piped = spec.logto() == null;
        int[] out = piped ? pipe() : null;
        if (piped && out == null) {
            return failed("pipe");
        }
        int[] report = pipe();
        if (report == null) {
            closeAll(out);
            return failed("pipe");
        }
        boolean channel = spec.kind() == VassalSpec.Kind.UWSGI;
        int[] chan = channel ? socketpair() : null;
        if (channel && chan == null) {
            SpawnResult f = failed("socketpair");
            closeAll(out);
            closeAll(report);
            return f;
        }
        Identity id = identity(spec);
        List<SpawnFileAction> actions = new ArrayList<>();
        actions.add(SpawnFileAction.open("/dev/null", 0, O_RDONLY, 0));
        if (piped) {
            actions.add(SpawnFileAction.dup(out[1], 1));
            actions.add(SpawnFileAction.dup(out[1], 2));
        } else {
            // The helper opens the logto file itself, as the vassal, and puts it on 1 and 2.
            actions.add(SpawnFileAction.open("/dev/null", 1, O_WRONLY, 0));
            actions.add(SpawnFileAction.dup(1, 2));
        }
        actions.add(SpawnFileAction.dup(report[1], REPORT_FD));
        List<String> env = environment.forVassal(spec, id.uid() != euid, id.account());
        if (channel) {
            // dup2 clears CLOEXEC on the copy; the helper keeps it open (-K) through its fd sweep.
            actions.add(SpawnFileAction.dup(chan[1], CHANNEL_FD));
            env = new ArrayList<>(env);
            env.add("UWSGI_EMPEROR_FD=" + CHANNEL_FD);
        }
        List<SpawnAttribute> attrs = List.of(SpawnAttribute.flags((short) SpawnAttribute.SETSIGMASK));
        long child = posix.posix_spawnp(helper.toString(), actions, attrs, helperArgv(spec, id), env);
        int spawnErrno = posix.errno();
        if (channel) {
            c.close(chan[1]);
        }
        // The write ends now live in the child (or nowhere): the emperor must not keep them, or it
        // would never see EOF on its read ends.
        c.close(report[1]);
        if (piped) {
            c.close(out[1]);
        }
        if (child <= 0) {
            c.close(report[0]);
            if (piped) {
                c.close(out[0]);
            }
            if (channel) {
                c.close(chan[0]);
            }
            return new SpawnResult.Failed("posix_spawn " + helper + ": " + Native.strerror(spawnErrno));
        }
        int pidfd = (int) c.syscall(Native.SYS_PIDFD_OPEN, child, 0, 0, 0);
        if (pidfd < 0) {
            String why = Native.strerror(Native.errno());
            c.kill((int) child, SIGKILL);
            posix.waitpid(child, new int[1], 0);
            c.close(report[0]);
            if (piped) {
                c.close(out[0]);
            }
            if (channel) {
                c.close(chan[0]);
            }
            return new SpawnResult.Failed("pidfd_open: " + why);
        }
        procs.put(runId, new Proc(child, pidfd, new io.emperor.log.VassalOutput.Route(name, spec.logTag()), piped ? out[0] : -1, report[0], channel ? chan[0] : -1));
        return new SpawnResult.Started(child, id.uid, id.gid);
    }

    /** Who the vassal runs as, and whether the helper must change identity at all. */
    private record Identity(int uid, int gid, boolean change, io.emperor.config.Account account) {}

    private Identity identity(VassalSpec spec) {
        int uid = spec.uid() >= 0 ? spec.uid() : euid;
        int gid = spec.gid() >= 0 ? spec.gid() : egid;
        boolean change = tyrant || uid != euid || gid != egid;
        // The passwd entry was read with the file (watcher thread): no NSS lookup on the loop.
        io.emperor.config.Account account = change && spec.user() != null
                ? new io.emperor.config.Account(spec.user(), uid, gid, spec.home() == null ? "/" : spec.home())
                : null;
        return new Identity(uid, gid, change, account);
    }

    private List<String> helperArgv(VassalSpec spec, Identity id) {
        List<String> a = new ArrayList<>();
        a.add(helper.toString());
        a.add("-R");
        a.add(Integer.toString(REPORT_FD));
        a.add("-P");
        a.add(Integer.toString(pid));
        a.add("-s");
        a.add(Integer.toString(SIGKILL));
        if (spec.kind() == VassalSpec.Kind.UWSGI) {
            a.add("-K");
            a.add(Integer.toString(CHANNEL_FD));
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
            if (id.uid() != 0) {
                // No capability may survive the change (an emperor that is not root but holds
                // CAP_SETUID would otherwise pass it on, and the helper's check would refuse).
                // A vassal that stays root with another group keeps root's capabilities.
                a.add("-C");
            }
            if (tyrant) {
                a.add("-N"); // no setuid binary or file capability can give back what was dropped
            }
        }
        a.add("-m");
        a.add(String.format("%04o", spec.umask()));
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

    private List<String> argv(VassalSpec spec) {
        if (spec.kind() == VassalSpec.Kind.UWSGI) {
            return uwsgi.argv(spec.file());
        }
        return spec.argv();
    }

    private static String limit(long v) {
        return v == Rlimit.UNLIMITED ? "unlimited" : Long.toString(v);
    }

    @Override
    public void forget(String name) {
        io.forget(name);
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
        }
    }

    @Override
    public ExitStatus reap(long runId) {
        Proc p = procs.remove(runId);
        if (p == null) {
            throw new IllegalStateException("reap of unknown run " + runId);
        }
        // The zombie still holds the pid, so -pid is still this vassal's process group.
        c.kill((int) -p.pid, SIGKILL);
        siginfo.setMemory(0, 128, (byte) 0);
        int rc = c.waitid(Native.P_PIDFD, p.pidfd, siginfo, Native.WEXITED);
        int err = Native.errno();
        c.close(p.pidfd);
        if (p.channelFd() >= 0) {
            c.close(p.channelFd()); // the I/O thread stopped watching it before it posted the end
        }
        if (rc != 0) {
            throw new IllegalStateException("waitid pid " + p.pid + ": " + Native.strerror(err));
        }
        int code = siginfo.getInt(8);
        int status = siginfo.getInt(24);
        return switch (code) {
            case Native.CLD_EXITED -> ExitStatus.exited(status);
            case Native.CLD_DUMPED -> ExitStatus.killed(status, true);
            default -> ExitStatus.killed(status, false);
        };
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

    private void closeAll(int[] fds) {
        if (fds != null) {
            c.close(fds[0]);
            c.close(fds[1]);
        }
    }

    private static SpawnResult failed(String what) {
        return new SpawnResult.Failed(what + ": " + Native.strerror(Native.errno()));
    }
}
