package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.control.ClientErrors.Emperor;
import io.emperor.control.ClientErrors.Failure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client's "no control socket at PATH (the emperor logs why)" against "no emperor running". */
class ClientErrorsTest {
    static final Path SOCKET = Path.of("/run/emperor/control.sock");

    @TempDir
    Path dir;

    @Test
    void anEmperorThatShouldListenThereRunsWithoutItsSocket() {
        String m = ClientErrors.message(SOCKET, Failure.ABSENT, "x",
                List.of(new Emperor(4242, Optional.of(SOCKET))));
        assertEquals("no control socket at /run/emperor/control.sock (the emperor, pid 4242, runs without it: "
                + "its log says why, on the line 'no control socket: …')", m);
    }

    @Test
    void noEmperorAtAllIsNoEmperorRunning() {
        assertEquals("no emperor running (no control socket at /run/emperor/control.sock; see `control` in emperor.ini)",
                ClientErrors.message(SOCKET, Failure.ABSENT, "x", List.of()));
    }

    @Test
    void emperorsElsewhereAreNamedForAClientThatLookedInTheWrongPlace() {
        String m = ClientErrors.message(SOCKET, Failure.ABSENT, "x",
                List.of(new Emperor(7, Optional.of(Path.of("/home/a/.emperor-demo/control.sock"))),
                        new Emperor(8, Optional.empty())));
        assertTrue(m.startsWith("no emperor running (no control socket at /run/emperor/control.sock"), m);
        assertTrue(m.endsWith("; emperors running: pid 7 on /home/a/.emperor-demo/control.sock (use --socket PATH)"), m);
    }

    @Test
    void anEmperorWhoseSocketCannotBeToldMayBeTheOne() {
        String m = ClientErrors.message(SOCKET, Failure.ABSENT, "x", List.of(new Emperor(9, null)));
        assertTrue(m.startsWith("no control socket at /run/emperor/control.sock (an emperor runs, pid 9: "), m);
    }

    @Test
    void aStaleSocketIsNoEmperorRunning() {
        assertEquals("no emperor running on /run/emperor/control.sock (a socket left by one that stopped)",
                ClientErrors.message(SOCKET, Failure.REFUSED, "Connection refused", List.of()));
    }

    @Test
    void theSocketOfAnEmperorIsReadFromItsCommandLineAndConfig() throws IOException {
        String java = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
        assertEquals(Optional.of(new Emperor(1, Optional.of(SOCKET))),
                ClientErrors.describe(1, List.of(java, "-jar", "/usr/share/emperor/emperor.jar", "run"), null, Map.of(), 0));
        assertEquals(Optional.of(new Emperor(2, Optional.of(dir.resolve("c.sock")))),
                ClientErrors.describe(2, List.of(java, "-cp", "x", "io.emperor.cli.Main", "run", "--control", "c.sock"),
                        dir, Map.of(), 0));
        Files.writeString(dir.resolve("emperor.ini"), "[emperor]\ncontrol = $(HOME)/s/control.sock\n");
        assertEquals(Optional.of(new Emperor(3, Optional.of(Path.of("/home/alice/s/control.sock")))),
                ClientErrors.describe(3, List.of(java, "-jar", "emperor.jar", "run", "--config=emperor.ini"), dir,
                        Map.of("HOME", "/home/alice"), me()));
        assertEquals(Optional.of(new Emperor(4, null)),
                ClientErrors.describe(4, List.of(java, "-jar", "emperor.jar", "run", "--config", "emperor.ini"), null,
                        Map.of(), 0), "a relative config of a process whose cwd is not ours to read");
        assertEquals(Optional.empty(), ClientErrors.describe(5, List.of(java, "-jar", "emperor.jar", "status"), null,
                Map.of(), 0), "a client is not an emperor");
        assertEquals(Optional.empty(), ClientErrors.describe(6, List.of("timeout", "5", java, "-jar", "emperor.jar", "run"),
                null, Map.of(), 0), "a wrapper is not the emperor");
    }

    int me() throws IOException {
        return (Integer) Files.getAttribute(dir, "unix:uid");
    }

    /**
     * Any user may start a process naming any file as its emperor.ini, and the client may be root:
     * a FIFO is not opened for reading (no hang), a file of another owner than the process's (and
     * not root's) is not read.
     */
    @Test
    void aConfigNamedByAnyProcessIsReadOnlyWhenItIsARegularFileOfItsOwner() throws Exception {
        String java = "/usr/bin/java";
        Path fifo = dir.resolve("fifo.ini");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mk.waitFor());
        assertEquals(Optional.of(new Emperor(1, null)),
                ClientErrors.describe(1, List.of(java, "-jar", "emperor.jar", "run", "--config", fifo.toString()), null,
                        Map.of(), me()), "a FIFO: not known, and no hang");
        org.junit.jupiter.api.Assumptions.assumeTrue(me() == 0, "the owner rule needs root to chown");
        Path other = dir.resolve("other.ini");
        Files.writeString(other, "[emperor]\ncontrol = /tmp/leak.sock\n");
        Files.setAttribute(other, "unix:uid", 12345);
        assertEquals(Optional.of(new Emperor(2, null)),
                ClientErrors.describe(2, List.of(java, "-jar", "emperor.jar", "run", "--config", other.toString()), null,
                        Map.of(), 23456), "owned by neither the process's uid nor root: not read");
        assertEquals(Optional.of(new Emperor(3, Optional.of(Path.of("/tmp/leak.sock")))),
                ClientErrors.describe(3, List.of(java, "-jar", "emperor.jar", "run", "--config", other.toString()), null,
                        Map.of(), 12345), "the process owner's own file is read");
    }

    @Test
    void runningReadsProc() throws IOException {
        Path proc = dir.resolve("proc");
        Path p = Files.createDirectories(proc.resolve("123"));
        Files.write(p.resolve("cmdline"), "/usr/bin/java\0-jar\0emperor.jar\0run\0--control\0/tmp/x.sock\0"
                .getBytes(StandardCharsets.UTF_8));
        Files.createDirectories(proc.resolve("124"));
        Files.write(proc.resolve("124/cmdline"), "/bin/sleep\0100\0".getBytes(StandardCharsets.UTF_8));
        Files.createDirectories(proc.resolve("self"));
        assertEquals(List.of(new Emperor(123, Optional.of(Path.of("/tmp/x.sock")))), ClientErrors.running(proc));
    }
}
