package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.EmperorProcess.CliResult;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The command line as a user runs it: {@code emperor check}, {@code --version}, {@code --help}, a bad emperor.ini. */
class CommandLineIT extends ItSupport {

    @Test
    void checkExitsZeroForAValidFileAndOneWithFileLineMessageForABadOne() {
        Path good = ws.vassal("good", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
        // Line 1 is [vassal]; line 3 has an unknown key, line 4 an unknown magic variable.
        Path bad = ws.vassal("bad", "exec = /bin/true", "bogus = 1", "chdir = /tmp/%z");

        CliResult ok = EmperorProcess.cli(ws.root, "check", good.toString());
        assertEquals(0, ok.exitCode(), () -> "check of a valid file: " + ok);
        assertEquals("", ok.stderr(), "nothing to say about a valid file");

        CliResult ko = EmperorProcess.cli(ws.root, "check", good.toString(), bad.toString());
        assertEquals(1, ko.exitCode(), () -> "check of a bad file: " + ko);
        assertTrue(ko.stderr().lines().anyMatch(l -> l.startsWith(bad + ":3: bogus: unknown key")),
                () -> "file:line: message for the unknown key: " + ko.stderr());
        assertTrue(ko.stderr().lines().anyMatch(l -> l.startsWith(bad + ":4: ")),
                () -> "file:line: message for the unknown magic variable: " + ko.stderr());
        assertTrue(ko.stderr().lines().noneMatch(l -> l.startsWith(good.toString())),
                () -> "nothing about the good file: " + ko.stderr());
    }

    @Test
    void versionAndHelpExitZero() {
        CliResult version = EmperorProcess.cli(ws.root, "--version");
        assertEquals(0, version.exitCode(), () -> "--version: " + version);
        assertTrue(version.stdout().strip().matches("emperor \\S+"), () -> "--version prints 'emperor VERSION': " + version);

        CliResult help = EmperorProcess.cli(ws.root, "--help");
        assertEquals(0, help.exitCode(), () -> "--help: " + help);
        assertTrue(help.stdout().contains("Usage: emperor"), () -> "--help prints the usage: " + help);
        assertTrue(help.stdout().contains("run") && help.stdout().contains("check"), () -> "--help lists the commands: " + help);
    }

    @Test
    void runWithABadEmperorIniListsEveryProblemAndExitsOne() {
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "rescan = often", "colour = blue"); // lines 3 and 4
        CliResult r = EmperorProcess.cli(ws.root, "run", "--config", ini.toString());
        assertEquals(1, r.exitCode(), () -> "run with a bad emperor.ini: " + r);
        String all = r.stdout() + r.stderr();
        assertTrue(all.contains(ini + ":3: rescan: "), () -> "the bad rescan with file:line: " + r);
        assertTrue(all.contains(ini + ":4: colour: unknown key"), () -> "the unknown key with file:line: " + r);
    }
}
