package io.emperor.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * systemd/emperor.service: the settings the emperor relies on, and {@code systemd-analyze verify}
 * on a copy whose ExecStart binary exists here (verify insists on that; the installed unit is
 * verified as it is by DebPackageIT). systemd need not be PID 1.
 */
class UnitFileTest {
    static final Path UNIT = Path.of("systemd", "emperor.service");

    @TempDir
    Path tmp;

    /** KEY=VALUE of the [Service] section (the last value of a repeated key). */
    static Map<String, String> service() throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        boolean inService = false;
        for (String line : Files.readAllLines(UNIT)) {
            String l = line.strip();
            if (l.startsWith("[")) {
                inService = l.equals("[Service]");
            } else if (inService && !l.isEmpty() && !l.startsWith("#")) {
                int eq = l.indexOf('=');
                m.put(l.substring(0, eq), l.substring(eq + 1));
            }
        }
        return m;
    }

    /**
     * The JVM's flags are the launcher's (packaging/emperor, LauncherTest): the unit runs it and
     * sets no JVM options of its own that would add to them or override them behind its back.
     */
    @Test
    void theUnitAndTheLauncherAgreeOnTheJvmFlags() throws IOException {
        Map<String, String> s = service();
        assertTrue(s.get("ExecStart").startsWith("/usr/bin/emperor "), s.get("ExecStart"));
        for (String line : Files.readAllLines(UNIT)) {
            String l = line.strip();
            if (l.startsWith("#")) {
                continue;
            }
            for (String v : List.of("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "EMPEROR_JAVA_OPTS",
                    "EMPEROR_BUILD_DIR", "JAVA_HOME", "EnvironmentFile")) {
                assertTrue(!l.contains(v), "the unit sets " + v + ": " + l);
            }
        }
        String launcher = Files.readString(Path.of("packaging", "emperor"));
        assertTrue(launcher.contains("exec \"$JAVA\" \"$@\""), "the launcher execs java (the unit's main pid)");
    }

    @Test
    void theSettingsTheEmperorReliesOn() throws IOException {
        Map<String, String> s = service();
        assertEquals("notify", s.get("Type"));
        assertEquals("main", s.get("NotifyAccess"));
        assertEquals("/usr/bin/emperor run --config /etc/emperor/emperor.ini", s.get("ExecStart"));
        assertEquals("/bin/kill -HUP $MAINPID", s.get("ExecReload"));
        assertEquals("emperor", s.get("User"));
        assertEquals("emperor", s.get("Group"));
        assertEquals("CAP_SETUID CAP_SETGID CAP_KILL", s.get("AmbientCapabilities"));
        assertEquals("CAP_SETUID CAP_SETGID CAP_KILL", s.get("CapabilityBoundingSet"));
        assertEquals("mixed", s.get("KillMode"));
        // Containment: a cgroup per vassal under the unit's own, which needs a writable, delegated subtree.
        assertEquals("yes", s.get("Delegate"));
        assertTrue(!s.containsKey("ProtectControlGroups"), "ProtectControlGroups makes /sys/fs/cgroup read-only");
        assertEquals("on-failure", s.get("Restart"));
        assertEquals("emperor", s.get("LogsDirectory"));
        assertEquals("emperor", s.get("RuntimeDirectory"));
        // Above the default stop-timeout (30 s) plus the emperor's own 15 s of grace after SIGKILL.
        assertTrue(Integer.parseInt(s.get("TimeoutStopSec").replace("s", "")) > 30 + 15);
        assertTrue(!s.containsKey("NoNewPrivileges") && !s.containsKey("PrivateTmp") && !s.containsKey("ProtectHome"),
                "nothing that every vassal would inherit and could break on");
    }

    @Test
    void systemdAnalyzeVerifyPasses() throws Exception {
        Path unit = copyWithExecStart("/bin/true");
        Result r = verify(unit);
        assertEquals(0, r.code, r.output);
        assertEquals("", r.output.strip());
    }

    /**
     * The check is real: a typo is only a warning to systemd-analyze (exit 0, which is why the
     * test above also wants no output), a missing ExecStart binary is an error.
     */
    @Test
    void systemdAnalyzeVerifyCatchesBrokenCopies() throws Exception {
        Path unit = copyWithExecStart("/bin/true");
        Files.writeString(unit, Files.readString(unit).replace("Type=notify", "Type=notifyy"));
        Result typo = verify(unit);
        assertTrue(typo.output.contains("notifyy"), typo.output);
        Result missing = verify(copyWithExecStart("/nonexistent/emperor"));
        assertNotEquals(0, missing.code, missing.output);
        assertTrue(missing.output.contains("/nonexistent/emperor"), missing.output);
    }

    private Path copyWithExecStart(String binary) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("unit"));
        Path copy = dir.resolve("emperor.service");
        Files.writeString(copy, Files.readString(UNIT).replace("ExecStart=/usr/bin/emperor ", "ExecStart=" + binary + " "));
        return copy;
    }

    record Result(int code, String output) {}

    /** systemd-analyze verify UNIT; skips the test (saying why) where systemd-analyze is missing. */
    static Result verify(Path unit) throws IOException, InterruptedException {
        Path tool = systemdAnalyze();
        Assumptions.assumeTrue(tool != null, "systemd-analyze is not installed (apt-get install systemd)");
        List<String> cmd = new ArrayList<>(List.of(tool.toString(), "verify", unit.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish within 60 s");
        }
        return new Result(p.exitValue(), out);
    }

    static Path systemdAnalyze() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, "systemd-analyze");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
