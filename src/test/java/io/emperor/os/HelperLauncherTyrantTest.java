package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.ReloadMode;
import io.emperor.config.VassalSpec;
import io.emperor.loop.Launcher.SpawnResult;
import io.emperor.vassal.Specs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The launcher's last line of defence in tyrant mode: never uid 0 or gid 0, whatever the spec says. */
class HelperLauncherTyrantTest {
    private final IoThread io = new IoThread(e -> { });

    @AfterEach
    void close() throws InterruptedException {
        io.close();
    }

    private static VassalSpec runAs(int uid, int gid) {
        Path file = Path.of("/v/app.ini");
        return new VassalSpec("app", file, VassalSpec.Kind.PROGRAM, List.of("/bin/true"), file.getParent(), List.of(),
                0022, null, uid, gid, null, 15, Duration.ofSeconds(30), ReloadMode.SIGNAL, 1, List.of());
    }

    @ParameterizedTest(name = "uid {0} gid {1}")
    @CsvSource({"0, 1000", "1000, 0", "0, 0", "-1, 1000", "1000, -1", "-1, -1"})
    void refusesRootAndUnsetIdentities(int uid, int gid) {
        // The helper path does not exist: a spawn that got that far would fail differently.
        HelperLauncher launcher = new HelperLauncher(Path.of("/nonexistent/emperor-exec"),
                io, new Environment(Map.of(), "uwsgi"), true);
        assertEquals(new SpawnResult.Failed("tyrant mode: refusing to run as uid " + uid + " gid " + gid),
                launcher.spawn("app", 1, runAs(uid, gid)));
        assertThrows(IllegalStateException.class, () -> launcher.reap(1), "no run was kept for it");
    }

    @Test
    void outsideTyrantModeTheSameSpecGetsToTheSpawn() {
        HelperLauncher launcher = new HelperLauncher(Path.of("/nonexistent/emperor-exec"),
                io, new Environment(Map.of(), "uwsgi"), false);
        SpawnResult r = launcher.spawn("app", 1, runAs(0, 0));
        assertEquals(SpawnResult.Failed.class, r.getClass());
        // The error posix_spawnp returned, not whatever errno was left behind.
        assertEquals("posix_spawn /nonexistent/emperor-exec: No such file or directory", ((SpawnResult.Failed) r).reason());
    }

    @Test
    void anEnvironmentOverTheHelpersBoundIsRefusedBeforeTheSpawn() {
        HelperLauncher launcher = new HelperLauncher(Path.of("/nonexistent/emperor-exec"),
                io, new Environment(Map.of(), "uwsgi"), true);
        VassalSpec big = Specs.withEnv(runAs(1000, 1000), "BIG=" + "x".repeat(1024 * 1024));
        SpawnResult r = launcher.spawn("app", 1, big);
        assertTrue(r instanceof SpawnResult.Failed f && f.reason().matches(
                "environment: \\d+ bytes, more than the helper reads \\(1048576\\)"), r::toString);
        assertThrows(IllegalStateException.class, () -> launcher.reap(1), "no run was kept for it");
    }

    @Test
    void envBytesAreNulTerminatedKeyValueStrings() {
        assertEquals("A=1\0B=x=y\0EMPTY=\0", new String(HelperLauncher.envBytes(List.of("A=1", "B=x=y", "EMPTY=")),
                java.nio.charset.StandardCharsets.UTF_8));
    }
}
