package io.emperor.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Keeps every process a vassal starts attributable to it (docs/lifecycle.md, "What a stop
 * reaches"): a cgroup per vassal, {@code NAME.vassal}, under the emperor's own directory
 * {@code emperor-KEY} (KEY: a hash of its vassal directories, so the next emperor on the same
 * directories finds what a crashed one left). The exec helper joins it before the drop
 * ({@code -G}); the directories are the emperor's, so a vassal that runs as another uid cannot
 * move out. cgroup v2 (the emperor's own cgroup in the unified hierarchy, where it may create
 * one: root, or a delegated subtree) is preferred, then a v1 {@code freezer} (frozen while it is
 * killed) or {@code pids} hierarchy; without either, {@link Mode#MARK}: every vassal process carries
 * {@code EMPEROR_RUN=KEY:RUN} in its environment, which its descendants inherit (and can erase:
 * cgroups are preferred), and a state file under the runtime directory lists each run's uid, main
 * pid and start time for the next emperor. {@link Mode#NONE} (launchers built without
 * containment, in tests): the process group only. Only the loop thread uses an instance, except {@link
 * #leftovers} and {@link #stopLeftovers} at start and {@link #finish} at the end.
 */
public final class Containment {
    /** How vassals are contained. */
    public enum Mode {
        CGROUP2("cgroup v2"), CGROUP1("cgroup v1"), MARK("mark"), NONE("none");

        public final String text;

        Mode(String text) {
            this.text = text;
        }
    }

    /** Suffix of a vassal's cgroup: no cgroup interface file ends in it. */
    static final String SUFFIX = ".vassal";
    private static final int SIGKILL = 9;
    private static final int MAX_NAME = 200;
    /** Kill passes over a v1 cgroup (no cgroup.kill there): a fork during a pass is caught by the next. */
    private static final int V1_PASSES = 8;
    private static final long FREEZE_WAIT_MILLIS = 200;

    /** What {@code -Demperor.containment} may say. */
    public static final List<String> MODES = List.of("auto", "cgroup2", "cgroup1", "mark");

    /** The environment variable of {@link Mode#MARK}. */
    public static final String MARK_VARIABLE = "EMPEROR_RUN";
    /** The state file is rewritten with the live runs only when it grows past this. */
    private static final long STATE_COMPACT_BYTES = 1024 * 1024;

    private final Mode mode;
    private final Path root;
    private final String why;
    private final String key;
    private final Path stateFile;
    /** MARK: the live runs, by run id. */
    private final Map<Long, Run> runs = new LinkedHashMap<>();
    private final boolean hasKillFile;
    private final boolean freezer;
    private final LibC c = Native.libc();
    /** Vassal cgroups killed but not yet removed (their members were still exiting). */
    private final Set<String> pending = new TreeSet<>();

    /** A run of {@link Mode#MARK}: who it runs as, its main process, and its vassal. */
    public record Run(long runId, int uid, long pid, long startTime, String group, String mark) {
        String line() {
            return "+ " + runId + " " + uid + " " + pid + " " + startTime + " " + group + " " + mark;
        }
    }

    private Containment(Mode mode, Path root, String why) {
        this(mode, root, why, null, null);
    }

    private Containment(Mode mode, Path root, String why, String key, Path stateFile) {
        this.mode = mode;
        this.root = root;
        this.why = why;
        this.key = key;
        this.stateFile = stateFile;
        this.hasKillFile = root != null && mode == Mode.CGROUP2 && Files.exists(root.resolve("cgroup.kill"));
        this.freezer = root != null && mode == Mode.CGROUP1 && Files.exists(root.resolve("freezer.state"));
    }

    /** No containment at all: what launchers built without one get (the tests of other parts). */
    public static Containment none(String why) {
        return new Containment(Mode.NONE, null, why);
    }

    /**
     * Finds where this emperor may create its cgroups, reading the mounts and its own cgroups
     * from {@code /proc/self}; {@code wanted} is one of {@link #MODES} (the system property
     * {@code emperor.containment}): {@code cgroup2} and {@code cgroup1} try only that kind, and
     * every kind falls back to the mark.
     */
    public static Containment detect(List<Path> vassalDirs, String wanted, Path runtimeDir) {
        return detect(vassalDirs, wanted, runtimeDir, Path.of("/proc/self/mountinfo"), Path.of("/proc/self/cgroup"));
    }

    static Containment detect(List<Path> vassalDirs, String wanted, Path runtimeDir, Path mountinfo, Path selfCgroup) {
        String k = key(vassalDirs);
        if ("mark".equals(wanted)) {
            return mark(k, runtimeDir, "emperor.containment=mark");
        }
        String dirName = "emperor-" + k;
        List<String> mounts;
        List<String> own;
        try {
            mounts = Files.readAllLines(mountinfo);
            own = Files.readAllLines(selfCgroup);
        } catch (IOException e) {
            return mark(k, runtimeDir, "cannot read " + e.getMessage() + ": " + io.emperor.config.IoReasons.of(e));
        }
        List<String> tried = new ArrayList<>();
        if (!"cgroup1".equals(wanted)) {
            Optional<Path> mount = mountOf(mounts, "cgroup2", null);
            Optional<String> path = ownPath(own, "");
            if (mount.isPresent() && path.isPresent()) {
                Path dir = under(mount.get(), path.get()).resolve(dirName);
                Optional<String> problem = create(dir);
                if (problem.isEmpty()) {
                    return new Containment(Mode.CGROUP2, dir, null);
                }
                tried.add("cgroup v2: " + problem.get());
            } else {
                tried.add("cgroup v2: not mounted");
            }
        }
        if (!"cgroup2".equals(wanted)) {
            // freezer first: frozen, a cgroup's processes cannot fork while they are killed.
            for (String controller : List.of("freezer", "pids")) {
                Optional<Path> mount = mountOf(mounts, "cgroup", controller);
                Optional<String> path = ownPath(own, controller);
                if (mount.isPresent() && path.isPresent()) {
                    Path dir = under(mount.get(), path.get()).resolve(dirName);
                    Optional<String> problem = create(dir);
                    if (problem.isEmpty()) {
                        return new Containment(Mode.CGROUP1, dir, null);
                    }
                    tried.add("cgroup v1 " + controller + ": " + problem.get());
                } else {
                    tried.add("cgroup v1 " + controller + ": not mounted");
                }
            }
        }
        return mark(k, runtimeDir, String.join("; ", tried));
    }

    private static Containment mark(String key, Path runtimeDir, String why) {
        return new Containment(Mode.MARK, null, why, key, runtimeDir.resolve("emperor-" + key + ".runs"));
    }

    /** The first 12 hex digits of SHA-256 over the sorted absolute vassal directories. */
    static String key(List<Path> vassalDirs) {
        Set<String> dirs = new TreeSet<>();
        for (Path d : vassalDirs) {
            dirs.add(d.toAbsolutePath().normalize().toString());
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(String.join("\n", dirs).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The mount point of a cgroup file system (fstype, and for v1 the controller among its options). */
    static Optional<Path> mountOf(List<String> mountinfo, String fstype, String controller) {
        for (String line : mountinfo) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] pre = line.substring(0, dash).split(" ");
            String[] post = line.substring(dash + 3).split(" ");
            if (pre.length < 5 || post.length < 3 || !post[0].equals(fstype)) {
                continue;
            }
            if (controller != null && !List.of(post[2].split(",")).contains(controller)) {
                continue;
            }
            if (!pre[3].equals("/")) {
                continue; // a bind mount of a subtree: our own path would not be under it
            }
            return Optional.of(Path.of(pre[4].replace("\\040", " ")));
        }
        return Optional.empty();
    }

    /** Our path in a hierarchy from /proc/self/cgroup: "" is v2 ({@code 0::PATH}), else a v1 controller. */
    static Optional<String> ownPath(List<String> cgroup, String controller) {
        for (String line : cgroup) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && (controller.isEmpty() ? f[0].equals("0") && f[1].isEmpty()
                    : List.of(f[1].split(",")).contains(controller))) {
                return Optional.of(f[2]);
            }
        }
        return Optional.empty();
    }

    private static Path under(Path mount, String path) {
        String rel = path.startsWith("/") ? path.substring(1) : path;
        return rel.isEmpty() ? mount : mount.resolve(rel);
    }

    private static Optional<String> create(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            return Optional.of("cannot create " + dir + ": " + io.emperor.config.IoReasons.of(e));
        }
        if (!Files.isWritable(dir.resolve("cgroup.procs"))) {
            return Optional.of(dir.resolve("cgroup.procs") + " is not writable");
        }
        return Optional.empty();
    }

    public Mode mode() {
        return mode;
    }

    /** The emperor's cgroup directory, or null without cgroups. */
    public Path root() {
        return root;
    }

    /** For the start line: the mode, where, and without cgroups why not. */
    public String describe() {
        return switch (mode) {
            case NONE -> "none (" + why + "): a stop reaches the vassal's process group only";
            case MARK -> "mark " + MARK_VARIABLE + "=" + key + "." + ProcessHandle.current().pid() + ":RUN, state file "
                    + stateFile + " (no cgroup: " + why + ")";
            default -> mode.text + " " + root;
        };
    }

    /** A vassal name as a cgroup name: [A-Za-z0-9._@+-] kept, every other byte %XX, long names hashed. */
    static String escape(String name) {
        StringBuilder sb = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            char ch = (char) (b & 0xff);
            if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                    || ".-_@+".indexOf(ch) >= 0) {
                sb.append(ch);
            } else {
                sb.append('%').append(String.format("%02X", (int) ch));
            }
        }
        if (sb.length() > MAX_NAME) {
            String tail = key(List.of(Path.of("/" + sb)));
            sb.setLength(MAX_NAME - tail.length() - 1);
            sb.append('~').append(tail);
        }
        return sb.append(SUFFIX).toString();
    }

    /** The vassal name a cgroup stands for (as escaped; a hashed long name stays hashed). */
    static String unescape(String dir) {
        String s = dir.endsWith(SUFFIX) ? dir.substring(0, dir.length() - SUFFIX.length()) : dir;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '%' && i + 2 < s.length()) {
                try {
                    out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                    continue;
                } catch (NumberFormatException e) {
                    // not an escape: kept as it is
                }
            }
            out.write(ch);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private Path groupOf(String vassal) {
        return root.resolve(escape(vassal));
    }

    /**
     * Before a spawn: the vassal's cgroup exists; the {@code cgroup.procs} file its helper
     * writes its pid to ({@code -G}), empty without cgroups; or why it cannot be made.
     */
    public Result prepare(String vassal) {
        if (mode == Mode.NONE || mode == Mode.MARK) {
            return new Result(null, null);
        }
        Path dir = groupOf(vassal);
        pending.remove(escape(vassal));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            return new Result(null, "cgroup " + dir + ": " + io.emperor.config.IoReasons.of(e));
        }
        return new Result(dir.resolve("cgroup.procs"), null);
    }

    /** What {@link #prepare} gives: the file to join, or a problem. */
    public record Result(Path procs, String problem) {}

    /** The pids in a vassal's cgroup now (empty without cgroups or when it has none). */
    public List<Long> members(String vassal) {
        return root == null ? List.of() : members(groupOf(vassal));
    }

    /** MARK: the variable every process of the run inherits; empty in the other modes. */
    public Optional<String> markFor(long runId) {
        return mode == Mode.MARK ? Optional.of(mark(runId)) : Optional.empty();
    }

    /** {@code EMPEROR_RUN=KEY.EMPEROR-PID:RUN}: the emperor's pid keeps two incarnations' run ids apart. */
    private String mark(long runId) {
        return MARK_VARIABLE + "=" + key + "." + ProcessHandle.current().pid() + ":" + runId;
    }

    /**
     * The vassal cgroup of this emperor that process {@code pid} is in (its escaped name, {@code NAME.vassal}),
     * proved by the cgroup's own {@code cgroup.procs}: a tenant may build a lookalike path in a subtree
     * delegated to it, never get a process into ours. Empty without cgroups. Any thread (reads only).
     */
    public Optional<String> cgroupOf(long pid) {
        if (root == null) {
            return Optional.empty();
        }
        String parent = "/" + root.getFileName() + "/";
        for (String line : Procfs.cgroups(pid)) {
            int at = line.lastIndexOf(parent);
            if (at < 0) {
                continue;
            }
            String group = line.substring(at + parent.length());
            if (group.endsWith(SUFFIX) && group.indexOf('/') < 0 && members(root.resolve(group)).contains(pid)) {
                return Optional.of(group);
            }
        }
        return Optional.empty();
    }

    /**
     * MARK: the run whose mark ({@code EMPEROR_RUN} of this emperor) process {@code pid} carries; empty
     * in the other modes. A mark can be copied: the caller checks the uid. Any thread (reads only).
     */
    public java.util.OptionalLong markedRun(long pid) {
        if (mode != Mode.MARK) {
            return java.util.OptionalLong.empty();
        }
        String prefix = key + "." + ProcessHandle.current().pid() + ":";
        Optional<String> v = Procfs.variable(pid, MARK_VARIABLE);
        if (v.isEmpty() || !v.get().startsWith(prefix)) {
            return java.util.OptionalLong.empty();
        }
        try {
            return java.util.OptionalLong.of(Long.parseLong(v.get().substring(prefix.length())));
        } catch (NumberFormatException e) {
            return java.util.OptionalLong.empty();
        }
    }

    /** MARK: a run was spawned as {@code uid}; recorded in the state file for the next emperor. */
    public void started(String vassal, long runId, long pid, int uid) {
        if (mode != Mode.MARK) {
            return;
        }
        Run r = new Run(runId, uid, pid, Procfs.startTime(pid).orElse(0L), escape(vassal), mark(runId));
        runs.put(runId, r);
        append(r.line());
    }

    /** MARK: the run's main process was reaped; everything of it was killed. */
    public void ended(long runId) {
        if (mode != Mode.MARK || runs.remove(runId) == null) {
            return;
        }
        append("- " + runId);
    }

    private void append(String line) {
        try {
            if (Files.exists(stateFile) && Files.size(stateFile) > STATE_COMPACT_BYTES) {
                List<String> live = new ArrayList<>();
                runs.values().forEach(r -> live.add(r.line()));
                Path tmp = stateFile.resolveSibling("." + stateFile.getFileName() + ".tmp");
                Files.write(tmp, live);
                Files.move(tmp, stateFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                return; // the line's run is among the live ones, or no longer is
            }
            Files.writeString(stateFile, line + "\n", java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            // The next emperor then finds less; the mark still works for this one.
        }
    }

    /**
     * MARK: SIGKILL to every process carrying the run's mark whose real uid is the run's, so a
     * mark copied into a process of another user is never obeyed (two passes: a fork during the
     * first is caught by the second).
     */
    public void killRun(long runId) {
        Run r = runs.get(runId);
        if (mode != Mode.MARK || r == null) {
            return;
        }
        for (int pass = 0; pass < 2; pass++) {
            for (long pid : Procfs.carrying(r.mark(), r.uid(), 0)) {
                c.kill((int) pid, SIGKILL);
            }
        }
    }

    private static List<Long> members(Path dir) {
        List<Long> pids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("cgroup.procs"))) {
                if (!line.isBlank()) {
                    pids.add(Long.parseLong(line.trim()));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone, or being removed: no members
        }
        return pids;
    }

    /**
     * SIGKILL to everything in the vassal's cgroup now: {@code cgroup.kill} on v2 (one atomic
     * kill, forks included), else kill passes over {@code cgroup.procs}. Membership is the proof
     * that a process is the vassal's: only pids listed there are signalled.
     */
    public void kill(String vassal) {
        if (root != null) {
            kill(groupOf(vassal));
        }
    }

    /** Everything of the vassal now: its cgroup, or without cgroups what carries the run's mark. */
    public void kill(String vassal, long runId) {
        if (mode == Mode.MARK) {
            killRun(runId);
        } else {
            kill(vassal);
        }
    }

    private void kill(Path dir) {
        if (hasKillFile) {
            try {
                Files.writeString(dir.resolve("cgroup.kill"), "1");
                return;
            } catch (IOException e) {
                // fall back to the passes below
            }
        }
        if (freezer && freezeAndKill(dir)) {
            return;
        }
        for (int pass = 0; pass < V1_PASSES; pass++) {
            List<Long> pids = members(dir);
            if (pids.isEmpty()) {
                return;
            }
            for (long pid : pids) {
                c.kill((int) pid, SIGKILL);
            }
        }
    }

    /**
     * v1 freezer: FROZEN, SIGKILL to every member, THAWED (they die as they thaw): no fork
     * between the read of the members and the kill. Waits at most {@value #FREEZE_WAIT_MILLIS} ms
     * for FROZEN (a process in uninterruptible sleep delays it); false when it did not come, and
     * the kill passes follow.
     */
    private boolean freezeAndKill(Path dir) {
        Path state = dir.resolve("freezer.state");
        try {
            if (members(dir).isEmpty()) {
                return true;
            }
            Files.writeString(state, "FROZEN");
            long deadline = System.nanoTime() + FREEZE_WAIT_MILLIS * 1_000_000L;
            boolean frozen;
            while (!(frozen = Files.readString(state).strip().equals("FROZEN")) && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
            }
            for (long pid : members(dir)) {
                c.kill((int) pid, SIGKILL);
            }
            Files.writeString(state, "THAWED");
            return frozen;
        } catch (IOException e) {
            try {
                Files.writeString(state, "THAWED");
            } catch (IOException ignored) {
                // gone
            }
            return false;
        }
    }

    /** The vassal is forgotten: its cgroup is killed and removed now, or as soon as its members are gone. */
    public void release(String vassal) {
        if (root == null) {
            return;
        }
        kill(vassal);
        pending.add(escape(vassal));
        retryPending();
    }

    /** Removes the released cgroups whose members have all exited (called after reaps). */
    public void retryPending() {
        if (root == null || pending.isEmpty()) {
            return;
        }
        pending.removeIf(name -> {
            try {
                Files.deleteIfExists(root.resolve(name));
                return true;
            } catch (IOException e) {
                return false; // EBUSY: members still exiting
            }
        });
    }

    /**
     * Vassal cgroups of this emperor's directory that hold processes, with their pids: what a
     * previous emperor on the same directories left. A cgroup whose processes are children of
     * another live emperor (a second one on the same directories) is not ours to stop: left out,
     * and named in {@code held}.
     */
    public Map<String, List<Long>> leftovers(Map<String, Long> held) {
        Map<String, List<Long>> found = new LinkedHashMap<>();
        if (mode == Mode.MARK) {
            return markLeftovers();
        }
        if (mode == Mode.NONE) {
            return found;
        }
        for (Path d : groups()) {
            List<Long> pids = members(d);
            if (pids.isEmpty()) {
                continue;
            }
            Optional<Long> emperor = liveEmperorParent(pids);
            if (emperor.isPresent()) {
                held.put(d.getFileName().toString(), emperor.get());
            } else {
                found.put(d.getFileName().toString(), pids);
            }
        }
        return found;
    }

    /** A parent of one of these pids, outside them, that runs the same executable as this emperor (another JVM emperor). */
    private static Optional<Long> liveEmperorParent(List<Long> pids) {
        Path self;
        try {
            self = Files.readSymbolicLink(Path.of("/proc/self/exe"));
        } catch (IOException e) {
            return Optional.empty();
        }
        long me = ProcessHandle.current().pid();
        for (long pid : pids) {
            long ppid = ppid(pid);
            if (ppid <= 1 || ppid == me || pids.contains(ppid)) {
                continue;
            }
            try {
                String cmd = Files.readString(Path.of("/proc/" + ppid + "/cmdline"), StandardCharsets.ISO_8859_1);
                if (Files.readSymbolicLink(Path.of("/proc/" + ppid + "/exe")).equals(self) && cmd.contains("io.emperor")) {
                    return Optional.of(ppid);
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        }
        return Optional.empty();
    }

    /** Field 4 of /proc/PID/stat, or -1. */
    static long ppid(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.ISO_8859_1);
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * MARK: the runs the state file says were live, and the processes that provably belong to
     * them: the main pid when its start time is the recorded one, and every process with the
     * run's mark, the run's real uid and a start time not before the run's.
     */
    private Map<String, List<Long>> markLeftovers() {
        Map<String, List<Long>> found = new LinkedHashMap<>();
        Map<Long, Run> live = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(stateFile)) {
                String[] f = line.split(" ");
                try {
                    if (f.length == 7 && f[0].equals("+") && f[6].startsWith(MARK_VARIABLE + "=" + key + ".")) {
                        long id = Long.parseLong(f[1]);
                        live.put(id, new Run(id, Integer.parseInt(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
                                f[5], f[6]));
                    } else if (f.length == 2 && f[0].equals("-")) {
                        live.remove(Long.parseLong(f[1]));
                    }
                } catch (NumberFormatException e) {
                    // a torn line of a crash: skipped
                }
            }
        } catch (IOException e) {
            return found; // no state file: nothing of a previous emperor is known
        }
        for (Run r : live.values()) {
            Set<Long> pids = new TreeSet<>(Procfs.carrying(r.mark(), r.uid(), r.startTime()));
            if (r.startTime() > 0 && Procfs.running(r.pid(), r.startTime())) {
                pids.add(r.pid());
            }
            if (!pids.isEmpty()) {
                found.merge(r.group(), new ArrayList<>(pids), (a, b) -> {
                    List<Long> all = new ArrayList<>(a);
                    all.addAll(b);
                    return all;
                });
                markedLeft.computeIfAbsent(r.group(), g -> new ArrayList<>()).add(r);
            }
        }
        return found;
    }

    /** MARK: the runs {@link #markLeftovers} found, by escaped vassal name, for {@link #stop}. */
    private final Map<String, List<Run>> markedLeft = new LinkedHashMap<>();

    /** How a group of {@link #leftovers} was found: its cgroup, or its marks and the state file. */
    public String where(String group) {
        if (mode == Mode.MARK) {
            return "marked " + String.join(", ", markedLeft.getOrDefault(group, List.of()).stream().map(Run::mark).toList())
                    + " in " + stateFile;
        }
        return "cgroup " + root.resolve(group);
    }

    /** The vassal name of a cgroup from {@link #leftovers}. */
    public static String vassalOf(String cgroup) {
        return unescape(cgroup);
    }

    /** {@link #stop} of every vassal cgroup: what is still exiting when the emperor ends. */
    public List<Long> stopAll(long timeoutNanos, Runnable reap) {
        if (mode == Mode.MARK) {
            List<Long> left = new ArrayList<>();
            for (Run r : List.copyOf(runs.values())) {
                killRun(r.runId());
                left.addAll(Procfs.carrying(r.mark(), r.uid(), 0));
            }
            reap.run();
            return left;
        }
        if (mode == Mode.NONE) {
            return List.of();
        }
        List<String> all = new ArrayList<>();
        for (Path g : groups()) {
            all.add(g.getFileName().toString());
        }
        return stop(all, timeoutNanos, reap);
    }

    /**
     * Kills the processes of these vassal cgroups (names as {@link #leftovers} gives them) and
     * waits up to {@code timeoutNanos} until they are empty, calling {@code reap} between looks
     * (adopted zombies); then removes the empty cgroups. The pids still there at the deadline.
     */
    public List<Long> stop(java.util.Collection<String> names, long timeoutNanos, Runnable reap) {
        if (mode == Mode.MARK) {
            return stopMarked(names, timeoutNanos, reap);
        }
        if (mode == Mode.NONE) {
            return List.of();
        }
        long deadline = System.nanoTime() + timeoutNanos;
        List<Long> left;
        while (true) {
            left = new ArrayList<>();
            for (String g : names) {
                kill(root.resolve(g));
                left.addAll(members(root.resolve(g)));
            }
            reap.run();
            if (left.isEmpty() || System.nanoTime() >= deadline) {
                break;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L); // the kernel finishes the exits
        }
        for (String g : names) {
            try {
                Files.deleteIfExists(root.resolve(g));
                pending.remove(g);
            } catch (IOException e) {
                // still busy: the next emperor finds it
            }
        }
        return left;
    }

    private List<Long> stopMarked(java.util.Collection<String> names, long timeoutNanos, Runnable reap) {
        long deadline = System.nanoTime() + timeoutNanos;
        List<Long> left;
        while (true) {
            left = new ArrayList<>();
            for (Run r : names.stream().flatMap(n -> markedLeft.getOrDefault(n, List.of()).stream()).toList()) {
                List<Long> pids = new ArrayList<>(Procfs.carrying(r.mark(), r.uid(), r.startTime()));
                if (r.startTime() > 0 && Procfs.running(r.pid(), r.startTime()) && !pids.contains(r.pid())) {
                    pids.add(r.pid());
                }
                for (long pid : pids) {
                    c.kill((int) pid, SIGKILL);
                }
                left.addAll(pids);
            }
            reap.run();
            if (left.isEmpty() || System.nanoTime() >= deadline) {
                break;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
        }
        if (left.isEmpty()) {
            try {
                Files.deleteIfExists(stateFile); // a fresh file for this emperor's runs
            } catch (IOException e) {
                // appended to, then
            }
        }
        return left;
    }

    /** MARK, at start: the state file of a previous emperor that left nothing running is started afresh. */
    public void resetState() {
        if (mode == Mode.MARK && runs.isEmpty()) {
            try {
                Files.deleteIfExists(stateFile);
            } catch (IOException e) {
                // appended to, then
            }
        }
    }

    /**
     * Makes this process a child subreaper: an orphan among its descendants (a vassal's double-
     * forked daemon) is re-parented to the emperor, not to PID 1, and reaped by it. Empty, or why not.
     */
    public static Optional<String> becomeSubreaper() {
        if (Native.libc().prctl(Native.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
            return Optional.of("prctl PR_SET_CHILD_SUBREAPER: " + Native.strerror(Native.errno()));
        }
        return Optional.empty();
    }

    private List<Path> groups() {
        List<Path> groups = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, "*" + SUFFIX)) {
            dirs.forEach(groups::add);
        } catch (IOException e) {
            // none
        }
        return groups;
    }

    /** Where a root emperor that becomes another user moves itself under cgroup v2 (see {@link #delegate}). */
    static final String SELF = "emperor.self";

    /**
     * Before a root emperor becomes {@code uid}/{@code gid} (emperor.ini {@code uid}): hands its
     * cgroup directory to that user as systemd's {@code Delegate=yes} does, so that the emperor can
     * still make a cgroup per vassal and its helpers can still join them. The directory, its
     * {@code cgroup.procs}, {@code cgroup.threads}, {@code cgroup.subtree_control} and {@code tasks},
     * and every vassal cgroup a previous emperor left (with all its files), change owner. Under
     * cgroup v2 the emperor also moves itself into {@code emperor.self} below it: moving a process
     * needs write access to the {@code cgroup.procs} of the common ancestor of where it is and
     * where it goes, which is then the handed-over directory, not the emperor's own (root's) cgroup.
     *
     * @return why it could not, or empty (also without cgroups: nothing to hand over)
     */
    public Optional<String> delegate(int uid, int gid) {
        if (root == null) {
            return Optional.empty();
        }
        try {
            if (mode == Mode.CGROUP2) {
                Path self = root.resolve(SELF);
                Files.createDirectories(self);
                Files.writeString(self.resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
                chownControl(self, uid, gid);
            }
            chownControl(root, uid, gid);
            for (Path group : groups()) {
                chown(group, uid, gid);
                try (DirectoryStream<Path> files = Files.newDirectoryStream(group)) {
                    for (Path f : files) {
                        chown(f, uid, gid);
                    }
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.of("cannot hand " + root + " to uid " + uid + ": " + e);
        }
    }

    /** The directory and the files that creating, joining and listing child cgroups need. */
    private static void chownControl(Path dir, int uid, int gid) throws IOException {
        chown(dir, uid, gid);
        for (String f : List.of("cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "tasks")) {
            Path file = dir.resolve(f);
            if (Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                chown(file, uid, gid);
            }
        }
    }

    private static void chown(Path p, int uid, int gid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * At the end: removes the emperor's own cgroup directory when nothing is left in it, and
     * without cgroups the state file when no run is left in it (a package purge removes the runtime
     * directory).
     */
    public void removeRoot() {
        if (mode == Mode.MARK && runs.isEmpty()) {
            try {
                Files.deleteIfExists(stateFile); // nothing left for the next emperor to look for
            } catch (IOException e) {
                // it finds only ended runs there
            }
        }
        if (root != null) {
            try {
                Files.deleteIfExists(root);
            } catch (IOException e) {
                // a vassal cgroup is still there: the next emperor finds it
            }
        }
    }
}
