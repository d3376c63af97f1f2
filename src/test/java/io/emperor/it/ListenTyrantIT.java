package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Listen;
import io.emperor.config.ReloadMode;
import io.emperor.config.TenantListen;
import io.emperor.config.VassalSpec;
import io.emperor.loop.Launcher;
import io.emperor.loop.LoopEvent;
import io.emperor.os.Environment;
import io.emperor.os.HelperLauncher;
import io.emperor.os.IoThread;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tyrant mode's sockets (issue 15), as root with a real user and the real exec helper: a tenant's unix socket
 * is bound as the tenant (owned by it; a directory it may not write refuses it; a symlink leads nowhere it could
 * not go itself), and a privileged port is refused by the launcher too.
 */
class ListenTyrantIT {
    static final Path HELPER =
            Path.of(System.getProperty("emperor.buildDir", "target"), "emperor-exec").toAbsolutePath();
    static TyrantSupport.Accounts accounts;
    static TyrantSupport.User alice;

    @TempDir
    Path tmp;

    final java.util.concurrent.BlockingQueue<LoopEvent> events = new java.util.concurrent.LinkedBlockingQueue<>();
    final IoThread io = new IoThread(events::add);
    HelperLauncher launcher;

    ListenTyrantIT() {
        io.start();
    }

    /**
     * {@link HelperLauncher#hold} as the loop makes it: while a unix socket is being bound as the tenant, the I/O
     * thread's {@link LoopEvent.BindAnswer} goes to {@link HelperLauncher#answered}, then it holds again. Empty
     * when held, else why not.
     */
    Optional<String> hold(HelperLauncher l, VassalSpec spec) {
        Launcher.Hold h = l.hold("app", spec);
        while (h instanceof Launcher.Hold.Binding) {
            LoopEvent.BindAnswer answer = nextAnswer();
            l.answered(answer.name(), answer.id());
            h = l.hold("app", spec);
        }
        return h instanceof Launcher.Hold.Failed f ? Optional.of(f.reason()) : Optional.empty();
    }

    LoopEvent.BindAnswer nextAnswer() {
        try {
            LoopEvent e = events.poll(60, java.util.concurrent.TimeUnit.SECONDS);
            if (e instanceof LoopEvent.BindAnswer b) {
                return b;
            }
            throw new AssertionError("no answer of the bind child within 60 s: " + e);
        } catch (InterruptedException ex) {
            throw new AssertionError(ex);
        }
    }

    @BeforeAll
    static void users() {
        TyrantSupport.assumeRootWithUseradd();
        accounts = new TyrantSupport.Accounts();
        alice = accounts.user("la");
    }

    @AfterAll
    static void removeUsers() {
        if (accounts != null) {
            accounts.close();
        }
    }

    @AfterEach
    void close() throws InterruptedException {
        if (launcher != null) {
            launcher.forget("app");
            launcher.close();
        }
        io.close();
    }

    HelperLauncher launcher() {
        launcher = new HelperLauncher(HELPER, io, new Environment(Map.of(), "uwsgi"), true);
        return launcher;
    }

    static VassalSpec alices(Listen.Address... addresses) {
        Path file = Path.of("/v/app.ini");
        return new VassalSpec("app", file, VassalSpec.Kind.PROGRAM, List.of("/bin/true"), file.getParent(), List.of(),
                0022, alice.name(), alice.uid(), alice.gid(), null, 15, Duration.ofSeconds(30), ReloadMode.SIGNAL, 1,
                List.of()).withListen(new Listen(List.of(addresses), 0660, 16, List.of(), false, false));
    }

    static Listen.Address.Unix unix(Path p) {
        return new Listen.Address.Unix(p);
    }

