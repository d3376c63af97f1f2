package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real python3, for checks by independent parsers. The one on PATH first; then the
 * system's, since a pyenv or venv python on PATH does not see Debian's python3-* packages.
 */
public final class Python {
    private static final List<String> CANDIDATES = List.of("python3", "/usr/bin/python3");

    private Python() {}

    /** A python3 that can import {@code module} (any python3 when null), or null. */
    public static String find(String module) {
        for (String candidate : CANDIDATES) {
            List<String> cmd = module == null ? List.of(candidate, "-c", "pass") : List.of(candidate, "-c", "import " + module);
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return candidate;
                }
                p.destroyForcibly();
            } catch (IOException e) {
                // Not there: try the next one.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** Runs the command with {@code stdin}; its stdout, after asserting it exited 0. */
    public static String run(List<String> cmd, String stdin) throws IOException, InterruptedException {
        Path err = Files.createTempFile("python-stderr", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            try (var in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(cmd + " did not finish in 60 s");
            }
            assertEquals(0, p.exitValue(), () -> cmd + " failed on\n" + stdin + "\nstderr:\n" + readQuietly(err));
            return out;
        } finally {
            Files.deleteIfExists(err);
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
