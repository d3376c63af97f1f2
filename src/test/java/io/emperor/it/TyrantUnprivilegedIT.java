package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.q;
import static io.emperor.it.TyrantSupport.NO_CAPS;
import static io.emperor.it.TyrantSupport.allFour;
import static io.emperor.it.TyrantSupport.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.it.TyrantSupport.User;
import io.emperor.testing.Poll;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tyrant mode without root: the emperor runs as an ordinary user that holds only the ambient
 * capabilities CAP_SETUID, CAP_SETGID and CAP_KILL (what {@code AmbientCapabilities=} in
 * emperor.service grants), started here through util-linux {@code setpriv}. Without them it
 * refuses to start and names what is missing.
 *
 * <p>That user cannot read the build tree's dependencies (under /root), so the class copies the
 * emperor's classes, jars and native helper to a world-readable directory first.
 */
class TyrantUnprivilegedIT extends UsersItSupport {
    private static final String CAPS = "+setuid,+setgid,+kill";

    @TempDir
    static Path published;

    /** The emperor's own user. */
    private static User emperorUser;
    private static User alice;
    private static User bob;
    private static String classPath;

    @BeforeAll
    static void setUp() throws IOException {
        assumeSetpriv();
        emperorUser = accounts.user("e");
        alice = accounts.user("a");
        bob = accounts.user("b");
        classPath = TyrantSupport.publish(published);
    }


