package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.TyrantSupport.User;
import io.emperor.testing.Poll;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tenant's on-demand vassal under a root tyrant emperor (issue 15): its unix socket is bound as the
 * tenant before any process (owned by the tenant), and the first connection starts the vassal as the tenant,
 * which serves it.
 */
class OnDemandTenantIT extends UsersItSupport {
    private static User bob;

    @BeforeAll
    static void createUsers() {
        bob = accounts.user("od");
    }

    /** One HTTP/1.0 request on a unix socket; the answer's body. */
    static String get(Path socket) throws Exception {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            c.write(ByteBuffer.wrap("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            java.io.InputStream in = java.nio.channels.Channels.newInputStream(c);
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return answer.substring(answer.indexOf("\r\n\r\n") + 4);
        }
    }

    @Test
    void aTenantsOnDemandUnixSocketIsTheTenantsAndItsConnectionStartsTheVassalAsTheTenant() throws Exception {
        Path dir = TyrantSupport.ownedDir(ws.root.resolve("bob-run"), bob.uid(), bob.gid());
        Path sock = dir.resolve("app.sock");
        try (EmperorProcess emp = emperor("tyrant = true", "min-uptime = 1")) {
            int from = emp.mark();
            TyrantSupport.vassal(ws, ws.vassals, "app", bob.uid(), bob.gid(), "rw-r--r--",
                    "exec = /usr/bin/python3 " + ws.fixture("idles-fd.py") + " --idle 30 " + ws.marker,
                    "listen = unix:" + sock, "on-demand = true", "stop-timeout = 5");
            emp.awaitLogFrom(from, lifecycle("app", q("waiting for a connection on unix:" + sock) + "$"), WAIT);
            assertEquals(bob.uid(), TyrantSupport.uidOf(sock), "bound as the tenant");
            assertEquals(Optional.empty(), Poll.within(Duration.ofMillis(500), () -> emp.first(from, spawned("app"))));
            assertTrue(Procs.withMarker(ws.marker).isEmpty(), () -> Procs.describe(Procs.withMarker(ws.marker)));

            String body = get(sock);
            LogLine spawned = emp.awaitLogFrom(from, spawned("app"), WAIT);
            assertEquals("pid=" + spawned.longGroup(1) + "\n", body);
            assertEquals(bob.uid(), spawned.longGroup(2), "started as the tenant");
            String status = Files.readString(Path.of("/proc/" + spawned.longGroup(1) + "/status"));
            assertTrue(status.lines().anyMatch(l -> l.matches("Uid:\\s+" + bob.uid() + "\\s+" + bob.uid() + "\\s+"
                    + bob.uid() + "\\s+" + bob.uid())), status);
        }
    }
}
