package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's connection through libemperor-client.so (NativeClientSocket) against the JDK's
 * SocketChannel (JdkClientSocket), the fallback: the same bytes both ways, and every failure to
 * connect the same exception (class and text), so that every message of ClientErrors is the same.
 */
@Timeout(60)
class NativeClientSocketTest {
    static final Path LIBRARY = Path.of(System.getProperty("emperor.buildDir", "target"), NativeClientSocket.LIBRARY)
            .toAbsolutePath();

    @TempDir
    Path dir;

    @BeforeAll
    static void loadTheBuildsLibrary() {
        assertTrue(NativeClientSocket.load(LIBRARY.toFile()), "the build's " + LIBRARY + " loads");
    }

    /** The exception of connecting to {@code path} one way: its class and message. */
    static String failure(Path path, boolean jdk) {
        try {
            ClientSocket s = jdk ? JdkClientSocket.connect(path) : NativeClientSocket.connect(path);
            s.close();
            return "connected";
        } catch (IOException e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }

    /**
     * What the user reads for {@code path} one way, or "connected": ClientErrors' message for the
     * exception, with no emperor running (the emperors of other tests on this machine come and go).
     */
    static String message(Path path, boolean jdk) {
        try {
            ClientSocket s = jdk ? JdkClientSocket.connect(path) : NativeClientSocket.connect(path);
            s.close();
            return "connected";
        } catch (IOException e) {
            return ClientErrors.message(path, ClientErrors.classify(path, e), e.getMessage(), List.of());
        }
    }

    static void assertSameBothWays(Path path, String expectedStart) {
        String jdk = failure(path, true);
        assertEquals(jdk, failure(path, false), "the exception for " + path);
        String said = message(path, true);
        assertEquals(said, message(path, false), "the message for " + path);
        assertTrue(said.startsWith(expectedStart), path + ": " + said + " (" + jdk + ")");
    }

    @Test
    void everyFailureToConnectIsTheJdksExceptionAndMessage() throws Exception {
        // No file (ENOENT), no directory: "no emperor running (no control socket at …)".
        assertSameBothWays(dir.resolve("control.sock"), "no emperor running (no control socket at " + dir.resolve("control.sock"));
        assertSameBothWays(dir.resolve("none/control.sock"), "no emperor running (no control socket at ");
        // A socket nobody listens on (ECONNREFUSED, a ConnectException): "a socket left by one that stopped".
        Path stale = dir.resolve("stale.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(stale));
        }
        assertSameBothWays(stale, "no emperor running on " + stale + " (a socket left by one that stopped)");
        assertTrue(failure(stale, false).startsWith("java.net.ConnectException: "), failure(stale, false));
        // Not a socket: a regular file, a directory, a FIFO.
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertSameBothWays(file, "no emperor running on " + file);
        assertSameBothWays(dir, "no emperor running on " + dir);
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        assertSameBothWays(fifo, "no emperor running on " + fifo);
        // A file where a directory should be (ENOTDIR), a symlink loop (ELOOP): the strerror text.
        assertSameBothWays(file.resolve("control.sock"), "no emperor running (no control socket at " + file.resolve("control.sock"));
        Path loop = dir.resolve("loop");
        Files.createSymbolicLink(loop, loop);
        assertSameBothWays(loop, "cannot connect to the emperor on " + loop + ": Too many levels of symbolic links");
        // The longest path the JDK takes (107 bytes), and one byte more ("Unix domain path too long").
        Path longest = dir.resolve("x".repeat(NativeClientSocket.MAX_PATH - dir.toString().length() - 1));
        assertEquals(NativeClientSocket.MAX_PATH, longest.toString().length());
        assertSameBothWays(longest, "no emperor running (no control socket at " + longest);
        Path tooLong = Files.writeString(dir.resolve(longest.getFileName() + "y"), "");
        assertSameBothWays(tooLong, "cannot connect to the emperor on " + tooLong + ": Unix domain path too long");
        // Relative to the working directory, and the empty path (ECONNREFUSED, both ways).
        assertSameBothWays(Path.of("no-such-emperor-" + ProcessHandle.current().pid() + ".sock"), "no emperor running");
        assertSameBothWays(Path.of(""), "");
        // And through ControlClient itself, which asks /proc which emperors run.
        String text = assertThrows(IOException.class, () -> ControlClient.connect(dir.resolve("c.sock"), false)).getMessage();
        assertTrue(text.startsWith("no ") && text.contains("control socket at " + dir.resolve("c.sock")), text);
        // A non-ASCII path: the same bytes (sun.jnu.encoding) both ways.
        assertSameBothWays(dir.resolve("kontrollé.sock"), "no emperor running (no control socket at " + dir.resolve("kontrollé.sock"));
    }

    /**
     * EACCES (a BindException, as the JDK's handleSocketError makes it): "permission denied on
     * PATH". Root is never denied, so as root it is tried by a JVM of user nobody.
     */
    @Test
    void permissionDeniedIsTheSameBothWays() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("r--r--r--"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            String expected = "permission denied on " + socket
                    + " (the control socket, or a directory above it, does not let you in)";
            List<String> lines;
            if (!"root".equals(System.getProperty("user.name"))) {
                lines = List.of(failure(socket, true), failure(socket, false), message(socket, true), message(socket, false));
            } else {
                lines = asNobody(socket);
            }
            assertEquals(4, lines.size(), lines.toString());
            assertTrue(lines.get(0).startsWith("java.net.BindException: Permission denied"), lines.get(0));
            assertEquals(lines.get(0), lines.get(1), "the exception");
            assertEquals(expected, lines.get(2));
            assertEquals(expected, lines.get(3));
        }
    }

