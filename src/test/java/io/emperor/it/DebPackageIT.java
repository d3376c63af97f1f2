package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.it.TyrantSupport.Result;
import io.emperor.it.TyrantSupport.User;
import io.emperor.systemd.Messages;
import io.emperor.systemd.NotifyListener;
import io.emperor.testing.Poll;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Debian package as an admin gets it: {@code dpkg -i} of the .deb that {@code mvn -Pdeb
 * package} left in the build directory (.ci/run builds it before the test run; this test builds
 * nothing), the files, the user and the directories, {@code emperor check} on the shipped
 * examples, {@code systemd-analyze verify} on the installed unit, then the installed emperor
 * started the way emperor.service starts it (its ExecStart, as the emperor user with the unit's
 * capabilities, through setpriv) under a stand-in notify socket; last {@code dpkg --purge}, which
 * must leave nothing behind. Root only (skipped, with the reason, otherwise), and never on a
 * machine where the package or an {@code emperor} user already exists.
 */
class DebPackageIT {
    static final Path BUILD = Path.of(System.getProperty("emperor.buildDir", "target"));
    static final Path UNIT = Path.of("/lib/systemd/system/emperor.service");
    static final Path VASSALS = Path.of("/etc/emperor/vassals");
    static final Path LOG = Path.of("/var/log/emperor/emperor.log");
    /** systemd's RuntimeDirectory=emperor: the control socket's directory. */
    static final Path RUN_DIR = Path.of("/run/emperor");
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String CAPS = "+setuid,+setgid,+kill";
    /** Every path the package or its postinst creates; none may survive a purge. */
    static final List<Path> INSTALLED = List.of(Path.of("/usr/bin/emperor"), Path.of("/usr/share/emperor"),
            Path.of("/usr/lib/emperor"), Path.of("/etc/emperor"), UNIT, Path.of("/etc/logrotate.d/emperor"),
            Path.of("/usr/share/doc/emperor"), Path.of("/var/log/emperor"), Path.of("/var/lib/emperor"), Path.of("/var/cache/emperor"),
            Path.of("/usr/share/man/man8/emperor.8.gz"), Path.of("/usr/share/man/man5/vassal.ini.5.gz"));

