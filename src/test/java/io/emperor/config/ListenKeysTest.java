package io.emperor.config;

import static io.emperor.config.ProblemLines.errors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The socket keys of a {@code [vassal]} section (issue 15): {@code listen} and its companions. Pure. */
class ListenKeysTest {
    @TempDir
    Path dir;

    private final VassalParser parser = new VassalParser(FakeUserDb.standard(), "host1", Map.of());
    private final VassalParser tyrant = new VassalParser(FakeUserDb.standard(), "host1", Map.of(), true);

    private Parsed<VassalSpec> parse(VassalParser with, String... lines) {
        String text = "[vassal]\nexec = /bin/app\n" + String.join("\n", lines) + "\n";
        return with.parse(dir.resolve("app.ini"), text.getBytes(StandardCharsets.UTF_8));
    }

    private Listen ok(String... lines) {
        Parsed<VassalSpec> p = parse(parser, lines);
        assertTrue(p.isOk(), () -> String.join("\n", errors(p)));
        return p.value().listen();
    }

    private List<String> refused(VassalParser with, String... lines) {
        Parsed<VassalSpec> p = parse(with, lines);
        assertFalse(p.isOk(), "accepted: " + String.join(" / ", lines));
        return errors(p);
    }

    private String at(int line, String what) {
        return dir.resolve("app.ini") + ":" + line + ": " + what;
    }

    @Test
    void noListenIsNone() {
        assertEquals(Listen.NONE, ok());
    }

    @Test
    void everyFormInFileOrder() {
        Listen l = ok("listen = 127.0.0.1:8000", "listen = [::1]:8001", "listen = unix:/run/app/app.sock",
                "listen = *:8002", "listen = :8003", "listen = [0:0:0:0:0:0:0:1]:8004",
                "listen-mode = 0660", "listen-backlog = 128", "listen-names = http,v6 unix every also other",
                "on-demand = true");
        assertEquals(List.of(new Listen.Address.Inet("127.0.0.1", 8000), new Listen.Address.Inet("::1", 8001),
                new Listen.Address.Unix(Path.of("/run/app/app.sock")), new Listen.Address.Inet("", 8002),
                new Listen.Address.Inet("", 8003), new Listen.Address.Inet("::1", 8004)), l.addresses());
        assertEquals(0660, l.mode());
        assertEquals(128, l.backlog());
        assertEquals(List.of("http", "v6", "unix", "every", "also", "other"), l.names());
        assertTrue(l.onDemand());
        assertFalse(l.stdin());
        assertEquals(List.of("127.0.0.1:8000", "[::1]:8001", "unix:/run/app/app.sock", ":8002", ":8003", "[::1]:8004"),
                l.addresses().stream().map(Listen.Address::text).toList());
    }

