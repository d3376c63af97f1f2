package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.testing.Poll;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** What a log must survive (issue 6): CRLF, every byte value, a flood, a full disk. */
class LogRobustnessIT extends ItSupport {
    /** The flags of the packaged launcher (packaging/emperor), which the memory bound assumes. */
    private static final String PACKAGED_JVM_FLAGS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m";
    /** The emperor's RSS must stay under this while a vassal floods it. */
    private static final long RSS_BOUND_KIB = 200 * 1024;

    /** {@code exec = } for an inline shell script; the marker is its $0, so the test finds it. */
    private String sh(String script) {
        return "exec = /bin/sh -c '" + script + "' " + ws.marker;
    }

    @Test
    void crlfLineEndsAreDroppedAndEveryByteValueIsEscapedOrKept() throws IOException {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        Path bytes = Files.write(ws.root.resolve("bytes.bin"), all);
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            Path file = ws.vassal("crlf", sh("printf \"one\\r\\ntwo\\r\\n\"; cat " + bytes + "; echo; sleep 600"),
                    "stop-timeout = 2");
            emp.awaitLog(output("crlf", ".*" + q("\\x7f")));
            List<String> printed = emp.find(from, output("crlf", "(.*)$")).stream().map(l -> l.group(1)).toList();
            StringBuilder second = new StringBuilder();
            for (int i = 0x0b; i < 256; i++) {
                second.append(i >= 0x20 && i < 0x7f ? String.valueOf((char) i) : String.format("\\x%02x", i));
            }
            assertEquals(List.of("one", "two", "\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\t", second.toString()),
                    printed);
            Workspace.delete(file);
            emp.awaitLog(lifecycle("crlf", "stopped "));
        }
    }

    /** A vassal printing 1 GiB as fast as it can: the pipe slows it, the emperor's memory stays bounded. */
    @Test
    void aFloodOfOutputKeepsTheEmperorsMemoryBounded() throws Exception {
        Path logs = Files.createDirectories(ws.root.resolve("logs"));
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "vassal-logs = " + logs);
        try (EmperorProcess emp = EmperorProcess.start(ws, java.util.Map.of("JAVA_TOOL_OPTIONS", PACKAGED_JVM_FLAGS),
                "--config", ini.toString())) {
            String line = "x".repeat(99);
            long expectedLines = (1L << 30) / 100;
            Path file = ws.vassal("flood", sh("yes " + line + " | head -c " + expectedLines * 100 + "; sleep 600"), "stop-timeout = 2");
            Path log = logs.resolve("flood.log");
            long[] peak = {0};
            // Every poll also samples the emperor's RSS, so the peak is seen while the flood runs.
            Poll.until("1 GiB in " + log, Duration.ofSeconds(120), () -> {
                peak[0] = Math.max(peak[0], rssKib(emp.pid()));
                try {
                    return Files.exists(log) && Files.size(log) >= expectedLines * (100 + 25);
                } catch (IOException e) {
                    return false;
                }
            });
            long maxRss = peak[0];
            System.out.println("flood: 1 GiB through the emperor (" + PACKAGED_JVM_FLAGS + "), max RSS "
                    + maxRss / 1024 + " MiB");
            assertEquals(expectedLines * 125, Files.size(log), "every line, each with its 25-byte timestamp");
            assertTrue(maxRss < RSS_BOUND_KIB, "max RSS " + maxRss + " KiB");
            Workspace.delete(file);
            emp.awaitLog(lifecycle("flood", "stopped "));
            Files.delete(log);
        }
    }

    /** A full disk: a 1 MiB tmpfs (root only; skipped otherwise). */
    @Test
    void aFullDiskIsReportedOnceAndTheLinesGoToTheEmperorLog() throws Exception {
        Path logs = Files.createDirectories(ws.root.resolve("tiny"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", logs.toString())
                .redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(10, TimeUnit.SECONDS) && mount.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "mounting a tmpfs needs root (CAP_SYS_ADMIN): "
                + new String(mount.getInputStream().readAllBytes()));
        try (EmperorProcess emp = emperor("vassal-logs = " + logs)) {
            int from = emp.mark();
            // 2 MiB of 1 KiB lines, then one line a second.
            // (No "$(" in the script: that is the ini magic for an environment variable.)
            Path file = ws.vassal("full", sh("yes `head -c 1023 /dev/zero | tr \"\\0\" y` | head -c 2097152;"
                    + " i=0; while :; do i=`expr $i + 1`; echo tick $i; sleep 1; done"), "stop-timeout = 2");
            emp.awaitLog(lifecycle("full", q("cannot write log file " + logs.resolve("full.log") + ": ")),
                    Duration.ofSeconds(30));
            emp.awaitLog(output("full", "tick 3$"), Duration.ofSeconds(30));
            assertEquals(1, emp.find(from, lifecycle("full", "cannot write log file")).size(), "reported once");
            assertTrue(emp.isAlive());
            Workspace.delete(file);
            emp.awaitLog(lifecycle("full", "stopped "));
        } finally {
            new ProcessBuilder("umount", logs.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * The emperor's own log on a full disk (a 1 MiB tmpfs; root only): reported once on stderr,
     * the emperor goes on, and once there is room again the log is written again, saying so.
     */
    @Test
    void aFullDiskUnderTheEmperorsOwnLogIsReportedOnStderrOnceAndRetried() throws Exception {
        Path tiny = Files.createDirectories(ws.root.resolve("tiny-log"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", tiny.toString())
                .redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(10, TimeUnit.SECONDS) && mount.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "mounting a tmpfs needs root (CAP_SYS_ADMIN): "
                + new String(mount.getInputStream().readAllBytes()));
        Path log = tiny.resolve("emperor.log");
        Path err = ws.root.resolve("emperor.err");
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "log = " + log);
        java.util.List<String> cmd = new java.util.ArrayList<>(EmperorProcess.javaCommand());
        Path controlSocket = ws.root.resolve("c.sock");
        cmd.addAll(java.util.List.of("run", "--config", ini.toString(), "--control", controlSocket.toString()));
        Process emp = new ProcessBuilder(cmd).directory(ws.root.toFile()).redirectErrorStream(true)
                .redirectOutput(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        try {
            Poll.until("ready", WAIT, () -> Files.exists(log) && Workspace.read(log).contains("[emperor] ready: "));
            // 2 MiB of 1 KiB lines, then one line a second (no "$(": ini magic).
            Path file = ws.vassal("full", sh("yes `head -c 1023 /dev/zero | tr \"\\0\" y` | head -c 2097152;"
                    + " i=0; while :; do i=`expr $i + 1`; echo tick $i; sleep 1; done"), "stop-timeout = 2");
            String failure = "emperor: cannot write log file " + log + ": No space left on device; until a retry"
                    + " succeeds (every 2s) the emperor's lines are kept (the last 10000) and copied here, vassal output"
                    + " is dropped and counted";
            Poll.until("the failure on stderr", Duration.ofSeconds(30), () -> Workspace.read(err).contains(failure),
                    () -> Workspace.read(err));
            // A few retries, all failing: the vassal's output goes on (the emperor's in-memory tail,
            // through the control socket, sees it) for longer than one retry period.
            Poll.until("tick 4 in the emperor's tail of full", Duration.ofSeconds(30), () -> lastLine(controlSocket, "full")
                    .filter(l -> l.matches("tick ([4-9]|\\d\\d+)")).isPresent());
            assertTrue(emp.isAlive());
            assertEquals(1, Workspace.read(err).lines().filter(l -> l.contains("cannot write log file")).count(),
                    "reported once: " + Workspace.read(err));
            Process grow = new ProcessBuilder("mount", "-o", "remount,size=8m", tiny.toString()).inheritIO().start();
            assertTrue(grow.waitFor(10, TimeUnit.SECONDS) && grow.exitValue() == 0, "remount");
            Poll.until("writable again, in the log", Duration.ofSeconds(30),
                    () -> Workspace.read(log).contains("[emperor] log file " + log + " is writable again after "));
            // Said on stderr too; the log's line may come first, so this is waited for as well.
            Poll.until("writable again, on stderr", Duration.ofSeconds(30),
                    () -> Workspace.read(err).contains("emperor: log file " + log + " is writable again after "),
                    () -> Workspace.read(err));
            Poll.until("ticks in the log again", Duration.ofSeconds(30), () -> {
                String text = Workspace.read(log);
                return text.indexOf("[full] tick ", text.indexOf("is writable again")) > 0;
            });
            Workspace.delete(file);
            Poll.until("stopped", WAIT, () -> Workspace.read(log).contains("full: stopped "));
        } finally {
            emp.destroy();
            if (!emp.waitFor(30, TimeUnit.SECONDS)) {
                emp.destroyForcibly().waitFor();
            }
            new ProcessBuilder("umount", tiny.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
        assertEquals(0, emp.exitValue(), Workspace.read(err));
    }

    private static long rssKib(long pid) {
        return Procs.status(pid, "VmRSS").map(v -> Long.parseLong(v.replaceAll("[^0-9]", ""))).orElse(0L);
    }

    /** The last line a vassal wrote, from the emperor's in-memory tail ({@code logs} on the control socket). */
    private static java.util.Optional<String> lastLine(Path socket, String name) {
        try (io.emperor.control.ControlClient c = io.emperor.control.ControlClient.connect(socket)) {
            c.send(java.util.Map.of("cmd", "logs", "name", name, "lines", 1));
            Object lines = c.next().get("lines");
            return lines instanceof java.util.List<?> l && !l.isEmpty() ? java.util.Optional.of(String.valueOf(l.get(0)))
                    : java.util.Optional.empty();
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }
}
