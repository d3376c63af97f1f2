package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.emperor.it.Procs.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code uid}/{@code gid} of a {@code [vassal]}, honoured when the emperor runs as root (outside
 * tyrant mode). Root only: skipped, with the reason, for anyone else; CI runs as root.
 */
class IdentityIT extends ItSupport {

    @BeforeEach
    void onlyAsRoot() throws IOException {
        assumeTrue("0".equals(run("id", "-u")), "needs root: the emperor changes the vassal's uid");
        // The vassal's user must be able to read the fixtures.
        Files.setPosixFilePermissions(ws.root, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void vassalRunsAsItsUserWithThatUsersGroups() {
        String uid = run("id", "-u", "nobody");
        String gid = run("id", "-g", "nobody");
        String groups = Arrays.stream(run("id", "-G", "nobody").split(" ")).sorted().collect(Collectors.joining(" "));
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("nob", "exec = " + ws.exec("sleeps.sh"), "uid = nobody", "stop-timeout = 2");
            LogLine spawned = emp.awaitLog(Lines.spawned("nob"));
            assertEquals(uid, spawned.group(2));
            assertEquals(gid, spawned.group(3));
            Proc p = awaitRunning(emp, from, "nob");
            assertEquals(String.join("\t", uid, uid, uid, uid), Procs.status(p.pid(), "Uid").orElseThrow(), "real, effective, saved, fs uid");
            assertEquals(String.join("\t", gid, gid, gid, gid), Procs.status(p.pid(), "Gid").orElseThrow(), "real, effective, saved, fs gid");
            String actualGroups = Arrays.stream(Procs.status(p.pid(), "Groups").orElseThrow().split("\\s+"))
                    .filter(s -> !s.isEmpty()).sorted().collect(Collectors.joining(" "));
            assertEquals(groups, actualGroups, "the user's supplementary groups (initgroups), not root's");
            assertEquals("0000000000000000", Procs.status(p.pid(), "CapEff").orElseThrow(), "no capability left");
        }
    }

    @Test
    void logtoThatTheVassalMayNotWriteIsReportedAndBacksOff() throws IOException {
        Path rootOnly = Files.createDirectories(ws.root.resolve("root-only"));
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rwx------"));
        Path logto = rootOnly.resolve("app.log");
        try (EmperorProcess emp = emperor()) {
            ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "uid = nobody", "logto = " + logto, "stop-timeout = 2");
            LogLine failed = emp.awaitLog(lifecycle("app", q("spawn failed: logto " + logto + ": Permission denied") + "$"));
            emp.awaitLogAfter(failed, lifecycle("app", q("backoff retry in 1s (1 quick exit)") + "$"));
            assertEquals(false, Files.exists(logto), "the file was opened as the vassal, so it was not created");
        }
    }

    private static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
