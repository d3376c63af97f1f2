package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The spawn server in a real emperor (docs/lifecycle.md, "How a vassal is started"): one
 * {@code emperor-exec --serve} child, its vassals the emperor's own children; it goes with a
 * {@code kill -9} of the emperor, and one killed by an operator is logged, replaced, and the
 * spawns go on.
 */
class SpawnServerIT extends ItSupport {

    /** The emperor's spawn server, once there is one. */
    private static Proc server(EmperorProcess emp) {
        return Poll.until("the spawn server of " + emp.pid(), WAIT, () -> {
            List<Proc> s = servers(emp);
            return s.size() == 1 ? java.util.Optional.of(s.get(0)) : java.util.Optional.empty();
        }, () -> Procs.describe(Procs.descendantsOf(emp.pid())));
    }

    private static List<Proc> servers(EmperorProcess emp) {
        return Procs.all().stream().filter(p -> p.ppid() == emp.pid() && p.state() != 'Z'
                && p.cmdline().size() > 1 && p.cmdline().get(1).equals("--serve")).toList();
    }

    @Test
    void vassalsAreTheEmperorsChildrenAndTheServerGoesWithAKillOfTheEmperor() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("a", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Proc a = awaitRunning(emp, from, "a");
            assertEquals(emp.pid(), a.ppid(), () -> "the emperor's child: " + a);
            assertEquals(a.pid(), a.session(), () -> "its own session: " + a);
            Proc server = server(emp);
            assertEquals(List.of("--serve", "3", Long.toString(emp.pid())), server.cmdline().subList(1, 4));
            emp.signal("KILL");
            emp.awaitExit(Duration.ofSeconds(60));
            awaitGone(server, WAIT);
            awaitGone(a, WAIT);
        }
    }

    @Test
    void aKilledServerIsLoggedReplacedAndSpawnsGoOn() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("a", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            awaitRunning(emp, from, "a");
            Proc first = server(emp);
            // Past the restart interval (1 s after its start), so that the next spawn starts a new one.
            Poll.until("the server older than the restart interval", WAIT, () -> ageSeconds(first) > 1.5);
            Procs.kill(first.pid(), "KILL");
            emp.awaitLogFrom(from, Lines.emperor("spawn server \\(pid " + first.pid()
                    + "\\): exited, killed by signal 9; spawning through posix_spawn until a new one starts"), WAIT);
            int next = emp.mark();
            ws.vassal("b", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Proc b = awaitRunning(emp, next, "b");
            assertEquals(emp.pid(), b.ppid(), () -> "the emperor's child: " + b);
            Proc second = server(emp);
            assertNotEquals(first.pid(), second.pid());
            assertTrue(first.startTime() <= second.startTime());
            long lines = emp.lines().stream().filter(l -> l.contains("spawn server")).count();
            assertEquals(1, lines, emp::diagnostics);
        }
    }

    /** Seconds since the process started (its start time in clock ticks since boot, against /proc/uptime). */
    private static double ageSeconds(Proc p) {
        try {
            double uptime = Double.parseDouble(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/uptime"))
                    .split(" ")[0]);
            return uptime - p.startTime() / 100.0;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
