package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Listen;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real binds on free loopback ports: what is kept, what is bound anew, and what a failure leaves. */
class ListenSocketsTest {
    static final Path HELPER =
            Path.of(System.getProperty("emperor.buildDir", "target"), "emperor-exec").toAbsolutePath();
    final RecordingWatcher watcher = new RecordingWatcher();
    final ListenSockets sockets = new ListenSockets(new UnixListenBinder(HELPER, (int) ProcessHandle.current().pid(),
            false), watcher, 30_000);

    @org.junit.jupiter.api.io.TempDir
    Path tmp;

    @AfterEach
    void release() {
        sockets.release("app");
        sockets.release("other");
    }

    /** A hold as the loop makes it: a unix socket's bind child answered first. */
    Optional<String> hold(String name, Listen listen, int uid, int gid, String user) {
        return watcher.hold(sockets, name, listen, uid, gid, user);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static Listen listen(int backlog, Listen.Address... addresses) {
        return new Listen(List.of(addresses), -1, backlog, List.of(), false, false);
    }

    static Listen.Address tcp(int port) {
        return new Listen.Address.Inet("127.0.0.1", port);
    }

    /** A connection is accepted into the backlog: the kernel completes it although nobody accepts. */
    static void connects(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        }
    }

    static String fdTarget(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    @Test
    void aTcpSocketIsHeldListeningBeforeAnyProcess() throws IOException {
        int port = freePort();
        assertEquals(Optional.empty(), hold("app", listen(16, tcp(port)), -1, -1, null));
        int[] fds = sockets.fds("app");
        assertEquals(1, fds.length);
        assertTrue(fdTarget(fds[0]).startsWith("socket:"), fdTarget(fds[0]));
        connects(port);
        assertEquals(List.of("127.0.0.1:" + port), sockets.addresses("app"));
        // Blocking and close-on-exec: O_NONBLOCK would be shared with the vassal's copy.
        assertEquals(0, Native.libc().fcntl(fds[0], Native.F_GETFL, 0) & Native.O_NONBLOCK);
        assertEquals(Native.FD_CLOEXEC, Native.libc().fcntl(fds[0], 1 /* F_GETFD */, 0) & Native.FD_CLOEXEC);
    }

    @Test
    void theSameSettingsKeepTheSameFds() throws IOException {
        int a = freePort();
        int b = freePort();
        hold("app", listen(16, tcp(a), tcp(b)), -1, -1, null);
        int[] before = sockets.fds("app");
        String inode = fdTarget(before[0]);
        assertEquals(Optional.empty(), hold("app", listen(16, tcp(a), tcp(b)), -1, -1, null));
        assertArrayEquals(before, sockets.fds("app"));
        assertEquals(inode, fdTarget(before[0]));
        // Another backlog: the same socket, listen(2) again.
        assertEquals(Optional.empty(), hold("app", listen(64, tcp(a), tcp(b)), -1, -1, null));
        assertArrayEquals(before, sockets.fds("app"));
        connects(a);
    }

    @Test
    void aChangedListKeepsTheUnchangedSocketsAndClosesTheRemovedOnes() throws IOException {
        int a = freePort();
        int b = freePort();
        int c = freePort();
        hold("app", listen(16, tcp(a), tcp(b)), -1, -1, null);
        int[] before = sockets.fds("app");
        assertEquals(Optional.empty(), hold("app", listen(16, tcp(c), tcp(a)), -1, -1, null));
        int[] after = sockets.fds("app");
        assertEquals(2, after.length);
        assertEquals(before[0], after[1], "a's socket kept, now second");
        assertNotEquals(before[1], after[0]);
        connects(c);
        connects(a);
        assertThrows(ConnectException.class, () -> connects(b));
    }

    @Test
    void aFailingRebindKeepsTheOldSockets() throws IOException {
        int a = freePort();
        hold("app", listen(16, tcp(a)), -1, -1, null);
        int[] before = sockets.fds("app");
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            int b = taken.getLocalPort();
            int c = freePort();
            Optional<String> problem = hold("app", listen(16, tcp(c), tcp(b)), -1, -1, null);
            assertEquals(Optional.of("listen 127.0.0.1:" + b + ": bind: Address already in use"), problem);
            assertArrayEquals(before, sockets.fds("app"));
            connects(a);
            // The socket bound for c before b failed was closed again.
            assertThrows(ConnectException.class, () -> connects(c));
        }
    }

    @Test
    void noListenReleasesAndReleaseCloses() throws IOException {
        int a = freePort();
        hold("app", listen(16, tcp(a)), -1, -1, null);
        assertEquals(Optional.empty(), hold("app", Listen.NONE, -1, -1, null));
        assertEquals(0, sockets.fds("app").length);
        assertThrows(ConnectException.class, () -> connects(a));
        // A released port binds again at once (SO_REUSEADDR; nothing in TIME_WAIT blocks it).
        assertEquals(Optional.empty(), hold("app", listen(16, tcp(a)), -1, -1, null));
        sockets.release("app");
        assertEquals(0, sockets.fds("app").length);
        assertThrows(ConnectException.class, () -> connects(a));
    }

    @Test
    void twoVassalsCannotHoldOnePort() throws IOException {
        int a = freePort();
        hold("app", listen(16, tcp(a)), -1, -1, null);
        assertEquals(Optional.of("listen 127.0.0.1:" + a + ": bind: Address already in use"),
                hold("other", listen(16, tcp(a)), -1, -1, null));
        assertEquals(0, sockets.fds("other").length);
    }

