package io.emperor.os;

import io.emperor.config.Account;
import io.emperor.config.DropSettings;
import io.emperor.config.UserDb;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * {@code uid}, {@code gid} and {@code cap} of emperor.ini, as uWSGI reads them: a root emperor,
 * once its log and sockets are open, becomes that user (with its groups) and keeps exactly the
 * named capabilities, plus {@code CAP_KILL}, as ambient ones, so that it is from then on the
 * unprivileged emperor of docs/tyrant.md. {@link #plan} is pure; {@link #apply} changes the
 * process.
 *
 * <p>The uid, gid and groups change for every thread of the process: glibc's {@code setgroups},
 * {@code setresgid} and {@code setresuid} (called here through jnr, never as raw syscalls) apply
 * them to all threads. Capabilities, {@code PR_SET_KEEPCAPS} and the ambient set are a thread's
 * own, and no libc call changes them for all threads: {@code emperor_caps_all_threads} of
 * libemperor-signal.so does it the way glibc does for set*id, a signal to each thread whose
 * handler changes its own. Without that library only the calling thread (the loop's) and those
 * it starts afterwards hold the capabilities.
 */
public final class PrivilegeDrop {
    static final int PR_SET_KEEPCAPS = 8;
    static final int PR_CAPBSET_DROP = 24;
    static final int PR_CAP_AMBIENT = 47;
    static final int PR_CAP_AMBIENT_RAISE = 2;
    static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    /** What to do at start. */
    public sealed interface Plan {
        /** Nothing: no {@code uid}, or the emperor already runs as that user. */
        record Stay() implements Plan {}

        /** Become {@code target} once the log and sockets are open. */
        record Become(Target target) implements Plan {}

        /** The emperor cannot do what emperor.ini asks: the message for stderr (exit 1). */
        record Refused(String message) implements Plan {}
    }

    /**
     * @param name      the passwd name (for initgroups), or null for a uid without passwd entry
     * @param caps      the capabilities kept, {@code CAP_KILL} included, in the order named
     * @param killAdded true when {@code cap} did not name {@code kill}
     */
    public record Target(String name, int uid, int gid, String groupName, List<Integer> caps, boolean killAdded,
                         DropSettings settings) {
        public Target {
            caps = List.copyOf(caps);
        }

        /** The mask of {@link #caps}, as in /proc/PID/status. */
        public long mask() {
            long m = 0;
            for (int c : caps) {
                m |= 1L << c;
            }
            return m;
        }

        String who() {
            return name == null ? "uid " + uid : name + " (uid " + uid + ")";
        }
    }

    private PrivilegeDrop() {}

    /**
     * What emperor.ini's {@code uid}/{@code gid}/{@code cap} mean for an emperor running with
     * effective uid {@code euid}: an unknown user or group is {@code FILE:LINE: KEY: …}; a
     * non-root emperor that is not that user already is refused.
     */
    public static Plan plan(DropSettings s, UserDb users, int euid) {
        if (!s.present()) {
            return new Plan.Stay();
        }
        DropSettings.Named u = s.uid();
        Optional<Account> account;
        int uid;
        OptionalInt number = number(u.value());
        if (number.isPresent()) {
            uid = number.getAsInt();
            account = users.userById(uid);
        } else {
            account = users.userByName(u.value());
            if (account.isEmpty()) {
                return new Plan.Refused("emperor: " + s.where(u) + ": uid: unknown user \"" + u.value() + "\"");
            }
            uid = account.get().uid();
        }
        int gid;
        String groupName;
        if (s.gid() != null) {
            DropSettings.Named g = s.gid();
            OptionalInt gn = number(g.value());
            OptionalInt resolved = gn.isPresent() ? gn : users.groupByName(g.value());
            if (resolved.isEmpty()) {
                return new Plan.Refused("emperor: " + s.where(g) + ": gid: unknown group \"" + g.value() + "\"");
            }
            gid = resolved.getAsInt();
            groupName = gn.isPresent() ? null : g.value();
        } else if (account.isPresent()) {
            gid = account.get().gid();
            groupName = null;
        } else {
            return new Plan.Refused("emperor: " + s.where(u) + ": uid: uid " + uid
                    + " has no passwd entry, so no group: set gid too");
        }
        String name = account.map(Account::name).orElse(null);
        List<Integer> caps = new ArrayList<>(s.caps());
        boolean killAdded = !caps.contains(DropSettings.CAP_KILL);
        if (killAdded) {
            caps.add(DropSettings.CAP_KILL);
        }
        Target target = new Target(name, uid, gid, groupName, caps, killAdded, s);
        if (euid == uid) {
            return new Plan.Stay(); // started as that user already (systemd's User=): nothing to do
        }
        if (euid != 0) {
            String self = users.userById(euid).map(a -> a.name() + " (uid " + euid + ")").orElse("uid " + euid);
            return new Plan.Refused("emperor: " + s.where(u) + ": uid = " + u.value() + ": the emperor runs as " + self
                    + "; only root can become " + target.who() + ": start it as root, or as that user");
        }
        return new Plan.Become(target);
    }

    private static OptionalInt number(String v) {
        if (!v.matches("[0-9]{1,10}")) {
            return OptionalInt.empty();
        }
        long n = Long.parseLong(v);
        return n > Integer.MAX_VALUE ? OptionalInt.empty() : OptionalInt.of((int) n);
    }

    /** The log lines that say what {@link #apply} did (after the emperor's "started" line). */
    public static List<String> lines(Target t, String procStatus) {
        List<String> lines = new ArrayList<>();
        if (t.killAdded()) {
            DropSettings.Named cap = t.settings().cap();
            lines.add("cap: CAP_KILL added to the capabilities the emperor keeps"
                    + (cap == null ? "" : " (" + t.settings().where(cap) + ": " + cap.value() + ")")
                    + ": signalling other users' vassals needs it");
        }
        lines.add("became " + t.who() + ": gid=" + t.gid() + " groups=" + field(procStatus, "Groups").replace(' ', ',')
                + " capabilities=" + String.join(",", t.caps().stream().map(DropSettings::capName).toList())
                + " (effective, permitted, inheritable, ambient)");
        return lines;
    }

    /**
     * Gives a socket file (and its directory when it is {@code /run/emperor}, as systemd's
     * {@code RuntimeDirectory=} would) to the user the emperor becomes, so that it can remove
     * them when it stops. Null paths are skipped.
     */
    public static Optional<String> handOver(Target t, Path... files) {
        for (Path f : files) {
            if (f == null || !f.isAbsolute()) {
                continue;
            }
            try {
                if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
                    chown(f, t);
                }
                if (f.getParent() != null && f.getParent().equals(Path.of("/run/emperor"))) {
                    chown(f.getParent(), t);
                }
            } catch (IOException e) {
                return Optional.of("cannot give " + f + " to " + t.who() + ": " + e.getMessage());
            }
        }
        return Optional.empty();
    }

    private static void chown(Path p, Target t) throws IOException {
        Files.setAttribute(p, "unix:uid", t.uid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", t.gid(), LinkOption.NOFOLLOW_LINKS);
    }

    /** The libc calls of the drop, through jnr. */
    public interface Cred {
        @SaveError
        int prctl(int option, long arg2, long arg3, long arg4, long arg5);

        @SaveError
        int initgroups(String user, int group);

        @SaveError
        int setgroups(long size, @In int[] list);

        @SaveError
        int setresgid(int rgid, int egid, int sgid);

        @SaveError
        int setresuid(int ruid, int euid, int suid);

        @SaveError
        int getresuid(@Out int[] ruid, @Out int[] euid, @Out int[] suid);

        @SaveError
        int capset(@In int[] header, @In int[] data);
    }

    private static final class Holder {
        static final Cred CRED = Jnr.load(Cred.class, "c");
    }

    /**
     * Becomes {@code t}: in every thread, keep capabilities across the uid change and shrink the
     * bounding set to the kept capabilities; the groups ({@code initgroups}, or only the gid for
     * a uid without passwd entry), {@code setresgid}, {@code setresuid}; then in every thread
     * exactly the kept capabilities in the effective, permitted and inheritable sets, raised in
     * the ambient set (so the exec helper gets them); then checks every thread's
     * {@code /proc/self/task/TID/status}. {@code signalLib} is libemperor-signal.so (without it,
     * the calling thread only, see the class comment). Empty when done, else what failed; the
     * process may then be half-changed, and must exit.
     */
    public static Optional<String> apply(Target t, Path signalLib) {
        Cred c = Holder.CRED;
        long mask = t.mask();
        int last = lastCap();
        AllThreads all = AllThreads.load(signalLib);
        if (all != null) {
            Optional<String> f = all.phase(1, mask, last);
            if (f.isPresent()) {
                return f;
            }
        } else {
            if (c.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
                return failed("prctl(PR_SET_KEEPCAPS)");
            }
            for (int cap = 0; cap <= last; cap++) {
                if (!t.caps().contains(cap) && c.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
                    return failed("prctl(PR_CAPBSET_DROP, " + cap + ")");
                }
            }
        }
        if (t.name() != null ? c.initgroups(t.name(), t.gid()) != 0 : c.setgroups(1, new int[] {t.gid()}) != 0) {
            return failed(t.name() != null ? "initgroups " + t.name() : "setgroups " + t.gid());
        }
        if (c.setresgid(t.gid(), t.gid(), t.gid()) != 0) {
            return failed("setresgid " + t.gid());
        }
        if (c.setresuid(t.uid(), t.uid(), t.uid()) != 0) {
            return failed("setresuid " + t.uid());
        }
        if (all != null) {
            Optional<String> f = all.phase(2, mask, last);
            if (f.isPresent()) {
                return f;
            }
        } else {
            int lo = (int) mask;
            int hi = (int) (mask >>> 32);
            // struct __user_cap_header_struct {version, pid}; two __user_cap_data_struct {effective, permitted, inheritable}
            if (c.capset(new int[] {LINUX_CAPABILITY_VERSION_3, 0}, new int[] {lo, lo, lo, hi, hi, hi}) != 0) {
                return failed("capset");
            }
            for (int cap : t.caps()) {
                if (c.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
                    return failed("prctl(PR_CAP_AMBIENT_RAISE, " + DropSettings.capName(cap) + ")");
                }
            }
            if (c.prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
                return failed("prctl(PR_SET_KEEPCAPS, 0)");
            }
        }
        int[] r = new int[1];
        int[] e = new int[1];
        int[] s = new int[1];
        if (c.getresuid(r, e, s) != 0 || r[0] != t.uid() || e[0] != t.uid() || s[0] != t.uid()) {
            return Optional.of("the uids are " + r[0] + "," + e[0] + "," + s[0] + ", not " + t.uid());
        }
        // No setresuid(0, 0, 0) check: with CAP_SETUID kept it succeeds, as it would for the unit's
        // emperor. Nothing in this process calls a set*id function after this: glibc aborts a
        // process whose threads disagree on its result.
        try {
            List<Path> threads = all != null ? tasks() : List.of(Path.of("/proc/thread-self"));
            for (Path thread : threads) {
                String status;
                try {
                    status = Files.readString(thread.resolve("status"), StandardCharsets.ISO_8859_1);
                } catch (java.nio.file.NoSuchFileException ended) {
                    continue;
                }
                String uids = field(status, "Uid").replaceAll("\\s+", " ");
                String want = t.uid() + " " + t.uid() + " " + t.uid() + " " + t.uid();
                if (!uids.equals(want)) {
                    return Optional.of("thread " + thread.getFileName() + ": Uid is " + uids + ", not " + want);
                }
                for (String set : List.of("CapEff", "CapPrm", "CapInh", "CapAmb")) {
                    long got = Long.parseUnsignedLong(field(status, set), 16);
                    if (got != mask) {
                        return Optional.of("thread " + thread.getFileName() + ": " + set + " is "
                                + Long.toHexString(got) + ", not " + Long.toHexString(mask));
                    }
                }
            }
        } catch (IOException | NumberFormatException x) {
            return Optional.of("cannot check the threads' /proc status: " + x.getMessage());
        }
        return Optional.empty();
    }

    private static List<Path> tasks() throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(Path.of("/proc/self/task"))) {
            return s.toList();
        }
    }

    /** {@code emperor_caps_all_threads} of libemperor-signal.so (emperor-signal.c). */
    public interface CapsLib {
        @SaveError
        int emperor_caps_all_threads(@In int[] phaseMaskLoMaskHiLastCapSignalTimeoutMillis);
    }

    /** A real-time signal (SIGRTMIN+10 with glibc) that nothing else in the emperor uses. */
    static final int CAPS_SIGNAL = 44;
    static final int CAPS_TIMEOUT_MILLIS = 10_000;

    /** The capability changes for every thread, through libemperor-signal.so; null without it. */
    private record AllThreads(CapsLib lib) {
        static AllThreads load(Path lib) {
            if (lib == null || !Files.isRegularFile(lib)) {
                return null;
            }
            return new AllThreads(Jnr.load(CapsLib.class, lib.toString()));
        }

        Optional<String> phase(int phase, long mask, int last) {
            if (lib.emperor_caps_all_threads(new int[] {phase, (int) mask, (int) (mask >>> 32), last, CAPS_SIGNAL,
                    CAPS_TIMEOUT_MILLIS}) < 0) {
                int errno = jnr.ffi.Runtime.getRuntime(lib).getLastError();
                return Optional.of((phase == 1 ? "keeping capabilities across the change of uid"
                        : "capset and ambient capabilities") + " in every thread: " + Native.strerror(errno));
            }
            return Optional.empty();
        }
    }

    /** This thread's {@code /proc/thread-self/status}. */
    public static String threadStatus() throws IOException {
        return Files.readString(Path.of("/proc/thread-self/status"), StandardCharsets.ISO_8859_1);
    }

    static String field(String procStatus, String name) {
        for (String line : procStatus.split("\n")) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).strip();
            }
        }
        return "";
    }

    private static int lastCap() {
        try {
            // Not Files.readString: it reads a /proc file of size 0 short here ("4" of "40").
            return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/kernel/cap_last_cap")).get(0).strip());
        } catch (IOException | RuntimeException e) {
            return DropSettings.CAP_NAMES.size() - 1;
        }
    }

    private static Optional<String> failed(String step) {
        int errno = jnr.ffi.Runtime.getRuntime(Holder.CRED).getLastError();
        return Optional.of(step + ": " + Native.strerror(errno));
    }
}
