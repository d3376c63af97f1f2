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
        return fakeEmperor("{\"ok\":true,\"vassals\":[]}");
    }

    /** A control socket that answers one request with {@code answer} (one line of JSON). */
    Path fakeEmperor(String answer) throws IOException {
        Path sock = Files.createTempFile(tmp, "control", ".sock");
        Files.delete(sock);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(sock));
        Thread t = new Thread(() -> {
            try (server; SocketChannel c = server.accept()) {
                ByteBuffer in = ByteBuffer.allocate(4096);
                while (c.read(in) > 0 && in.get(in.position() - 1) != '\n') {
                    // until the request's newline
                }
                ByteBuffer out = ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.UTF_8));
                while (out.hasRemaining()) {
                    c.write(out);
                }
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
        return child(List.of(), args);
    }

    /** Main in a JVM of its own, with the JVM flags {@code flags}, that logs every class it loads. */
    Child child(List<String> flags, String... args) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xshare:auto",
                "-Xlog:class+load=info:file=" + tmp.resolve("classes.txt")));
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
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

    /** The launcher's -Demperor.helper: the build's helper, beside which the build's libemperor-client.so is. */
    static String buildHelper() {
        return "-Demperor.helper=" + Path.of(System.getProperty("emperor.buildDir", "target"), "emperor-exec").toAbsolutePath();
    }

    /**
     * An answer with what a real table meets: a vassal up for an hour (its uptime formatted), a
     * backoff, a last problem with a control character (escaped), a waiting line.
     */
    static final String BUSY_ANSWER = "{\"ok\":true,\"emperor\":{\"started_at\":1796569970.935,\"loop_lag\":0.000193408},"
            + "\"vassals\":[{\"name\":\"api\",\"state\":\"running\",\"pid\":4242,\"uid\":33,\"uptime\":3725.125,"
            + "\"restarts\":2,\"last_exit\":\"status=1\",\"last_problem\":\"exit\\u001b[2J\",\"last_problem_since\":1796569970.5},"
            + "{\"name\":\"worker\",\"state\":\"backoff\",\"pid\":null,\"uid\":33,\"backoff\":12.5,\"restarts\":7,"
            + "\"last_exit\":\"signal=KILL\",\"waiting_for\":\"db\"}]}";

    /**
     * With the library (the launcher names the helper's directory): the client's connection goes
     * through libemperor-client.so, and no SocketChannel, no UnixDomainSockets (whose SecureRandom
     * loads the security providers), no lambda or method handle, no Formatter is loaded, even for
     * a table of vassals up for an hour.
     */
    @Test
    void aClientCommandLoadsNoPicocliJnrOrLogbackClass() throws Exception {
        Child ok = child(List.of(buildHelper()), "status", "--socket", fakeEmperor(BUSY_ANSWER).toString());
        assertEquals(0, ok.exit(), ok.stdout());
        assertTrue(ok.stdout().contains("2 vassals: 1 backoff, 1 running."), ok.stdout());
        assertTrue(ok.stdout().contains("api     running  4242  33   1h02m"), ok.stdout());
        assertTrue(ok.stdout().contains("api: exit\\x1b[2J (since "), ok.stdout());
        assertTrue(ok.loaded().contains("io.emperor.control.NativeClientSocket"), "the log lists our classes");
        assertNoneFrom(ok.loaded(), "picocli.", "jnr.", "com.kenai.jffi.", "ch.qos.logback.", "org.slf4j.",
                "io.emperor.control.JdkClientSocket", "java.nio.channels.SocketChannel", "sun.nio.ch.",
                "java.security.SecureRandom", "sun.security.provider.", "java.util.ServiceLoader",
                "java.util.Formatter", "java.util.regex.", "java.lang.invoke.LambdaMetafactory", "com.fasterxml.");
        for (String c : ok.loaded()) {
            assertTrue(!c.contains("$$Lambda") && !c.contains("LambdaForm$"), "the client path linked a lambda: " + c);
        }

        // A plain `emperor status` finds its socket in emperor.ini: read without the full parser.
        Path ini = Files.writeString(tmp.resolve("emperor.ini"), "[emperor]\nvassals = /etc/emperor/vassals\ntyrant = true\n"
                + "control = " + fakeEmperor(BUSY_ANSWER) + "\n");
        Child config = child(List.of(buildHelper()), "status", "--config", ini.toString());
        assertEquals(0, config.exit(), config.stdout());
        assertTrue(config.stdout().contains("2 vassals: 1 backoff, 1 running."), config.stdout());
        assertNoneFrom(config.loaded(), "io.emperor.config.EmperorConfigParser", "java.util.regex.", "java.util.stream.",
                "java.lang.invoke.LambdaMetafactory", "sun.nio.ch.");

        Child unreachable = child(List.of(buildHelper()), "stop", "api", "--socket", tmp.resolve("none.sock").toString());
        assertEquals(ControlCommands.UNREACHABLE, unreachable.exit());
        assertNoneFrom(unreachable.loaded(), "picocli.", "jnr.", "com.kenai.jffi.", "ch.qos.logback.", "org.slf4j.",
                "sun.nio.ch.UnixDomainSockets", "com.fasterxml.");
    }

    /**
     * Without the library (no -Demperor.helper: a by-hand java -jar run; or a helper directory
     * without it, or with a library of another build) the client goes through the JDK's channel,
     * with the same result.
     */
    @Test
    void withoutTheLibraryTheClientUsesTheJdk() throws Exception {
        Path other = Files.createDirectories(tmp.resolve("other-build"));
        Files.copy(Path.of(System.getProperty("emperor.buildDir", "target"), "libemperor-signal.so"),
                other.resolve("libemperor-client.so"));
        for (List<String> flags : List.of(List.<String>of(), List.of("-Demperor.helper=" + tmp.resolve("none/emperor-exec")),
                List.of("-Demperor.helper=" + other.resolve("emperor-exec")))) {
            Child ok = child(flags, "status", "--socket", fakeEmperor(BUSY_ANSWER).toString());
            assertEquals(0, ok.exit(), flags + ": " + ok.stdout());
            assertTrue(ok.stdout().contains("2 vassals: 1 backoff, 1 running."), ok.stdout());
            assertTrue(ok.loaded().contains("io.emperor.control.JdkClientSocket"), flags + ": through the JDK");
            assertTrue(ok.loaded().contains("sun.nio.ch.UnixDomainSockets"), flags + ": through the JDK");
            assertNoneFrom(ok.loaded(), "picocli.", "jnr.", "com.kenai.jffi.", "ch.qos.logback.", "org.slf4j.");
        }
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
