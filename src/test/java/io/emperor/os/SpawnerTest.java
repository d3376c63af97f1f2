package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * posix_spawnp through the emperor's own bindings: the file actions in order, the environment
 * given and nothing else, no blocked signal, and a failure said by its error number with no child.
 */
class SpawnerTest {
    @TempDir
    Path tmp;

    private final LibC c = Native.libc();
    private final Spawner spawner = new Spawner();

    /** The exit code of {@code pid} (waitpid). */
    private int exitCode(long pid) {
        Pointer status = Memory.allocateDirect(Native.runtime(), 8);
        int rc;
        do {
            rc = c.waitpid((int) pid, status, 0);
        } while (rc < 0 && Native.errno() == Native.EINTR);
        assertEquals(pid, rc, () -> "waitpid: " + Native.strerror(Native.errno()));
        int s = status.getInt(0);
        assertEquals(0, s & 0x7f, "exited, not killed");
        return (s >> 8) & 0xff;
    }

    /** Runs argv with stdout on a file and these extra actions; its exit code and output. */
    private record Run(int exit, String out) {}

    private Run run(List<String> env, String... argv) throws IOException {
        Path out = tmp.resolve("out-" + System.nanoTime());
        List<Spawner.Action> actions = new ArrayList<>();
        actions.add(Spawner.Action.open("/dev/null", 0, 0, 0));
        actions.add(Spawner.Action.open(out.toString(), 1, 01 | 0100 | 01000, 0600)); // O_WRONLY|O_CREAT|O_TRUNC
        actions.add(Spawner.Action.dup(1, 2));
        long pid = spawner.spawnp(argv[0], actions, Spawner.SETSIGMASK, List.of(argv), env);
        assertTrue(pid > 0, () -> "spawn: " + Native.strerror((int) -pid));
        int code = exitCode(pid);
        return new Run(code, Files.readString(out, StandardCharsets.UTF_8));
    }

    @Test
    void theChildGetsItsArgvTheGivenEnvironmentAndNothingElse() throws IOException {
        Run r = run(List.of(), "/usr/bin/env");
        assertEquals(new Run(0, ""), r, "an empty environment is empty");
        r = run(List.of("A=1", "B=two words", "C="), "/usr/bin/env");
        assertEquals(new Run(0, "A=1\nB=two words\nC=\n"), r);
        r = run(List.of(), "/bin/sh", "-c", "printf '%s|' \"$0\" \"$@\"; exit 7", "zero", "one two", "");
        assertEquals(new Run(7, "zero|one two||"), r, "every argument as given, an empty one too");
    }

    @Test
    void theChildStartsWithNoSignalBlocked() throws IOException {
        Run r = run(List.of(), "/bin/grep", "^SigBlk:", "/proc/self/status");
        assertEquals(new Run(0, "SigBlk:\t0000000000000000\n"), r);
    }

    @Test
    void fileActionsRunInOrderAndDupsClearCloseOnExec() throws IOException {
        int[] pipe = new int[2];
        assertEquals(0, c.pipe2(pipe, Native.O_CLOEXEC));
        try {
            Path out = tmp.resolve("fds");
            List<Spawner.Action> actions = List.of(
                    Spawner.Action.open("/dev/null", 0, 0, 0),
                    Spawner.Action.open(out.toString(), 1, 01 | 0100 | 01000, 0600),
                    Spawner.Action.dup(1, 2),
                    Spawner.Action.dup(pipe[1], 7));
            long pid = spawner.spawnp("/bin/sh", actions, Spawner.SETSIGMASK,
                    List.of("/bin/sh", "-c", "ls /proc/self/fd; readlink /proc/self/fd/0"), List.of());
            assertTrue(pid > 0, () -> Native.strerror((int) -pid));
            assertEquals(0, exitCode(pid));
            List<String> lines = Files.readAllLines(out);
            assertEquals("/dev/null", lines.get(lines.size() - 1));
            List<String> fds = lines.subList(0, lines.size() - 1);
            assertTrue(fds.contains("7"), "the dup'd pipe is open in the child: " + fds);
            assertTrue(pipe[1] == 7 || !fds.contains(Integer.toString(pipe[1])),
                    "the close-on-exec original is not: " + fds);
        } finally {
            c.close(pipe[0]);
            c.close(pipe[1]);
        }
    }

    @Test
    void aFailureIsItsErrorNumberAndNoChild() {
        long missing = spawner.spawnp("/nonexistent/program", List.of(), Spawner.SETSIGMASK,
                List.of("/nonexistent/program"), List.of());
        assertEquals("No such file or directory", Native.strerror((int) -missing));
        // A file action that cannot be added (a bad descriptor) fails the spawn; it never runs without it.
        long bad = spawner.spawnp("/bin/true", List.of(Spawner.Action.dup(-1, 3)), Spawner.SETSIGMASK,
                List.of("/bin/true"), List.of());
        assertEquals("Bad file descriptor", Native.strerror((int) -bad));
    }

    @Test
    void stringsLargerThanTheBufferGrowIt() throws IOException {
        String big = "x".repeat(100_000);
        Run r = run(List.of("BIG=" + big), "/bin/sh", "-c", "printf %s \"${#BIG}:$1\"", "sh", big.substring(0, 10));
        assertEquals(new Run(0, "100000:xxxxxxxxxx"), r);
    }
}
