package io.emperor.cli;

import io.emperor.config.Problem;
import io.emperor.config.UwsgiCommand;
import io.emperor.config.VassalSpec;
import io.emperor.os.Environment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What {@code emperor check} finds before a spawn would (as {@code systemd-analyze verify} does for
 * a unit): the program is missing or not executable, the {@code chdir} is missing, the directory
 * of {@code logto} is missing. Nothing of the vassal is run: the checks are {@code stat}s.
 *
 * <p>For whom: {@link Who#SELF} (the vassal runs as whoever runs the emperor, taken to be the
 * caller) asks the kernel ({@code access(2)}); another uid (a {@code uid} key, or the file's owner
 * in tyrant mode) is judged from the mode bits, owner and group of the file and of every directory
 * above it, with that user's groups. ACLs are not read for another uid.
 */
final class Preflight {
    /**
     * Whom the vassal runs as.
     *
     * @param uid    -1 for {@link #SELF}
     * @param groups its gid and supplementary groups
     * @param label  how messages name it ({@code uid 1001 (alice)})
     */
    record Who(int uid, Set<Integer> groups, String label) {
        static final Who SELF = new Who(-1, Set.of(), "you");

        boolean self() {
            return uid < 0;
        }
    }

    private Preflight() {}

    /**
     * The problems of {@code spec} (each {@code FILE: message}); empty when it could be spawned.
     *
     * @param path   the PATH the vassal gets before its own env entries (tyrant mode:
     *               {@link Environment#TENANT_PATH}; else the emperor's)
     * @param uwsgi  how a {@code [uwsgi]} vassal is started
     */
    static List<Problem> check(VassalSpec spec, Who who, String path, UwsgiCommand uwsgi) {
        List<String> found = new ArrayList<>();
        Path chdir = spec.chdir();
        String dirProblem = directory(chdir, who);
        if (dirProblem != null) {
            found.add("chdir " + chdir + ": " + dirProblem);
        }
        String program = spec.kind() == VassalSpec.Kind.UWSGI ? uwsgi.binary()
                : spec.argv().isEmpty() ? null : spec.argv().get(0);
        if (program != null) {
            String vassalPath = path;
            for (String kv : spec.env()) {
                if (kv.startsWith("PATH=")) {
                    vassalPath = kv.substring(5);
                }
            }
            String p = program(program, chdir, vassalPath, who);
            if (p != null) {
                found.add((spec.kind() == VassalSpec.Kind.UWSGI ? "uwsgi-binary: " : "") + p);
            }
        }
        if (spec.logto() != null) {
            Path parent = spec.logto().getParent();
            String p = parent == null ? null : directory(parent, who);
            if (p != null) {
                found.add("logto " + spec.logto() + ": directory " + parent + ": " + p);
            }
        }
        return found.stream().map(m -> new Problem(spec.file(), 0, m)).toList();
    }

    /** Why {@code dir} cannot be a working directory for {@code who}, or null. */
    static String directory(Path dir, Who who) {
        if (!Files.exists(dir)) {
            return "No such file or directory";
        }
        if (!Files.isDirectory(dir)) {
            return "Not a directory";
        }
        String blocked = blockedAbove(dir, who);
        if (blocked != null) {
            return blocked;
        }
        if (!may(dir, who, 1)) {
            return "Permission denied (not searchable by " + who.label() + ")";
        }
        return null;
    }

    /**
     * As the exec helper looks a program up: a name with a {@code /} relative to {@code chdir}, a
     * bare name in {@code path} (empty: the helper's default), the first executable match wins.
     */
    static String program(String name, Path chdir, String path, Who who) {
        if (name.isEmpty()) {
            return "exec \"\": No such file or directory";
        }
        if (name.contains("/")) {
            String p = executable(chdir.resolve(name).normalize(), who);
            return p == null ? null : "exec " + name + ": " + p;
        }
        String search = path == null || path.isEmpty() ? Environment.TENANT_PATH : path;
        String firstDenied = null;
        for (String dir : search.split(":", -1)) {
            Path candidate = dir.isEmpty() ? chdir.resolve(name) : Path.of(dir).resolve(name);
            if (!Files.exists(candidate)) {
                continue;
            }
            String p = executable(candidate, who);
            if (p == null) {
                return null;
            }
            if (firstDenied == null) {
                firstDenied = "exec " + candidate + ": " + p;
            }
        }
        return firstDenied != null ? firstDenied
                : "exec " + name + ": No such file or directory (not found in PATH=" + search + ")";
    }

    /** Why {@code file} cannot be exec'ed by {@code who}, or null. */
    static String executable(Path file, Who who) {
        if (!Files.exists(file)) {
            return "No such file or directory";
        }
        if (Files.isDirectory(file)) {
            return "Permission denied (a directory)";
        }
        if (!Files.isRegularFile(file)) {
            return "Permission denied (not a regular file)";
        }
        String blocked = blockedAbove(file, who);
        if (blocked != null) {
            return blocked;
        }
        if (!may(file, who, 1)) {
            return "Permission denied (not executable by " + who.label() + ": " + describe(file) + ")";
        }
        return null;
    }

    /** A directory above {@code p} (of its real path) that {@code who} cannot search, as a message; or null. */
    private static String blockedAbove(Path p, Who who) {
        Path real;
        try {
            real = p.toRealPath();
        } catch (IOException e) {
            return null; // it exists (checked); a race or a loop: exec will say
        }
        List<Path> above = new ArrayList<>();
        for (Path d = real.getParent(); d != null; d = d.getParent()) {
            above.add(0, d);
        }
        for (Path d : above) {
            if (!may(d, who, 1)) {
                return "Permission denied (directory " + d + " is not searchable by " + who.label() + ": "
                        + describe(d) + ")";
            }
        }
        return null;
    }

    /**
     * Whether {@code who} has the permission {@code bit} (1 x, 2 w, 4 r) on {@code p}: the kernel's
     * answer for {@link Who#SELF}, the mode bits for another uid (root: any x bit for a file's x).
     */
    static boolean may(Path p, Who who, int bit) {
        if (who.self()) {
            return switch (bit) {
                case 1 -> Files.isExecutable(p);
                case 2 -> Files.isWritable(p);
                default -> Files.isReadable(p);
            };
        }
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            if (who.uid() == 0) {
                return bit != 1 || Files.isDirectory(p) || (mode & 0111) != 0;
            }
            int owner = (Integer) Files.getAttribute(p, "unix:uid");
            int group = (Integer) Files.getAttribute(p, "unix:gid");
            if (owner == who.uid()) {
                return ((mode >> 6) & bit) != 0;
            }
            if (who.groups().contains(group)) {
                return ((mode >> 3) & bit) != 0;
            }
            return (mode & bit) != 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String describe(Path p) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & 0170000) == 0120000) {
                mode = (Integer) Files.getAttribute(p, "unix:mode");
            }
            return String.format("mode %04o, owner %s, group %s", mode & 07777,
                    Files.getAttribute(p, "unix:uid"), Files.getAttribute(p, "unix:gid"));
        } catch (IOException | RuntimeException e) {
            return "mode unknown";
        }
    }
}
