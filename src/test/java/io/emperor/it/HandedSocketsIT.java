package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.control.Json;
import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The sockets the emperor holds, handed to a real program (issue 15, docs/sockets.md): serves-fd.py
 * finds them as sd_listen_fds(3) says and serves HTTP on them; restarted again and again under a
 * steady client, it loses no request, because the connections wait in the backlog of the socket
 * the emperor keeps while no process runs.
 */
class HandedSocketsIT extends ItSupport {
    static final String PYTHON = "/usr/bin/python3";
    private static final Pattern ANSWER = Pattern.compile(
            "pid=(\\d+) listen_pid=(\\S+) listen_fds=(\\S+) listen_fdnames=(\\S+) fds=(\\S+)\n$");

    private String serves(Path record) {
        return "exec = " + PYTHON + " " + ws.fixture("serves-fd.py") + " --record " + record + " " + ws.marker;
    }

    @Test
    void aSocketActivatedProgramServesOnItsFdsAndItsListenPidIsItsOwn() throws Exception {
        NotifyIT.assumePython();
        int web = freePort();
        int admin = freePort();
        Path record = ws.root.resolve("record");
        Path local = ws.root.resolve("local.sock");
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("py", serves(record), "listen = 127.0.0.1:" + web, "listen = 127.0.0.1:" + admin,
                    "listen = unix:" + local, "listen-names = web admin local", "env = LISTEN_FDS=50",
                    "stop-timeout = 5");
            long pid = emp.awaitLogFrom(from, Lines.spawned("py"), WAIT).longGroup(1);
            for (String http : List.of(get(web), get(admin), get(local))) {
                Matcher m = answer(http);
                assertEquals(Long.toString(pid), m.group(1), "the vassal the emperor started answers");
                assertEquals(m.group(1), m.group(2), "LISTEN_PID is its own pid");
                assertEquals("3", m.group(3), "LISTEN_FDS: its env's 50 was replaced");
                assertEquals("web:admin:local", m.group(4));
                assertEquals("3,4,5", m.group(5));
            }
            assertEquals(List.of("pid=" + pid + " listen_pid=" + pid
                    + " listen_fds=3 listen_fdnames=web:admin:local fds=3,4,5"), awaitLines(record, 1));
            Proc p = Procs.read(pid).orElseThrow();
            assertEquals(emp.pid(), p.ppid(), "the emperor's child");
        }
    }

    /**
     * A killed emperor: its vassal goes with it (the parent-death signal) and the next emperor binds the same
     * TCP port and unix path again at once (SO_REUSEADDR; the stale socket file replaced), and serves on them.
     */
    @Test
    void afterSigkillOfTheEmperorTheNextOneHoldsTheSameSocketsAgain() throws Exception {
        NotifyIT.assumePython();
        int web = freePort();
        Path local = ws.root.resolve("local.sock");
        Path record = ws.root.resolve("record");
        // The killed emperor is closed last: its close() would kill what carries the marker.
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            ws.vassal("py", serves(record), "listen = 127.0.0.1:" + web, "listen = unix:" + local, "stop-timeout = 5");
            long first = emp.awaitLogFrom(from, Lines.spawned("py"), WAIT).longGroup(1);
            assertEquals(Long.toString(first), answer(get(web)).group(1));
            emp.signal("KILL");
            emp.awaitExit(WAIT);
            Poll.until("the vassal gone with its emperor", WAIT, () -> Procs.read(first).isEmpty());
            int before = emp.lines().size(); // the next emperor writes the same log
            try (EmperorProcess next = emperor()) {
                long second = next.awaitLogFrom(before, Lines.spawned("py"), WAIT).longGroup(1);
                assertTrue(second != first);
                assertEquals(Long.toString(second), answer(get(web)).group(1), "the same port, bound again");
                assertEquals(Long.toString(second), answer(get(local)).group(1), "the same path, bound again");
            }
        }
    }

    /**
     * Issue 15 §2: 10 restarts under a steady client, every request answered, each run serving some;
     * the odd ones by the control socket's {@code restart}, the even ones by a touch of the file
     * ({@code reload = restart}).
     */
    @Test
    void tenRestartsUnderASteadyClientLoseNoRequest() throws Exception {
        NotifyIT.assumePython();
        int port = freePort();
        Path record = ws.root.resolve("record");
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            Path file = ws.vassal("steady", serves(record), "listen = 127.0.0.1:" + port, "reload = restart",
                    "stop-timeout = 10");
            emp.awaitLogFrom(from, Lines.spawned("steady"), WAIT);
            Client client = new Client(port);
            Thread t = new Thread(client, "steady-client");
            t.start();
            try {
                Poll.until("a first answer", WAIT, () -> client.pids.size() >= 1);
                for (int i = 1; i <= 10; i++) {
                    int runs = i + 1;
                    if (i % 2 == 1) {
                        Map<String, Object> answer = control("{\"cmd\":\"restart\",\"names\":[\"steady\"],\"timeout\":60}");
                        assertEquals(Boolean.TRUE, answer.get("ok"), answer::toString);
                    } else {
                        Workspace.touch(file);
                    }
                    Poll.until("restart " + i + " served", WAIT, () -> client.pids.size() >= runs,
                            () -> "served by " + client.pids + ", failures " + client.failures + "\n" + emp.diagnostics());
                }
            } finally {
                client.stop.set(true);
                t.join(60_000);
            }
            assertEquals(List.of(), client.failures, "every request answered (" + client.requests + " requests)");
            assertEquals(11, client.pids.size(), "each of the 11 runs served: " + client.pids);
            assertEquals(11, awaitLines(record, 11).size());
        }
    }

    /** One request after another, each on a new connection, until stopped. */
    private static final class Client implements Runnable {
        final int port;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong requests = new AtomicLong();
        final Set<String> pids = ConcurrentHashMap.newKeySet();
        final List<String> failures = new CopyOnWriteArrayList<>();

        Client(int port) {
            this.port = port;
        }

        @Override
        public void run() {
            while (!stop.get()) {
                requests.incrementAndGet();
                try {
                    Matcher m = ANSWER.matcher(get(port));
                    if (m.find()) {
                        pids.add(m.group(1));
                    } else {
                        failures.add("request " + requests.get() + ": not an answer");
                    }
                } catch (IOException e) {
                    failures.add("request " + requests.get() + ": " + e);
                }
            }
        }
    }

    private static Matcher answer(String http) {
        assertTrue(http.startsWith("HTTP/1.0 200 OK\r\n"), http);
        Matcher m = ANSWER.matcher(http);
        assertTrue(m.find(), http);
        return m;
    }

    /** The same request on a unix socket. */
    static String get(Path unix) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(unix));
            ch.write(ByteBuffer.wrap("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(4096);
            while (ch.read(buf) > 0) {
                all.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            return all.toString(StandardCharsets.US_ASCII);
        }
    }

    static String get(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 30_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Map<String, Object> control(String request) throws IOException, Json.ParseException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(ws.root.resolve("control.sock")));
            ByteBuffer out = ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) {
                ch.write(out);
            }
            java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (ch.read(one) > 0 && one.get(0) != '\n') {
                line.write(one.get(0));
                one.clear();
            }
            return Json.parseObject(line.toString(StandardCharsets.UTF_8));
        }
    }
}
