package io.emperor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The fast path of run and the client commands (FastArgs): it fills exactly what picocli would
 * fill, hands everything unusual to picocli, and a client command run in a JVM of its own loads
 * no picocli, jnr or logback class.
 */
class FastArgsTest {
    @TempDir
    Path tmp;

    /** The fields a client command object holds, in one comparable string. */
    static String describe(Object command) {
        StringBuilder sb = new StringBuilder(command.getClass().getSimpleName());
        ControlCommands.Target t;
        if (command instanceof ControlCommands.Status s) {
            t = s.target;
            sb.append(" names=").append(s.names).append(" json=").append(s.json);
        } else if (command instanceof ControlCommands.Action a) {
            t = a.target;
            sb.append(" names=").append(a.names).append(" noBlock=").append(a.noBlock).append(" timeout=")
                    .append(a.timeout).append(" json=").append(a.json).append(" cmd=").append(a.name());
        } else if (command instanceof ControlCommands.Logs l) {
            t = l.target;
            sb.append(" name=").append(l.name).append(" lines=").append(l.lines).append(" follow=").append(l.follow);
        } else if (command instanceof RunCommand r) {
            return sb.append(" config=").append(r.config).append(" vassals=").append(r.vassals).append(" log=")
                    .append(r.log).append(" tyrant=").append(r.tyrant).append(" nofollow=").append(r.nofollow)
                    .append(" control=").append(r.control).append(" stats=").append(r.stats).toString();
        } else {
            t = ((ControlCommands.Rescan) command).target;
        }
        return sb.append(" socket=").append(t.socket).append(" config=").append(t.config).toString();
    }

    /** What picocli makes of args: the subcommand's object, filled. */
    static Object picocli(String... args) {
        CommandLine cl = new CommandLine(new Main());
        CommandLine.ParseResult r = cl.parseArgs(args);
        return r.subcommand().commandSpec().userObject();
    }

    @Test
    void plainArgumentsAreFilledAsPicocliFillsThem() {
        List<String[]> cases = List.of(
                new String[] {"status"},
                new String[] {"status", "api", "worker", "--json"},
                new String[] {"status", "--socket", "/run/x.sock", "api"},
                new String[] {"status", "--socket=/run/x.sock", "--config", "/etc/e.ini"},
                new String[] {"start", "api"},
                new String[] {"stop", "a", "b", "--no-block", "--timeout", "2.5", "--json"},
                new String[] {"restart", "--timeout=30", "a"},
                new String[] {"reload", "a", "--config=/etc/e.ini"},
                new String[] {"logs", "api"},
                new String[] {"logs", "api", "-n", "50", "-f"},
                new String[] {"logs", "--lines=0", "--follow", "api", "--socket", "s"},
                new String[] {"rescan"},
                new String[] {"rescan", "--socket", "/run/x.sock"},
                new String[] {"run"},
                new String[] {"run", "--config", "/etc/emperor/emperor.ini"},
                new String[] {"run", "--vassals", "/a", "--vassals=/b", "--log", "/l", "--control", "", "--stats=:9191"},
                new String[] {"run", "--tyrant", "--nofollow", "--control=", "--config=/e.ini"});
        for (String[] args : cases) {
            Callable<Integer> fast = FastArgs.parse(args);
            assertNotNull(fast, String.join(" ", args));
            assertEquals(describe(picocli(args)), describe(fast), String.join(" ", args));
        }
    }

    @Test
    void anythingUnusualGoesToPicocli() {
        List<String[]> cases = List.of(
                new String[] {},
                new String[] {"run", "--help"},
                new String[] {"run", "extra"},
                new String[] {"run", "--config"},
                new String[] {"run", "--config", "--tyrant"},
                new String[] {"run", "--log="},
                new String[] {"run", "--tyrant", "--tyrant"},
                new String[] {"run", "--tyrant=true"},
                new String[] {"run", "--log", "a", "--log", "b"},
                new String[] {"run", "--config", "@x"},
                new String[] {"check", "x.ini"},
                new String[] {"--help"},
                new String[] {"-V"},
                new String[] {"status", "--help"},
                new String[] {"status", "-h"},
                new String[] {"stop", "--version"},
                new String[] {"status", "--bogus"},
                new String[] {"status", "--json", "--json"},
                new String[] {"status", "--socket"},
                new String[] {"status", "--socket", "--json"},
                new String[] {"status", "--socket="},
                new String[] {"status", "--json=yes"},
                new String[] {"status", "--", "api"},
                new String[] {"status", "@args.txt"},
                new String[] {"status", "--no-block"},
                new String[] {"stop"},
                new String[] {"stop", "a", "--timeout", "soon"},
                new String[] {"stop", "a", "--timeout", "-1"},
                new String[] {"logs"},
                new String[] {"logs", "a", "b"},
                new String[] {"logs", "a", "-n", "-1"},
                new String[] {"logs", "a", "-n5"},
                new String[] {"logs", "a", "-n", "1", "--lines", "2"},
                new String[] {"logs", "a", "-fn", "3"},
                new String[] {"logs", "a", "--json"},
                new String[] {"rescan", "api"},
                new String[] {"status", "-f"});
        for (String[] args : cases) {
            assertNull(FastArgs.parse(args), String.join(" ", args));
        }
    }

