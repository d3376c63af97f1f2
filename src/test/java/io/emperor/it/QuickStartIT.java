package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.TyrantSupport.User;
import io.emperor.testing.Poll;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's quick start ({@code java -jar target/emperor.jar run --config etc/emperor.ini},
 * here with the same classes on a class path every user can read) run by two ordinary users at
 * once, from one copy of the repository's {@code etc/}: both emperors come up, each with its own
 * control socket and its own {@code logto} file, each vassal as its user, and each user's
 * {@code status} reaches their own emperor (issue 12 item 5).
 */
class QuickStartIT extends UsersItSupport {
    @TempDir
    static Path published;

    private static User alice;
    private static User bob;
    private static String classPath;

    @BeforeAll
    static void setUp() throws IOException {
        assumeSetpriv();
        alice = accounts.user("qa");
        bob = accounts.user("qb");
        classPath = TyrantSupport.publish(published);
    }

    /** The repository's etc/ (emperor.ini and the demo vassals), as a checkout every user may read. */
    private Path checkout() throws IOException {
        Path etc = ws.root.resolve("checkout/etc");
        Path source = Path.of("etc");
        try (Stream<Path> all = Files.walk(source)) {
            for (Path p : all.toList()) {
                Path to = etc.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        try (Stream<Path> all = Files.walk(etc.getParent())) {
            for (Path p : all.toList()) {
                TyrantSupport.chmod(p, Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--");
            }
        }
        return etc.getParent();
    }

    /** A home of {@code user}'s own (useradd -M made none), mode 0700. */
    private Path home(User user) throws IOException {
        Path home = Files.createDirectories(ws.root.resolve("home-" + user.name()));
        TyrantSupport.chown(home, user.uid(), user.gid());
        TyrantSupport.chmod(home, "rwx------");
        return home;
    }

    /** {@code emperor ARGS} as {@code user} in {@code dir}, with a login's environment, output to {@code out}. */
    private Process as(User user, Path home, Path dir, Path out, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(SETPRIV.toString(), "--reuid", Integer.toString(user.uid()),
                "--regid", Integer.toString(user.gid()), "--init-groups", "/usr/bin/env", "-i", "HOME=" + home,
                "USER=" + user.name(), "LOGNAME=" + user.name(), "PATH=/usr/local/bin:/usr/bin:/bin",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", classPath, "io.emperor.cli.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    private static int pidIn(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), () -> regex + " in: " + text);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void twoUsersRunTheQuickStartSideBySide() throws Exception {
        Path checkout = checkout();
        Path homeA = home(alice);
        Path homeB = home(bob);
        Path outA = ws.root.resolve("alice.out");
        Path outB = ws.root.resolve("bob.out");
        Process a = as(alice, homeA, checkout, outA, "run", "--config", "etc/emperor.ini");
        Process b = as(bob, homeB, checkout, outB, "run", "--config", "etc/emperor.ini");
        try {
            for (Path out : List.of(outA, outB)) {
                Poll.until(out.getFileName() + ": ready with the four demo vassals", Poll.WAIT,
                        () -> Workspace.read(out).contains("ready: 4 vassal(s)"), () -> Workspace.read(out));
                // ZEO before Plone: each user's plone starts once that user's zeo stand-in is ready.
                Poll.until(out.getFileName() + ": plone after zeo", Poll.WAIT,
                        () -> Workspace.read(out).contains("plone: spawned pid="), () -> Workspace.read(out));
            }
            for (Object[] run : new Object[][] {{alice, homeA, outA}, {bob, homeB, outB}}) {
                User user = (User) run[0];
                Path home = (Path) run[1];
                Path out = (Path) run[2];
                String log = Workspace.read(out);
                assertTrue(log.contains("control socket " + home.resolve(".emperor-demo/control.sock")),
                        () -> user.name() + "'s own control socket: " + log);
                int zeoReady = log.indexOf("zeo: ready (unix:" + home.resolve(".emperor-demo/zeo.sock") + " accepts)");
                assertTrue(zeoReady >= 0 && zeoReady < log.indexOf("plone: spawned pid=")
                        && log.contains("plone: waiting for zeo ("), () -> user.name() + "'s plone after its zeo: " + log);
                assertTrue(log.contains("clock: spawned pid=") && log.contains("uid=" + user.uid() + " gid=" + user.gid()),
                        () -> user.name() + "'s clock runs as " + user.name() + ": " + log);
                for (String bad : List.of("spawn failed", "refused", "no control socket", "another emperor", "ERROR")) {
                    assertTrue(!log.contains(bad), () -> user.name() + "'s log has '" + bad + "': " + log);
                }
                Path ticker = home.resolve("emperor-demo-ticker-logto.log");
                Poll.until(user.name() + "'s ticker writes its own file", Poll.WAIT,
                        () -> Files.exists(ticker) && Workspace.read(ticker).contains("tick from ticker-logto"));
                assertEquals(user.uid(), TyrantSupport.uidOf(ticker), "the logto file is " + user.name() + "'s");

                // status, as the README says, reaches this user's emperor: the clock's pid is the one it spawned.
                Path statusOut = ws.root.resolve("status-" + user.name() + ".out");
                Process s = as(user, home, checkout, statusOut, "status", "--config", "etc/emperor.ini");
                assertTrue(s.waitFor(60, TimeUnit.SECONDS), "status finished");
                String status = Workspace.read(statusOut);
                assertEquals(0, s.exitValue(), () -> user.name() + "'s status: " + status);
                int clock = pidIn(log, "clock: spawned pid=(\\d+)");
                assertTrue(status.lines().anyMatch(l -> l.matches("clock\\s+running\\s+" + clock + "\\s.*")),
                        () -> user.name() + "'s status shows their clock, pid " + clock + ": " + status);
            }
            assertNotEquals(pidIn(Workspace.read(outA), "clock: spawned pid=(\\d+)"),
                    pidIn(Workspace.read(outB), "clock: spawned pid=(\\d+)"));
        } finally {
            for (Process p : List.of(a, b)) {
                p.destroy(); // SIGTERM to the emperor itself (setpriv and env exec it), as Ctrl-C would
            }
            for (Process p : List.of(a, b)) {
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
        assertEquals(0, a.exitValue(), () -> Workspace.read(outA));
        assertEquals(0, b.exitValue(), () -> Workspace.read(outB));
    }

    /**
     * An emperor run by a user who may not create the socket's directory says, in one line, the
     * path, the system's reason and the fix: a configured {@code control} stops the start, the
     * default one is logged and the emperor runs on.
     */
    @Test
    void anEmperorThatCannotCreateItsControlSocketSaysHowToFixIt() throws Exception {
        Path locked = Files.createDirectories(ws.root.resolve("locked")); // root's, mode 0755
        TyrantSupport.chmod(locked, "rwxr-xr-x");
        Path dir = locked.resolve("run");
        Path socket = dir.resolve("control.sock");
        Path home = home(alice);
        Path out = ws.root.resolve("configured.out");
        Process p = as(alice, home, ws.root, out, "run", "--vassals", ws.vassals.toString(), "--control", socket.toString());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "a configured socket that cannot be made stops the start");
        String text = Workspace.read(out);
        assertEquals(1, p.exitValue(), text);
        assertTrue(text.contains("emperor: control = " + socket + ": cannot create the control socket " + socket + ": "
                + dir + ": Permission denied; fix: create " + dir + " owned by " + alice.name() + " (sudo install -d -o "
                + alice.name() + " -g " + alice.name() + " " + dir), () -> "path, reason, fix: " + text);

        Path defaultOut = ws.root.resolve("default.out");
        Process d = as(alice, home, ws.root, defaultOut, "run", "--vassals", ws.vassals.toString());
        try {
            Poll.until("the emperor without its default socket is ready", Poll.WAIT,
                    () -> Workspace.read(defaultOut).contains("ready: 0 vassal(s)"), () -> Workspace.read(defaultOut));
            String log = Workspace.read(defaultOut);
            assertTrue(log.lines().anyMatch(l -> l.contains("no control socket: cannot create the control socket "
                    + "/run/emperor/control.sock: ") && l.contains("; fix: ") && l.contains(alice.name())),
                    () -> "the default socket's line names the path, the reason and the fix: " + log);
        } finally {
            d.destroy();
            if (!d.waitFor(60, TimeUnit.SECONDS)) {
                d.destroyForcibly();
            }
        }
    }
}
