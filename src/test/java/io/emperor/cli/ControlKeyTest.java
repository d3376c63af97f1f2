package io.emperor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.emperor.config.ControlSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's quick reading of an emperor.ini's control key (ControlKey): whenever it answers,
 * its answer is the emperor's own parser's; whatever it is not sure of goes to that parser.
 */
class ControlKeyTest {
    @TempDir
    Path dir;

    Path ini(String text) throws Exception {
        Path f = dir.resolve("emperor.ini");
        Files.write(f, text.getBytes(StandardCharsets.UTF_8));
        return f;
    }

    /** The full parser's socket for {@code file}, or null when it finds an error. */
    static Path full(Path file) {
        try {
            return ControlCommands.Target.parsed(file);
        } catch (ControlCommands.UsageException e) {
            return null;
        }
    }

    @Test
    void plainFilesAreReadAsTheParserReadsThem() throws Exception {
        String pkg = "; the package's emperor.ini\n[emperor]\nvassals = /etc/emperor/vassals\ntyrant = true\n"
                + "log = /var/log/emperor/emperor.log\n; control = /run/emperor/control.sock\n";
        for (String text : List.of(pkg,
                pkg + "control = /tmp/c.sock\n",
                "[emperor]\ncontrol = /tmp/a.sock\ncontrol = /tmp/b.sock\n",
                "[emperor]\r\n  control\t=  run/c.sock  \r\n# comment\n",
                "\n\n[emperor]\ncontrol=../x/./c.sock",
                "[emperor]\nvassals = v\nrescan = 5\ncontrol = sub/dir/c.sock\n")) {
            Path f = ini(text);
            Path quick = ControlKey.find(f);
            assertNotNull(quick, text);
            assertEquals(full(f), quick, text);
        }
        assertEquals(ControlSettings.DEFAULT_SOCKET, ControlKey.find(ini(pkg)));
        assertEquals(dir.resolve("run/c.sock"), ControlKey.find(ini("[emperor]\r\n  control\t=  run/c.sock  \r\n")));
    }

    /**
     * The quick reading checks no other key: an emperor.ini with an error still names a socket;
     * when no emperor answers there the client parses the file in full and reports the error as
     * before (exit 2); when one answers, the client talks to it.
     */
    @Test
    void aFileWithErrorsIsReportedWhenNoEmperorAnswers() throws Exception {
        Path sock = dir.resolve("c.sock");
        Path f = ini("[emperor]\nno-such-key = 1\ncontrol = c.sock\n");
        assertEquals(sock, ControlKey.find(f));
        assertNull(full(f), "the parser refuses the unknown key");
        ControlCommands.Target target = new ControlCommands.Target();
        target.config = f;
        ControlCommands.Answers none = answer -> false;
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream said = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(said, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = ControlCommands.exchange(target, ControlCommands.request("status"), none);
        } finally {
            System.setErr(err);
        }
        assertEquals(ControlCommands.USAGE, code, said.toString(StandardCharsets.UTF_8));
        assertEquals("emperor: cannot find the control socket in " + f + ": " + f + ":2: ",
                said.toString(StandardCharsets.UTF_8).substring(0, ("emperor: cannot find the control socket in " + f + ": " + f
                        + ":2: ").length()));

        try (java.nio.channels.ServerSocketChannel server = java.nio.channels.ServerSocketChannel.open(
                java.net.StandardProtocolFamily.UNIX)) {
            server.bind(java.net.UnixDomainSocketAddress.of(sock));
            Thread t = new Thread(() -> {
                try (java.nio.channels.SocketChannel c = server.accept()) {
                    // As an emperor does: the request first (a close before it has come would reset the client's write).
                    java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(4096);
                    while (c.read(in) >= 0 && (in.position() == 0 || in.get(in.position() - 1) != '\n')) {
                        if (!in.hasRemaining()) {
                            break;
                        }
                    }
                    c.write(java.nio.ByteBuffer.wrap("{\"ok\":true,\"vassals\":[]}\n".getBytes(StandardCharsets.UTF_8)));
                } catch (java.io.IOException e) {
                    // the client's side fails the test
                }
            });
            t.setDaemon(true);
            t.start();
            ControlCommands.Target again = new ControlCommands.Target();
            again.config = f;
            assertEquals(ControlCommands.OK, ControlCommands.exchange(again, ControlCommands.request("status"), none),
                    "an emperor answers on the socket the file names");
        }
    }

    /** Whatever the quick reading is not sure of is the parser's: magic, another section, odd lines, non-ASCII … */
    @Test
    void anythingUnusualGoesToTheFullParser() throws Exception {
        for (String text : List.of("",
                "; nothing\n",
                "[uwsgi]\nemperor = /etc/uwsgi/vassals\n",
                "[emperor]\n[emperor]\ncontrol = /tmp/c.sock\n",
                "[emperor]\n[other]\nx = y\n",
                "stray = line\n[emperor]\ncontrol = /tmp/c.sock\n",
                "[emperor]\ncontrol\n",
                "[emperor]\ncontrol =\n",
                "[emperor]\ncontrol = %(dir)/c.sock\n",
                "[emperor]\ncontrol = $(HOME)/c.sock\n",
                "[emperor]\ncontrol = @(/etc/where)\n",
                "[emperor]\ncontrol = /tmp/kontrollé.sock\n",
                "[ emperor ]\ncontrol = /tmp/c.sock\n",
                "[emperor]\nControl = /tmp/c.sock\n",
                "[emperor]\ncontrol = /" + "x".repeat(120) + "\n",
                "[emperor]\ncontrol = /tmp/c.sock\0\n")) {
            assertNull(ControlKey.find(ini(text)), text);
        }
        assertNull(ControlKey.find(dir.resolve("missing.ini")));
        assertNull(ControlKey.find(ini("[emperor]\n; big\n" + "; padding\n".repeat(2000) + "control = /tmp/c.sock\n")));
    }
}