    @Test
    void installRunAsTheUnitDoesAndPurge() throws Exception {
        Path deb = preconditions();
        try (TyrantSupport.Accounts accounts = new TyrantSupport.Accounts()) {
            try {
                Result install = TyrantSupport.run("dpkg", "-i", deb.toString());
                assertEquals(0, install.exit(), install.output());
                checkFilesUserAndDirectories();
                checkManPages();
                checkShippedExamples();
                verifyInstalledUnit();
                runLikeTheUnit(accounts.user("dv"));
            } finally {
                purge();
            }
        }
        for (Path p : INSTALLED) {
            assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS), p + " is left after dpkg --purge");
        }
        assertTrue(TyrantSupport.run("getent", "passwd", "emperor").exit() != 0, "user emperor left after purge");
        assertTrue(TyrantSupport.run("getent", "group", "emperor").exit() != 0, "group emperor left after purge");
    }

    /** The .deb to install; skips (saying why) where this test cannot or must not run. */
    static Path preconditions() throws IOException {
        Assumptions.assumeTrue(TyrantSupport.isRoot(), "the package test needs root (dpkg -i, a system user)");
        for (String tool : List.of("/usr/bin/dpkg", "/usr/bin/setpriv", "/usr/sbin/useradd")) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of(tool)), "the package test needs " + tool);
        }
        List<Path> debs;
        try (Stream<Path> s = Files.list(BUILD)) {
            debs = s.filter(p -> p.getFileName().toString().matches("emperor_.*\\.deb")).sorted().toList();
        } catch (java.nio.file.NoSuchFileException e) {
            debs = List.of();
        }
        Assumptions.assumeTrue(debs.size() == 1, "expected one emperor_*.deb in " + BUILD + ", found " + debs
                + ": build it first with mvn -B -Pdeb package -DskipTests (as .ci/run does)");
        Path deb = debs.get(0);
        FileTime newestSource = newest(Path.of("src/main"), Path.of("packaging"), Path.of("systemd"), Path.of("docs"));
        Assumptions.assumeTrue(Files.getLastModifiedTime(deb).compareTo(newestSource) >= 0,
                deb + " is older than the sources: rebuild it with mvn -B -Pdeb package -DskipTests");
        Assumptions.assumeTrue(TyrantSupport.run("dpkg-query", "-W", "emperor").exit() != 0,
                "the emperor package is installed on this machine: not touching it");
        Assumptions.assumeTrue(TyrantSupport.run("getent", "passwd", "emperor").exit() != 0,
                "a user 'emperor' exists on this machine: not touching it");
        return deb;
    }

    static FileTime newest(Path... dirs) throws IOException {
        FileTime max = FileTime.fromMillis(0);
        for (Path d : dirs) {
            try (Stream<Path> s = Files.walk(d)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    FileTime t = Files.getLastModifiedTime(p);
                    max = t.compareTo(max) > 0 ? t : max;
                }
            }
        }
        return max;
    }

    static void checkFilesUserAndDirectories() throws IOException {
        String[] pathsAndModes = {"/usr/bin/emperor", "rwxr-xr-x", "/usr/lib/emperor/emperor-exec", "rwxr-xr-x",
                "/usr/lib/emperor/libemperor-signal.so", "rw-r--r--", "/usr/lib/emperor/libemperor-client.so", "rw-r--r--",
                "/usr/share/emperor/emperor.jar", "rw-r--r--", "/usr/share/emperor/fleet/emperor-fleet.jar", "rw-r--r--",
                "/usr/lib/emperor/emperor-archive", "rwxr-xr-x",
                "/etc/emperor/emperor.ini", "rw-r--r--", "/etc/emperor/vassals/README", "rw-r--r--",
                UNIT.toString(), "rw-r--r--", "/etc/logrotate.d/emperor", "rw-r--r--",
                "/usr/share/doc/emperor/install.md", "rw-r--r--", "/usr/share/doc/emperor/emperor.8.md", "rw-r--r--",
                "/usr/share/man/man8/emperor.8.gz", "rw-r--r--", "/usr/share/man/man5/vassal.ini.5.gz", "rw-r--r--",
                "/usr/share/doc/emperor/examples/logback.xml", "rw-r--r--"};
        for (int i = 0; i < pathsAndModes.length; i += 2) {
            Path p = Path.of(pathsAndModes[i]);
            assertTrue(Files.isRegularFile(p), p + " is installed");
            assertEquals(pathsAndModes[i + 1], PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), "mode of " + p);
            assertEquals(0, (int) Files.getAttribute(p, "unix:uid"), "owner of " + p);
        }
        // postinst built the class-data archives of the JVM the launcher runs (root's, 0644), and jffi's
        // library is shipped (the launcher points jffi at it).
        try (var archives = Files.list(Path.of("/var/cache/emperor"))) {
            List<Path> built = archives.toList();
            assertEquals(2, built.stream().filter(a -> a.toString().matches(".*-(run|client)\\.jsa")).count(),
                    "a run and a client archive: " + built);
            for (Path a : built) {
                assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(a)), "mode of " + a);
                assertEquals(0, (int) Files.getAttribute(a, "unix:uid"), "owner of " + a);
            }
        }
        if (TyrantSupport.run("dpkg", "--print-architecture").output().strip().equals("amd64")) {
            assertTrue(Files.isRegularFile(Path.of("/usr/lib/emperor/jni/x86_64-Linux/libjffi-1.2.so")), "jffi's library is shipped");
        }
        String conffiles = TyrantSupport.run("dpkg-query", "-W", "-f=${Conffiles}", "emperor").output();
        for (String c : List.of("/etc/emperor/emperor.ini", "/etc/emperor/vassals/README", "/etc/logrotate.d/emperor")) {
            assertTrue(conffiles.contains(" " + c + " "), c + " is a conffile: " + conffiles);
        }
        String arch = TyrantSupport.run("dpkg", "--print-architecture").output().strip();
        assertEquals(arch, TyrantSupport.run("dpkg-query", "-W", "-f=${Architecture}", "emperor").output().strip());

        String[] pw = TyrantSupport.run("getent", "passwd", "emperor").output().strip().split(":");
        assertEquals(7, pw.length, String.join(":", pw));
        assertTrue(Integer.parseInt(pw[2]) < 1000, "a system uid: " + pw[2]);
        assertEquals("/usr/sbin/nologin", pw[6]);
        int gid = Integer.parseInt(TyrantSupport.run("getent", "group", "emperor").output().split(":")[2]);
        assertEquals(gid, Integer.parseInt(pw[3]), "the user's group is emperor");
        Path logDir = LOG.getParent();
        assertEquals(Integer.parseInt(pw[2]), (int) Files.getAttribute(logDir, "unix:uid"), "owner of " + logDir);
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(logDir)));
        assertTrue(Files.isDirectory(VASSALS));
        String ini = Files.readString(Path.of("/etc/emperor/emperor.ini"));
        for (String line : List.of("vassals = /etc/emperor/vassals", "tyrant = true", "log = " + LOG)) {
            assertTrue(ini.lines().anyMatch(line::equals), "emperor.ini has: " + line);
        }
    }

    static void checkManPages() {
        if (!Files.isExecutable(Path.of("/usr/bin/man"))) {
            System.out.println("DebPackageIT: man page rendering skipped: /usr/bin/man is not installed");
            return;
        }
        for (String page : List.of("/usr/share/man/man8/emperor.8.gz", "/usr/share/man/man5/vassal.ini.5.gz")) {
            Result r = TyrantSupport.run("/usr/bin/env", "LANG=C.UTF-8", "MANWIDTH=100", "/usr/bin/man", "-l", page);
            assertEquals(0, r.exit(), r.output());
            assertTrue(r.output().contains("SYNOPSIS"), page + ": " + r.output());
        }
    }

    static void checkShippedExamples() throws IOException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/emperor", "check"));
        try (Stream<Path> s = Files.list(Path.of("/usr/share/doc/emperor/examples/vassals"))) {
            s.filter(p -> p.toString().endsWith(".ini")).sorted().forEach(p -> cmd.add(p.toString()));
        }
        assertTrue(cmd.size() > 2, "examples are shipped");
        Result r = TyrantSupport.run(cmd.toArray(String[]::new));
        assertEquals(0, r.exit(), cmd + ": " + r.output());
    }

    static void verifyInstalledUnit() {
        if (!Files.isExecutable(Path.of("/usr/bin/systemd-analyze"))) {
            System.out.println("DebPackageIT: systemd-analyze verify skipped: /usr/bin/systemd-analyze is not installed");
            return;
        }
        Result r = TyrantSupport.run("systemd-analyze", "verify", UNIT.toString());
        assertEquals(0, r.exit(), r.output());
        assertEquals("", r.output().strip(), "no warnings");
    }

    /** The installed unit's ExecStart, split into words (it has no quoting). */
    static List<String> execStart() throws IOException {
        return Files.readAllLines(UNIT).stream().filter(l -> l.startsWith("ExecStart=")).findFirst()
                .map(l -> List.of(l.substring("ExecStart=".length()).strip().split("\\s+"))).orElseThrow();
    }

    void runLikeTheUnit(User owner) throws Exception {
        Path app = vassal("deb-it-app", owner, "[vassal]\nexec = /bin/sleep 1000\nstop-timeout = 5\n");
        // What RuntimeDirectory=emperor gives the unit: /run/emperor, the emperor user's, 0755.
        boolean runDirExisted = Files.isDirectory(RUN_DIR);
        int[] runDirOwner = runDirExisted
                ? new int[] {(int) Files.getAttribute(RUN_DIR, "unix:uid"), (int) Files.getAttribute(RUN_DIR, "unix:gid")}
                : null;
        Files.createDirectories(RUN_DIR);
        TyrantSupport.chmod(RUN_DIR, "rwxr-xr-x");
        TyrantSupport.chown(RUN_DIR, Integer.parseInt(TyrantSupport.run("id", "-u", "emperor").output().strip()),
                Integer.parseInt(TyrantSupport.run("id", "-g", "emperor").output().strip()));
        try (NotifyListener sd = NotifyListener.abstractName()) {
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid", "emperor", "--regid", "emperor",
                    "--init-groups", "--inh-caps", CAPS, "--ambient-caps", CAPS, "--bounding-set", "-all," + CAPS));
            cmd.addAll(execStart());
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(Files.createTempFile("emperor-deb", ".out").toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().clear(); // what systemd passes, more or less
            pb.environment().putAll(Map.of("PATH", "/usr/local/bin:/usr/bin:/bin", "LANG", "C.UTF-8",
                    "NOTIFY_SOCKET", sd.notifySocket(), "WATCHDOG_USEC", "2000000"));
            Process emperor = pb.start();
            Proc vassal = null;
            try {
                sd.await(Messages.READY::equals, WAIT);
                sd.await("STATUS=1 running, 0 backing off, 0 failed"::equals, WAIT);
                Matcher spawned = awaitLog(Pattern.compile(
                        "\\[emperor\\] deb-it-app: spawned pid=(\\d+) uid=(\\d+) gid=(\\d+)$"));
                assertEquals(owner.uid() + "/" + owner.gid(), spawned.group(2) + "/" + spawned.group(3));
                vassal = Procs.read(Long.parseLong(spawned.group(1))).orElseThrow();
                String uids = Procs.status(vassal.pid(), "Uid").orElseThrow();
                assertEquals(List.of(owner.uid() + "", owner.uid() + "", owner.uid() + "", owner.uid() + ""),
                        List.of(uids.strip().split("\\s+")), "the vassal runs as its file's owner");
                assertEquals(emperor.pid(), vassal.ppid(), "a child of the emperor, whose pid is the JVM's");
                assertEquals("emperor", Files.getOwner(Path.of("/proc/" + emperor.pid())).getName());
                assertEquals(Optional.of("00000000000000e0"), Procs.status(emperor.pid(), "CapEff").map(String::strip),
                        "the unit's three capabilities, CAP_KILL CAP_SETGID CAP_SETUID, and no other");
                String environ = Files.readString(Path.of("/proc/" + vassal.pid() + "/environ"));
                assertFalse(environ.contains("NOTIFY_SOCKET=") || environ.contains("WATCHDOG_USEC="),
                        "the emperor's systemd variables do not reach a vassal: " + environ.replace('\0', ' '));
                String maps = Files.readString(Path.of("/proc/" + emperor.pid() + "/maps"));
                assertTrue(maps.contains("/var/cache/emperor/"), "the emperor maps the archive postinst built");
                assertTrue(maps.contains("/usr/lib/emperor/jni/") || !maps.contains("jffi"),
                        "jffi's library from the package, not a copy in a temporary directory");
                assertFalse(Files.readString(LOG).contains("signals not taken over"),
                        "libemperor-signal.so is found next to the helper in /usr/lib/emperor");

                // The packaged client on the default socket: the file's owner sees the vassal (tyrant
                // mode), root too.
                assertEquals(PosixFilePermissions.fromString("rw-rw-rw-"), Files.getPosixFilePermissions(RUN_DIR.resolve("control.sock")),
                        "the control socket is 0666; requests are checked with SO_PEERCRED");
                Result mine = TyrantSupport.run("/usr/bin/setpriv", "--reuid", owner.uid() + "", "--regid", owner.gid() + "",
                        "--init-groups", "/usr/bin/emperor", "status", "--json");
                assertEquals(0, mine.exit(), mine.output());
                assertTrue(mine.output().contains("\"name\":\"deb-it-app\",\"state\":\"running\""), mine.output());
                Result all = TyrantSupport.run("/usr/bin/emperor", "status");
                assertEquals(0, all.exit(), all.output());
                assertTrue(all.output().matches("(?s).*\ndeb-it-app +running +" + vassal.pid() + " .*"), all.output());
                // The packaged client connects through the package's libemperor-client.so, not the
                // JDK's SocketChannel, its classes from the archive postinst built.
                Result traced = TyrantSupport.run("/usr/bin/env", "EMPEROR_JAVA_OPTS=-verbose:class", "/usr/bin/emperor", "status");
                assertEquals(0, traced.exit(), traced.output());
                assertTrue(traced.output().contains("io.emperor.control.NativeClientSocket source: shared objects file"),
                        traced.output());
                assertFalse(traced.output().contains("sun.nio.ch.UnixDomainSockets"), traced.output());

                Path bad = vassal("deb-it-bad", owner, "[vassal]\nexec = '/bin/true\n");
                sd.await("STATUS=1 running, 0 backing off, 1 failed"::equals, WAIT);
                Files.delete(bad);
                sd.await("STATUS=1 running, 0 backing off, 0 failed"::equals, WAIT);

                // logrotate renames the log and creates a new one; its postrotate (systemctl kill
                // -s HUP, only under systemd) is played by the test: the emperor reopens in place.
                boolean rotated = rotateLog();
                Procs.kill(emperor.pid(), "HUP");
                String reloading = sd.await(m -> m.startsWith("RELOADING=1"), WAIT);
                assertTrue(reloading.matches("RELOADING=1\nMONOTONIC_USEC=\\d+"), reloading);
                sd.await(Messages.READY::equals, WAIT);
                assertTrue(vassal.isAlive(), "SIGHUP leaves an unchanged vassal alone");

                Procs.kill(emperor.pid(), "TERM");
                sd.await(Messages.STOPPING::equals, WAIT);
                assertTrue(emperor.waitFor(30, TimeUnit.SECONDS), "the emperor exits after SIGTERM");
                assertEquals(0, emperor.exitValue(), "a clean exit");
                Proc v = vassal;
                Poll.until("the vassal to be gone", WAIT, () -> !v.isAlive());
                assertTrue(sd.received().contains(Messages.WATCHDOG), "WATCHDOG_USEC set: pings came " + sd.received());
                System.out.println("DebPackageIT: notifications " + sd.received().stream().map(m -> m.replace('\n', ' ')).toList());
                if (rotated) {
                    assertTrue(Files.readString(LOG.resolveSibling("emperor.log.1")).contains("deb-it-app: spawned"));
                    assertTrue(Files.readString(LOG).contains("[emperor] stopping 1 vassal(s) (SIGTERM)"),
                            "after SIGHUP the emperor writes to the new log file: " + Files.readString(LOG));
                }
            } finally {
                if (emperor.isAlive()) {
                    emperor.destroyForcibly();
                    emperor.waitFor(10, TimeUnit.SECONDS);
                }
                if (vassal != null && vassal.isAlive()) {
                    Procs.killAll(List.of(vassal));
                }
                Files.deleteIfExists(app);
            }
        } finally {
            if (runDirExisted) {
                TyrantSupport.chown(RUN_DIR, runDirOwner[0], runDirOwner[1]);
            } else {
                Files.deleteIfExists(RUN_DIR.resolve("control.sock"));
                Files.deleteIfExists(RUN_DIR);
            }
        }
    }

    /** {@code logrotate -f} with the installed config; false (said on stdout) without logrotate. */
    static boolean rotateLog() throws IOException {
        if (!Files.isExecutable(Path.of("/usr/sbin/logrotate"))) {
            System.out.println("DebPackageIT: log rotation skipped: /usr/sbin/logrotate is not installed");
            return false;
        }
        Path state = Files.createTempFile("logrotate", ".state");
        try {
            Result debug = TyrantSupport.run("/usr/sbin/logrotate", "-d", "-s", state.toString(), "/etc/logrotate.d/emperor");
            assertEquals(0, debug.exit(), debug.output());
            assertFalse(debug.output().contains("error"), debug.output());
            Result r = TyrantSupport.run("/usr/sbin/logrotate", "-f", "-s", state.toString(), "/etc/logrotate.d/emperor");
            assertEquals(0, r.exit(), r.output());
        } finally {
            Files.deleteIfExists(state);
        }
        assertTrue(Files.exists(LOG.resolveSibling("emperor.log.1")), "rotated");
        assertEquals("emperor", Files.getOwner(LOG).getName(), "the new log belongs to the emperor user");
        return true;
    }

    /** Puts /etc/emperor/vassals/NAME.ini in place with one rename, already owned by {@code owner}. */
    static Path vassal(String name, User owner, String text) throws IOException {
        Path staged = VASSALS.resolve("." + name + ".staged"); // a dotfile: ignored by the emperor
        Files.writeString(staged, text);
        Files.setPosixFilePermissions(staged, PosixFilePermissions.fromString("rw-r--r--"));
        TyrantSupport.chown(staged, owner.uid(), owner.gid());
        return Files.move(staged, VASSALS.resolve(name + ".ini"), StandardCopyOption.ATOMIC_MOVE);
    }

    static Matcher awaitLog(Pattern p) {
        return Poll.until("a log line matching " + p, WAIT, () -> {
            try {
                for (String line : Files.exists(LOG) ? Files.readAllLines(LOG) : List.<String>of()) {
                    Matcher m = p.matcher(line);
                    if (m.find()) {
                        return Optional.of(m);
                    }
                }
                return Optional.empty();
            } catch (IOException e) {
                throw new AssertionError("cannot read " + LOG, e);
            }
        }, () -> {
            try {
                return Files.exists(LOG) ? Files.readString(LOG) : "(no " + LOG + ")";
            } catch (IOException e) {
                return e.toString();
            }
        });
    }

    /** dpkg --purge, after taking away any vassal file this test left (an admin's files would stay). */
    static void purge() throws IOException {
        if (Files.isDirectory(VASSALS)) {
            try (Stream<Path> s = Files.list(VASSALS)) {
                for (Path p : s.filter(p -> p.getFileName().toString().contains("deb-it-")).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        Result r = TyrantSupport.run("dpkg", "--purge", "emperor");
        assertEquals(0, r.exit(), r.output());
    }
}
