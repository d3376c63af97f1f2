package io.emperor.config;

import static io.emperor.config.ProblemLines.errors;
import static io.emperor.config.ProblemLines.warnings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.source.dir.VassalReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class VassalParserTest {
    private static final String KNOWN = "known keys: exec, chdir, env, umask, uid, gid, logto, daemonize, "
            + "stop-signal, stop-timeout, reload, reload-signal, rlimit-nofile, rlimit-nproc, rlimit-core, log-tag, "
            + "requires, after, ready, ready-timeout, watchdog, listen, listen-mode, listen-backlog, listen-names, on-demand";

    @TempDir
    Path dir;

    private final VassalParser parser = new VassalParser(FakeUserDb.standard(), "host1",
            Map.of("PORT", "8080", "HOME", "/root"));

    @Test
    void minimalVassalGetsTheDefaults() throws IOException {
        VassalSpec spec = ok("app.ini", "[vassal]\nexec = /usr/bin/app --port 8080\n");
        assertEquals("app", spec.name());
        assertEquals(dir.resolve("app.ini"), spec.file());
        assertEquals(VassalSpec.Kind.PROGRAM, spec.kind());
        assertEquals(List.of("/usr/bin/app", "--port", "8080"), spec.argv());
        assertEquals(dir, spec.chdir());
        assertEquals(List.of(), spec.env());
        assertEquals(0022, spec.umask());
        assertNull(spec.user());
        assertEquals(-1, spec.uid());
        assertEquals(-1, spec.gid());
        assertNull(spec.logto());
        assertEquals(15, spec.stopSignal());
        assertEquals(Duration.ofSeconds(30), spec.stopTimeout());
        assertEquals(ReloadMode.SIGNAL, spec.reload());
        assertEquals(1, spec.reloadSignal());
        assertEquals(List.of(), spec.rlimits());
    }

    @Test
    void everyKey() throws IOException {
        VassalSpec spec = ok("web.ini", String.join("\n",
                "; a web app",
                "[vassal]",
                "exec = %dbin/web --port $(PORT) --name '%n on %h'",
                "chdir = srv/%n",
                "env = A=1",
                "env = B=a=b",
                "env = EMPTY=",
                "umask = 0027",
                "uid = alice",
                "gid = www-data",
                "logto = /var/log/%n.log",
                "stop-signal = SIGQUIT",
                "stop-timeout = 2.5",
                "reload = restart",
                "rlimit-core = unlimited",
                "rlimit-nofile = 1024:4096",
                "rlimit-nproc = 100",
                ""));
        assertEquals(List.of(dir + "/bin/web", "--port", "8080", "--name", "web on host1"), spec.argv());
        assertEquals(dir.resolve("srv/web"), spec.chdir());
        assertEquals(List.of("A=1", "B=a=b", "EMPTY="), spec.env());
        assertEquals(0027, spec.umask());
        assertEquals("alice", spec.user());
        assertEquals(1000, spec.uid());
        assertEquals(33, spec.gid());
        assertEquals(Path.of("/var/log/web.log"), spec.logto());
        assertEquals(3, spec.stopSignal());
        assertEquals(Duration.ofMillis(2500), spec.stopTimeout());
        assertEquals(ReloadMode.RESTART, spec.reload());
        assertEquals(List.of(
                new Rlimit(Rlimit.Resource.CORE, Rlimit.UNLIMITED, Rlimit.UNLIMITED),
                new Rlimit(Rlimit.Resource.NOFILE, 1024, 4096),
                new Rlimit(Rlimit.Resource.NPROC, 100, 100)), spec.rlimits());
    }

    static Stream<Arguments> validValues() {
        return Stream.of(
                Arguments.of("chdir = /srv/../opt/./app", "chdir", "/opt/app"),
                Arguments.of("logto = logs/%n.log", "logto", "DIR/logs/v.log"),
                Arguments.of("daemonize = /tmp/v.log", "logto", "/tmp/v.log"),
                Arguments.of("reload-signal = USR1", "reloadSignal", "10"),
                Arguments.of("reload-signal = 12", "reloadSignal", "12"),
                Arguments.of("stop-signal = int", "stopSignal", "2"),
                Arguments.of("stop-timeout = 86400", "stopTimeout", "PT24H"),
                Arguments.of("stop-timeout = 0.001", "stopTimeout", "PT0.001S"),
                Arguments.of("reload = signal", "reload", "SIGNAL"),
                Arguments.of("umask = 0", "umask", "0"),
                Arguments.of("umask = 777", "umask", "511"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validValues")
    void acceptsValue(String line, String component, String expected) throws Exception {
        VassalSpec spec = ok("v.ini", "[vassal]\nexec = x\n" + line + "\n");
        Object value = VassalSpec.class.getMethod(component).invoke(spec);
        assertEquals(expected.replace("DIR", dir.toString()), String.valueOf(value));
    }

    /** The line under test is line 3. */
    static Stream<Arguments> invalidValues() {
        return Stream.of(
                Arguments.of("exec = app 'unclosed", "exec: the single quote at character 5 is never closed"),
                Arguments.of("exec = ", "exec: no program given"),
                Arguments.of("exec = app \\", "exec: ends with a backslash that escapes nothing"),
                Arguments.of("chdir", "chdir: needs a path"),
                Arguments.of("env = NOEQUALS", "env: expected KEY=VALUE: \"NOEQUALS\""),
                Arguments.of("env = =x", "env: the variable name before = is empty: \"=x\""),
                Arguments.of("env = A B=1", "env: the variable name must not contain spaces "
                        + "(write KEY=VALUE, no spaces around =): \"A B=1\""),
                Arguments.of("umask = 999", "umask: not an octal umask from 000 to 777 (e.g. 022): \"999\""),
                Arguments.of("umask = 1000", "umask: not an octal umask from 000 to 777 (e.g. 022): \"1000\""),
                Arguments.of("uid = mallory", "uid: no such user: \"mallory\""),
                Arguments.of("uid", "uid: needs a user name or uid"),
                Arguments.of("uid = 4242", "uid: uid 4242 has no passwd entry: set gid too"),
                Arguments.of("gid = wheel", "gid: no such group: \"wheel\""),
                Arguments.of("gid", "gid: needs a group name or gid"),
                Arguments.of("logto", "logto: needs a path"),
                Arguments.of("daemonize = ", "daemonize: needs a path"),
                Arguments.of("stop-signal = SIGFOO", "stop-signal: not a signal name or number (e.g. TERM, SIGINT, 15): \"SIGFOO\""),
                Arguments.of("stop-signal = 0", "stop-signal: not a signal name or number (e.g. TERM, SIGINT, 15): \"0\""),
                Arguments.of("reload-signal = 65", "reload-signal: not a signal name or number (e.g. TERM, SIGINT, 15): \"65\""),
                Arguments.of("stop-timeout = 0", "stop-timeout: must be greater than 0 and at most 86400 seconds: \"0\""),
                Arguments.of("stop-timeout = 86401", "stop-timeout: must be greater than 0 and at most 86400 seconds: \"86401\""),
                Arguments.of("stop-timeout = 10s", "stop-timeout: not a number of seconds greater than 0 and at most 86400 "
                        + "(e.g. 30 or 0.5): \"10s\""),
                Arguments.of("reload = graceful", "reload: must be signal or restart: \"graceful\""),
                Arguments.of("reload = Restart", "reload: must be signal or restart: \"Restart\""),
                Arguments.of("rlimit-nofile = many", "rlimit-nofile: expected N, SOFT:HARD or unlimited: \"many\""),
                Arguments.of("rlimit-nproc = 10:5", "rlimit-nproc: the soft limit 10 is above the hard limit 5: \"10:5\""),
                Arguments.of("rlimit-core = unlimited:0", "rlimit-core: the soft limit unlimited is above the hard limit 0: \"unlimited:0\""),
                Arguments.of("colour = blue", "colour: unknown key (" + KNOWN + ")"),
                Arguments.of("Exec = x", "Exec: unknown key (" + KNOWN + ")"),
                Arguments.of("socket = :3031", "socket: unknown key (" + KNOWN + ")"),
                Arguments.of("chdir = %(nope)", "chdir: %(nope): no such key"),
                Arguments.of("logto = /var/log/%Y.log", "logto: unknown magic variable %Y (write %% for a literal %)"),
                Arguments.of("env = X=$(NOT_SET)", "env: $(NOT_SET): environment variable is not set"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidValues")
    void rejectsValueWithFileLineKeyMessage(String line, String message) throws IOException {
        Path file = write("v.ini", "[vassal]\nexec = x\n" + line + "\n");
        Parsed<VassalSpec> parsed = VassalFiles.parse(parser, file);
        assertEquals(List.of(file + ":3: " + message), errors(parsed));
        assertNull(parsed.value());
    }

    @Test
    void missingExec() throws IOException {
        Path file = write("v.ini", "[vassal]\nchdir = /tmp\n");
        assertEquals(List.of(file + ": exec is required"), errors(VassalFiles.parse(parser, file)));
    }

    @Test
    void execWhoseMagicFailsIsNotAlsoMissing() throws IOException {
        Path file = write("v.ini", "[vassal]\nexec = $(NOPE)\n");
        assertEquals(List.of(file + ":2: exec: $(NOPE): environment variable is not set"), errors(VassalFiles.parse(parser, file)));
    }

    @Test
    void aLineWithoutEqualsIsExpectedKeyValueUnlessAKnownKey() throws IOException {
        Path file = write("v.ini", "[vassal]\nexec = /bin/true\nstop timeout 5\n");
        assertEquals(List.of(file + ":3: expected KEY = VALUE, found: stop timeout 5"), errors(VassalFiles.parse(parser, file)));
        Path known = write("k.ini", "[vassal]\nexec = /bin/true\nlog-tag\n");
        assertEquals(List.of(), errors(VassalFiles.parse(parser, known)), "a known key alone is that key, empty, as uWSGI reads it");
    }

    @Test
    void collectsEveryProblem() throws IOException {
        Path file = write("v.ini", "[vassal]\numask = 8\nuid = nobody-here\n[vassal\nstop-signal = X\nfoo\n");
        assertEquals(List.of(
                file + ": exec is required",
                file + ":2: umask: not an octal umask from 000 to 777 (e.g. 022): \"8\"",
                file + ":3: uid: no such user: \"nobody-here\"",
                file + ":4: section header must end with ]",
                file + ":5: stop-signal: not a signal name or number (e.g. TERM, SIGINT, 15): \"X\"",
                file + ":6: expected KEY = VALUE, found: foo"),
                errors(VassalFiles.parse(parser, file)));
    }

    static Stream<Arguments> identities() {
        return Stream.of(
                // uid, gid lines -> user, uid, gid
                Arguments.of("uid = alice", "alice", 1000, 1000),
                Arguments.of("uid = bob", "bob", 1001, 100),
                Arguments.of("uid = bob\ngid = www-data", "bob", 1001, 33),
                Arguments.of("uid = bob\ngid = 5", "bob", 1001, 5),
                Arguments.of("uid = 1001", "bob", 1001, 100),
                Arguments.of("uid = 4242\ngid = 4242", null, 4242, 4242),
                Arguments.of("uid = 4242\ngid = users", null, 4242, 100),
                Arguments.of("gid = users", null, -1, 100),
                Arguments.of("uid = 0\ngid = 0", null, 0, 0),
                Arguments.of("", null, -1, -1));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("identities")
    void resolvesUidAndGid(String lines, String user, int uid, int gid) throws IOException {
        VassalSpec spec = ok("v.ini", "[vassal]\nexec = x\n" + lines + "\n");
        assertEquals(user, spec.user());
        assertEquals(uid, spec.uid());
        assertEquals(gid, spec.gid());
        // The passwd home is read with the file, so the spawn needs no lookup on the loop thread.
        assertEquals(user == null ? null : "/home/" + user, spec.home());
    }

    @Test
    void repeatedSingleKeyLastWinsWithWarning() throws IOException {
        Path file = write("v.ini", "[vassal]\nexec = a\numask = 077\nexec = b\numask = 027\numask = 007\n");
        Parsed<VassalSpec> parsed = VassalFiles.parse(parser, file);
        assertEquals(List.of("b"), parsed.value().argv());
        assertEquals(07, parsed.value().umask());
        assertEquals(List.of(
                file + ":2: exec is given 2 times; the last one (line 4) wins",
                file + ":3: umask is given 3 times; the last one (line 6) wins"), warnings(parsed));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "logto = a.log\\ndaemonize = b.log|b.log|logto and daemonize are the same setting, given 2 times; the last one (daemonize, line 4) wins",
        "daemonize = b.log\\nlogto = a.log|a.log|logto and daemonize are the same setting, given 2 times; the last one (logto, line 4) wins",
        "logto = a.log\\nlogto = c.log|c.log|logto is given 2 times; the last one (line 4) wins",
    })
    void logtoAndDaemonizeAreOneSetting(String lines, String logto, String warning) throws IOException {
        Path file = write("v.ini", "[vassal]\nexec = x\n" + lines.replace("\\n", "\n") + "\n");
        Parsed<VassalSpec> parsed = VassalFiles.parse(parser, file);
        assertEquals(dir.resolve(logto), parsed.value().logto());
        assertEquals(List.of(file + ":3: " + warning), warnings(parsed));
    }

    @Test
    void envAccumulatesInOrderWithoutWarning() throws IOException {
        Path file = write("v.ini", "[vassal]\nenv = B=2\nexec = x\nenv = A=1\nenv = B=3\n");
        Parsed<VassalSpec> parsed = VassalFiles.parse(parser, file);
        assertEquals(List.of("B=2", "A=1", "B=3"), parsed.value().env());
        assertEquals(List.of(), parsed.warnings());
    }

    @Test
    void unquotedShellOperatorIsAWarning() throws IOException {
        Path file = write("v.ini", "[vassal]\nexec = app > out.log\n");
        Parsed<VassalSpec> parsed = VassalFiles.parse(parser, file);
        assertEquals(List.of("app", ">", "out.log"), parsed.value().argv());
        assertEquals(List.of(file + ":2: exec: > is passed to the program as an argument: no shell is run"
                + " (quote it to silence this, or use exec = sh -c '...')"), warnings(parsed));
    }

    @Test
    void reloadSignalWithRestartIsAWarning() throws IOException {
        Path file = write("v.ini", "[vassal]\nexec = x\nreload-signal = USR1\nreload = restart\n");
        assertEquals(List.of(file + ":3: reload-signal: not used, because reload = restart (line 4)"),
                warnings(VassalFiles.parse(parser, file)));
    }

    @Test
    void vassalWinsOverUwsgiAndOtherSectionsAreIgnored() throws IOException {
        Path file = write("both.ini", "[uwsgi]\nsocket = :3031\n[vassal]\nexec = x\n[extra]\nk = %Y\n");
        Parsed<VassalSpec> parsed = VassalFiles.parse(parser, file);
        assertEquals(VassalSpec.Kind.PROGRAM, parsed.value().kind());
        assertEquals(List.of(file + ":1: section [uwsgi] is ignored", file + ":5: section [extra] is ignored"),
                warnings(parsed));
    }

    @Test
    void uwsgiFileIsOnlySyntaxChecked() throws IOException {
        Path file = write("legacy.app.ini", String.join("\n",
                "[uwsgi]",
                "socket = /run/%n.sock",
                "plugin = python3",
                "logto = /var/log/%Y-%m.log",
                "env = HOME=$(NOT_SET)",
                "master",
                "[other]",
                "x = y",
                ""));
        Parsed<VassalSpec> parsed = VassalFiles.parse(parser, file);
        assertEquals(List.of(), parsed.errors());
        assertEquals(List.of(), parsed.warnings());
        VassalSpec spec = parsed.value();
        assertEquals(new VassalSpec("legacy.app", file, VassalSpec.Kind.UWSGI, List.of(), dir, List.of(), 0022,
                null, -1, -1, null, 2, Duration.ofSeconds(30), ReloadMode.SIGNAL, 1, List.of(),
                new VassalSpec.Uwsgi(true, false)), spec); // "master" alone on its line is true
    }

    @Test
    void uwsgiMasterAndGracefulShutdownAreReadWithUwsgisBooleanRuleLastOneWins() throws IOException {
        Path file = write("u.ini", "[uwsgi]\nmaster = true\nmaster = off\ngraceful-shutdown = 1\n");
        assertEquals(new VassalSpec.Uwsgi(false, true), VassalFiles.parse(parser, file).value().uwsgi());
        Path plain = write("p.ini", "[uwsgi]\nhttp-socket = :8080\n");
        assertEquals(VassalSpec.Uwsgi.DEFAULTS, VassalFiles.parse(parser, plain).value().uwsgi(), "uWSGI 2.0: no master by default");
        assertTrue(VassalFiles.parse(parser, plain).value().isUwsgiWithoutMaster());
    }

    @Test
    void uwsgiFileWithBrokenSyntaxFails() throws IOException {
        Path file = write("u.ini", "[uwsgi]\nsocket = :3031\n= oops\n");
        assertEquals(List.of(file + ":3: missing key before ="), errors(VassalFiles.parse(parser, file)));
    }

    @Test
    void emptyFileHasNoSection() throws IOException {
        Path file = write("empty.ini", "");
        assertEquals(List.of(file + ": no [vassal] or [uwsgi] section"), errors(VassalFiles.parse(parser, file)));
    }

    @Test
    void fileWithOtherSectionsOnly() throws IOException {
        Path file = write("x.ini", "[Vassal]\nexec = x\n");
        assertEquals(List.of(file + ": no [vassal] or [uwsgi] section"), errors(VassalFiles.parse(parser, file)));
    }

    @Test
    void garbageFileFailsWithOneError() throws IOException {
        Path file = dir.resolve("garbage.ini");
        byte[] bytes = new byte[2048];
        new Random(7).nextBytes(bytes);
        Files.write(file, bytes);
        Parsed<VassalSpec> parsed = VassalFiles.parse(parser, file);
        assertFalse(parsed.isOk());
        assertEquals(1, parsed.errors().size(), parsed.errors().toString());
    }

    @Test
    void nulByteFails() throws IOException {
        Path file = dir.resolve("nul.ini");
        Files.write(file, "[vassal]\nexec = x\0\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of(file + ":2: contains a NUL byte"), errors(VassalFiles.parse(parser, file)));
    }

    @Test
    void hugeFileFails() throws IOException {
        Path file = dir.resolve("huge.ini");
        byte[] bytes = new byte[2 * IniReader.MAX_BYTES];
        Arrays.fill(bytes, (byte) '#');
        Files.write(file, bytes);
        assertEquals(List.of(file + ": file is larger than 1 MiB"), errors(VassalFiles.parse(parser, file)));
    }

    /** As the emperor reads a vassal file (OpenedFile): one that is gone is one error at line 0. */
    @Test
    void missingFileFails() {
        Path file = dir.resolve("gone.ini");
        assertEquals(List.of(file + ": cannot open: No such file or directory"), errors(
                VassalReader.read(file, true, VassalReader.Judge.NONE, parser)));
    }

    @Test
    void symlinkedFileIsNamedAndExpandedAfterTheLink() throws IOException {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path target = Files.writeString(real.resolve("target.ini"), "[vassal]\nexec = run %n %p\n");
        Path vassals = Files.createDirectories(dir.resolve("vassals"));
        Path link = Files.createSymbolicLink(vassals.resolve("web.ini"), target);
        VassalSpec spec = VassalFiles.parse(parser, link).value();
        assertEquals("web", spec.name());
        assertEquals(link, spec.file());
        assertEquals(vassals, spec.chdir());
        assertEquals(List.of("run", "web", link.toString()), spec.argv());
    }

    @Test
    void nameKeepsAnythingButIni() {
        assertEquals("app", VassalParser.nameOf(Path.of("/v/app.ini")));
        assertEquals("app.v2", VassalParser.nameOf(Path.of("/v/app.v2.ini")));
        assertEquals("app.conf", VassalParser.nameOf(Path.of("/v/app.conf")));
    }

    @Test
    void neverThrowsOnRandomText() throws IOException {
        Random random = new Random(1);
        String alphabet = "[]=;#%$()'\"\\ \t\nabcexecuidgid-";
        for (int round = 0; round < 300; round++) {
            StringBuilder text = new StringBuilder(random.nextBoolean() ? "[vassal]\n" : "");
            for (int i = random.nextInt(200); i > 0; i--) {
                text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            Parsed<VassalSpec> parsed = VassalFiles.parse(parser, write("r.ini", text.toString()));
            assertTrue(parsed.isOk() == (parsed.value() != null));
        }
    }

    private VassalSpec ok(String name, String text) throws IOException {
        Parsed<VassalSpec> parsed = VassalFiles.parse(parser, write(name, text));
        assertEquals(List.of(), errors(parsed));
        return parsed.value();
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
