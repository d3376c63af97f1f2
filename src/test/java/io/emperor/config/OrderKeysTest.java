package io.emperor.config;

import static io.emperor.config.ProblemLines.errors;
import static io.emperor.config.ProblemLines.warnings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The order and readiness keys of issue 17 ({@code requires}, {@code after}, {@code ready},
 * {@code ready-timeout}, {@code watchdog}) in a {@code [vassal]} section and in the
 * {@code [emperor]} section (block, object, element) of the four uWSGI formats. Pure.
 */
class OrderKeysTest {
    @TempDir
    Path dir;

    private final VassalParser parser = new VassalParser(FakeUserDb.standard(), "host1", Map.of());

    private Parsed<VassalSpec> parse(String fileName, String text) {
        return parser.parse(dir.resolve(fileName), text.getBytes(StandardCharsets.UTF_8));
    }

    private VassalSpec ok(String fileName, String text) {
        Parsed<VassalSpec> p = parse(fileName, text);
        assertTrue(p.isOk(), () -> String.join("\n", errors(p)));
        return p.value();
    }

    private String f(String fileName) {
        return dir.resolve(fileName).toString();
    }

    @Test
    void theDefaults() {
        assertEquals(Order.PROGRAM, ok("app.ini", "[vassal]\nexec = /bin/app\n").order());
        assertEquals(Order.UWSGI, ok("web.ini", "[uwsgi]\nmaster = true\n").order());
        assertEquals(Readiness.STARTED, Order.PROGRAM.ready());
        assertEquals(Readiness.UWSGI_ACCEPTING, Order.UWSGI.ready());
        assertEquals(Duration.ZERO, Order.PROGRAM.readyTimeout());
    }