    /** {@code setpriv} as the emperor's user with these ambient (and inheritable) capabilities, or none. */
    private static List<String> command(Optional<String> caps, String... runArgs) {
        List<String> cmd = new ArrayList<>(List.of(SETPRIV.toString(),
                "--reuid", Integer.toString(emperorUser.uid()), "--regid", Integer.toString(emperorUser.gid()),
                "--clear-groups"));
        caps.ifPresent(c -> cmd.addAll(List.of("--inh-caps", c, "--ambient-caps", c)));
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classPath, "io.emperor.cli.Main", "run"));
        cmd.addAll(List.of(runArgs));
        return cmd;
    }

    @Test
    void withOnlyThreeAmbientCapabilitiesItSpawnsReloadsAndStopsVassalsOfTwoUsers() throws IOException {
        Path log = TyrantSupport.ownedFile(ws.root.resolve("emperor.log"), emperorUser.uid(), emperorUser.gid());
        Path aliceHups = TyrantSupport.ownedFile(ws.root.resolve("alice.hups"), alice.uid(), alice.gid());
        Path bobHups = TyrantSupport.ownedFile(ws.root.resolve("bob.hups"), bob.uid(), bob.gid());
        Path bobsDir = TyrantSupport.ownedDir(ws.root.resolve("bob"), bob.uid(), bob.gid());
        Path pids = bobsDir.resolve("pids");
        try (Emperor emp = new Emperor(ws, command(Optional.of(CAPS), "--tyrant", "--vassals", ws.vassals.toString(),
                "--log", log.toString()), log)) {
            Map<String, String> self = status(emp.pid());
            assertEquals(allFour(emperorUser.uid()), self.get("Uid"), "the emperor is not root: " + self);
            assertEquals("00000000000000e0", self.get("CapEff"), "CAP_KILL, CAP_SETGID, CAP_SETUID only");

            int from = emp.mark();
            Path a = TyrantSupport.vassal(ws, ws.vassals, "a", alice.uid(), alice.gid(), "rw-r--r--",
                    "exec = " + ws.exec("trap-hup.sh", aliceHups.toString()), "stop-timeout = 5");
            Path b = TyrantSupport.vassal(ws, ws.vassals, "b", bob.uid(), bob.gid(), "rw-r--r--",
                    "exec = " + ws.exec("trap-hup.sh", bobHups.toString()), "stop-timeout = 5");
            Path c = TyrantSupport.vassal(ws, ws.vassals, "c", bob.uid(), bob.gid(), "rw-r--r--",
                    "exec = " + ws.exec("ignores-term.sh", pids.toString()), "stop-timeout = 1");
            Proc pa = emp.awaitRunning(from, "a", alice);
            Proc pb = emp.awaitRunning(from, "b", bob);
            Proc pc = emp.awaitRunning(from, "c", bob);
            // A file with the emperor's group (a setgid directory's, a chgrp) would run its vassal
            // with the group that may control every vassal: refused, with how to fix it.
            Path d = TyrantSupport.vassal(ws, ws.vassals, "d", alice.uid(), emperorUser.gid(), "rw-r--r--",
                    "exec = " + ws.exec("sleeps.sh"));
            emp.awaitLogFrom(from, lifecycle("d", q("refused: " + d + ": group is the emperor's group ")
                    + "\\S+ " + q("(gid " + emperorUser.gid() + "), which may control every vassal: chgrp it to the"
                    + " user's own group")));
            for (Proc p : List.of(pa, pb, pc)) {
                Map<String, String> s = status(p.pid());
                for (String caps : List.of("CapInh", "CapPrm", "CapEff", "CapAmb")) {
                    assertEquals(NO_CAPS, s.get(caps), caps + " of " + p + ": " + s);
                }
                assertEquals("1", s.get("NoNewPrivs"));
                assertEquals(emp.pid(), p.ppid(), "a child of the emperor: " + p);
            }

            // Reload: a signal to processes of two other users (CAP_KILL).
            for (int n = 1; n <= 2; n++) {
                emp.mark();
                Workspace.touch(a);
                Workspace.touch(b);
                emp.awaitLog(lifecycle("a", q("reloading signal=HUP pid=" + pa.pid()) + "$"));
                emp.awaitLog(lifecycle("b", q("reloading signal=HUP pid=" + pb.pid()) + "$"));
                assertEquals("hup " + pa.pid(), awaitLines(aliceHups, n).get(n - 1));
                assertEquals("hup " + pb.pid(), awaitLines(bobHups, n).get(n - 1));
            }
            assertTrue(pa.isAlive() && pb.isAlive(), "reloaded in place");

            // Stop: a vassal that ignores TERM, and its child, go with SIGKILL to the process group.
            List<String> parentAndChild = awaitLines(pids, 1);
            Proc child = Procs.read(Long.parseLong(parentAndChild.get(0).split(" ")[1])).orElseThrow();
            emp.mark();
            Workspace.delete(c);
            emp.awaitLog(lifecycle("c", q("stop-timeout 1s passed: SIGKILL to process group " + pc.pid())));
            emp.awaitLog(lifecycle("c", q("stopped signal=KILL")));
            awaitGone(pc, WAIT);
            awaitGone(child, WAIT);

            emp.mark();
            Workspace.delete(b);
            emp.awaitLog(lifecycle("b", "stopped status=0 "));
            awaitGone(pb, WAIT);

            emp.signal("TERM");
            assertEquals(0, emp.awaitExit(Duration.ofSeconds(30)), emp::diagnostics);
            awaitGone(pa, WAIT);
        }
    }

    @Test
    void withoutTheCapabilitiesItRefusesToStartAndNamesThem() throws Exception {
        TyrantSupport.vassal(ws, ws.vassals, "a", alice.uid(), alice.gid(), "rw-r--r--", "exec = " + ws.exec("sleeps.sh"));
        Result none = runToExit(command(Optional.empty(), "--tyrant", "--vassals", ws.vassals.toString()));
        assertEquals(1, none.exit(), none::toString);
        assertTrue(none.stderr().contains("tyrant mode needs the capabilities CAP_SETUID CAP_SETGID CAP_KILL (effective);"
                + " missing: CAP_SETUID CAP_SETGID CAP_KILL\n"), none::toString);
        assertTrue(none.stderr().contains("    AmbientCapabilities=CAP_SETUID CAP_SETGID CAP_KILL\n"), none::toString);
        assertTrue(none.stderr().contains("    CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL\n"), none::toString);

        Result killOnly = runToExit(command(Optional.of("+kill"), "--tyrant", "--vassals", ws.vassals.toString()));
        assertEquals(1, killOnly.exit(), killOnly::toString);
        assertTrue(killOnly.stderr().contains("; missing: CAP_SETUID CAP_SETGID\n"), killOnly::toString);
        assertEquals(List.of(), Procs.withMarker(ws.marker), "nothing was started");
    }

    @Test
    void aPreloadedLibraryNeverRunsWithTheEmperorsCapabilities() throws Exception {
        PreloadProbe probe = PreloadProbe.build(ws.root.resolve("probe"));
        Path log = TyrantSupport.ownedFile(ws.root.resolve("emperor.log"), emperorUser.uid(), emperorUser.gid());
        try (Emperor emp = new Emperor(ws, command(Optional.of(CAPS), "--tyrant", "--vassals", ws.vassals.toString(),
                "--log", log.toString()), log)) {
            int from = emp.mark();
            List<String> lines = new ArrayList<>(List.of("exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2"));
            lines.addAll(List.of(probe.envLines()));
            TyrantSupport.vassal(ws, ws.vassals, "preload", alice.uid(), alice.gid(), "rw-r--r--",
                    lines.toArray(String[]::new));
            Proc p = emp.awaitRunning(from, "preload", alice);
            probe.assertOnlyEverRanAs(p.pid(), alice.uid());
        }
    }

    @Test
    void withoutTyrantModeNoVassalGetsTheEmperorsAmbientCapabilities() throws Exception {
        PreloadProbe probe = PreloadProbe.build(ws.root.resolve("probe"));
        Path log = TyrantSupport.ownedFile(ws.root.resolve("emperor.log"), emperorUser.uid(), emperorUser.gid());
        try (Emperor emp = new Emperor(ws, command(Optional.of(CAPS), "--vassals", ws.vassals.toString(),
                "--log", log.toString()), log)) {
            assertEquals("00000000000000e0", status(emp.pid()).get("CapAmb"), "the shipped unit's emperor");
            int from = emp.mark();
            List<String> lines = new ArrayList<>(List.of("exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2"));
            lines.addAll(List.of(probe.envLines()));
            TyrantSupport.vassal(ws, ws.vassals, "plain", emperorUser.uid(), emperorUser.gid(), "rw-r--r--",
                    lines.toArray(String[]::new));
            Proc p = emp.awaitRunning(from, "plain", emperorUser);
            Map<String, String> s = status(p.pid());
            for (String caps : List.of("CapInh", "CapPrm", "CapEff", "CapAmb")) {
                assertEquals(NO_CAPS, s.get(caps), caps + " of " + p + ": " + s);
            }
            // Nor does a library the file preloads get them in the helper.
            probe.assertOnlyEverRanAs(p.pid(), emperorUser.uid());
        }
    }

    record Result(int exit, String stderr) {}

    private Result runToExit(List<String> cmd) throws IOException, InterruptedException {
        Path err = Files.createTempFile(ws.root, "err", ".txt");
        Process p = new ProcessBuilder(cmd).directory(ws.root.toFile()).redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not exit within 60 s: " + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(err));
    }

    /**
     * An emperor started with a command of the test's choosing (setpriv in front), followed
     * through its log file. {@link #close()} stops it with SIGTERM and kills whatever carries the
     * workspace's marker; it fails when a clean stop left a vassal behind or the log reports a bug.
     */
    private static final class Emperor implements AutoCloseable {
        private final Workspace ws;
        private final Process process;
        private final Path out;
        private final LogTail tail;
        private int mark;

        Emperor(Workspace ws, List<String> cmd, Path log) throws IOException {
            this.ws = ws;
            this.out = ws.root.resolve("emperor.out");
            this.tail = new LogTail(log);
            this.process = new ProcessBuilder(cmd).directory(ws.root.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            try {
                // setpriv execs java: the pid is the emperor's.
                awaitLog(Lines.emperor("started version=\\S+ pid=" + process.pid() + " "));
                awaitLog(Lines.emperor("ready: \\d+ vassal\\(s\\)"));
            } catch (AssertionError e) {
                close();
                throw e;
            }
        }

        long pid() {
            return process.pid();
        }

        int mark() {
            mark = tail.lines().size();
            return mark;
        }

        LogLine awaitLog(Pattern p) {
            return awaitLogFrom(mark, p);
        }

        LogLine awaitLogFrom(int from, Pattern p) {
            return Poll.until("a log line matching /" + p + "/", WAIT, () -> {
                List<String> lines = tail.lines();
                for (int i = from; i < lines.size(); i++) {
                    Matcher m = p.matcher(lines.get(i));
                    if (m.find()) {
                        return Optional.of(new LogLine(i, lines.get(i), m));
                    }
                }
                return Optional.empty();
            }, this::diagnostics);
        }

        /** Waits for NAME's spawned line with the user's uid and gid, and for the program to say it runs. */
        Proc awaitRunning(int from, String name, User user) {
            LogLine spawned = awaitLogFrom(from, lifecycle(name, "spawned pid=(\\d+) uid=" + user.uid()
                    + " gid=" + user.gid() + "$"));
            long pid = spawned.longGroup(1);
            awaitLogFrom(from, output(name, "\\S+ (running|ready) pid=" + pid + "( |$)"));
            Proc p = Procs.read(pid).orElseThrow(() -> new AssertionError("no process " + pid + "\n" + diagnostics()));
            assertEquals(allFour(user.uid()), status(pid).get("Uid"), "Uid of " + name);
            return p;
        }

        void signal(String sig) {
            Procs.kill(process.pid(), sig);
        }

        int awaitExit(Duration timeout) {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AssertionError("the emperor did not exit\n" + diagnostics());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
            return process.exitValue();
        }

        String diagnostics() {
            List<String> lines = tail.lines();
            return "emperor " + (process.isAlive() ? "running" : "exited " + process.exitValue()) + "; log:\n  | "
                    + String.join("\n  | ", lines.subList(Math.max(0, lines.size() - 40), lines.size()))
                    + "\nstdout/stderr:\n" + Workspace.read(out);
        }

        @Override
        public void close() {
            List<String> problems = new ArrayList<>();
            boolean clean = !process.isAlive() && process.exitValue() == 0;
            if (process.isAlive()) {
                signal("TERM");
                try {
                    clean = process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (!clean) {
                    problems.add("the emperor did not stop cleanly within 30 s of SIGTERM");
                    process.destroyForcibly();
                }
            }
            List<Proc> left = Procs.withMarker(ws.marker);
            if (clean && !left.isEmpty()) {
                problems.add("processes left behind by a clean shutdown:\n" + Procs.describe(left));
            }
            Procs.killAll(left);
            for (String line : tail.lines()) {
                if (line.contains("[emperor] bug:") || line.contains("impossible event")) {
                    problems.add("the log reports a bug: " + line);
                }
            }
            if (!problems.isEmpty()) {
                throw new AssertionError(String.join("\n", problems) + "\n" + diagnostics());
            }
        }
    }
}
