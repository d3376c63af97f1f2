package io.emperor.it;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * What the tyrant-mode tests share: real users and groups made for the test class (and removed
 * after it), vassal files and symlinks with a chosen owner, group and mode that appear in the
 * vassal directory in one rename (so no scan ever sees them with the wrong owner), and the
 * credentials of a process from {@code /proc/PID/status}.
 */
final class TyrantSupport {
    /** An empty capability mask in /proc/PID/status. */
    static final String NO_CAPS = "0000000000000000";

    private TyrantSupport() {}

    static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Skips the test, visibly, unless it runs as root with useradd and groupadd at hand. */
    static void assumeRootWithUseradd() {
        Assumptions.assumeTrue(isRoot(), "tyrant mode tests need root (they create users and chown files)");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/useradd"))
                && Files.isExecutable(Path.of("/usr/sbin/groupadd")), "tyrant mode tests need useradd and groupadd");
    }

    /** A command's exit code and its output (stdout and stderr together). */
    record Result(int exit, String output) {}

    static Result run(String... cmd) {
        try {
            Path out = Files.createTempFile("tyrant-it", ".out");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(String.join(" ", cmd) + " did not finish within 60 s");
                }
                // Lenient: a command's output need not be UTF-8 (man pages rendered for the terminal).
                return new Result(p.exitValue(),
                        new String(Files.readAllBytes(out), java.nio.charset.StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** A user made for the test: its name, uid and primary gid. */
    record User(String name, int uid, int gid) {}

    /**
     * Users and groups of one test class, with unique names ({@code emt} + random + suffix);
     * {@link #close()} removes every one that was created, whatever happened in between.
     */
    static final class Accounts implements AutoCloseable {
        private final String prefix = "emt" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30), 36);
        private final List<String> users = new ArrayList<>();
        private final List<String> groups = new ArrayList<>();

        /** {@code groupadd}: a new group; its gid. */
        int group(String suffix) {
            String name = prefix + suffix;
            Result r = run("/usr/sbin/groupadd", name);
            if (r.exit() != 0) {
                throw new AssertionError("groupadd " + name + ": " + r.output());
            }
            groups.add(name);
            return gid(name);
        }

        /** {@code useradd -M -U}: a new user with its own group and these supplementary groups. */
        User user(String suffix, String... supplementaryGroups) {
            String name = prefix + suffix;
            List<String> cmd = new ArrayList<>(List.of("/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin"));
            if (supplementaryGroups.length > 0) {
                cmd.add("-G");
                cmd.add(String.join(",", List.of(supplementaryGroups).stream().map(g -> prefix + g).toList()));
            }
            cmd.add(name);
            Result r = run(cmd.toArray(String[]::new));
            if (r.exit() != 0) {
                throw new AssertionError("useradd " + name + ": " + r.output());
            }
            users.add(name);
            groups.add(name); // userdel removes it with the user; the groupdel after that just fails
            return new User(name, Integer.parseInt(run("id", "-u", name).output().trim()),
                    Integer.parseInt(run("id", "-g", name).output().trim()));
        }

        /** The gid of a group this class made ({@code suffix} as given to {@link #group}). */
        int gidOf(String suffix) {
            return gid(prefix + suffix);
        }

        private static int gid(String name) {
            Result r = run("getent", "group", name);
            if (r.exit() != 0) {
                throw new AssertionError("no group " + name);
            }
            return Integer.parseInt(r.output().trim().split(":")[2]);
        }

        /** An id that is neither a uid nor a gid in the passwd and group databases. */
        static int unusedId() {
            for (int attempt = 0; attempt < 100; attempt++) {
                int id = 40000 + ThreadLocalRandom.current().nextInt(20000);
                if (run("getent", "passwd", Integer.toString(id)).exit() != 0
                        && run("getent", "group", Integer.toString(id)).exit() != 0) {
                    return id;
                }
            }
            throw new AssertionError("no unused uid found");
        }

        @Override
        public void close() {
            for (String user : users) {
                if (run("/usr/sbin/userdel", user).exit() != 0) {
                    run("/usr/sbin/userdel", "-f", user);
                }
            }
            for (String group : groups) {
                run("/usr/sbin/groupdel", group);
            }
        }
    }

    /**
     * Lets other users into a test's workspace (under {@code tmp}): vassals that run as them, and
     * clients run as them, must reach the fixtures, the vassal directory and the control socket.
     */
    static void openUp(Path tmp, Workspace ws) {
        openUp(tmp, ws.root, ws.vassals, ws.fixtures);
        for (String f : Workspace.FIXTURES) {
            chmod(ws.fixture(f), "rw-r--r--");
        }
    }

    /** chmod 755 (the test's temporary directories are 700: other users could not reach the fixtures). */
    static void openUp(Path... dirs) {
        for (Path dir : dirs) {
            chmod(dir, "rwxr-xr-x");
        }
    }

    static void chmod(Path p, String perms) {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        } catch (IOException e) {
            throw new AssertionError("chmod " + p, e);
        }
    }

    /** chown, or {@code chown -h} of a symlink: never follows. */
    static void chown(Path p, int uid, int gid) {
        try {
            Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new AssertionError("chown " + p, e);
        }
    }

    /** A directory owned by {@code uid:gid}, mode 755. */
    static Path ownedDir(Path dir, int uid, int gid) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new AssertionError("mkdir " + dir, e);
        }
        openUp(dir);
        chown(dir, uid, gid);
        return dir;
    }

    /** An empty file owned by {@code uid:gid}, mode 644 (a record a vassal appends to). */
    static Path ownedFile(Path file, int uid, int gid) {
        write(file, "");
        chmod(file, "rw-r--r--");
        chown(file, uid, gid);
        return file;
    }

    /**
     * Puts {@code dir/NAME.ini} with a {@code [vassal]} section of these lines in place with one
     * rename, already owned by {@code uid:gid} with mode {@code perms} ({@code rw-r--r--}).
     */
    static Path vassal(Workspace ws, Path dir, String name, int uid, int gid, String perms, String... lines) {
        StringBuilder text = new StringBuilder("[vassal]\n");
        for (String line : lines) {
            text.append(line).append('\n');
        }
        Path staged = staging(ws).resolve(name + ".ini");
        write(staged, text.toString());
        chmod(staged, perms);
        chown(staged, uid, gid);
        return moveInto(staged, dir.resolve(name + ".ini"));
    }

    /** A plain file (a symlink target) with this content, owner and mode, put in place with one rename. */
    static Path file(Workspace ws, Path path, int uid, int gid, String perms, String content) {
        Path staged = staging(ws).resolve(path.getFileName() + ".staged");
        write(staged, content);
        chmod(staged, perms);
        chown(staged, uid, gid);
        return moveInto(staged, path);
    }

    /** {@code dir/NAME.ini} as a symlink to {@code target}, the link owned by {@code uid:gid}. */
    static Path symlink(Workspace ws, Path dir, String name, Path target, int uid, int gid) {
        Path staged = staging(ws).resolve(name + ".link");
        try {
            Files.deleteIfExists(staged);
            Files.createSymbolicLink(staged, target);
        } catch (IOException e) {
            throw new AssertionError("ln -s " + target + " " + staged, e);
        }
        chown(staged, uid, gid);
        return moveInto(staged, dir.resolve(name + ".ini"));
    }

    private static Path staging(Workspace ws) {
        Path dir = ws.root.resolve("staging");
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new AssertionError("mkdir " + dir, e);
        }
    }

    private static Path moveInto(Path staged, Path target) {
        try {
            return Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new AssertionError("mv " + staged + " " + target, e);
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("cannot write " + file, e);
        }
    }

    /** Every {@code Key: value} line of {@code /proc/PID/status}, the value trimmed. */
    static Map<String, String> status(long pid) {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"), StandardCharsets.ISO_8859_1)) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    m.put(line.substring(0, colon), line.substring(colon + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new AssertionError("no process " + pid, e);
        }
        return m;
    }

    /** {@code "N\tN\tN\tN"}: real, effective, saved and filesystem id, as in the Uid and Gid lines. */
    static String allFour(int id) {
        return id + "\t" + id + "\t" + id + "\t" + id;
    }

    static int uidOf(Path p) {
        try {
            return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new AssertionError("stat " + p, e);
        }
    }

    static int gidOf(Path p) {
        try {
            return (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new AssertionError("stat " + p, e);
        }
    }

    /** Copies the main classes, the jars and the native helper where every user may read them; the class path. */
    static String publish(Path published) throws IOException {
        TyrantSupport.openUp(published);
        Path lib = Files.createDirectories(published.resolve("lib"));
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (Files.isDirectory(p) && p.getFileName().toString().equals("classes")) {
                Path classes = published.resolve("classes");
                copyTree(p, classes);
                entries.add(0, classes.toString());
            } else if (Files.isRegularFile(p) && entry.endsWith(".jar")) {
                Path jar = lib.resolve((n++) + "-" + p.getFileName());
                Files.copy(p, jar);
                entries.add(jar.toString());
            }
        }
        // Next to the classes directory's parent, where HelperLocator looks.
        Path build = Path.of(System.getProperty("emperor.buildDir", "target"));
        for (String name : List.of("emperor-exec", "libemperor-signal.so")) {
            Files.copy(build.resolve(name), published.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
            TyrantSupport.chmod(published.resolve(name), "rwxr-xr-x");
        }
        try (Stream<Path> all = Files.walk(published)) {
            for (Path p : all.toList()) {
                TyrantSupport.chmod(p, Files.isDirectory(p) || p.toString().endsWith("emperor-exec")
                        || p.toString().endsWith(".so") ? "rwxr-xr-x" : "rw-r--r--");
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
