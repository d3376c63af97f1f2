package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.EmperorProcess.CliResult;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code emperor check} finds what a spawn would (issue 12 item 4): a missing or non-executable
 * program, a missing {@code chdir}, a missing {@code logto} directory, for the uid the vassal runs
 * as; {@code check --config} reads an emperor.ini as one.
 */
class CheckIT extends ItSupport {

    private CliResult check(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "check";
        System.arraycopy(args, 0, all, 1, args.length);
        return EmperorProcess.cli(ws.root, all);
    }

    private static void assertFails(CliResult r, String expected) {
        assertEquals(1, r.exitCode(), () -> "check exits 1: " + r);
        assertTrue(r.stderr().contains(expected), () -> "stderr names it (" + expected + "): " + r);
    }

    @Test
    void aMissingProgramIsAnErrorNamingIt() {
        Path missing = ws.root.resolve("no-such-program");
        Path v = ws.vassal("app", "exec = " + missing + " --serve");
        assertFails(check(v.toString()), v + ": exec " + missing + ": No such file or directory");
    }

    @Test
    void aBareNameIsLookedUpInThePathAndAMissingOneIsAnError() {
        Path found = ws.vassal("found", "exec = sleep 1");
        CliResult ok = check(found.toString());
        assertEquals(0, ok.exitCode(), () -> "sleep is in PATH: " + ok);
        Path v = ws.vassal("app", "exec = emperor-no-such-program-anywhere");
        assertFails(check(v.toString()), "exec emperor-no-such-program-anywhere: No such file or directory (not found in PATH=");
    }

    @Test
    void aProgramThatIsNotExecutableIsAnErrorNamingIt() throws Exception {
        Path script = ws.root.resolve("script.sh");
        Files.writeString(script, "#!/bin/sh\necho hi\n");
        TyrantSupport.chmod(script, "rw-r--r--");
        Path v = ws.vassal("app", "exec = " + script);
        assertFails(check(v.toString()), "exec " + script + ": Permission denied (not executable by ");
        TyrantSupport.chmod(script, "rwxr-xr-x");
        CliResult ok = check(v.toString());
        assertEquals(0, ok.exitCode(), () -> "executable now: " + ok);
    }

    @Test
    void aMissingChdirIsAnErrorNamingIt() {
        Path dir = ws.root.resolve("gone");
        Path v = ws.vassal("app", "exec = /bin/true", "chdir = " + dir);
        assertFails(check(v.toString()), "chdir " + dir + ": No such file or directory");
    }

    @Test
    void aMissingLogtoDirectoryIsAnErrorNamingIt() {
        Path dir = ws.root.resolve("no-logs");
        Path v = ws.vassal("app", "exec = /bin/true", "logto = " + dir + "/app.log");
        assertFails(check(v.toString()), "logto " + dir + "/app.log: directory " + dir + ": No such file or directory");
    }

    @Test
    void theUwsgiBinaryOfTheConfigIsTheProgramOfAUwsgiVassal() {
        Path v = ws.vassals.resolve("u.ini");
        Workspace.write(v, "[uwsgi]\nmaster = true\n");
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "uwsgi-binary = " + ws.root.resolve("no-uwsgi"));
        assertFails(check("--config", ini.toString(), v.toString()),
                v + ": uwsgi-binary: exec " + ws.root.resolve("no-uwsgi") + ": No such file or directory");
    }

    /** uWSGI on demand (issue 15): the socket-name file beside the vassal is read and judged as the emperor does. */
    @Test
    void theOnDemandSocketNameOfAUwsgiVassalIsChecked() {
        Path v = ws.vassals.resolve("u.ini");
        Workspace.write(v, "[uwsgi]\nmaster = true\n");
        Path name = ws.vassals.resolve("u.ini.socket");
        Workspace.write(name, "127.0.0.1:http\n");
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "on-demand-extension = .socket");
        assertFails(check("--config", ini.toString(), v.toString()),
                name + ":1: listen: the port must be a number from 1 to 65535: \"http\"");
    }

    /** As root, a vassal with {@code uid}: the program is judged with that user's rights, not root's. */
    @Test
    void aProgramTheVassalsUidCannotReachIsAnError() throws Exception {
        Assumptions.assumeTrue(TyrantSupport.isRoot(), "needs root: a vassal with uid = nobody");
        Path closed = Files.createDirectories(ws.root.resolve("closed"));
        TyrantSupport.chmod(closed, "rwx------");
        Path script = closed.resolve("run.sh");
        Files.writeString(script, "#!/bin/sh\n");
        TyrantSupport.chmod(script, "rwxr-xr-x");
        TyrantSupport.openUp(ws.root);
        Path asRoot = ws.vassal("asroot", "exec = " + script);
        CliResult ok = check(asRoot.toString());
        assertEquals(0, ok.exitCode(), () -> "root reaches it: " + ok);
        Path asNobody = ws.vassal("asnobody", "exec = " + script, "uid = nobody", "chdir = /");
        assertFails(check(asNobody.toString()), "exec " + script + ": Permission denied (directory " + closed
                + " is not searchable by uid 65534 (nobody)");
    }

    @Test
    void checkConfigReadsAnEmperorIniAndReportsFileLine() {
        // Line 1 is [emperor], line 2 vassals, line 3 the bad key, line 4 a line without =.
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "colour = blue", "tyrant");
        CliResult r = check("--config", ini.toString());
        assertFails(r, ini + ":3: colour: unknown key");
        Path bad = ws.emperorIni("vassals = " + ws.vassals, "just some words");
        assertFails(check("--config", bad.toString()), bad + ":3: expected KEY = VALUE, found: just some words");
        Path good = ws.emperorIni("vassals = " + ws.vassals);
        CliResult ok = check("--config", good.toString());
        assertEquals(0, ok.exitCode(), () -> "a valid emperor.ini: " + ok);
    }

    @Test
    void aLineWithoutEqualsInAVassalIsExpectedKeyValue() {
        Path v = ws.vassal("app", "exec = /bin/true", "stop timeout 5");
        assertFails(check(v.toString()), v + ":3: expected KEY = VALUE, found: stop timeout 5");
        assertTrue(!check(v.toString()).stderr().contains("unknown key"), "not an unknown key");
    }
}
