package io.emperor.config;

import static io.emperor.config.ProblemLines.errors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fleet's keys of emperor.ini (docs/fleet.md): defaults, every key, and each wrong value with its line. */
class FleetSettingsTest {
    private static final Path FILE = Path.of("/etc/emperor/emperor.ini");

    private static Parsed<EmperorConfig> parse(String... lines) {
        String text = "[emperor]\nvassals = /v\n" + String.join("\n", lines) + "\n";
        return new EmperorConfigParser("host1.example", Map.of()).parse(FILE, text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void withoutEtcdThereIsNoFleet() {
        FleetSettings f = parse().value().fleet();
        assertFalse(f.enabled());
        assertEquals(FleetSettings.NONE.endpoints(), f.endpoints());
    }

    @Test
    void everyKeyAndTheDefaults() {
        FleetSettings d = parse("etcd = http://10.0.0.1:2379").value().fleet();
        assertEquals(List.of("http://10.0.0.1:2379"), d.endpoints());
        assertEquals("/emperor", d.prefix());
        assertEquals("host1.example", d.node(), "the host name");
        assertEquals(Duration.ofSeconds(10), d.ttl());

        Parsed<EmperorConfig> p = parse("etcd = https://a:2379, https://b:2379", "etcd-prefix = /prod/emperor/",
                "node = web-1", "etcd-ttl = 4", "etcd-cacert = ca.pem", "etcd-cert = /pki/me.pem", "etcd-key = me.key",
                "etcd-user = emperor", "etcd-password-file = /etc/emperor/etcd.password");
        assertEquals(List.of(), p.errors());
        FleetSettings f = p.value().fleet();
        assertEquals(List.of("https://a:2379", "https://b:2379"), f.endpoints());
        assertEquals("/prod/emperor", f.prefix(), "without the trailing slash");
        assertEquals("web-1", f.node());
        assertEquals(Duration.ofSeconds(4), f.ttl());
        assertEquals(Path.of("/etc/emperor/ca.pem"), f.cacert(), "relative to emperor.ini's directory");
        assertEquals(Path.of("/pki/me.pem"), f.cert());
        assertEquals(Path.of("/etc/emperor/me.key"), f.key());
        assertEquals("emperor", f.user());
        assertEquals(Path.of("/etc/emperor/etcd.password"), f.passwordFile());
    }

    @Test
    void wrongValuesAreErrorsOfTheirLine() {
        Parsed<EmperorConfig> p = parse("etcd = 10.0.0.1:2379", "etcd-prefix = emperor", "node = a/b", "etcd-ttl = 1");
        List<String> e = errors(p);
        assertTrue(e.get(0).startsWith("/etc/emperor/emperor.ini:3: etcd: expected http://HOST:PORT"), e.toString());
        assertTrue(e.get(1).startsWith("/etc/emperor/emperor.ini:4: etcd-prefix: expected an absolute key prefix"),
                e.toString());
        assertTrue(e.get(2).startsWith("/etc/emperor/emperor.ini:5: node: expected a node name"), e.toString());
        assertTrue(e.get(3).startsWith("/etc/emperor/emperor.ini:6: etcd-ttl: "), e.toString());
        assertEquals(4, e.size(), e.toString());
    }

    @Test
    void keysThatGoTogether() {
        assertTrue(errors(parse("etcd = http://a:1", "etcd-user = emperor")).toString()
                .contains("etcd-user and etcd-password-file go together"));
        assertTrue(errors(parse("etcd = https://a:1", "etcd-cert = c.pem")).toString()
                .contains("etcd-cert and etcd-key go together"));
        assertTrue(errors(parse("etcd = http://a:1", "etcd-cacert = ca.pem")).toString()
                .contains("TLS keys need https:// endpoints"));
        assertTrue(errors(parse("etcd = http://a:1, https://b:1")).toString().contains("mixes http:// and https://"));
    }

    @Test
    void aHostNameThatCannotBeANodeNameAsksForNode() {
        Parsed<EmperorConfig> p = new EmperorConfigParser("bad host", Map.of()).parse(FILE,
                "[emperor]\nvassals = /v\netcd = http://a:1\n".getBytes(StandardCharsets.UTF_8));
        assertTrue(errors(p).toString().contains("the host name 'bad host' cannot be a node name: set node"),
                errors(p).toString());
    }
}