    @Test
    void theDefaults() {
        Listen l = ok("listen = 127.0.0.1:8000");
        assertEquals(-1, l.mode());
        assertEquals(Listen.DEFAULT_BACKLOG, l.backlog());
        assertEquals(List.of(), l.names());
        assertFalse(l.onDemand());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "listen = localhost:80|listen: HOST must be an IP address ([...] for IPv6) or *; no name is resolved: \"localhost\"",
            "listen = example.com:80|listen: HOST must be an IP address ([...] for IPv6) or *; no name is resolved: \"example.com\"",
            "listen = ::1:80|listen: HOST must be an IP address ([...] for IPv6) or *; no name is resolved: \"::1\"",
            "listen = 127.0.0.1|listen: expected HOST:PORT, [IPV6]:PORT, *:PORT or unix:/PATH (e.g. 127.0.0.1:8000): \"127.0.0.1\"",
            "listen = 8000|listen: expected HOST:PORT, [IPV6]:PORT, *:PORT or unix:/PATH (e.g. 127.0.0.1:8000): \"8000\"",
            "listen = 127.0.0.1:0|listen: the port must be a number from 1 to 65535: \"0\"",
            "listen = 127.0.0.1:65536|listen: the port must be a number from 1 to 65535: \"65536\"",
            "listen = 999.0.0.1:80|listen: HOST must be an IP address ([...] for IPv6) or *; no name is resolved: \"999.0.0.1\"",
            "listen = unix:run/app.sock|listen: a unix socket path must be absolute (unix:/run/app.sock): \"unix:run/app.sock\"",
            "listen = unix:/run/|listen: a unix socket path must name a file: \"unix:/run/\"",
            "listen-backlog = 0|listen-backlog: must be a number from 1 to 65535: \"0\"",
            "listen-backlog = many|listen-backlog: must be a number from 1 to 65535: \"many\"",
            "listen-mode = 0800|listen-mode: must be octal permission bits, such as 0660: \"0800\"",
            "on-demand = yes|on-demand: must be true or false: \"yes\"",
    })
    void badValues(String line, String error) {
        List<String> lines = line.startsWith("listen =") ? List.of(line) : List.of("listen = unix:/run/a.sock", line);
        assertEquals(List.of(at(3 + lines.indexOf(line), error)), refused(parser, lines.toArray(String[]::new)));
    }

    @Test
    void aUnixPathOfMoreThan107BytesIsRefused() {
        String path = "/" + "a".repeat(106);
        ok("listen = unix:" + path);
        assertEquals(List.of(at(3, "listen: a unix socket path has at most 107 bytes: \"unix:" + path + "a\"")),
                refused(parser, "listen = unix:" + path + "a"));
    }

    @Test
    void theSameAddressTwiceIsRefused() {
        assertEquals(List.of(at(4, "listen: 127.0.0.1:80 is listed twice")),
                refused(parser, "listen = 127.0.0.1:80", "listen = 127.000.0.1:80"));
        assertEquals(List.of(at(4, "listen: [::1]:80 is listed twice")),
                refused(parser, "listen = [::1]:80", "listen = [0::1]:80"));
        assertEquals(List.of(at(4, "listen: unix:/run/a.sock is listed twice")),
                refused(parser, "listen = unix:/run/a.sock", "listen = unix:/run/./a.sock"));
    }

    @Test
    void theCompanionKeysNeedAListen() {
        assertEquals(List.of(at(3, "listen-backlog: needs a listen line"), at(4, "on-demand: needs a listen line")),
                refused(parser, "listen-backlog = 10", "on-demand = true"));
        ok("on-demand = false");
        assertEquals(List.of(at(4, "listen-mode: applies to unix sockets only, and no listen line is one")),
                refused(parser, "listen = 127.0.0.1:80", "listen-mode = 0600"));
    }

    @Test
    void namesFollowSystemdsRules() {
        assertEquals(List.of(at(4, "listen-names: 1 names for 2 listen lines: give one name per listen line")),
                refused(parser, "listen = 127.0.0.1:80", "listen-names = web", "listen = 127.0.0.1:81"));
        assertEquals(List.of(at(4, "listen-names: a name is printable ASCII without ':' (systemd's rule):"
                        + " \"a:b\"")), refused(parser, "listen = 127.0.0.1:80", "listen-names = a:b"));
        assertEquals(List.of(at(4, "listen-names: a name is printable ASCII without ':' (systemd's rule): \"caf\u00e9\"")),
                refused(parser, "listen = 127.0.0.1:80", "listen-names = caf\u00e9"));
        String longName = "n".repeat(256);
        assertEquals(List.of(at(4, "listen-names: a name has at most 255 characters: \"" + longName + "\"")),
                refused(parser, "listen = 127.0.0.1:80", "listen-names = " + longName));
    }

    @Test
    void atMostSixteenListenLines() {
        String[] lines = new String[17];
        for (int i = 0; i < 17; i++) {
            lines[i] = "listen = 127.0.0.1:" + (8000 + i);
        }
        assertEquals(List.of(at(19, "listen: at most 16 listen lines")), refused(parser, lines));
    }

    @Test
    void aChangeOfListenNeedsARestart() {
        VassalSpec a = parse(parser, "listen = 127.0.0.1:80").value();
        assertFalse(a.needsRestartFor(parse(parser, "listen = 127.0.0.1:80").value()));
        assertTrue(a.needsRestartFor(parse(parser, "listen = 127.0.0.1:81").value()));
        assertTrue(a.needsRestartFor(parse(parser, "listen = 127.0.0.1:80", "listen-backlog = 5").value()));
        assertTrue(a.needsRestartFor(parse(parser).value()));
    }

    @Test
    void aTenantGetsNoPortBelow1024() {
        assertEquals(List.of(at(3, "listen: port 1000 is below 1024: refused in tyrant mode (a tenant may not take a"
                + " privileged port); use a port from 1024 up")), refused(tyrant, "listen = 127.0.0.1:1000"));
        assertEquals(List.of(at(3, "listen: port 80 is below 1024: refused in tyrant mode (a tenant may not take a"
                + " privileged port); use a port from 1024 up")), refused(tyrant, "listen = *:80"));
        assertTrue(parse(tyrant, "listen = 127.0.0.1:1024").isOk());
        assertTrue(parse(parser, "listen = 127.0.0.1:80").isOk(), "the admin's own vassals may");
    }

    @Test
    void aTenantGetsOnlyWhatTenantListenAllows() {
        VassalParser strict = new VassalParser(FakeUserDb.standard(), "host1", Map.of(), true)
                .withTenantListen(TenantListen.parse("127.0.0.1:* *:8000-8999 unix:/run/tenants/**").value());
        assertTrue(parse(strict, "listen = 127.0.0.1:5000", "listen = *:8080", "listen = [::1]:8999",
                "listen = unix:/run/tenants/alice/app.sock").isOk());
        String allows = "tenant-listen allows only 127.0.0.1:* *:8000-8999 unix:/run/tenants/**";
        assertEquals(List.of(at(3, "listen: 10.0.0.1:5000 is not allowed to tenants: " + allows),
                        at(4, "listen: :9000 is not allowed to tenants: " + allows),
                        at(5, "listen: unix:/tmp/x.sock is not allowed to tenants: " + allows)),
                refused(strict, "listen = 10.0.0.1:5000", "listen = *:9000", "listen = unix:/tmp/x.sock"));
    }
}
