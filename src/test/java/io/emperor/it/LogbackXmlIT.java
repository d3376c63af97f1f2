package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.testing.Poll;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** etc/logback.xml, the example for people who want the emperor to rotate its own log, works as shipped. */
class LogbackXmlIT {
    @TempDir
    Path tmp;

    @Test
    void theExampleLogsInTheEmperorsFormatToItsDirectory() throws Exception {
        Path vassals = Files.createDirectories(tmp.resolve("vassals"));
        Path log = tmp.resolve("emperor.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-DEMPEROR_LOG_DIR=" + tmp,
                "-Dlogback.configurationFile=" + Path.of("etc", "logback.xml").toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), "io.emperor.cli.Main", "run", "--vassals", vassals.toString(),
                "--control", tmp.resolve("control.sock").toString()); // never the machine's socket
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            Poll.until("the ready line in " + log, Duration.ofSeconds(20),
                    () -> Files.exists(log) && Workspace.read(log).contains("[emperor] ready: 0 vassal(s)"),
                    () -> (Files.exists(log) ? Workspace.read(log) : "(no log)") + "\n" + Workspace.read(tmp.resolve("out.txt")));
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the emperor exits after SIGTERM");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
        List<String> lines = Workspace.read(log).lines().toList();
        assertTrue(lines.get(0).matches("\\S+Z \\[emperor\\] started version=\\S+ pid=" + p.pid() + " .*"), lines.get(0));
        assertTrue(lines.get(lines.size() - 1).matches("\\S+Z \\[emperor\\] stopped"), lines.toString());
        assertEquals("", Workspace.read(tmp.resolve("out.txt")).strip(), "logback said nothing on stderr");
    }
}
