package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.EmperorProcess.CliResult;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The client tells "no control socket at PATH (the emperor logs why)" from "no emperor running",
 * and an emperor that cannot create its control socket says how to fix it (issue 12 item 5).
 */
class ControlSocketIT extends ItSupport {

    private Path socket() {
        return ws.root.resolve("control.sock");
    }

    @Test
    void statusTellsAnEmperorWithoutItsSocketFromNoEmperor() throws Exception {
        long pid;
        try (EmperorProcess emp = emperor()) {
            pid = emp.pid();
            CliResult up = EmperorProcess.cli(ws.root, "status", "--socket", socket().toString());
            assertEquals(0, up.exitCode(), () -> "status of a running emperor: " + up);

            Files.delete(socket()); // someone cleaned the directory: the emperor runs on, unreachable
            CliResult gone = EmperorProcess.cli(ws.root, "status", "--socket", socket().toString());
            assertEquals(3, gone.exitCode(), () -> "unreachable: " + gone);
            assertTrue(gone.stderr().contains("no control socket at " + socket() + " (the emperor, pid " + pid
                    + ", runs without it: its log says why"), () -> "the emperor is named: " + gone);
        }
        CliResult none = EmperorProcess.cli(ws.root, "status", "--socket", socket().toString());
        assertEquals(3, none.exitCode(), () -> "no emperor: " + none);
        assertTrue(none.stderr().contains("no emperor running (no control socket at " + socket() + ";"),
                () -> "no emperor running: " + none);
        assertTrue(!none.stderr().contains("pid " + pid), () -> "the stopped emperor is not named: " + none);
    }

    @Test
    void aSecondEmperorOnTheSameSocketSaysWhoHasItAndHowToFixIt() {
        try (EmperorProcess first = emperor()) {
            Path ini = ws.emperorIni("vassals = " + ws.vassals, "control = " + socket());
            CliResult second = EmperorProcess.cli(ws.root, "run", "--config", ini.toString(), "--log",
                    ws.root.resolve("second.log").toString());
            assertEquals(1, second.exitCode(), () -> "a configured socket that cannot be made stops the start: " + second);
            assertTrue(second.stderr().contains("emperor: control = " + socket() + ": cannot create the control socket "
                    + socket() + ": another emperor is listening on " + socket() + "; fix: stop that emperor (emperor status"
                    + " --socket " + socket() + " shows its pid), or set control = another PATH in emperor.ini"),
                    () -> "one line: the path, the reason, the fix: " + second);
            assertTrue(first.isAlive(), "the first emperor runs on");
        }
    }
}
