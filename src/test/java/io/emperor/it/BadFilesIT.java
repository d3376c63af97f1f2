package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

    /**
     * Values a tenant chose reach the emperor's own lines (the name in every lifecycle line and
     * tag, an exec or chdir quoted by a spawn failure): their CR, LF, ESC, BEL and C1 controls are
     * escaped, so the log holds no forged line and no terminal escape. A file NAME with a newline
     * is not a vassal at all (VassalNames).
     */
    @Test
    void controlCharactersOfTenantValuesNeverForgeALineOrReachATerminal() throws Exception {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            String forged = "2026-01-01T00:00:00.000Z [emperor] forged: spawned pid=1";
            Workspace.write(ws.vassals.resolve("evil\n" + forged + ".ini"),
                    ("[vassal]\nexec = " + ws.exec("sleeps.sh") + "\n").getBytes(StandardCharsets.UTF_8));
            String c1 = "csi\u009b2J";
            ws.vassal(c1, "exec = " + ws.exec("sleeps.sh", "\u001b[31mred\rback", "%n"), "stop-timeout = 2");
            Path badExec = ws.vassal("badexec", "exec = " + ws.root.resolve("no\u001b]0;pwned\u0007\rprog"));
            Path badChdir = ws.vassal("badchdir", "exec = " + ws.exec("sleeps.sh"),
                    "chdir = " + ws.root.resolve("no\u001b[2Jdir\rx"));
            Path badValue = ws.vassal("badvalue", "exec = " + ws.exec("sleeps.sh"),
                    "env = \u001b]0;pwned\u0007\rX", "stop-signal = \u001b[2J\r" + forged);

            emp.awaitLog(lifecycle("csi\\xc2\\x9b2J", "spawned pid=\\d+"));
            emp.awaitLog(Lines.output("csi\\xc2\\x9b2J", q("sleeps.sh running pid=")));
            emp.awaitLog(lifecycle("badexec", "spawn failed: "));
            emp.awaitLog(lifecycle("badchdir", "spawn failed: "));
            emp.awaitLog(lifecycle("badvalue", "refused: " + q(badValue + ":3: env: expected KEY=VALUE: \"\\x1b]0;pwned\\x07\\x0dX\"")));
            emp.awaitLog(lifecycle("badvalue", "refused: " + q(badValue + ":4: stop-signal: ") + ".*"
                    + q("\\x1b[2J\\x0d" + forged)));

            byte[] raw = Files.readAllBytes(ws.root.resolve("emperor.log"));
            String text = new String(raw, StandardCharsets.UTF_8);
            for (char bad : new char[] {'\u001b', '\r', '\u0007', '\u009b'}) {
                assertEquals(-1, text.indexOf(bad), "no raw U+" + Integer.toHexString(bad) + " in the log:\n" + text);
            }
            for (String line : text.split("\n")) {
                assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\[.*"),
                        "every line is one of the emperor's: " + line);
                assertFalse(line.startsWith("2026-01-01T"), "a forged line: " + line);
            }
            assertEquals(0, emp.countLog(spawned("evil")), "a name with a newline is not a vassal");
            assertTrue(emp.countLog(lifecycle("badexec", "spawn failed: ")) + emp.countLog(lifecycle("badchdir", "spawn failed: ")) >= 2,
                    badExec + ", " + badChdir + ": the helper's reasons are lines too");
        }
    }
}
