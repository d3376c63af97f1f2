package io.emperor.source.dir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Listen;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.TenantListen;
import io.emperor.config.UwsgiCommand;
import io.emperor.config.VassalParser;
import io.emperor.config.VassalSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The socket of a uWSGI on-demand vassal, read beside its file as the file is read (issue 15): the
 * socket-name file's content, else the on-demand directory; the name file judged as a vassal file is
 * (no symlink, a regular file, bounded), and in tyrant mode as a tenant's bytes.
 */
class OnDemandSocketsTest {
    @TempDir
    Path dir;

    final VassalParser files = new VassalParser(new io.emperor.os.PosixUserDb(), "host", Map.of());

    OnDemandSockets sockets(String extension, Path directory, boolean tyrant) {
        UwsgiCommand u = new UwsgiCommand("uwsgi", List.of(), List.of(), List.of(), extension, directory);
        return new OnDemandSockets(files, () -> u, tyrant, () -> TenantListen.ANY);
    }

    Path vassal(String name) throws IOException {
        return Files.writeString(dir.resolve(name + ".ini"), "[uwsgi]\nmaster = true\nprotocol = http\n");
    }

    Parsed<VassalSpec> read(OnDemandSockets s, Path file, int owner) throws IOException {
        return s.parse(file, Files.readAllBytes(file), owner);
    }

    static List<String> errors(Parsed<?> p) {
        return p.errors().stream().map(Problem::toString).toList();
    }

    @Test
    void theNameFileGivesTheSocketOnFdZero() throws IOException {
        Path app = vassal("app");
        Files.writeString(dir.resolve("app.ini.socket"), "127.0.0.1:3031\n");
        Listen l = read(sockets(".socket", null, false), app, -1).value().listen();
        assertEquals(List.of(new Listen.Address.Inet("127.0.0.1", 3031)), l.addresses());
        assertTrue(l.onDemand() && l.stdin());
    }

    @Test
    void withoutANameFileTheDirectoryGivesAUnixSocketElseNothing() throws IOException {
        Path app = vassal("app");
        Path run = dir.resolve("run");
        assertEquals(List.of(new Listen.Address.Unix(run.resolve("app.socket"))),
                read(sockets(".socket", run, false), app, -1).value().listen().addresses());
        assertFalse(read(sockets(".socket", null, false), app, -1).value().listen().any(), "not on demand");
        Files.writeString(dir.resolve("app.ini.socket"), "\n");
        assertFalse(read(sockets(".socket", null, false), app, -1).value().listen().any(), "an empty name: not on demand");
    }

    @Test
    void aProgramVassalIsLeftAlone() throws IOException {
        Path p = Files.writeString(dir.resolve("p.ini"), "[vassal]\nexec = /bin/true\n");
        Files.writeString(dir.resolve("p.ini.socket"), "127.0.0.1:3031\n");
        assertFalse(read(sockets(".socket", dir, false), p, -1).value().listen().any());
    }

    /** Attack: a symlink where the name file should be (to a file the emperor may read and the tenant may not). */
    @Test
    void aSymlinkedNameFileIsRefused() throws IOException {
        Path app = vassal("app");
        Path secret = Files.writeString(dir.resolve("secret"), "127.0.0.1:3031\n");
        Files.createSymbolicLink(dir.resolve("app.ini.socket"), secret);
        Path name = dir.resolve("app.ini.socket");
        assertEquals(List.of(name + ": is a symlink, not a regular file"), errors(read(sockets(".socket", null, false), app, -1)));
    }

    @Test
    void aFifoOrAHugeNameFileIsRefusedUnread() throws IOException, InterruptedException {
        Path app = vassal("app");
        Path name = dir.resolve("app.ini.socket");
        assertEquals(0, new ProcessBuilder("mkfifo", name.toString()).start().waitFor());
        assertEquals(List.of(name + ": is a FIFO, not a regular file"), errors(read(sockets(".socket", null, false), app, -1)));
        Files.delete(name);
        Files.write(name, new byte[5000]);
        assertEquals(List.of(name + ": a socket-name file has at most 4096 bytes"),
                errors(read(sockets(".socket", null, false), app, -1)));
    }

    @Test
    void aBadNameIsTheNameFilesError() throws IOException {
        Path app = vassal("app");
        Path name = Files.writeString(dir.resolve("app.ini.socket"), "localhost:http\n");
        assertEquals(List.of(name + ":1: listen: the port must be a number from 1 to 65535: \"http\""),
                errors(read(sockets(".socket", null, false), app, -1)));
    }

    /** Attack (tyrant mode): another tenant plants app.ini.socket for a vassal that is not theirs. */
    @Test
    void inTyrantModeTheNameFileMustBeTheOwnersAndNotWorldWritable() throws IOException {
        Assumptions.assumeTrue(DirectoryScannerTyrantTest.isRoot(), "needs root: chown to another uid");
        Path app = vassal("app");
        Path name = Files.writeString(dir.resolve("app.ini.socket"), "127.0.0.1:3031\n");
        Files.setAttribute(name, "unix:uid", 12345);
        assertEquals(List.of(name + ": belongs to uid 12345, not to the vassal's owner (uid 23456): refused in tyrant"
                + " mode (another user could choose the vassal's socket)"), errors(read(sockets(".socket", null, true), app, 23456)));
        Files.setAttribute(name, "unix:uid", 23456);
        assertTrue(read(sockets(".socket", null, true), app, 23456).isOk());
        Files.setPosixFilePermissions(name, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertEquals(List.of(name + ": is writable by everyone: refused in tyrant mode (chmod o-w)"),
                errors(read(sockets(".socket", null, true), app, 23456)));
        Files.setPosixFilePermissions(name, PosixFilePermissions.fromString("rw-r--r--"));
        Files.writeString(name, "127.0.0.1:80\n");
        assertEquals(List.of(name + ":1: listen: port 80 is below 1024: refused in tyrant mode (a tenant may not take a"
                + " privileged port); use a port from 1024 up"), errors(read(sockets(".socket", null, true), app, 23456)));
    }
}
