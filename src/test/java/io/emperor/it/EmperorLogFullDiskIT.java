package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.control.ControlClient;
import io.emperor.testing.Poll;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 item 3: nothing of the emperor's is lost on a full disk. The emperor's log on a 1 MiB
 * tmpfs (root only; skipped otherwise) filled to the last page by a file beside it: what the
 * emperor logs meanwhile is kept and written, in order, after a line counting the vassal output
 * dropped, once the filler is deleted.
 */
class EmperorLogFullDiskIT extends ItSupport {
    /** The flags of the packaged launcher (packaging/emperor). */
    private static final String PACKAGED_JVM_FLAGS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m";
    private static final Pattern NOTICE = Pattern.compile("\\[emperor\\] log file (\\S+) is writable again after \\d+s"
            + " \\(No space left on device\\); dropped meanwhile: (\\d+) lines \\((\\d+) bytes\\) of vassal output,"
            + " (\\d+) lines \\((\\d+) bytes\\) of the emperor's; (\\d+) lines of the emperor's follow$");

    private Path tiny;
    private Process emp;

    @AfterEach
    void cleanUp() throws Exception {
        if (emp != null) {
            emp.destroy();
            if (!emp.waitFor(30, TimeUnit.SECONDS)) {
                emp.destroyForcibly().waitFor();
            }
        }
        if (tiny != null) {
            new ProcessBuilder("umount", tiny.toString()).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aVassalStartedAndStoppedWhileTheDiskIsFullHasItsLinesInTheLogOnceThereIsRoom() throws Exception {
        Path log = mountTinyLog();
        Path err = ws.root.resolve("emperor.err");
        Path socket = start(log, err, Map.of());
        Path filler = fill(log);

        Path file = ws.vassal("app", "exec = /bin/sh -c 'echo hello; echo world; exec sleep 600' " + ws.marker,
                "stop-timeout = 2");
        awaitIn(err, "app: spawned pid=");
        Poll.until("world in the tail of app", WAIT, () -> lastLine(socket, "app").filter("world"::equals).isPresent());
        Workspace.delete(file);
        awaitIn(err, "app: stopped ");
        assertFalse(Workspace.read(log).contains("app: spawned"), "the disk was full: " + Workspace.read(log));

        Files.delete(filler); // room again; the emperor is idle: the retry alone writes the kept lines
        Poll.until("the kept lines in the log", WAIT, () -> Workspace.read(log).contains("app: stopped "),
                () -> Workspace.read(log));
        List<String> lines = Workspace.read(log).lines().toList();
        int notice = indexOf(lines, NOTICE, 0);
        int spawned = indexOf(lines, Pattern.compile("\\[emperor\\] app: spawned pid="), notice);
        int stopped = indexOf(lines, Pattern.compile("\\[emperor\\] app: stopped "), spawned);
        assertTrue(notice >= 0 && spawned > notice && stopped > spawned, String.join("\n", lines));
        Matcher m = NOTICE.matcher(lines.get(notice));
        assertTrue(m.find());
        assertEquals(log.toString(), m.group(1));
        assertEquals("2", m.group(2), "hello and world were dropped: " + lines.get(notice));
        assertEquals("0", m.group(4), "none of the emperor's");
        assertTrue(Integer.parseInt(m.group(6)) >= stopped - notice - 1, lines.get(notice));
        assertTrue(Workspace.read(err).contains("] app: spawned pid="), "copied to stderr meanwhile");
    }

    /**
     * The attack: a tenant's vassal floods its output while the disk is full. None of it is kept
     * (the emperor's memory does not grow with it), all of it is counted, to the line.
     */
    @Test
    void aFloodWhileTheDiskIsFullIsCountedNotKept() throws Exception {
        Path log = mountTinyLog();
        Path err = ws.root.resolve("emperor.err");
        Path socket = start(log, err, Map.of("JAVA_TOOL_OPTIONS", PACKAGED_JVM_FLAGS));
        Path filler = fill(log);
        long lines = (64L << 20) / 100; // 64 MiB of 100-byte lines
        Path file = ws.vassal("flood", "exec = /bin/sh -c 'yes " + "x".repeat(99) + " | head -c " + lines * 100
                + "; echo done; exec sleep 600' " + ws.marker, "stop-timeout = 2");
        awaitIn(err, "flood: spawned pid=");
        long rssBefore = rssKib(emp.pid());
        long[] peak = {rssBefore};
        Poll.until("the flood through the emperor", Duration.ofSeconds(120), () -> {
            peak[0] = Math.max(peak[0], rssKib(emp.pid()));
            return lastLine(socket, "flood").filter("done"::equals).isPresent();
        });
        System.out.println("flood on a full disk: 64 MiB, RSS " + rssBefore / 1024 + " MiB before, peak "
                + peak[0] / 1024 + " MiB (" + PACKAGED_JVM_FLAGS + ")");
        assertTrue(peak[0] < 200 * 1024, "peak RSS " + peak[0] + " KiB");
        Files.delete(filler);
        Workspace.delete(file);
        Poll.until("the stop in the log", WAIT, () -> Workspace.read(log).contains("flood: stopped "),
                () -> Workspace.read(log));
        List<String> all = Workspace.read(log).lines().toList();
        Matcher m = NOTICE.matcher(all.get(indexOf(all, NOTICE, 0)));
        assertTrue(m.find());
        assertEquals(String.valueOf(lines + 1), m.group(2), "every line counted: " + m.group());
        assertTrue(Long.parseLong(m.group(3)) > lines * 100, m.group());
        assertTrue(Integer.parseInt(m.group(6)) < 10, "only the emperor's few lines were kept: " + m.group());
    }

    /**
     * A rotation on a disk without room for its gzip: logback's gzip deleted the file when
     * compressing failed (the whole current log lost); the emperor's keeps it, uncompressed.
     */
    @Test
    void aRotationWithoutRoomForItsGzipLosesNothing() throws Exception {
        Path log = mountTinyLog();
        Path err = ws.root.resolve("emperor.err");
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "log = " + log, "log-maxsize = 300k", "log-backups = 2");
        start(ini, log, err, Map.of());
        // Leave 400 KiB: the 300 KiB file fits, its gzip (random base64: ~75 %) then does not.
        long leave = 400 * 1024;
        long usable = Files.getFileStore(log.getParent()).getUsableSpace();
        Files.write(log.resolveSibling("filler"), new byte[(int) (usable - leave)]);
        Path file = ws.vassal("random", "exec = /bin/sh -c 'head -c 262144 /dev/urandom | base64; echo done;"
                + " exec sleep 600' " + ws.marker, "stop-timeout = 2");
        // No room for the warning in the new file either: it is kept, and on stderr meanwhile.
        Poll.until("the warning", WAIT, () -> Workspace.read(err).contains("cannot compress rotated log file "),
                () -> Workspace.read(err) + listing(log.getParent()));
        Path kept = log.resolveSibling("emperor.log.rotated-1");
        assertTrue(Workspace.read(kept).contains("[emperor] ready: "), "the first line is still there");
        assertTrue(Files.size(kept) <= 300 * 1024, "rotated at the size: " + Files.size(kept));
        assertFalse(Files.exists(log.resolveSibling("emperor.log.1.gz.partial")));
        Files.delete(log.resolveSibling("filler"));
        Poll.until("the warning in the log", WAIT, () -> Workspace.read(log).contains("[emperor] cannot compress rotated"
                + " log file " + kept + ": No space left on device; it is kept as it is"), () -> Workspace.read(log));
        Workspace.delete(file);
    }

    private Path mountTinyLog() throws Exception {
        Path dir = Files.createDirectories(ws.root.resolve("tiny"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(10, TimeUnit.SECONDS) && mount.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "mounting a tmpfs needs root (CAP_SYS_ADMIN): "
                + new String(mount.getInputStream().readAllBytes()));
        tiny = dir;
        return dir.resolve("emperor.log");
    }

    /** The emperor with {@code log = LOG} and its stderr in {@code err}; its control socket. */
    private Path start(Path log, Path err, Map<String, String> env) throws IOException {
        return start(ws.emperorIni("vassals = " + ws.vassals, "log = " + log), log, err, env);
    }

    private Path start(Path ini, Path log, Path err, Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>(EmperorProcess.javaCommand());
        Path socket = ws.root.resolve("c.sock");
        cmd.addAll(List.of("run", "--config", ini.toString(), "--control", socket.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ws.root.toFile()).redirectErrorStream(true)
                .redirectOutput(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        emp = pb.start();
        Poll.until("ready", WAIT, () -> Files.exists(log) && Workspace.read(log).contains("[emperor] ready: "),
                () -> Workspace.read(err));
        return socket;
    }

    /**
     * Fills the file system: the log's last page with a line of its own (a write into a page it
     * has would not fail), then a file with every page left. Returns the file.
     */
    private static Path fill(Path log) throws IOException {
        long size = Files.size(log);
        int pad = (int) (4096 - size % 4096) % 4096;
        if (pad > 0) {
            Files.write(log, ("#".repeat(pad - 1) + "\n").getBytes(), StandardOpenOption.APPEND);
        }
        Path filler = log.resolveSibling("filler");
        byte[] page = new byte[4096];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(page);
                out.flush();
            }
        } catch (IOException e) {
            // full
        }
        assertEquals(0, Files.size(log) % 4096);
        return filler;
    }

    private static String listing(Path dir) {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName() + " " + f.toFile().length()).toList().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static void awaitIn(Path err, String text) {
        Poll.until("\"" + text + "\" on stderr", WAIT, () -> Workspace.read(err).contains(text),
                () -> Workspace.read(err));
    }

    private static int indexOf(List<String> lines, Pattern p, int from) {
        for (int i = Math.max(from, 0); i < lines.size(); i++) {
            if (p.matcher(lines.get(i)).find()) {
                return i;
            }
        }
        return -1;
    }

    private static long rssKib(long pid) {
        return Procs.status(pid, "VmRSS").map(v -> Long.parseLong(v.replaceAll("[^0-9]", ""))).orElse(0L);
    }

    /** The last line a vassal wrote, from the emperor's in-memory tail ({@code logs} on the control socket). */
    private static Optional<String> lastLine(Path socket, String name) {
        try (ControlClient c = ControlClient.connect(socket)) {
            c.send(Map.of("cmd", "logs", "name", name, "lines", 1));
            Object lines = c.next().get("lines");
            return lines instanceof List<?> l && !l.isEmpty() ? Optional.of(String.valueOf(l.get(0))) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