    @Test
    void everyKeyInAVassalSection() {
        VassalSpec spec = ok("plone.ini", String.join("\n",
                "[vassal]",
                "exec = /bin/plone",
                "requires = zeo, cache",
                "requires = search",
                "after = logs  metrics",
                "ready = tcp:127.0.0.1:8080",
                "ready-timeout = 90",
                ""));
        Order o = spec.order();
        assertEquals(List.of("zeo", "cache", "search"), o.requires());
        assertEquals(List.of("logs", "metrics"), o.after());
        assertEquals(new Readiness.Tcp("127.0.0.1", 8080), o.ready());
        assertEquals(Duration.ofSeconds(90), o.readyTimeout());
        assertEquals(Duration.ZERO, o.watchdog());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "started|started",
            "notify|notify",
            "tcp:127.0.0.1:8100|tcp:127.0.0.1:8100",
            "tcp:localhost:8100|tcp:127.0.0.1:8100",
            "tcp:[::1]:8100|tcp:[::1]:8100",
            "unix:/run/zeo.sock|unix:/run/zeo.sock",
    })
    void readyValues(String value, String text) {
        assertEquals(text, ok("a.ini", "[vassal]\nexec = /bin/a\nready = " + value + "\n").order().ready().text());
    }

    @Test
    void aRelativeUnixPathIsRelativeToTheFilesDirectory() {
        assertEquals(new Readiness.Unix(dir.resolve("run/zeo.sock")),
                ok("a.ini", "[vassal]\nexec = /bin/a\nready = unix:run/zeo.sock\n").order().ready());
    }

    @Test
    void watchdogWithNotify() {
        Order o = ok("a.ini", "[vassal]\nexec = /bin/a\nready = notify\nwatchdog = 2.5\n").order();
        assertEquals(Duration.ofMillis(2500), o.watchdog());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "ready = tcp:db.example.com:5432|3: ready: HOST must be an IP address ([...] for IPv6) or localhost; no name is resolved: \"db.example.com\"",
            "ready = tcp:127.0.0.1:0|3: ready: the port must be a number from 1 to 65535: \"0\"",
            "ready = tcp:127.0.0.1:65536|3: ready: the port must be a number from 1 to 65535: \"65536\"",
            "ready = tcp:127.0.0.1|3: ready: expected tcp:HOST:PORT (e.g. tcp:127.0.0.1:8100): \"tcp:127.0.0.1\"",
            "ready = tcp:::1:80|3: ready: HOST must be an IP address ([...] for IPv6) or localhost; no name is resolved: \"::1\"",
            "ready = tcp:|3: ready: expected tcp:HOST:PORT (e.g. tcp:127.0.0.1:8100): \"tcp:\"",
            "ready = unix:|3: ready: needs a path",
            "ready = soon|3: ready: must be started, notify, tcp:HOST:PORT or unix:PATH: \"soon\"",
            "ready-timeout = -1|3: ready-timeout: not a number of seconds at least 0 and at most 86400 (e.g. 30 or 0.5): \"-1\" (0: no limit)",
            "ready-timeout = 86401|3: ready-timeout: must be at least 0 and at most 86400 seconds: \"86401\" (0: no limit)",
            "watchdog = 10|3: watchdog: needs ready = notify (the vassal pings with WATCHDOG=1 on NOTIFY_SOCKET)",
            "requires = a, app|3: requires: a vassal cannot wait for itself: \"app\"",
            "requires = ../etc/x|3: requires: not a vassal name (names do not start with .): \"../etc/x\"",
            "after = x/y|3: after: not a vassal name (a name has no / and no control character): \"x/y\"",
            "requires = ,|3: requires: needs one or more vassal names (NAME[, NAME...])",
    })
    void badValuesAreFileLineErrors(String line, String error) {
        Parsed<VassalSpec> p = parse("app.ini", "[vassal]\nexec = /bin/app\n" + line + "\n");
        assertEquals(List.of(f("app.ini") + ":" + error), errors(p));
    }

    @Test
    void aNameInBothListsIsWarnedAbout() {
        Parsed<VassalSpec> p = parse("app.ini", "[vassal]\nexec = /bin/app\nrequires = db\nafter = db\n");
        assertEquals(List.of("db"), p.value().order().requires());
        assertEquals(List.of(), p.value().order().after());
        assertEquals(List.of(f("app.ini") + ":4: after: \"db\" is named twice (requires and after); once is enough"),
                warnings(p));
    }

    @Test
    void anEmperorSectionInAUwsgiIniFile() {
        VassalSpec spec = ok("plone.ini", String.join("\n",
                "[uwsgi]",
                "http-socket = 127.0.0.1:8080",
                "master = true",
                "[emperor]",
                "requires = zeo",
                "ready = tcp:127.0.0.1:8080",
                "ready-timeout = 120",
                ""));
        assertEquals(List.of("zeo"), spec.order().requires());
        assertEquals(new Readiness.Tcp("127.0.0.1", 8080), spec.order().ready());
        assertEquals(Duration.ofSeconds(120), spec.order().readyTimeout());
        assertTrue(spec.uwsgi().master());
    }

    @Test
    void anEmperorSectionHasOnlyTheseKeysAndItsErrorsHaveFileLine() {
        Parsed<VassalSpec> p = parse("plone.ini", "[uwsgi]\nmaster = true\n[emperor]\nexec = /bin/x\nready = later\n");
        assertEquals(List.of(
                f("plone.ini") + ":4: exec: unknown key (known keys: requires, after, ready, ready-timeout, watchdog)",
                f("plone.ini") + ":5: ready: must be started, notify, tcp:HOST:PORT or unix:PATH: \"later\""), errors(p));
    }

    @Test
    void aUwsgiVassalCannotWaitForReadyOneWhichUwsgiNeverSendsUnderAnEmperor() {
        String why = "ready: notify: uWSGI under an emperor never sends READY=1 (it says it accepts on its emperor"
                + " channel, which the default ready waits for); leave ready out, or use tcp:HOST:PORT or unix:PATH";
        assertEquals(List.of(f("plone.ini") + ":4: " + why),
                errors(parse("plone.ini", "[uwsgi]\nmaster = true\n[emperor]\nready = notify\n")));
        assertEquals(List.of(f("plone.yaml") + ":4: " + why),
                errors(parse("plone.yaml", "uwsgi:\n  master: true\nemperor:\n  ready: notify\n")));
        // A program that runs uwsgi itself is not a [uwsgi] vassal: what it sends is its own affair.
        assertEquals(Readiness.NOTIFY, ok("u.ini", "[vassal]\nexec = /usr/bin/uwsgi --ini x.ini\nready = notify\n")
                .order().ready());
    }

    @Test
    void anEmperorBlockInYaml() {
        VassalSpec spec = ok("plone.yaml", String.join("\n",
                "uwsgi:",
                "  http-socket: 127.0.0.1:8080",
                "emperor:",
                "  requires: zeo",
                "  ready-timeout: 60",
                ""));
        assertEquals(List.of("zeo"), spec.order().requires());
        assertEquals(Readiness.UWSGI_ACCEPTING, spec.order().ready());
        assertEquals(Duration.ofSeconds(60), spec.order().readyTimeout());
        Parsed<VassalSpec> bad = parse("bad.yaml", "uwsgi:\n  master: true\nemperor:\n  ready: later\n");
        assertEquals(List.of(f("bad.yaml") + ":4: ready: must be started, notify, tcp:HOST:PORT or unix:PATH: \"later\""),
                errors(bad));
    }

    @Test
    void anEmperorObjectInJson() {
        VassalSpec spec = ok("plone.json", "{\"uwsgi\": {\"master\": true},\n \"emperor\": {\"requires\": [\"zeo\", \"db\"],"
                + " \"ready\": \"unix:/run/plone.sock\"}}\n");
        assertEquals(List.of("zeo", "db"), spec.order().requires());
        assertEquals(new Readiness.Unix(Path.of("/run/plone.sock")), spec.order().ready());
    }

    @Test
    void anEmperorElementInXmlBesideUwsgiNotInsideIt() {
        VassalSpec spec = ok("plone.xml", String.join("\n",
                "<vassal>",
                "  <uwsgi><master>true</master></uwsgi>",
                "  <emperor><requires>zeo</requires><ready-timeout>30</ready-timeout></emperor>",
                "</vassal>",
                ""));
        assertEquals(List.of("zeo"), spec.order().requires());
        assertEquals(Duration.ofSeconds(30), spec.order().readyTimeout());
        // Inside <uwsgi> it is uWSGI's own emperor option, not ours.
        VassalSpec inside = ok("inner.xml", "<uwsgi><master>true</master><emperor><requires>zeo</requires></emperor></uwsgi>\n");
        assertEquals(Order.UWSGI, inside.order());
    }

    @Test
    void aVassalFileCanNamesItsOrderInVassalOnly() {
        Parsed<VassalSpec> p = parse("app.ini", "[vassal]\nexec = /bin/app\n[emperor]\nrequires = db\n");
        assertEquals(Order.PROGRAM, p.value().order());
        assertEquals(List.of(f("app.ini") + ":3: section [emperor] is ignored"), warnings(p));
    }
}