    /** {@link ConnectProbe} as user nobody: the two exceptions and the two messages. */
    List<String> asNobody(Path socket) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String cp = Path.of(System.getProperty("emperor.buildDir", "target"), "classes").toAbsolutePath() + File.pathSeparator
                + Path.of(ConnectProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Process p = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", java.toString(),
                "-Xshare:auto", "-cp", cp, ConnectProbe.class.getName(), LIBRARY.toString(), socket.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.lines().toList();
    }

    /** Runs as another user by {@link #asNobody}: prints failure and message, the JDK's way first. */
    public static final class ConnectProbe {
        public static void main(String[] args) {
            if (!NativeClientSocket.load(new File(args[0]))) {
                System.exit(2);
            }
            Path socket = Path.of(args[1]);
            System.out.println(failure(socket, true));
            System.out.println(failure(socket, false));
            System.out.println(message(socket, true));
            System.out.println(message(socket, false));
        }
    }

    /** A server that answers every line with {@code answer(line)} and closes after {@code lines} lines. */
    static Thread server(ServerSocketChannel listening, int lines, java.util.function.Function<String, byte[]> answer) {
        Thread t = new Thread(() -> {
            try (listening; SocketChannel c = listening.accept()) {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                ByteBuffer in = ByteBuffer.allocate(1);
                int seen = 0;
                while (seen < lines && c.read(in.clear()) > 0) {
                    if (in.get(0) != '\n') {
                        line.write(in.get(0));
                        continue;
                    }
                    ByteBuffer out = ByteBuffer.wrap(answer.apply(line.toString(StandardCharsets.UTF_8)));
                    while (out.hasRemaining()) {
                        c.write(out);
                    }
                    line.reset();
                    seen++;
                }
            } catch (IOException e) {
                // the client's side fails the test
            }
        }, "test-server");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void requestsAndAnswersThroughTheLibrary() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (ControlServer server = new ControlServer(socket, (peer, request, reply) -> {
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("ok", true);
            answer.put("got", request.get("cmd"));
            reply.send(answer);
            reply.done();
        })) {
            server.start();
            try (ControlClient client = ControlClient.connect(socket, false)) {
                client.send(Map.of("cmd", "status"));
                client.send(Map.of("cmd", "héllo \"quoted\"\n"));
                assertEquals(Map.of("ok", true, "got", "status"), client.next());
                assertEquals(Map.of("ok", true, "got", "héllo \"quoted\"\n"), client.next());
                server.close();
                assertNull(client.next(), "EOF once the emperor is gone");
            }
        }
    }