    /** A control socket that answers one status request with an empty emperor. */
    Path fakeEmperor() throws IOException {
        Path sock = tmp.resolve("control.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(sock));
        Thread t = new Thread(() -> {
            try (server; SocketChannel c = server.accept()) {
                ByteBuffer in = ByteBuffer.allocate(4096);
                while (c.read(in) > 0 && in.get(in.position() - 1) != '\n') {
                    // until the request's newline
                }
                c.write(ByteBuffer.wrap("{\"ok\":true,\"vassals\":[]}\n".getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                // the client's test fails on its own
            }
        }, "fake-emperor");
        t.setDaemon(true);
        t.start();
        return sock;
    }

    record Child(int exit, String stdout, List<String> loaded) {}

    /** Main in a JVM of its own that logs every class it loads. */
    Child child(String... args) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xshare:auto",
                "-Xlog:class+load=info:file=" + tmp.resolve("classes.txt"), "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().remove("EMPEROR_CONTROL");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the client ended");
        List<String> loaded = Files.readAllLines(tmp.resolve("classes.txt")).stream()
                .map(l -> l.replaceFirst("^.*?\\] ", "").split(" ")[0]).toList();
        return new Child(p.exitValue(), out, loaded);
    }

    static void assertNoneFrom(List<String> loaded, String... prefixes) {
        for (String c : loaded) {
            for (String prefix : prefixes) {
                assertTrue(!c.startsWith(prefix), "the client path loaded " + c);
            }
        }
    }

    @Test
    void aClientCommandLoadsNoPicocliJnrOrLogbackClass() throws Exception {
        Child ok = child("status", "--socket", fakeEmperor().toString());
        assertEquals(0, ok.exit(), ok.stdout());
        assertTrue(ok.stdout().contains("0 vassals."), ok.stdout());
        assertTrue(ok.loaded().contains("io.emperor.control.ControlClient"), "the log lists our classes");
        assertNoneFrom(ok.loaded(), "picocli.", "jnr.", "com.kenai.jffi.", "ch.qos.logback.", "org.slf4j.", "com.fasterxml.");

        Child unreachable = child("stop", "api", "--socket", tmp.resolve("none.sock").toString());
        assertEquals(ControlCommands.UNREACHABLE, unreachable.exit());
        assertNoneFrom(unreachable.loaded(), "picocli.", "jnr.", "com.kenai.jffi.", "ch.qos.logback.", "org.slf4j.", "com.fasterxml.");
    }

    @Test
    void helpStillGoesThroughPicocli() throws Exception {
        Child help = child("status", "--help");
        assertEquals(0, help.exit());
        assertTrue(help.stdout().startsWith("Usage: emperor status"), help.stdout());
        assertTrue(help.loaded().contains("picocli.CommandLine"), "picocli answered --help");
    }

    /** The hand-written checks of --timeout and --lines values accept exactly what the regular expressions did. */
    @org.junit.jupiter.api.Test
    void numberAndCountChecksMatchTheirRegularExpressions() {
        for (String v : java.util.List.of("", "0", "7", "123456789", "1234567890", "1.5", "0.25", ".5", "1.", "1..2",
                "1.2.3", "123456789.123456789", "1234567890.1", "1.1234567890", "-1", "+1", "1e3", " 1", "1 ", "١", "x")) {
            org.junit.jupiter.api.Assertions.assertEquals(v.matches("[0-9]{1,9}(\\.[0-9]{1,9})?"), FastArgs.isNumber(v), v);
            org.junit.jupiter.api.Assertions.assertEquals(v.matches("[0-9]{1,9}"), FastArgs.isCount(v), v);
        }
    }
}