    @Test
    void ipv6IsV6OnlyAndEveryAddressIsDualStack() throws IOException {
        int a = freePort();
        // [::1] and 127.0.0.1 on one port: two sockets, because IPV6_V6ONLY is set.
        Optional<String> v6 = hold("app", listen(16, new Listen.Address.Inet("::1", a), tcp(a)), -1, -1,
                null);
        org.junit.jupiter.api.Assumptions.assumeTrue(v6.isEmpty(), "no IPv6 loopback here: " + v6);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("::1", a), 10_000);
        }
        connects(a);
        sockets.release("app");
        int b = freePort();
        assertEquals(Optional.empty(), hold("app", listen(16, new Listen.Address.Inet("", b)), -1, -1, null));
        connects(b); // IPv4 reaches the [::] socket
    }

    static Listen unix(int mode, Path... paths) {
        return new Listen(java.util.Arrays.stream(paths).map(p -> (Listen.Address) new Listen.Address.Unix(p)).toList(),
                mode, 16, List.of(), false, false);
    }

    static void connectsUnix(Path path) throws IOException {
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(path))) {
            assertTrue(ch.isConnected());
        }
    }

    static String perms(Path p) throws IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p,
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aUnixSocketIsBoundByTheHelperWithItsMode() throws IOException {
        Path path = tmp.resolve("app.sock");
        assertEquals(Optional.empty(), hold("app", unix(0600, path), -1, -1, null));
        int[] fds = sockets.fds("app");
        assertEquals(1, fds.length);
        assertTrue(fdTarget(fds[0]).startsWith("socket:"), fdTarget(fds[0]));
        assertEquals(Native.FD_CLOEXEC, Native.libc().fcntl(fds[0], 1 /* F_GETFD */, 0) & Native.FD_CLOEXEC);
        assertEquals("rw-------", perms(path));
        connectsUnix(path);
        // Unchanged: the same fd; another mode: bound again, the new file has it.
        assertEquals(Optional.empty(), hold("app", unix(0600, path), -1, -1, null));
        assertArrayEquals(fds, sockets.fds("app"));
        assertEquals(Optional.empty(), hold("app", unix(0660, path), -1, -1, null));
        assertEquals("rw-rw----", perms(path));
        connectsUnix(path);
        // Replaced by a rename of PATH~ over it: nothing left beside it.
        assertTrue(Files.notExists(tmp.resolve("app.sock~"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals(Optional.empty(), hold("app", unix(-1, path), -1, -1, null));
        assertEquals("rw-rw-rw-", perms(path), "systemd's default SocketMode");
    }

    @Test
    void aStaleSocketIsReplaced() throws IOException {
        Path path = tmp.resolve("stale.sock");
        assertEquals(Optional.empty(), hold("app", unix(0600, path), -1, -1, null));
        sockets.release("app"); // the file stays behind, a socket nobody listens on
        assertTrue(Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertThrows(IOException.class, () -> connectsUnix(path));
        assertEquals(Optional.empty(), hold("app", unix(0600, path), -1, -1, null));
        connectsUnix(path);
    }

    @Test
    void somethingElseBesideTheSocketIsLeftAlone() throws IOException {
        Path path = tmp.resolve("web.sock");
        hold("app", unix(0600, path), -1, -1, null);
        Path beside = tmp.resolve("web.sock~");
        Files.writeString(beside, "mine");
        // A mode change replaces the socket without the rename (unlink, then bind), and PATH~ stays as it was.
        assertEquals(Optional.empty(), hold("app", unix(0640, path), -1, -1, null));
        assertEquals("rw-r-----", perms(path));
        assertEquals("mine", Files.readString(beside));
        connectsUnix(path);
    }

    @Test
    void aRegularFileOrASymlinkAtThePathIsNeverReplaced() throws IOException {
        Path file = tmp.resolve("data.sock");
        Files.writeString(file, "precious");
        assertEquals(Optional.of("listen unix:" + file + ": bind " + file
                        + ": exists and is not a socket (only a stale socket is replaced)"),
                hold("app", unix(0600, file), -1, -1, null));
        assertEquals("precious", Files.readString(file));
        assertEquals(0, sockets.fds("app").length);
        // A symlink to a file: neither followed nor removed.
        Path link = tmp.resolve("link.sock");
        Files.createSymbolicLink(link, file);
        assertEquals(Optional.of("listen unix:" + link + ": bind " + link
                        + ": exists and is not a socket (only a stale socket is replaced)"),
                hold("app", unix(0600, link), -1, -1, null));
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("precious", Files.readString(file));
        // A dangling symlink: bind(2) does not follow it to create its target.
        Path target = tmp.resolve("created-through-link");
        Path dangling = tmp.resolve("dangling.sock");
        Files.createSymbolicLink(dangling, target);
        assertTrue(hold("app", unix(0600, dangling), -1, -1, null).isPresent());
        assertTrue(Files.notExists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aFailedUnixBindKeepsTheOldSockets() throws IOException {
        Path good = tmp.resolve("good.sock");
        hold("app", unix(0600, good), -1, -1, null);
        int[] before = sockets.fds("app");
        Path missing = tmp.resolve("no/such/dir/x.sock");
        assertEquals(Optional.of("listen unix:" + missing + ": bind " + missing + ": No such file or directory"),
                hold("app", unix(0600, good, missing), -1, -1, null));
        assertArrayEquals(before, sockets.fds("app"));
        connectsUnix(good);
    }
}