    @Test
    void aTenantsUnixSocketIsOwnedByTheTenant() throws IOException {
        TyrantSupport.openUp(tmp);
        Path dir = TyrantSupport.ownedDir(tmp.resolve("alice"), alice.uid(), alice.gid());
        Path sock = dir.resolve("app.sock");
        assertEquals(Optional.empty(), hold(launcher(), alices(unix(sock))));
        assertEquals(alice.uid(), TyrantSupport.uidOf(sock));
        assertEquals(alice.gid(), TyrantSupport.gidOf(sock));
        assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(sock, LinkOption.NOFOLLOW_LINKS)));
        assertEquals(1, launcher.held("app").length);
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(sock))) {
            assertTrue(ch.isConnected());
        }
    }

    /**
     * A full disk (a tmpfs without a free inode): the tenant's unix socket cannot be made, the hold says why and
     * holds nothing, and once there is room again the same hold binds it.
     */
    @Test
    void aFullDiskRefusesTheSocketWithTheReasonAndTheNextHoldBindsIt() throws IOException {
        TyrantSupport.openUp(tmp);
        Path disk = tmp.resolve("disk");
        Files.createDirectory(disk);
        TyrantSupport.Result mount = TyrantSupport.run("mount", "-t", "tmpfs", "-o",
                "size=64k,nr_inodes=3,mode=0700,uid=" + alice.uid() + ",gid=" + alice.gid(), "tmpfs", disk.toString());
        org.junit.jupiter.api.Assumptions.assumeTrue(mount.exit() == 0, () -> "cannot mount a tmpfs: " + mount.output());
        try {
            for (int i = 0; ; i++) { // every inode taken
                try {
                    Files.createFile(disk.resolve("f" + i));
                } catch (IOException full) {
                    break;
                }
            }
            Path sock = disk.resolve("app.sock");
            Optional<String> problem = hold(launcher(), alices(unix(sock)));
            assertTrue(problem.isPresent() && problem.get().contains("No space left on device"), problem::toString);
            assertEquals(0, launcher.held("app").length, "nothing held");
            Files.delete(disk.resolve("f0"));
            assertEquals(Optional.empty(), hold(launcher, alices(unix(sock))), "room again: bound");
            assertEquals(alice.uid(), TyrantSupport.uidOf(sock));
        } finally {
            launcher.forget("app");
            TyrantSupport.run("umount", "-l", disk.toString());
        }
    }

    @Test
    void aRebindThatFailsAsTheTenantKeepsTheOldSocketAtItsPath() throws IOException {
        TyrantSupport.openUp(tmp);
        Path dir = TyrantSupport.ownedDir(tmp.resolve("alice"), alice.uid(), alice.gid());
        Path sock = dir.resolve("app.sock");
        assertEquals(Optional.empty(), hold(launcher(), alices(unix(sock))));
        int[] before = launcher.held("app");
        TyrantSupport.chmod(dir, "r-xr-xr-x"); // hers, but not writable now
        VassalSpec otherMode = alices(unix(sock)).withListen(new Listen(List.of(unix(sock)), 0600, 16, List.of(),
                false, false));
        assertEquals(Optional.of("listen unix:" + sock + ": bind " + sock + ": Permission denied"),
                hold(launcher, otherMode));
        assertEquals(before[0], launcher.held("app")[0]);
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(sock))) {
            assertTrue(ch.isConnected(), "the old socket is still there and listening");
        }
    }

    @Test
    void aDirectoryTheTenantMayNotWriteRefusesItsSocket() {
        TyrantSupport.openUp(tmp); // root's, 755: alice may enter, not write
        Path sock = tmp.resolve("app.sock");
        assertEquals(Optional.of("listen unix:" + sock + ": bind " + sock + ": Permission denied"),
                hold(launcher(), alices(unix(sock))));
        assertTrue(Files.notExists(sock, LinkOption.NOFOLLOW_LINKS));
        assertEquals(0, launcher.held("app").length);
    }

    @Test
    void symlinksLeadTheBindNowhereTheTenantCouldNotGo() throws IOException {
        TyrantSupport.openUp(tmp);
        Path dir = TyrantSupport.ownedDir(tmp.resolve("alice"), alice.uid(), alice.gid());
        // A component that is the tenant's symlink to /etc.
        Path etc = dir.resolve("etc");
        Files.createSymbolicLink(etc, Path.of("/etc"));
        TyrantSupport.chown(etc, alice.uid(), alice.gid());
        String name = "emperor-test-" + alice.name() + ".sock";
        Path through = etc.resolve(name);
        assertEquals(Optional.of("listen unix:" + through + ": bind " + through + ": Permission denied"),
                hold(launcher(), alices(unix(through))));
        assertTrue(Files.notExists(Path.of("/etc", name), LinkOption.NOFOLLOW_LINKS));
        // The last component a symlink to a root file: not replaced, not followed.
        Path link = dir.resolve("passwd.sock");
        Files.createSymbolicLink(link, Path.of("/etc/passwd"));
        TyrantSupport.chown(link, alice.uid(), alice.gid());
        String before = Files.readString(Path.of("/etc/passwd"));
        assertEquals(Optional.of("listen unix:" + link + ": bind " + link
                        + ": exists and is not a socket (only a stale socket is replaced)"),
                hold(launcher, alices(unix(link))));
        assertTrue(Files.isSymbolicLink(link));
        assertEquals(before, Files.readString(Path.of("/etc/passwd")));
        // A dangling symlink into /etc: bind(2) does not create its target.
        Path dangling = dir.resolve("dangling.sock");
        Files.createSymbolicLink(dangling, Path.of("/etc", name));
        TyrantSupport.chown(dangling, alice.uid(), alice.gid());
        assertTrue(hold(launcher, alices(unix(dangling))).isPresent());
        assertTrue(Files.notExists(Path.of("/etc", name), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aPrivilegedPortIsRefusedByTheLauncherToo() {
        assertEquals(Optional.of("listen 127.0.0.1:1000: port 1000 is below 1024: refused in tyrant mode"),
                hold(launcher(), alices(new Listen.Address.Inet("127.0.0.1", 1000))));
        assertEquals(0, launcher.held("app").length);
    }

    @Test
    void anAddressOutsideTenantListenIsRefusedByTheLauncherToo() {
        launcher().allowTenants(TenantListen.parse("127.0.0.1:8000-8999").value());
        assertEquals(Optional.of("listen 127.0.0.1:9000: 127.0.0.1:9000 is not allowed to tenants: tenant-listen"
                + " allows only 127.0.0.1:8000-8999"), hold(launcher, alices(new Listen.Address.Inet("127.0.0.1",
                9000))));
        assertEquals(0, launcher.held("app").length);
    }

    @Test
    void aRootIdentityBindsNothing() {
        VassalSpec root = alices(unix(tmp.resolve("root.sock"))).withIdentity("root", 0, 0);
        assertEquals(Optional.of("listen: tyrant mode: refusing to bind as uid 0 gid 0"), hold(launcher(), root));
        assertTrue(Files.notExists(tmp.resolve("root.sock")));
    }
}
