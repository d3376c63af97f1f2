package io.emperor.config;

import static io.emperor.config.ProblemLines.errors;
import static io.emperor.config.ProblemLines.warnings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EmperorConfigParserTest {
    @TempDir
    Path dir;

    private final EmperorConfigParser parser = new EmperorConfigParser("host1", Map.of("STATE", "/var/lib/emperor"));

    @Test
    void everyKey() throws IOException {
        Path file = write("emperor.ini", String.join("\n",
                "[emperor]",
                "vassals = /etc/emperor/vassals",
                "vassals = apps/",
                "vassals = $(STATE)/%h/../vassals",
                "log = logs/%n.log",
                "rescan = 2.5",
                "min-uptime = 1.5",
                "max-backoff = 120",
                ""));
        Parsed<EmperorConfig> parsed = parser.parse(file);
        assertEquals(List.of(), parsed.errors());
        assertEquals(List.of(), parsed.warnings());
        EmperorConfig config = parsed.value();
        assertEquals(file, config.source());
        assertEquals(List.of(Path.of("/etc/emperor/vassals"), dir.resolve("apps"), Path.of("/var/lib/emperor/vassals")),
                config.vassalDirs());
        assertEquals(dir.resolve("logs/emperor.log"), config.log());
        assertEquals(Duration.ofMillis(2500), config.rescan());
        assertEquals(Duration.ofMillis(1500), config.minUptime());
        assertEquals(Duration.ofMinutes(2), config.maxBackoff());
    }

    @Test
    void emptySectionGivesTheDefaults() throws IOException {
        Path file = write("emperor.ini", "[emperor]\n");
        EmperorConfig defaults = EmperorConfig.defaults();
        assertEquals(new EmperorConfig(file, defaults.vassalDirs(), null, defaults.rescan(), defaults.minUptime(),
                defaults.maxBackoff(), false, false), parser.parse(file).value());
    }

    @Test
    void uwsgiKeys() throws IOException {
        Path file = write("emperor.ini", String.join("\n", "[emperor]", "uwsgi-binary = bin/uwsgi",
                "vassal-set = processes=2", "vassal-set = plugins=python3", "vassals-include = %dcommon.ini",
                "vassals-include-before = defaults.ini", "required-heartbeat = 2.5", ""));
        Parsed<EmperorConfig> parsed = parser.parse(file);
        assertEquals(List.of(), parsed.errors());
        assertEquals(List.of(), parsed.warnings(), "repeatable keys are not warned about");
        EmperorConfig c = parsed.value();
        assertEquals(new UwsgiCommand(dir.resolve("bin/uwsgi").toString(), List.of("processes=2", "plugins=python3"),
                List.of(dir.resolve("defaults.ini")), List.of(dir.resolve("common.ini"))), c.uwsgi());
        assertEquals(Duration.ofMillis(2500), c.requiredHeartbeat());
        EmperorConfig d = parser.parse(write("d.ini", "[emperor]\nuwsgi-binary = uwsgi-core\n")).value();
        assertEquals(UwsgiCommand.of("uwsgi-core"), d.uwsgi(), "a bare name is searched in PATH");
        assertEquals(Duration.ofSeconds(30), d.requiredHeartbeat());
    }

    /** The uWSGI emperor.ini of the Plone training's kind, with every option the issue lists. */
    @Test
    void uwsgisEmperorIniIsMapped() throws IOException {
        Path file = write("emperor.ini", String.join("\n", "[uwsgi]",
                "emperor = %dvassals",
                "emperor-tyrant = true",
                "emperor-tyrant-nofollow = true",
                "emperor-freq = 3",
                "emperor-throttle = 1000",
                "emperor-max-throttle = 180000",
                "emperor-required-heartbeat = 40",
                "emperor-graceful-shutdown = true",
                "emperor-stats = 127.0.0.1:1717",
                "emperor-pidfile = /run/uwsgi/emperor.pid",
                "cap = setgid,setuid",
                "uid = www-data",
                "gid = www-data",
                "master = true",
                "workers = 2",
                "no-orphans = true",
                "log-date = true",
                "logto = %demperor.log",
                "autoload = true",
                "vassals-include = %dcommon.ini",
                "vassal-set = processes=2",
                ""));
        Parsed<EmperorConfig> parsed = parser.parse(file);
        assertEquals(List.of(), parsed.errors());
        EmperorConfig c = parsed.value();
        assertEquals(List.of(dir.resolve("vassals")), c.vassalDirs());
        assertTrue(c.tyrant());
        assertTrue(c.nofollow());
        assertEquals(Duration.ofSeconds(3), c.rescan());
        assertEquals(Duration.ofSeconds(40), c.requiredHeartbeat());
        assertEquals(dir.resolve("emperor.log"), c.log());
        assertEquals(new UwsgiCommand("uwsgi", List.of("processes=2"), List.of(), List.of(dir.resolve("common.ini"))), c.uwsgi());
        List<String> warnings = parsed.warnings().stream().map(Problem::toString).toList();
        assertEquals("127.0.0.1:1717", c.control().stats());
        assertEquals(9, warnings.size(), warnings.toString());
        // uid, gid and cap keep their meaning: whom the emperor becomes once its sockets are open.
        assertEquals(new DropSettings(file, new DropSettings.Named("www-data", 13), new DropSettings.Named("www-data", 14),
                new DropSettings.Named("setgid,setuid", 12), List.of(6, 7)), c.drop());
        assertTrue(warnings.contains(file + ":6: emperor-throttle: uWSGI option ignored: the emperor backs off per vassal,"
                + " exponentially (min-uptime, max-backoff)"), warnings.toString());
    }

    @Test
    void uidGidAndCapInTheEmperorSection() throws IOException {
        Path file = write("emperor.ini", "[emperor]\nuid = 33\ncap = CAP_SETUID, setgid,Kill,setuid\n");
        EmperorConfig c = parser.parse(file).value();
        assertEquals(new DropSettings(file, new DropSettings.Named("33", 2), null,
                new DropSettings.Named("CAP_SETUID, setgid,Kill,setuid", 3), List.of(7, 6, 5)), c.drop());
        assertEquals("CAP_NET_BIND_SERVICE", DropSettings.capName(10));
        assertEquals(DropSettings.NONE, parser.parse(write("none.ini", "[emperor]\n")).value().drop());
    }

    @Test
    void anUnknownCapabilityIsAnErrorWithItsLine() throws IOException {
        Path file = write("emperor.ini", "[uwsgi]\nemperor = /v\nuid = www-data\ncap = setgid,setuid,fly\n");
        assertEquals(List.of(file + ":4: cap: unknown capability \"fly\" (names as in capabilities(7), without CAP_:"
                + " setuid, setgid, kill, net_bind_service…)"), errors(parser.parse(file)));
    }

    /** Options that are always so here are warnings; a non-file imperial monitor is an error naming it. */
    @Test
    void aUwsgiEmperorIniWithAlwaysSoOptionsOrAnImperialMonitor() throws IOException {
        Path file = write("emperor.ini", "[uwsgi]\nemperor = /v\nemperor-tyrant-initgroups = true\n"
                + "emperor-subreaper = true\nearly-emperor = true\nemperor-no-blacklist = true\n");
        Parsed<EmperorConfig> parsed = parser.parse(file);
        assertTrue(parsed.isOk(), () -> parsed.errors().toString());
        assertEquals(4, parsed.warnings().size(), () -> parsed.warnings().toString());
        assertTrue(parsed.warnings().get(0).toString().startsWith(file + ":3: emperor-tyrant-initgroups: uWSGI option"
                + " ignored: always so"), () -> parsed.warnings().toString());
        for (String monitor : List.of("pg://dbname=emperor", "mongodb://127.0.0.1:27017,emperor.vassals",
                "amqp://127.0.0.1", "zmq://tcp://127.0.0.1:5252")) {
            Path m = write("m.ini", "[uwsgi]\nemperor = " + monitor + "\n");
            assertEquals(List.of(m + ":2: emperor: the imperial monitor " + monitor.substring(0, monitor.indexOf("://") + 3)
                    + " is not supported: vassals come from directories (a path, dir:// or glob://)"),
                    parser.parse(m).errors().stream().map(Problem::toString).toList());
        }
    }

    @Test
    void aUwsgiEmperorIniWithAnUnknownOptionOrAGlob() throws IOException {
        Path file = write("emperor.ini", "[uwsgi]\nemperor = /etc/uwsgi/vassals/*.ini\nhttp-socket = :8080\n");
        Parsed<EmperorConfig> parsed = parser.parse(file);
        assertEquals(List.of(file + ":3: http-socket: unknown uWSGI emperor option (see docs/migrating-from-uwsgi.md)"),
                parsed.errors().stream().map(Problem::toString).toList());
        assertEquals(List.of(file + ":2: emperor: a glob is not supported: watching the directory /etc/uwsgi/vassals"
                + " (every NAME.ini in it is a vassal)"), parsed.warnings().stream().map(Problem::toString).toList());
    }

    @Test
    void emptyLogMeansStderr() throws IOException {
        assertNull(parser.parse(write("e.ini", "[emperor]\nlog = /var/log/e.log\nlog =\n")).value().log());
    }

    @Test
    void pathsAreRelativeToTheConfigFileDirectory() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("etc/emperor"));
        Path file = Files.writeString(sub.resolve("emperor.ini"), "[emperor]\nvassals = ../vassals\nlog = %dlog/x.log\n");
        EmperorConfig config = parser.parse(file).value();
        assertEquals(List.of(dir.resolve("etc/vassals")), config.vassalDirs());
        assertEquals(sub.resolve("log/x.log"), config.log());
    }

    @Test
    void repeatedVassalDirIsWarnedAndDropped() throws IOException {
        Path file = write("e.ini", "[emperor]\nvassals = /a\nvassals = /b/../a\n");
        Parsed<EmperorConfig> parsed = parser.parse(file);
        assertEquals(List.of(Path.of("/a")), parsed.value().vassalDirs());
        assertEquals(List.of(file + ":3: vassals: /a is already listed; the repeat is ignored"), warnings(parsed));
    }

    /** The line under test is line 2. */
    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("rescan = 0", "rescan: must be greater than 0 and at most 86400 seconds: \"0\""),
                Arguments.of("rescan = often", "rescan: not a number of seconds greater than 0 and at most 86400 "
                        + "(e.g. 30 or 0.5): \"often\""),
                Arguments.of("min-uptime = -1", "min-uptime: not a number of seconds at least 1 and at most 86400 "
                        + "(e.g. 30 or 0.5): \"-1\""),
                Arguments.of("min-uptime = 0", "min-uptime: must be at least 1 and at most 86400 seconds: \"0\""),
                Arguments.of("max-backoff = 0.5", "max-backoff: must be at least 1 and at most 86400 seconds: \"0.5\""),
                Arguments.of("vassals", "vassals: needs a path"),
                Arguments.of("vassals = %(x)", "vassals: %(x): no such key"),
                Arguments.of("uwsgi-bin = /usr/bin/uwsgi", "uwsgi-bin: unknown key "
                        + "(known keys: vassals, log, rescan, min-uptime, max-backoff, tyrant, nofollow, "
                        + "required-heartbeat, uwsgi-binary, vassal-set, vassals-include, vassals-include-before, log-format, vassal-logs, "
                        + "vassal-log-maxsize, vassal-log-backups, log-maxsize, log-backups, control, stats, env, "
                        + "tenant-max-vassals, tenant-max-bytes, tenant-max-total-bytes, tenant-listen, uid, gid, cap, etcd, etcd-prefix, node, etcd-ttl, etcd-cacert, "
                        + "etcd-cert, etcd-key, etcd-user, etcd-password-file, on-demand-extension, on-demand-directory)"),
                Arguments.of("uid =", "uid: needs a user name or uid"),
                Arguments.of("gid = www-data", "gid: needs uid: the emperor becomes a user (uid) with a group (gid)"),
                Arguments.of("cap = setuid", "cap: needs uid: the capabilities are what the emperor keeps once it"
                        + " becomes that user"),
                Arguments.of("stats = localhost", "stats: expected HOST:PORT, :PORT or a unix socket path (with a /): \"localhost\""),
                Arguments.of("stats = :99999", "stats: the port must be a number from 0 to 65535: \":99999\""),
                Arguments.of("control = /" + "x".repeat(120), "control: a unix socket path is at most 107 bytes long: /"
                        + "x".repeat(120)),
                Arguments.of("required-heartbeat = 0", "required-heartbeat: must be greater than 0 and at most 86400 seconds: \"0\""),
                Arguments.of("vassal-set = nokey", "vassal-set: expected KEY=VALUE: \"nokey\""),
                Arguments.of("uwsgi-binary =", "uwsgi-binary: needs a program name or path"),
                Arguments.of("env = LANG", "env: expected KEY=VALUE: \"LANG\""),
                Arguments.of("env = LD_PRELOAD=/tmp/x.so", "env: only LANG, LANGUAGE and LC_* may be set here (every"
                        + " vassal, a tenant's too, gets them): \"LD_PRELOAD\""),
                Arguments.of("tenant-max-vassals = 0", "tenant-max-vassals: expected a whole number from 1 to 100000:"
                        + " \"0\""),
                Arguments.of("tenant-max-bytes = 1k", "tenant-max-bytes: at least 3072 (what one file costs): \"1k\""),
                Arguments.of("tenant-max-bytes = lots", "tenant-max-bytes: expected bytes, or a number with k, M or G:"
                        + " \"lots\""),
                Arguments.of("tenant-max-total-bytes = 1M", "tenant-max-total-bytes: at least tenant-max-bytes (4194304):"
                        + " \"1M\""),
                Arguments.of("tenant-listen = localhost:*", "tenant-listen: HOST must be *, an IP address or [IPV6];"
                        + " no name is resolved: \"localhost:*\""),
                Arguments.of("tenant-listen = 127.0.0.1:9000-8000", "tenant-listen: ports are from 1 to 65535, LOW not"
                        + " above HIGH: \"127.0.0.1:9000-8000\""),
                Arguments.of("tenant-listen = *:http", "tenant-listen: PORTS must be *, a port or LOW-HIGH: \"*:http\""),
                Arguments.of("tenant-listen = unix:run/*.sock", "tenant-listen: a unix pattern needs an absolute path glob"
                        + " (unix:/run/tenants/*/*.sock): \"unix:run/*.sock\""),
                Arguments.of("tenant-listen =", "tenant-listen: needs at least one pattern (HOST:PORTS or unix:GLOB)"),
                Arguments.of("env = PATH=/opt/bin", "env: only LANG, LANGUAGE and LC_* may be set here (every"
                        + " vassal, a tenant's too, gets them): \"PATH\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void rejects(String line, String message) throws IOException {
        Path file = write("emperor.ini", "[emperor]\n" + line + "\n");
        assertEquals(List.of(file + ":2: " + message), errors(parser.parse(file)));
    }

    @Test
    void theTenantBudgetHasDefaultsAndItsThreeKeys() throws IOException {
        assertEquals(new TenantBudget(200, 4L << 20, 16L << 20),
                parser.parse(write("emperor.ini", "[emperor]\n")).value().tenantBudget());
        Parsed<EmperorConfig> parsed = parser.parse(write("emperor.ini",
                "[emperor]\ntenant-max-vassals = 50\ntenant-max-bytes = 1M\ntenant-max-total-bytes = 64M\n"));
        assertEquals(List.of(), parsed.errors());
        assertEquals(new TenantBudget(50, 1L << 20, 64L << 20), parsed.value().tenantBudget());
        assertEquals(new TenantBudget(200, 32L << 20, 32L << 20), parser.parse(write("emperor.ini",
                "[emperor]\ntenant-max-bytes = 32M\n")).value().tenantBudget(),
                "the default total is at least an owner's");
    }

    @Test
    void tenantListenIsPartOfTheTenantsBudget() throws IOException {
        assertEquals(TenantListen.ANY, parser.parse(write("emperor.ini", "[emperor]\n")).value().tenantBudget().listen());
        Parsed<EmperorConfig> parsed = parser.parse(write("emperor.ini",
                "[emperor]\ntenant-listen = 127.0.0.1:*  *:8000-8999 [::1]:8080 unix:/run/tenants/**\n"));
        assertEquals(List.of(), parsed.errors());
        assertEquals(List.of("127.0.0.1:*", "*:8000-8999", "[::1]:8080", "unix:/run/tenants/**"),
                parsed.value().tenantBudget().listen().patterns());
    }

    @Test
    void envGivesTheVassalsALocale() throws IOException {
        Path file = write("emperor.ini", "[emperor]\nenv = LANG=C.UTF-8\nenv = LANGUAGE=en\nenv = LC_ALL=C\n"
                + "env = LC_TIME=de_DE.UTF-8\n");
        Parsed<EmperorConfig> parsed = parser.parse(file);
        assertEquals(List.of(), parsed.errors());
        assertEquals(List.of(), parsed.warnings(), "env is repeatable");
        assertEquals(Map.of("LANG", "C.UTF-8", "LANGUAGE", "en", "LC_ALL", "C", "LC_TIME", "de_DE.UTF-8"),
                parsed.value().locale());
        assertEquals(Map.of(), parser.parse(write("emperor.ini", "[emperor]\n")).value().locale());
    }

    @Test
    void controlAndStats() throws IOException {
        EmperorConfig defaults = parser.parse(write("emperor.ini", "[emperor]\n")).value();
        assertEquals(new ControlSettings(Path.of("/run/emperor/control.sock"), false, null), defaults.control());
        EmperorConfig set = parser.parse(write("emperor.ini", "[emperor]\ncontrol = run/c.sock\nstats = :1717\n")).value();
        assertEquals(new ControlSettings(dir.resolve("run/c.sock"), true, ":1717"), set.control());
        EmperorConfig none = parser.parse(write("emperor.ini", "[emperor]\ncontrol =\nstats = %d/stats.sock\n")).value();
        assertEquals(new ControlSettings(null, true, dir.resolve("stats.sock").toString()), none.control());
    }

    @Test
    void missingSection() throws IOException {
        // (a [uwsgi] section is uWSGI's emperor.ini: see uwsgisEmperorIniIsMapped)
        Path file = write("emperor.ini", "[other]\nemperor = /etc/uwsgi/vassals\n");
        assertEquals(List.of(file + ": no [emperor] section"), errors(parser.parse(file)));
    }

    @Test
    void otherSectionsAreIgnoredWithAWarning() throws IOException {
        Path file = write("emperor.ini", "[emperor]\nrescan = 5\n[logging]\nlevel = debug\n");
        Parsed<EmperorConfig> parsed = parser.parse(file);
        assertEquals(Duration.ofSeconds(5), parsed.value().rescan());
        assertEquals(List.of(file + ":3: section [logging] is ignored"), warnings(parsed));
    }

    @Test
    void repeatedSingleKeyLastWins() throws IOException {
        Path file = write("emperor.ini", "[emperor]\nrescan = 5\nrescan = 7\n");
        Parsed<EmperorConfig> parsed = parser.parse(file);
        assertEquals(Duration.ofSeconds(7), parsed.value().rescan());
        assertEquals(List.of(file + ":2: rescan is given 2 times; the last one (line 3) wins"), warnings(parsed));
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("nope.ini");
        assertEquals(List.of(file + ": cannot read: No such file or directory"), errors(parser.parse(file)));
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
