package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code tenant-listen}'s patterns against addresses. Pure. */
class TenantListenTest {
    static Listen.Address tcp(String host, int port) {
        return new Listen.Address.Inet(host, port);
    }

    static boolean allows(String patterns, Listen.Address a) {
        return TenantListen.parse(patterns).value().refusal(a).isEmpty();
    }

    @Test
    void hostsAndPorts() {
        assertTrue(allows("127.0.0.1:*", tcp("127.0.0.1", 5000)));
        assertFalse(allows("127.0.0.1:*", tcp("127.0.0.2", 5000)));
        assertFalse(allows("127.0.0.1:*", tcp("", 5000)), "every address is not 127.0.0.1");
        assertTrue(allows("*:8000-8999", tcp("", 8000)));
        assertTrue(allows("*:8000-8999", tcp("10.1.2.3", 8999)));
        assertFalse(allows("*:8000-8999", tcp("10.1.2.3", 9000)));
        assertFalse(allows("*:8000-8999", tcp("10.1.2.3", 7999)));
        assertTrue(allows("[::1]:8080", tcp("::1", 8080)));
        assertTrue(allows("[0:0::1]:8080", tcp("::1", 8080)), "compared as addresses, not as text");
        assertFalse(allows("[::1]:8080", tcp("127.0.0.1", 8080)));
        assertFalse(allows("127.0.0.1:*", new Listen.Address.Unix(Path.of("/run/x.sock"))));
    }

    @Test
    void unixGlobs() {
        Listen.Address mine = new Listen.Address.Unix(Path.of("/run/tenants/alice/app.sock"));
        assertTrue(allows("unix:/run/tenants/*/*.sock", mine));
        assertTrue(allows("unix:/run/tenants/**", mine));
        assertFalse(allows("unix:/run/tenants/*", mine), "* stays within one component");
        assertFalse(allows("unix:/run/tenants/**", tcp("127.0.0.1", 8000)));
    }

    @Test
    void notSetAllowsEverythingAndTheRefusalNamesThePatterns() {
        assertEquals(Optional.empty(), TenantListen.ANY.refusal(tcp("10.0.0.1", 80)));
        assertEquals(Optional.of("10.0.0.1:5000 is not allowed to tenants: tenant-listen allows only 127.0.0.1:*"),
                TenantListen.parse("127.0.0.1:*").value().refusal(tcp("10.0.0.1", 5000)));
    }
}