    /** Requests and answers larger than the library's 8 KiB copies arrive whole, byte for byte. */
    @Test
    void largeRequestsAndAnswersArriveWhole() throws Exception {
        Path socket = dir.resolve("big.sock");
        ServerSocketChannel listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listening.bind(UnixDomainSocketAddress.of(socket));
        // Echoes each line's length and the line again, so 100 KiB goes each way.
        Thread t = server(listening, 1, line -> (line.length() + " " + line + "\n").getBytes(StandardCharsets.UTF_8));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < 100_000; i++) {
            sb.append("vassal-").append(i).append(" é ");
        }
        String line = sb.toString();
        try (NativeClientSocket s = NativeClientSocket.connect(socket)) {
            s.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            InputStream in = s.in();
            byte[] all = in.readAllBytes(); // the server closes after its answer: EOF
            assertArrayEquals((line.length() + " " + line + "\n").getBytes(StandardCharsets.UTF_8), all);
            assertEquals(-1, in.read(), "EOF stays EOF");
        }
        t.join(TimeUnit.SECONDS.toMillis(30));
    }

    /**
     * ControlClient's lines both ways: several in one read, one across many reads (three of 20 KB
     * after one another, the client's buffer is 8 KiB), multi-byte characters cut between two reads,
     * and a last line without its newline before EOF.
     */
    @Test
    void answerLinesAcrossReadsBothWays() throws Exception {
        for (boolean jdk : new boolean[] {true, false}) {
            Path socket = dir.resolve("lines-" + jdk + ".sock");
            ServerSocketChannel listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            listening.bind(UnixDomainSocketAddress.of(socket));
            StringBuilder answers = new StringBuilder("{\"n\":1}\n{\"n\":2}\n");
            String big = "é€".repeat(6000); // 2 and 3 bytes: 30,000 bytes, cut somewhere
            for (int i = 3; i <= 5; i++) {
                answers.append("{\"n\":").append(i).append(",\"text\":\"").append(big).append("\"}\n");
            }
            answers.append("{\"n\":6}");
            Thread t = server(listening, 1, line -> answers.toString().getBytes(StandardCharsets.UTF_8));
            try (ControlClient client = ControlClient.connect(socket, jdk)) {
                client.send(Map.of("cmd", "status"));
                for (long i = 1; i <= 6; i++) {
                    Map<String, Object> answer = client.next();
                    assertEquals(i, answer.get("n"), jdk + ": answer " + i);
                    if (i >= 3 && i <= 5) {
                        assertEquals(big, answer.get("text"));
                    }
                }
                assertNull(client.next(), "EOF");
            }
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    /** An emperor that goes away while the client writes: an IOException (EPIPE), not a SIGPIPE that kills the client. */
    @Test
    void aPeerThatClosedIsAnIOExceptionNotASignal() throws Exception {
        Path socket = dir.resolve("gone.sock");
        ServerSocketChannel listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listening.bind(UnixDomainSocketAddress.of(socket));
        try (NativeClientSocket s = NativeClientSocket.connect(socket)) {
            listening.accept().close();
            listening.close();
            byte[] chunk = new byte[64 * 1024];
            IOException e = assertThrows(IOException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    s.write(chunk);
                }
            });
            List<String> texts = new ArrayList<>(List.of("Broken pipe", "Connection reset by peer"));
            assertTrue(texts.contains(e.getMessage()), e.getMessage());
        }
    }

    @Test
    void aClosedSocketIsNotUsedAgain() throws Exception {
        Path socket = dir.resolve("closed.sock");
        try (ServerSocketChannel listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listening.bind(UnixDomainSocketAddress.of(socket));
            NativeClientSocket s = NativeClientSocket.connect(socket);
            s.close();
            s.close(); // twice: nothing (the descriptor number may be another file's by now)
            assertThrows(IOException.class, () -> s.write(new byte[] {'x'}));
            assertThrows(IOException.class, () -> s.read(new byte[1], 0, 1));
        }
    }

    /** Without a usable library the client uses the JDK: a missing file, one that is no library, a relative path. */
    @Test
    void aLibraryThatIsMissingOrNoLibraryIsNotLoaded() throws Exception {
        assertFalse(NativeClientSocket.loadable(dir.resolve("libemperor-client.so").toFile()), "missing");
        // An executable is no library (a text file would do too, but the JVM warns of its stack guard).
        Path exe = Files.copy(Path.of(System.getProperty("emperor.buildDir", "target"), "emperor-exec"),
                dir.resolve("libemperor-client.so"));
        assertFalse(NativeClientSocket.loadable(exe.toFile()), "not a library");
        assertFalse(NativeClientSocket.loadable(new File("target/libemperor-client.so")), "a relative path");
        assertTrue(NativeClientSocket.loadable(LIBRARY.toFile()), "the build's");
    }
}
