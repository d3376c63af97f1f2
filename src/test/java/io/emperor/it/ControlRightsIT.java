package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.control.Json;
import io.emperor.it.EmperorProcess.CliResult;
import io.emperor.it.Procs.Proc;
import io.emperor.it.TyrantSupport.User;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may do what on the control socket (docs/control.md), with three real users: root sees and
 * acts on every vassal; in tyrant mode the owner of a vassal file sees and acts on that vassal
 * only; another user neither sees nor touches it; outside tyrant mode an ordinary user is refused.
 * The CLI runs as each user through util-linux {@code setpriv}, as a user would run it.
 */
class ControlRightsIT extends UsersItSupport {

    @TempDir
    static Path published;

    private static User alice;
    private static User bob;
    /** A supplementary member of group root, the group of the emperor these tests start. */
    private static User groupMember;
    private static String classPath;

    @BeforeAll
    static void setUp() throws IOException {
        assumeSetpriv();
        alice = accounts.user("a");
        bob = accounts.user("b");
        groupMember = accounts.user("g");
        TyrantSupport.Result added = TyrantSupport.run("/usr/sbin/usermod", "-aG", "root", groupMember.name());
        assertEquals(0, added.exit(), added.output());
        classPath = TyrantSupport.publish(published);
    }


    /** {@code emperor ARGS --socket WS/control.sock} as {@code user} (null: root). */
    private CliResult as(User user, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(ws.root, "out", ".txt");
        Path err = Files.createTempFile(ws.root, "err", ".txt");
        Process p = startAs(user, out, err, args);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(List.of(args) + " did not finish");
        }
        return new CliResult(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** The same, started: its stdout and stderr go to {@code out} and {@code err}. */
    private Process startAs(User user, Path out, Path err, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (user != null) {
            cmd.addAll(List.of(SETPRIV.toString(), "--reuid", Integer.toString(user.uid()), "--regid",
                    Integer.toString(user.gid()), "--init-groups"));
        }
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classPath, "io.emperor.cli.Main"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--socket", ws.root.resolve("control.sock").toString()));
        return new ProcessBuilder(cmd).directory(ws.root.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    /**
     * alice's {@code app.ini} replaced by bob's: alice's {@code logs -f} ends with a reason and
     * never shows bob's lines; bob's {@code logs} never shows alice's (the tail is dropped when
     * the name changes owner).
     */
    @Test
    void aNamePassedToAnotherOwnerEndsTheOldOwnersFollowerAndDropsTheTail() throws Exception {
        try (EmperorProcess emp = EmperorProcess.start(ws, "--tyrant", "--vassals", ws.vassals.toString())) {
            int from = emp.mark();
            TyrantSupport.vassal(ws, ws.vassals, "app", alice.uid(), alice.gid(), "rw-r--r--",
                    "exec = " + ws.exec("sleeps.sh", "alice-secret"), "stop-timeout = 5");
            awaitRunning(emp, from, "app");
            emp.awaitLog(Lines.output("app", ".*alice-secret"));
            Path out = ws.root.resolve("follow.out");
            Path err = ws.root.resolve("follow.err");
            Process follower = startAs(alice, out, err, "logs", "-f", "app");
            try {
                io.emperor.testing.Poll.until("alice's follower shows her line", java.time.Duration.ofSeconds(30),
                        () -> Workspace.read(out).contains("alice-secret"));

                from = emp.mark();
                TyrantSupport.vassal(ws, ws.vassals, "app", bob.uid(), bob.gid(), "rw-r--r--",
                        "exec = " + ws.exec("sleeps.sh", "bob-secret"), "stop-timeout = 5");
                emp.awaitLog(Lines.lifecycle("app", "spawned pid=\\d+ uid=" + bob.uid() + " "));
                emp.awaitLog(Lines.output("app", ".*bob-secret"));

                assertTrue(follower.waitFor(30, TimeUnit.SECONDS), "alice's follower ended");
                assertEquals(4, follower.exitValue(), Workspace.read(err));
                assertEquals("emperor: no such vassal: app (its file now belongs to another owner)\n",
                        Workspace.read(err));
                assertFalse(Workspace.read(out).contains("bob-secret"), Workspace.read(out));
            } finally {
                follower.destroyForcibly();
            }
            CliResult bobs = as(bob, "logs", "-n", "200", "app");
            assertEquals(0, bobs.exitCode(), bobs.stderr());
            assertTrue(bobs.stdout().contains("bob-secret"), bobs.stdout());
            assertFalse(bobs.stdout().contains("alice-secret"), "alice's lines are gone: " + bobs.stdout());
            CliResult alices = as(alice, "logs", "app");
            assertEquals(4, alices.exitCode(), alices.stderr());
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> names(CliResult status) throws Json.ParseException {
        assertEquals(0, status.exitCode(), status.stderr());
        List<String> names = new ArrayList<>();
        for (Object v : (List<Object>) Json.parseObject(status.stdout().strip()).get("vassals")) {
            names.add((String) ((Map<String, Object>) v).get("name"));
        }
        return names;
    }

    @Test
    void inTyrantModeEachUserSeesAndActsOnTheirOwnVassalsOnly() throws Exception {
        try (EmperorProcess emp = EmperorProcess.start(ws, "--tyrant", "--vassals", ws.vassals.toString())) {
            int from = emp.mark();
            TyrantSupport.vassal(ws, ws.vassals, "a", alice.uid(), alice.gid(), "rw-r--r--",
                    "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 5");
            TyrantSupport.vassal(ws, ws.vassals, "b", bob.uid(), bob.gid(), "rw-r--r--",
                    "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 5");
            Proc a = awaitRunning(emp, from, "a");
            Proc b = awaitRunning(emp, from, "b");

            assertEquals(List.of("a", "b"), names(as(null, "status", "--json")), "root sees all");
            assertEquals(List.of("a"), names(as(alice, "status", "--json")), "alice sees hers");
            assertEquals(List.of("b"), names(as(bob, "status", "--json")), "bob sees his");

            // Another user's vassal does not exist for alice: same answer as a name nobody has.
            CliResult stopB = as(alice, "stop", "b");
            assertEquals(4, stopB.exitCode(), stopB.stderr());
            assertEquals("b: failed: no such vassal\n", stopB.stderr());
            assertTrue(b.isAlive(), "bob's vassal untouched");
            CliResult logsB = as(alice, "logs", "b");
            assertEquals(4, logsB.exitCode(), logsB.stderr());

            CliResult stopA = as(alice, "stop", "a");
            assertEquals(0, stopA.exitCode(), stopA.stderr());
            assertEquals("a: stopped\n", stopA.stdout());
            assertFalse(a.isAlive());
            from = emp.mark();
            CliResult startA = as(alice, "start", "a");
            assertEquals(0, startA.exitCode(), startA.stderr());
            Proc again = awaitRunning(emp, from, "a");
            assertEquals("a: running pid=" + again.pid() + "\n", startA.stdout());

            // Root may act on anyone's vassal.
            CliResult restartB = as(null, "restart", "b");
            assertEquals(0, restartB.exitCode(), restartB.stderr());
            assertFalse(b.isAlive());
        }
    }

    @Test
    void outsideTyrantModeAnOrdinaryUserIsRefused() throws Exception {
        try (EmperorProcess emp = EmperorProcess.start(ws, "--vassals", ws.vassals.toString())) {
            int from = emp.mark();
            ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 5");
            Proc app = awaitRunning(emp, from, "app");
            CliResult refused = as(alice, "stop", "app");
            assertEquals(5, refused.exitCode(), refused.stderr());
            assertEquals("emperor: permission denied: uid " + alice.uid() + " is not root and not in the emperor's group root"
                    + " (gid 0)\n", refused.stderr());
            assertTrue(app.isAlive());
            assertEquals(List.of("app"), names(as(null, "status", "--json")));

            // A member of the emperor's group (root's, here: the emperor runs as root) may act.
            CliResult member = as(groupMember, "stop", "app");
            assertEquals(0, member.exitCode(), member.stderr());
            assertEquals("app: stopped\n", member.stdout());
            assertFalse(app.isAlive());
        }
    }

    /**
     * A tenant sees the last problem and the emperor's lines of its own vassals only: alice reads
     * why her vassal fails (status and logs), and nothing of bob's, whose path stays his.
     */
    @Test
    void aTenantSeesTheProblemsOfItsOwnVassalsOnly() throws Exception {
        try (EmperorProcess emp = EmperorProcess.start(ws, "--tyrant", "--vassals", ws.vassals.toString())) {
            TyrantSupport.vassal(ws, ws.vassals, "a", alice.uid(), alice.gid(), "rw-r--r--",
                    "exec = /nonexistent/alice-app");
            TyrantSupport.vassal(ws, ws.vassals, "b", bob.uid(), bob.gid(), "rw-r--r--",
                    "exec = /nonexistent/bob-secret-app");
            emp.awaitLog(Lines.lifecycle("a", "spawn failed: .*alice-app.*"));
            emp.awaitLog(Lines.lifecycle("b", "spawn failed: .*bob-secret-app.*"));

            CliResult status = io.emperor.testing.Poll.until("alice's status with her problem", java.time.Duration.ofSeconds(60), () -> {
                try {
                    CliResult r = as(alice, "status", "--json");
                    return r.stdout().contains("\"last_problem\":\"spawn failed: ") ? java.util.Optional.of(r) : java.util.Optional.empty();
                } catch (IOException | InterruptedException e) {
                    throw new AssertionError(e);
                }
            }, emp::diagnostics);
            assertEquals(List.of("a"), names(status), status.stdout());
            assertTrue(status.stdout().contains("/nonexistent/alice-app: No such file or directory"), status.stdout());
            assertFalse(status.stdout().contains("bob-secret"), status.stdout());
            CliResult table = as(alice, "status");
            assertTrue(table.stdout().contains("a: spawn failed: "), table.stdout());
            assertFalse(table.stdout().contains("bob-secret"), table.stdout());

            CliResult logs = as(alice, "logs", "-n", "200", "a");
            assertEquals(0, logs.exitCode(), logs.stderr());
            assertTrue(logs.stdout().contains("[emperor] a: spawn failed: exec /nonexistent/alice-app"), logs.stdout());
            assertFalse(logs.stdout().contains("bob-secret"), logs.stdout());
            assertEquals(4, as(alice, "logs", "b").exitCode(), "bob's vassal does not exist for alice");
            CliResult bobs = as(bob, "logs", "-n", "200", "b");
            assertTrue(bobs.stdout().contains("[emperor] b: spawn failed: exec /nonexistent/bob-secret-app"), bobs.stdout());
            assertFalse(bobs.stdout().contains("alice-app"), bobs.stdout());
        }
    }
}
