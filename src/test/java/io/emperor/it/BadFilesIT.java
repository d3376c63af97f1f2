package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Broken vassal files: refused with file:line, never a crash, never a running vassal harmed. */
class BadFilesIT extends ItSupport {

    @Test
    void garbageEmptyAndUnknownKeyFilesAreRefusedAndTheOthersAreUntouched() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("good", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Proc good = awaitRunning(emp, from, "good");

            int bad = emp.mark();
            byte[] garbage = new byte[4096];
            new Random(20261129L).nextBytes(garbage);
            Path garbageFile = ws.vassals.resolve("garbage.ini");
            Workspace.write(garbageFile, garbage);
            Path emptyFile = ws.vassals.resolve("empty.ini");
            Workspace.write(emptyFile, new byte[0]);
            // Line 1 is [vassal]; the unknown key is on line 4.
            Path unknownFile = ws.vassal("unknown", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2", "bogus-key = 1");

            emp.awaitLog(lifecycle("garbage", "refused: " + q(garbageFile) + ":\\d+: (contains a NUL byte|not valid UTF-8 text)$"));
            emp.awaitLog(lifecycle("empty", "refused: " + q(emptyFile) + ": no \\[vassal\\] or \\[uwsgi\\] section$"));
            emp.awaitLog(lifecycle("unknown", "refused: " + q(unknownFile + ":4: bogus-key: unknown key")));

            assertTrue(emp.isAlive(), "the emperor is still up");
            assertTrue(good.isAlive(), "the good vassal keeps running: " + good);
            assertEquals(List.of(), emp.find(bad, lifecycle("good", "")).stream().map(LogLine::text).toList(),
                    "nothing happened to the good vassal");
            for (String name : List.of("garbage", "empty", "unknown")) {
                assertEquals(0, emp.countLog(spawned(name)), name + " was never started");
            }

            // Fixing the file starts it.
            int fixed = emp.mark();
            ws.vassal("unknown", "exec = " + ws.exec("sleeps.sh", "fixed"), "stop-timeout = 2");
            Proc p = awaitRunning(emp, fixed, "unknown");
            assertVassalProcess(emp, p, ws.argv("sleeps.sh", "fixed"));
            assertTrue(good.isAlive(), "the good vassal keeps running: " + good);
            assertEquals(1, emp.countLog(spawned("good")));
        }
    }

    @Test
    void editThatNoLongerParsesKeepsTheRunningVassalAndALaterValidEditReloadsIt() {
        try (EmperorProcess emp = emperor()) {
            Path record = ws.root.resolve("hups");
            String exec = "exec = " + ws.exec("trap-hup.sh", record.toString());
            int from = emp.mark();
            Path file = ws.vassal("app", exec, "stop-timeout = 2");
            Proc p = awaitRunning(emp, from, "app");

            int broken = emp.mark();
            ws.vassal("app", exec, "stop-timeout = soon"); // line 3
            emp.awaitLog(lifecycle("app", "refused: " + q(file + ":3: stop-timeout: ")));
            emp.awaitLog(lifecycle("app", q("kept running pid=" + p.pid() + " (last good version of the file)") + "$"));
            assertTrue(p.isAlive(), "still running: " + p);

            int repaired = emp.mark();
            ws.vassal("app", exec, "stop-timeout = 3");
            emp.awaitLog(lifecycle("app", q("reloading signal=HUP pid=" + p.pid()) + "$"));
            List<String> hups = awaitLines(record, 1);
            emp.awaitLog(Lines.output("app", q("trap-hup.sh: got HUP")));

            assertEquals(List.of("hup " + p.pid()), Workspace.read(record).lines().toList(),
                    "one HUP, for the valid edit; none for the broken one: " + hups);
            assertTrue(p.isAlive(), "the same process still runs: " + p);
            assertEquals(List.of(), emp.find(broken, lifecycle("app", "(spawned|stopping|restarting|exited|stopped)"))
                    .stream().map(LogLine::text).toList(), "never stopped or restarted");
            assertEquals(1, emp.find(repaired, lifecycle("app", "")).size(), "only the reload line after the repair");
        }
    }
}
