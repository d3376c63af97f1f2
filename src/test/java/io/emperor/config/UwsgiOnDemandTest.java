package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** uWSGI's on-demand keys of the emperor (issue 15) and the socket name they give a [uwsgi] vassal. */
class UwsgiOnDemandTest {
    @TempDir
    Path dir;

    private final EmperorConfigParser parser = new EmperorConfigParser("host1", Map.of());
    static final VassalSpec APP = new VassalSpec("app", Path.of("/v/app.ini"), VassalSpec.Kind.UWSGI, List.of(),
            Path.of("/v"), List.of(), 0022, null, -1, -1, null, 2, java.time.Duration.ofSeconds(30),
            ReloadMode.SIGNAL, 1, List.of(), VassalSpec.Uwsgi.DEFAULTS);

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void theEmperorKeysAndTheirUwsgiSpellings() throws IOException {
        EmperorConfig ours = parser.parse(write("e.ini", "[emperor]\non-demand-extension = .socket\n"
                + "on-demand-directory = sockets\n")).value();
        assertEquals(".socket", ours.uwsgi().onDemandExtension());
        assertEquals(dir.resolve("sockets"), ours.uwsgi().onDemandDirectory());
        Parsed<EmperorConfig> theirs = parser.parse(write("u.ini", "[uwsgi]\nemperor = /v\n"
                + "emperor-on-demand-extension = .sock\nemperor-on-demand-directory = /run/od\n"));
        assertEquals(List.of(), theirs.errors());
        assertEquals(".sock", theirs.value().uwsgi().onDemandExtension());
        assertEquals(Path.of("/run/od"), theirs.value().uwsgi().onDemandDirectory());
        EmperorConfig none = parser.parse(write("n.ini", "[emperor]\n")).value();
        assertEquals(false, none.uwsgi().onDemand());
    }

    @Test
    void anExtensionWithASlashIsAnErrorWithItsLine() throws IOException {
        Path f = write("e.ini", "[emperor]\n\non-demand-extension = /../x\n");
        assertEquals(List.of(f + ":3: on-demand-extension: expected the end of a file name, such as .socket (no /):"
                + " \"/../x\""), parser.parse(f).errors().stream().map(Problem::toString).toList());
    }

    @Test
    void theNameIsTheContentUpToTheFirstControlByte() {
        assertEquals(Optional.of("127.0.0.1:3031"), UwsgiOnDemand.socketName("127.0.0.1:3031\nrest".getBytes(StandardCharsets.UTF_8)));
        assertEquals(Optional.of("/run/app.sock"), UwsgiOnDemand.socketName("/run/app.sock\0junk".getBytes(StandardCharsets.UTF_8)));
        assertEquals(Optional.empty(), UwsgiOnDemand.socketName("\n127.0.0.1:1".getBytes(StandardCharsets.UTF_8)));
        assertEquals(Optional.empty(), UwsgiOnDemand.socketName(new byte[0]));
    }

    @Test
    void aTcpNameIsOnDemandOnFdZero() {
        Parsed<VassalSpec> p = UwsgiOnDemand.withSocket(APP, Path.of("/v/app.ini.socket"), "127.0.0.1:3031", false, TenantListen.ANY);
        Listen l = p.value().listen();
        assertEquals(List.of(new Listen.Address.Inet("127.0.0.1", 3031)), l.addresses());
        assertEquals(true, l.onDemand());
        assertEquals(true, l.stdin());
        assertEquals(-1, l.mode());
        assertEquals(List.of(new Listen.Address.Inet("", 3031)),
                UwsgiOnDemand.withSocket(APP, Path.of("/v/x"), ":3031", false, TenantListen.ANY).value().listen().addresses());
    }

    @Test
    void aUnixNameIsRelativeToTheVassalsDirectoryAndMode0666AsUwsgiMakesIt() {
        Listen l = UwsgiOnDemand.withSocket(APP, Path.of("/v/app.ini.socket"), "run/app.sock", false, TenantListen.ANY)
                .value().listen();
        assertEquals(List.of(new Listen.Address.Unix(Path.of("/v/run/app.sock"))), l.addresses());
        assertEquals(0666, l.mode());
    }

    @Test
    void aTenantsNameMeetsTheListenRules() {
        Parsed<VassalSpec> p = UwsgiOnDemand.withSocket(APP, Path.of("/v/app.ini.socket"), "127.0.0.1:80", true, TenantListen.ANY);
        assertEquals(List.of("/v/app.ini.socket:1: listen: port 80 is below 1024: refused in tyrant mode (a tenant may"
                + " not take a privileged port); use a port from 1024 up"), p.errors().stream().map(Problem::toString).toList());
        Parsed<VassalSpec> bad = UwsgiOnDemand.withSocket(APP, Path.of("/v/app.ini.socket"), "example.org:3031", false,
                TenantListen.ANY);
        assertEquals(1, bad.errors().size(), "no name is resolved");
    }
}
