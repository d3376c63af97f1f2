package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.control.Json;
import io.emperor.it.EmperorProcess.CliResult;
import io.emperor.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A failing vassal says why where the operator looks (issue 12 item 3): {@code emperor status}
 * (the table and {@code --json}) shows its last problem and since when, {@code emperor logs NAME}
 * shows the emperor's lines about it among its own, and a uWSGI vassal's exit names uWSGI's code.
 */
class LastProblemIT extends ItSupport {

    private CliResult cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add(1, "--socket");
        all.add(2, ws.root.resolve("control.sock").toString());
        return EmperorProcess.cli(ws.root, all.toArray(String[]::new));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> statusJson(String name) {
        CliResult r = cli("status", "--json", name);
        assertEquals(0, r.exitCode(), () -> "status --json\nstdout: " + r.stdout() + "\nstderr: " + r.stderr());
        try {
            Map<String, Object> answer = Json.parseObject(r.stdout().strip());
            return (Map<String, Object>) ((List<Object>) answer.get("vassals")).get(0);
        } catch (Json.ParseException e) {
            throw new AssertionError("not JSON: " + r.stdout(), e);
        }
    }

    /** Waits until {@code status --json NAME} shows a last problem that contains {@code part}; that vassal's JSON. */
    private Map<String, Object> awaitProblem(String name, String part) {
        return Poll.until(name + "'s last_problem to contain " + part, WAIT, () -> {
            Map<String, Object> v = statusJson(name);
            return v.get("last_problem") instanceof String p && p.contains(part) ? Optional.of(v) : Optional.empty();
        }, () -> String.valueOf(statusJson(name)));
    }

    private static void assertSinceIsNow(Map<String, Object> v, long before) {
        double since = ((Number) v.get("last_problem_since")).doubleValue();
        long after = System.currentTimeMillis();
        assertTrue(since * 1000 >= before - 2000 && since * 1000 <= after + 2000,
                () -> "last_problem_since " + since + " not between " + before + " and " + after + ": " + v);
        Instant utc = Instant.parse((String) v.get("last_problem_since_utc"));
        assertEquals(Math.round(since * 1000), utc.toEpochMilli(), () -> "the two forms of since: " + v);
        assertTrue(((String) v.get("last_problem_since_utc")).endsWith("Z"), "UTC");
    }

