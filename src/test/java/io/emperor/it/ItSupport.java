package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** What every *IT class shares: a fresh {@link Workspace} per test, and waits on running vassals. */
abstract class ItSupport {
    static final Duration WAIT = Poll.WAIT;

    @TempDir
    Path tmp;

    Workspace ws;

    @BeforeEach
    void createWorkspace() {
        ws = new Workspace(tmp);
    }

    /** An emperor on the workspace's vassal directory with these emperor.ini lines added. */
    EmperorProcess emperor(String... emperorIniLines) {
        String[] lines = new String[emperorIniLines.length + 1];
        lines[0] = "vassals = " + ws.vassals;
        System.arraycopy(emperorIniLines, 0, lines, 1, emperorIniLines.length);
        return EmperorProcess.start(ws, "--config", ws.emperorIni(lines).toString());
    }

    /**
     * Waits (from log line {@code from}) for vassal {@code name} to be spawned and to have said
     * that it runs ({@code ... running pid=N} or {@code ... ready pid=N}: the fixture was exec'd,
     * so the pid the emperor holds is the program's); the process as it is then.
     */
    static Proc awaitRunning(EmperorProcess emp, int from, String name) {
        LogLine spawned = emp.awaitLogFrom(from, Lines.spawned(name), WAIT);
        long pid = spawned.longGroup(1);
        emp.awaitLogFrom(from, Lines.output(name, "\\S+ (running|ready) pid=" + pid + "( |$)"), WAIT);
        Proc p = Procs.read(pid).orElseThrow(() -> new AssertionError(
                "pid " + pid + " of " + name + " is not in /proc\n" + emp.diagnostics()));
        assertTrue(p.isAlive(), () -> name + " is not running: " + p);
        return p;
    }

    /** Checks that {@code p} is a vassal the emperor started: its child, in a session of its own, running {@code argv}. */
    static void assertVassalProcess(EmperorProcess emp, Proc p, List<String> argv) {
        assertEquals(argv, p.cmdline(), () -> "command line of " + p);
        assertEquals(emp.pid(), p.ppid(), () -> "parent of " + p);
        assertEquals(p.pid(), p.session(), () -> "a vassal leads its own session (setsid): " + p);
        assertEquals(p.pid(), p.pgid(), () -> "a vassal leads its own process group: " + p);
    }

    /** Waits until the process is gone (exited; a zombie counts as gone). */
    static void awaitGone(Proc p, Duration timeout) {
        Poll.until("process " + p + " to be gone", timeout, () -> !p.isAlive());
    }

    /** Waits until a file has at least {@code n} lines; its lines. */
    static List<String> awaitLines(Path file, int n) {
        return Poll.until(n + " line(s) in " + file, WAIT, () -> {
            List<String> lines = Workspace.read(file).lines().toList();
            return lines.size() >= n ? java.util.Optional.of(lines) : java.util.Optional.empty();
        }, () -> "content: " + Workspace.read(file));
    }
}
