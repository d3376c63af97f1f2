package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class ControlClientTest {
    @TempDir
    Path dir;

    @Test
    void aMissingSocketSaysNoEmperorIsRunning() {
        Path socket = dir.resolve("control.sock");
        IOException e = assertThrows(IOException.class, () -> ControlClient.connect(socket));
        // No emperor of this machine has this path (ClientErrorsTest has the other answers).
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("no emperor running (no control socket at "
                + socket + "; see `control` in emperor.ini)"), e.getMessage());
    }

    @Test
    void aStaleSocketSaysNoEmperorIsRunning() throws IOException {
        Path socket = dir.resolve("control.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        IOException e = assertThrows(IOException.class, () -> ControlClient.connect(socket));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("no emperor running on " + socket
                + " (a socket left by one that stopped)"), e.getMessage());
    }

    @Test
    void aSocketWeMayNotOpenSaysPermissionDenied() throws IOException {
        assumeFalse("root".equals(System.getProperty("user.name")), "root is never denied");
        Path socket = dir.resolve("control.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("r--r--r--"));
            IOException e = assertThrows(IOException.class, () -> ControlClient.connect(socket));
            assertEquals("permission denied on " + socket
                    + " (the control socket, or a directory above it, does not let you in)", e.getMessage());
        }
    }

    @Test
    void sendsRequestsAndReadsAnswersUntilEof() throws IOException {
        Path socket = dir.resolve("control.sock");
        try (ControlServer server = new ControlServer(socket, (peer, request, reply) -> {
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("ok", true);
            answer.put("got", request.get("cmd"));
            reply.send(answer);
            reply.done();
        })) {
            server.start();
            try (ControlClient client = ControlClient.connect(socket)) {
                client.send(Map.of("cmd", "status"));
                client.send(Map.of("cmd", "héllo \"quoted\"\n"));
                assertEquals(Map.of("ok", true, "got", "status"), client.next());
                assertEquals(Map.of("ok", true, "got", "héllo \"quoted\"\n"), client.next());
                server.close();
                assertNull(client.next(), "EOF once the emperor is gone");
            }
        }
    }
}
