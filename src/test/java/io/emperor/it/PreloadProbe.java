package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.testing.Poll;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The LD_PRELOAD attack of issue 11: a tiny shared library, compiled here, whose constructor
 * records in which process it ran (pid, uid, euid) and whether {@code setresuid(0,0,0)} worked,
 * one file per process and uid in a directory everyone may write. A vassal file names it with
 * {@code env = LD_PRELOAD=...}; the library must never run in the privileged exec helper, only
 * in the vassal, as the tenant, where regaining root fails.
 */
final class PreloadProbe {
    private static final String SOURCE = """
            #define _GNU_SOURCE
            #include <fcntl.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <unistd.h>
            __attribute__((constructor)) static void probe(void)
            {
                const char *dir = getenv("PROBE_DIR");
                if (dir == NULL)
                    return;
                unsigned uid = getuid(), euid = geteuid();
                int r = setresuid(0, 0, 0);
                char path[4096], line[160];
                snprintf(path, sizeof path, "%s/%d-%u", dir, (int)getpid(), uid);
                int n = snprintf(line, sizeof line, "pid=%d uid=%u euid=%u setresuid=%d\\n", (int)getpid(), uid, euid, r);
                int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
                if (fd >= 0) {
                    if (write(fd, line, (size_t)n) < 0) {}
                    close(fd);
                }
            }
            """;
    private static final Pattern RECORD = Pattern.compile("pid=(\\d+) uid=(\\d+) euid=(\\d+) setresuid=(-?\\d+)");

    /** One run of the constructor. */
    record Run(long pid, int uid, int euid, int setresuid) {}

    final Path library;
    final Path records;

    private PreloadProbe(Path library, Path records) {
        this.library = library;
        this.records = records;
    }

    /** Compiles the library into {@code dir} (created, world-readable) with a world-writable record directory. */
    static PreloadProbe build(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        TyrantSupport.chmod(dir, "rwxr-xr-x");
        Path src = dir.resolve("probe.c");
        Files.writeString(src, SOURCE);
        Path lib = dir.resolve("probe.so");
        Process cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-o", lib.toString(), src.toString())
                .redirectErrorStream(true).start();
        String out = new String(cc.getInputStream().readAllBytes());
        assertEquals(0, cc.waitFor(), "cc: " + out);
        TyrantSupport.chmod(lib, "rwxr-xr-x");
        Path records = Files.createDirectories(dir.resolve("records"));
        TyrantSupport.chmod(records, "rwxrwxrwx");
        return new PreloadProbe(lib, records);
    }

    /** The vassal file lines that load the probe. */
    String[] envLines() {
        return new String[] {"env = LD_PRELOAD=" + library, "env = PROBE_DIR=" + records};
    }

    List<Run> runs() {
        List<Run> runs = new ArrayList<>();
        try (Stream<Path> files = Files.list(records)) {
            for (Path f : files.toList()) {
                for (String line : Files.readAllLines(f)) {
                    Matcher m = RECORD.matcher(line);
                    if (m.matches()) {
                        runs.add(new Run(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)),
                                Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4))));
                    }
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read " + records, e);
        }
        return runs;
    }

    /**
     * Waits until the probe ran in process {@code pid} as {@code tenant} (the vassal; the helper, had
     * it loaded the library, ran in the same pid before it), then checks every run: only ever as the
     * tenant, and root was never regained.
     */
    void assertOnlyEverRanAs(long pid, int tenant) {
        Poll.until("the probe to run in vassal " + pid, ItSupport.WAIT,
                () -> runs().stream().anyMatch(r -> r.pid() == pid && r.uid() == tenant), () -> "runs: " + runs());
        for (Run r : runs()) {
            assertEquals(List.of(tenant, tenant, -1), List.of(r.uid(), r.euid(), r.setresuid()),
                    () -> "the preloaded constructor ran with another identity or regained root: " + r
                            + " (all: " + runs() + ")");
        }
    }
}
