package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.log.VassalTails;
import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopEvent;
import io.emperor.source.dir.Fingerprint;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.VassalFile;
import io.emperor.vassal.Lifecycle;
import io.emperor.vassal.Policy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The wire format of the control socket and the stats JSON, byte for byte (docs/control.md,
 * docs/stats.md): written against the hand-written JSON before it was replaced, so that the
 * change of encoder is held to the same bytes. One emperor loop and one control server for the
 * class; the only parts masked are those that depend on the wall clock or the loop's lag.
 */
@TestMethodOrder(MethodOrderer.MethodName.class) // logs before logsFollow, which adds a line
class WireFormatTest {
    static Path dir;
    static EmperorLoop loop;
    static Thread loopThread;
    static ControlServer server;
    static final VassalTails TAILS = new VassalTails();

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("wire");
        loop = ControlHandlerTest.loopWithoutProcesses();
        Path file = Path.of("/v/alice.ini");
        VassalFile broken = new VassalFile("alice", file, new Fingerprint(1, 1, 0, 1, 1, 1001, 1001, 0100644), null,
                Parsed.failed(List.of(new Problem(file, 1, "exec: unterminated \"quote\"")), List.of()));
        Snapshot snapshot = new Snapshot(Map.of("alice", broken), Set.of());
        loop.post(new LoopEvent.Scanned(snapshot));
        Rights rights = new Rights(true, 998, 998, "emperor", uid -> false);
        ControlServer[] ref = new ControlServer[1];
        ControlHandler handler = new ControlHandler(loop, rights, TAILS,
                () -> loop.post(new LoopEvent.Scanned(snapshot)),
                new StatusView.Emperor("0.1.0 \"dev\"", 812, 998, 998, "/", true, 1796000000123L),
                () -> List.of("/etc/emperor/vassals"), task -> ref[0].execute(task));
        server = new ControlServer(dir.resolve("control.sock"), handler);
        ref[0] = server;
        server.start();
        loopThread = io.emperor.testing.LoopThread.start(loop, "emperor-loop");
        TAILS.appendEmperor("alice", 1001, "[emperor] alice: refused");
        TAILS.append("alice", 1001, "a\"b\\c\t\u0001\u007f\u2028\ud800x \u00e9t\u00e9 \uD83D\uDE00");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (loop != null) {
            loop.post(new LoopEvent.SignalReceived("TERM"));
            loopThread.join(10_000);
        }
    }

    /** Sends the request lines on one connection and returns the answer lines, the clock-dependent parts masked. */
    static List<String> ask(int answers, String... lines) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(server.path()))) {
            ByteBuffer out = ByteBuffer.wrap(String.join("", lines).getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) {
                ch.write(out);
            }
            List<String> got = new java.util.ArrayList<>();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (got.size() < answers) {
                one.clear();
                if (ch.read(one) < 0) {
                    break;
                }
                if (one.get(0) == '\n') {
                    got.add(mask(line.toString(StandardCharsets.UTF_8)));
                    line.reset();
                } else {
                    line.write(one.get(0));
                }
            }
            return got;
        }
    }

    static String mask(String line) {
        return line.replaceAll("\"loop_lag\":[0-9.E-]+", "\"loop_lag\":LAG")
                .replaceAll("\"last_problem_since\":[0-9.]+", "\"last_problem_since\":SINCE")
                .replaceAll("\"last_problem_since_utc\":\"[^\"]+\"", "\"last_problem_since_utc\":\"UTC\"");
    }

    static final String EMPEROR = "\"emperor\":{\"version\":\"0.1.0 \\\"dev\\\"\",\"pid\":812,\"uid\":998,\"gid\":998,"
            + "\"tyrant\":true,\"started_at\":1796000000.123,\"vassal_dirs\":[\"/etc/emperor/vassals\"],\"loop_lag\":LAG}";
    static final String ALICE = "{\"name\":\"alice\",\"state\":\"failed\",\"kind\":\"exec\",\"file\":\"/v/alice.ini\","
            + "\"owner\":1001,\"pid\":0,\"uid\":-1,\"gid\":-1,\"started_at\":null,\"uptime\":0,\"spawns\":0,\"restarts\":0,"
            + "\"failures\":0,\"backoff\":0,\"last_exit\":null,\"last_exit_at\":null,"
            + "\"problem\":\"/v/alice.ini:1: exec: unterminated \\\"quote\\\"\","
            + "\"last_problem\":\"refused: /v/alice.ini:1: exec: unterminated \\\"quote\\\"\","
            + "\"last_problem_since\":SINCE,\"last_problem_since_utc\":\"UTC\",\"waiting_for\":null,\"ready\":false,"
            + "\"status_text\":null,\"listen\":null}";

    @Test
    void status() throws Exception {
        assertEquals(List.of("{\"ok\":true," + EMPEROR + ",\"vassals\":[" + ALICE + "]}"),
                ask(1, "{\"cmd\":\"status\"}\n"));
        assertEquals(List.of("{\"ok\":false,\"error\":\"not-found\",\"message\":\"no such vassal: nope\"," + EMPEROR
                        + ",\"vassals\":[" + ALICE + "]}"),
                ask(1, "{\"cmd\":\"status\",\"names\":[\"alice\",\"nope\"]}\n"));
    }

    @Test
    void commands() throws Exception {
        assertEquals(List.of(
                "{\"ok\":true,\"results\":[{\"name\":\"alice\",\"ok\":true,\"message\":\"not running (its file has errors)\","
                        + "\"state\":\"failed\",\"pid\":0}]}",
                "{\"ok\":false,\"error\":\"not-found\",\"message\":\"nope: no such vassal\",\"results\":["
                        + "{\"name\":\"nope\",\"ok\":false,\"error\":\"not-found\",\"message\":\"no such vassal\"}]}",
                "{\"ok\":true,\"message\":\"rescanned: 1 vassal(s)\"}"),
                ask(3, "{\"cmd\":\"stop\",\"names\":[\"alice\"]}\n", "{\"cmd\":\"restart\",\"names\":[\"nope\"],\"wait\":false}\n",
                        "{\"cmd\":\"rescan\"}\n"));
    }

    @Test
    void logs() throws Exception {
        String lines = "[\"[emperor] alice: refused\",\"a\\\"b\\\\c\\t\\u0001\\u007f\\u2028?x \u00e9t\u00e9 \uD83D\uDE00\"]";
        assertEquals(List.of("{\"ok\":true,\"name\":\"alice\",\"lines\":" + lines + "}",
                        "{\"ok\":true,\"name\":\"alice\",\"lines\":[]}",
                        "{\"ok\":false,\"error\":\"not-found\",\"message\":\"no such vassal: nope\"}"),
                ask(3, "{\"cmd\":\"logs\",\"name\":\"alice\",\"lines\":5}\n", "{\"cmd\":\"logs\",\"name\":\"alice\",\"lines\":0}\n",
                        "{\"cmd\":\"logs\",\"name\":\"nope\"}\n"));
    }

    @Test
    void logsFollow() throws Exception {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(server.path()))) {
            ch.write(ByteBuffer.wrap("{\"cmd\":\"logs\",\"name\":\"alice\",\"lines\":0,\"follow\":true}\n".getBytes(StandardCharsets.UTF_8)));
            assertEquals("{\"ok\":true,\"name\":\"alice\",\"lines\":[]}", readLine(ch));
            io.emperor.testing.Poll.until("the follower is registered", io.emperor.testing.Poll.WAIT, () -> {
                TAILS.append("alice", 1001, "new \"line\"");
                return true;
            }, () -> "");
            assertEquals("{\"line\":\"new \\\"line\\\"\"}", readLine(ch));
        }
    }

    static String readLine(SocketChannel ch) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (ch.read(one) < 0 || one.get(0) == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(one.get(0));
        }
    }

    @Test
    void errors() throws Exception {
        assertEquals(List.of(
                // The texts of malformed JSON are jackson's since the encoder changed (docs promise only bad-request).
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"at character 15: Unrecognized token 'status': was expecting "
                        + "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"expected a JSON object\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"missing \\\"cmd\\\" (a string)\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"unknown command \\\"x\\\" (status, start, stop, restart, reload, logs, rescan)\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"missing \\\"names\\\" (a list of vassal names)\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"\\\"names\\\" must be a list of strings\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"\\\"names\\\" is empty: name at least one vassal\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"\\\"wait\\\" must be true or false\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"\\\"timeout\\\" must be a number of seconds between 0 and 86400\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"missing \\\"name\\\" (the vassal whose lines to show)\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"\\\"lines\\\" must be a number of lines (0 or more)\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"\\\"follow\\\" must be true or false\"}",
                "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"at character 11: Duplicate field 'a'\"}"),
                ask(13, "{\"cmd\": status}\n", "[1]\n", "{}\n", "{\"cmd\":\"x\"}\n", "{\"cmd\":\"stop\"}\n",
                        "{\"cmd\":\"stop\",\"names\":[1]}\n", "{\"cmd\":\"stop\",\"names\":[]}\n",
                        "{\"cmd\":\"stop\",\"names\":[\"a\"],\"wait\":1}\n", "{\"cmd\":\"stop\",\"names\":[\"a\"],\"timeout\":0}\n",
                        "{\"cmd\":\"logs\"}\n", "{\"cmd\":\"logs\",\"name\":\"a\",\"lines\":-1}\n",
                        "{\"cmd\":\"logs\",\"name\":\"a\",\"follow\":\"yes\"}\n", "{\"a\":1,\"a\":2}\n"));
        assertEquals(List.of("{\"ok\":false,\"error\":\"too-long\",\"message\":\"request longer than 16384 bytes\"}"),
                ask(1, "x".repeat(20_000) + "\n"));
    }

    @Test
    void statsJson() {
        VassalStatus running = new VassalStatus("a\"b", "running", "uwsgi", "/etc/vassals/a\"b.ini", 1001,
                1795969800510L, 4242, 1001, 1002, 1795969801000L, 12345, 1795969801000L, 3, 2, 0, 0, "status=1",
                1795969800900L, 1795969801500L, 1795969801600L, 1795969801700L, 1795969802000L, null, null, 0, null, false, null);
        VassalStatus failed = new VassalStatus("broken", "failed", "exec", null, -1, 0, 0, -1, -1, 0, 0, 0, 0, 0, 4,
                1500, null, 0, 0, 0, 0, 0, "line 3: unknown key \"x\"\n", "refused: x", 1795969803000L, null, false, null);
        EmperorStatus status = new EmperorStatus("0.1.0", 812, 998, 998, "/", List.of("/etc/vassals"), true,
                1796000000123L, 3, 2, Map.of(), 0.04, List.of(running, failed));
        assertEquals("{\"version\":\"0.1.0\",\"pid\":812,\"uid\":998,\"gid\":998,\"cwd\":\"/\",\"emperor\":[\"/etc/vassals\"],"
                        + "\"emperor_tyrant\":1,\"throttle_level\":0,\"vassals\":[{\"id\":\"a\\\"b.ini\",\"pid\":4242,"
                        + "\"born\":1795969800,\"last_mod\":1795969800,\"last_heartbeat\":1795969802,\"loyal\":1,\"ready\":1,"
                        + "\"accepting\":1,\"last_loyal\":1795969801,\"last_ready\":1795969801,\"last_accepting\":1795969801,"
                        + "\"first_run\":1795969801,\"last_run\":1795969801,\"cursed\":0,\"zerg\":0,\"on_demand\":\"\","
                        + "\"uid\":1001,\"gid\":1002,\"monitor\":\"/etc/vassals\",\"respawns\":2,\"name\":\"a\\\"b\","
                        + "\"kind\":\"uwsgi\",\"state\":\"running\",\"uptime\":12}],\"blacklist\":[{\"id\":\"broken.ini\","
                        + "\"throttle_level\":1500,\"attempt\":4,\"first_attempt\":0,\"last_attempt\":0,\"name\":\"broken\","
                        + "\"state\":\"failed\",\"last_exit\":null,\"problem\":\"line 3: unknown key \\\"x\\\"\\n\"}]}\n",
                UwsgiStats.json(status));
    }

    /** The status view's JSON of one vassal with every kind of value (fractions, nulls, escapes). */
    @Test
    void vassalStatusValues() {
        VassalStatus s = new VassalStatus("a\"b", "running", "uwsgi", "/v/a.ini", 1001, 0, 4242, 1001, 1002,
                1795969800510L, 7384200, 0, 1, 0, 0, 1500, "signal=KILL", 1795969800000L, 0, 0, 0, 0, null,
                "exited status=1 after 0.06s", 1796000000403L, "db\u2028\u007f\ud800 \uD83D\uDE00", true, "up \\x01");
        assertEquals("{\"name\":\"a\\\"b\",\"state\":\"running\",\"kind\":\"uwsgi\",\"file\":\"/v/a.ini\",\"owner\":1001,"
                        + "\"pid\":4242,\"uid\":1001,\"gid\":1002,\"started_at\":1795969800.51,\"uptime\":7384.2,\"spawns\":1,"
                        + "\"restarts\":0,\"failures\":0,\"backoff\":1.5,\"last_exit\":\"signal=KILL\",\"last_exit_at\":1795969800,"
                        + "\"problem\":null,\"last_problem\":\"exited status=1 after 0.06s\",\"last_problem_since\":1796000000.403,"
                        + "\"last_problem_since_utc\":\"2026-11-30T00:53:20.403Z\",\"waiting_for\":\"db\\u2028\\u007f\\ud800 \uD83D\uDE00\","
                        + "\"ready\":true,\"status_text\":\"up \\\\x01\",\"listen\":null}",
                StatusView.jsonText(s));
    }

    /** Issue 15: the sockets held for a vassal, as its listen lines write them. */
    @Test
    void aVassalsSocketsAreListed() {
        VassalStatus s = new VassalStatus("a", "running", "exec", "/v/a.ini", 1001, 0, 4242, 1001, 1002,
                0, 0, 0, 1, 0, 0, 0, null, 0, 0, 0, 0, 0, null, null, 0, null, false, null,
                List.of("127.0.0.1:8000", "[::1]:8000", "unix:/run/a \"b\".sock"));
        assertTrue(StatusView.jsonText(s).endsWith(
                "\"listen\":[\"127.0.0.1:8000\",\"[::1]:8000\",\"unix:/run/a \\\"b\\\".sock\"]}"),
                StatusView.jsonText(s));
    }
}