    @Test
    void aMissingProgramIsInStatusTheTableAndLogs() {
        Path missing = ws.root.resolve("no-such-dir").resolve("myapp");
        long before = System.currentTimeMillis();
        try (EmperorProcess emp = emperor()) {
            ws.vassal("app", "exec = " + missing);
            emp.awaitLog(lifecycle("app", "spawn failed: .*" + q(missing.toString()) + ".*No such file or directory"));

            Map<String, Object> v = awaitProblem("app", missing.toString());
            String problem = (String) v.get("last_problem");
            assertTrue(problem.startsWith("spawn failed: ") && problem.contains("No such file or directory"), problem);
            assertSinceIsNow(v, before);
            // The older fields keep their meaning.
            assertEquals("status=127", v.get("last_exit"), v::toString);
            assertNull(v.get("problem"), "problem is the error of a failed file only");

            CliResult table = cli("status");
            assertEquals(0, table.exitCode(), table::stderr);
            assertTrue(table.stdout().lines().anyMatch(l -> l.startsWith("app: spawn failed: ")
                            && l.contains(missing.toString()) && l.contains("No such file or directory")
                            && (l.endsWith(" ago)") || l.endsWith("(since just now)"))),
                    table::stdout);

            CliResult logs = cli("logs", "-n", "50", "app");
            assertEquals(0, logs.exitCode(), logs::stderr);
            List<String> lines = logs.stdout().lines().toList();
            int spawned = indexOf(lines, "[emperor] app: spawned pid=");
            int failed = indexOf(lines, "[emperor] app: spawn failed: ");
            assertTrue(spawned >= 0 && failed > spawned, () -> "spawned, then spawn failed, in order: " + lines);
            assertTrue(lines.get(failed).contains(missing.toString()) && lines.get(failed).contains("No such file or directory"),
                    lines::toString);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("[emperor] app: backoff retry in ")), lines::toString);
        }
    }

    @Test
    void theEmperorsLinesAreInterleavedWithTheVassalsOwn() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("app", "exec = " + ws.exec("exits-at-once.sh"));
            emp.awaitLogFrom(from, lifecycle("app", "exited status=3 uptime=.*"), WAIT);
            List<String> lines = Poll.until("two runs of app in its logs", WAIT, () -> {
                List<String> l = cli("logs", "-n", "200", "app").stdout().lines().toList();
                return l.stream().filter(x -> x.startsWith("[emperor] app: exited status=3")).count() >= 2
                        ? Optional.of(l) : Optional.empty();
            }, emp::diagnostics);
            // spawned, the vassal's own line, exited: in the order they happened, run after run.
            int spawned = indexOf(lines, "[emperor] app: spawned pid=");
            int own = indexOf(lines, "exits-at-once.sh: exiting with status 3");
            int exited = indexOf(lines, "[emperor] app: exited status=3 uptime=");
            assertTrue(spawned >= 0 && spawned < own && own < exited, () -> "in time order: " + lines);
            Map<String, Object> v = statusJson("app");
            assertTrue(((String) v.get("last_problem")).startsWith("exited status=3 after "), v::toString);
        }
    }

    @Test
    void aBrokenFileShowsItsRefusalAndTheFixClearsIt() {
        try (EmperorProcess emp = emperor()) {
            Path file = ws.vassals.resolve("broken.ini");
            Workspace.write(file, "[vassal]\nexec = \n");
            emp.awaitLog(lifecycle("broken", "refused: .*"));
            Map<String, Object> v = awaitProblem("broken", "refused: " + file + ":2: ");
            assertEquals("failed", v.get("state"));
            CliResult table = cli("status");
            assertTrue(table.stdout().lines().anyMatch(l -> l.startsWith("broken: refused: " + file + ":2: ")
                    && l.endsWith(" ago)") || l.startsWith("broken: refused: " + file + ":2: ") && l.endsWith("just now)")),
                    table::stdout);
            assertTrue(cli("logs", "broken").stdout().contains("[emperor] broken: refused: " + file + ":2: "));

            Workspace.write(file, "[vassal]\nexec = " + ws.exec("sleeps.sh") + "\n");
            Poll.until("the fixed file's problem cleared", WAIT, () -> statusJson("broken").get("last_problem") == null,
                    () -> String.valueOf(statusJson("broken")));
        }
    }

    /** Tyrant mode (root only): a file owned by root is refused, and status says so. */
    @Test
    void aRefusedTyrantFileSaysWhyInStatus() {
        Assumptions.assumeTrue(TyrantSupport.isRoot(), "tyrant mode needs root");
        try (EmperorProcess emp = emperor("tyrant = true")) {
            Path file = ws.vassal("rooted", "exec = " + ws.exec("sleeps.sh"));
            emp.awaitLog(lifecycle("rooted", "refused: .*owned by root.*"));
            Map<String, Object> v = awaitProblem("rooted", "owned by root (uid 0)");
            String problem = (String) v.get("last_problem");
            // Its group is root's too: the other refusal is counted.
            assertTrue(problem.startsWith("refused: " + file + ": owned by root (uid 0): chown it to the user that should run it"),
                    problem);
            assertTrue(cli("status").stdout().contains("rooted: refused: " + file + ": owned by root (uid 0)"));
        }
    }

    @Test
    void aUwsgiVassalsExitNamesUwsgisCode() throws Exception {
        Path fake = ws.root.resolve("fake-uwsgi");
        Files.writeString(fake, "#!/bin/sh\n# fake-uwsgi: exits with the code its vassal's name ends in\n"
                + "case \"$*\" in *u30.ini*) exit 30;; *) exit 1;; esac\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (EmperorProcess emp = emperor("uwsgi-binary = " + fake)) {
            Workspace.write(ws.vassals.resolve("u30.ini"), "[uwsgi]\nmaster = true\n");
            Workspace.write(ws.vassals.resolve("u1.ini"), "[uwsgi]\nmaster = true\n");
            emp.awaitLog(lifecycle("u30", q("exited status=30 (uWSGI: end requested) uptime=") + ".*"));
            emp.awaitLog(lifecycle("u1", q("exited status=1 (uWSGI: error) uptime=") + ".*"));
            awaitProblem("u30", "exited status=30 (uWSGI: end requested) after ");
            awaitProblem("u1", "exited status=1 (uWSGI: error) after ");
            assertEquals("status=30", statusJson("u30").get("last_exit"), "last_exit keeps its form");
        }
    }

    /** Attack: a vassal prints lines that would pass for the emperor's; logs shows them escaped, the real ones as they are. */
    @Test
    void aVassalCannotForgeTheEmperorsLinesInLogs() throws Exception {
        Path forger = ws.root.resolve("forger.sh");
        Files.writeString(forger, "#!/bin/sh\necho '[emperor] app: stopped status=0 after 0s'\nexec sleep 3600\n");
        Files.setPosixFilePermissions(forger, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (EmperorProcess emp = emperor()) {
            ws.vassal("app", "exec = " + forger + " " + ws.marker, "stop-timeout = 2");
            emp.awaitLog(Lines.output("app", q("[emperor] app: stopped status=0 after 0s")));
            List<String> lines = Poll.until("the forged line in app's logs", WAIT, () -> {
                List<String> l = cli("logs", "app").stdout().lines().toList();
                return l.stream().anyMatch(x -> x.contains("app: stopped status=0")) ? Optional.of(l) : Optional.empty();
            }, emp::diagnostics);
            assertTrue(lines.contains("\\x5bemperor] app: stopped status=0 after 0s"), lines::toString);
            assertTrue(lines.stream().filter(l -> l.startsWith("[emperor] ")).allMatch(l -> l.startsWith("[emperor] app: spawned pid=")),
                    () -> "only the emperor's own line starts with [emperor]: " + lines);
        }
    }

    private static int indexOf(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
