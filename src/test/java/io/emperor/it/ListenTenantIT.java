package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.control.Json;
import io.emperor.it.EmperorProcess.CliResult;
import io.emperor.it.TyrantSupport.User;
import io.emperor.testing.Poll;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A root emperor in tyrant mode and a tenant's {@code listen} (issue 15, docs/tyrant.md "Sockets held by the
 * emperor"): a privileged port and an address outside {@code tenant-listen} refused with file:line, nothing
 * spawned; a unix socket in the tenant's directory bound as the tenant, owned by it, shown by status.
 */
class ListenTenantIT extends UsersItSupport {
    private static User alice;
    private static User bob;

    @BeforeAll
    static void createUsers() {
        alice = accounts.user("na");
        bob = accounts.user("nb");
    }

    private Path vassal(String name, String... lines) {
        return TyrantSupport.vassal(ws, ws.vassals, name, alice.uid(), alice.gid(), "rw-r--r--", lines);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> status(String name) {
        CliResult r = EmperorProcess.cli(ws.root, "status", "--socket", ws.root.resolve("control.sock").toString(),
                "--json", name);
        try {
            return (Map<String, Object>) ((List<Object>) Json.parseObject(r.stdout().strip()).get("vassals")).get(0);
        } catch (Json.ParseException | RuntimeException e) {
            throw new AssertionError("status --json " + name + ": " + r, e);
        }
    }

    @Test
    void aTenantsPrivilegedPortAndAnAddressTheAdminDidNotAllowAreRefusedWithTheirLine() {
        try (EmperorProcess emp = emperor("tyrant = true", "tenant-listen = 127.0.0.1:* unix:" + ws.root + "/**")) {
            int from = emp.mark();
            Path low = vassal("low", "exec = " + ws.exec("sleeps.sh"), "listen = 127.0.0.1:1000");
            emp.awaitLogFrom(from, lifecycle("low", q("refused: " + low + ":3: listen: port 1000 is below 1024: refused"
                    + " in tyrant mode (a tenant may not take a privileged port); use a port from 1024 up") + "$"), WAIT);
            Path wide = vassal("wide", "exec = " + ws.exec("sleeps.sh"), "listen = *:8080");
            emp.awaitLogFrom(from, lifecycle("wide", q("refused: " + wide + ":3: listen: :8080 is not allowed to"
                    + " tenants: tenant-listen allows only 127.0.0.1:* unix:" + ws.root + "/**") + "$"), WAIT);
            assertEquals(Optional.empty(), Poll.within(Duration.ofSeconds(1),
                    () -> emp.first(from, spawned("low")).or(() -> emp.first(from, spawned("wide")))));
            assertEquals("failed", status("low").get("state"));
        }
    }

    @Test
    void aTenantsUnixSocketIsBoundAsTheTenantAndShown() throws Exception {
        Path dir = TyrantSupport.ownedDir(ws.root.resolve("alice-run"), alice.uid(), alice.gid());
        Path sock = dir.resolve("app.sock");
        try (EmperorProcess emp = emperor("tyrant = true")) {
            int from = emp.mark();
            vassal("app", "exec = " + ws.exec("sleeps.sh"), "listen = unix:" + sock, "listen-mode = 0600",
                    "stop-timeout = 2");
            emp.awaitLogFrom(from, spawned("app"), WAIT);
            assertEquals(alice.uid(), TyrantSupport.uidOf(sock));
            assertEquals(alice.gid(), TyrantSupport.gidOf(sock));
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(sock, LinkOption.NOFOLLOW_LINKS)));
            assertEquals(List.of("unix:" + sock), status("app").get("listen"));
            // A directory she may not write: refused as she would be, and not started.
            Path rootOwned = ws.root.resolve("root-run");
            Files.createDirectories(rootOwned);
            TyrantSupport.openUp(rootOwned);
            Path denied = rootOwned.resolve("x.sock");
            vassal("denied", "exec = " + ws.exec("sleeps.sh"), "listen = unix:" + denied);
            emp.awaitLogFrom(from, lifecycle("denied", q("spawn failed: listen unix:" + denied + ": bind " + denied
                    + ": Permission denied") + "$"), WAIT);
            assertEquals(Optional.empty(), emp.first(from, spawned("denied")));
            assertEquals(false, Files.exists(denied, LinkOption.NOFOLLOW_LINKS));
        }
    }

    /**
     * The attack the unix bind child invites (docs/threads.md): it runs as the tenant, and a tenant can hang it on
     * a path of its own, a FUSE mount that never answers a lookup (SIGKILL does not even end that wait). The
     * emperor never waits for it: while it hangs, the vassal waits in {@code waiting} for
     * {@code sockets (binding …)}, another vassal's restart is carried out, and the removed file ends the bind.
     * (It hung the loop before: its wait ended in a waitpid that a FUSE hang never lets return.)
     */
    @Test
    void aTenantsBindChildHungOnItsOwnFuseMountHoldsUpNoOtherVassal() throws Exception {
        Path mount = ws.root.resolve("hung");
        Process fuse = hungFuse(mount);
        try {
            Path sock = mount.resolve("app.sock");
            try (EmperorProcess emp = emperor("tyrant = true")) {
                int from = emp.mark();
                Path other = vassal("other", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
                emp.awaitLogFrom(from, spawned("other"), WAIT);
                vassal("stall", "exec = " + ws.exec("sleeps.sh"), "listen = unix:" + sock);
                emp.awaitLogFrom(from, lifecycle("stall", q("waiting for sockets (binding unix:" + sock + ")") + "$"),
                        WAIT);
                long child = Poll.until("the bind child, hung in the FUSE lookup", WAIT, () -> bindChild(emp.pid()),
                        () -> "no bind child of " + emp.pid());
                // Another vassal is restarted while it hangs.
                int restart = emp.mark();
                Files.writeString(other, Files.readString(other) + "env = CHANGED=1\n");
                emp.awaitLogFrom(restart, spawned("other"), WAIT);
                assertEquals("waiting", status("stall").get("state"));
                assertEquals("sockets (binding unix:" + sock + ")", status("stall").get("waiting_for"));
                assertEquals(Optional.of(child), bindChild(emp.pid()), "still hung: the restart did not wait for it");
                // Its file removed: forgotten at once, the bind ended (the child is killed; it goes when FUSE does).
                int removed = emp.mark();
                Files.delete(ws.vassals.resolve("stall.ini"));
                emp.awaitLogFrom(removed, lifecycle("stall", "removed$"), WAIT);
                fuse.destroy();
                Poll.until("the killed bind child gone and reaped", WAIT, () -> bindChild(emp.pid()).isEmpty());
                assertEquals(Optional.empty(), emp.first(from, spawned("stall")));
            }
        } finally {
            fuse.destroyForcibly();
            fuse.waitFor();
            TyrantSupport.run("umount", "-l", mount.toString());
        }
    }

    /**
     * A flood of them: one tenant's 20 files, each on its hung FUSE path, leave at most 16 bind children (each an
     * unkillable process once killed), and another tenant's unix socket is bound and its vassal spawned meanwhile.
     */
    @Test
    void aTenantsFloodOfHungBindsCostsAtMostSixteenChildrenAndNoOtherTenantWaits() throws Exception {
        Path mount = ws.root.resolve("hung");
        Process fuse = hungFuse(mount);
        try (EmperorProcess emp = emperor("tyrant = true")) {
            int from = emp.mark();
            for (int i = 0; i < 20; i++) {
                vassal("stall" + i, "exec = " + ws.exec("sleeps.sh"), "listen = unix:" + mount.resolve(i + ".sock"));
            }
            int most = 0;
            for (int i = 0; i < 20; i++) {
                emp.awaitLogFrom(from, lifecycle("stall" + i, "waiting for sockets \\(binding unix:.*"), WAIT);
                most = Math.max(most, bindChildren(emp.pid()).size());
            }
            Poll.until("16 bind children", WAIT, () -> bindChildren(emp.pid()).size() == 16);
            Path bobs = TyrantSupport.ownedDir(ws.root.resolve("bob-run"), bob.uid(), bob.gid());
            TyrantSupport.vassal(ws, ws.vassals, "bobs", bob.uid(), bob.gid(), "rw-r--r--",
                    "exec = " + ws.exec("sleeps.sh"), "listen = unix:" + bobs.resolve("b.sock"), "stop-timeout = 2");
            emp.awaitLogFrom(from, spawned("bobs"), WAIT);
            assertEquals(bob.uid(), TyrantSupport.uidOf(bobs.resolve("b.sock")));
            most = Math.max(most, bindChildren(emp.pid()).size());
            assertEquals(16, most, "at most 16 of alice's at once");
            assertEquals("waiting", status("stall19").get("state"));
            for (int i = 0; i < 20; i++) {
                Files.delete(ws.vassals.resolve("stall" + i + ".ini"));
            }
            fuse.destroy();
            Poll.until("every bind child gone and reaped", WAIT, () -> bindChildren(emp.pid()).isEmpty());
        } finally {
            fuse.destroyForcibly();
            fuse.waitFor();
            TyrantSupport.run("umount", "-l", mount.toString());
        }
    }

    /** A FUSE file system at {@code mount} that never answers a lookup (fixture hung-fuse.py); skipped without FUSE. */
    Process hungFuse(Path mount) throws java.io.IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "needs /dev/fuse");
        Files.createDirectories(mount);
        Process fuse = new ProcessBuilder("python3", ws.fixture("hung-fuse.py").toString(), mount.toString())
                .redirectErrorStream(true).start();
        String said = new java.io.BufferedReader(new java.io.InputStreamReader(fuse.getInputStream())).readLine();
        if (!"mounted".equals(said)) {
            fuse.destroyForcibly();
            org.junit.jupiter.api.Assumptions.abort("no FUSE mount here: " + said);
        }
        return fuse;
    }

    /** The emperor's children that bind a unix socket ({@code emperor-exec … -B}). */
    static List<Long> bindChildren(long emperor) {
        return ProcessHandle.of(emperor).stream().flatMap(ProcessHandle::children)
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains("-B")).orElse(false))
                .map(ProcessHandle::pid).toList();
    }

    /** The emperor's child that binds a unix socket ({@code emperor-exec … -B}), if there is one. */
    static Optional<Long> bindChild(long emperor) {
        return ProcessHandle.of(emperor).stream().flatMap(ProcessHandle::children)
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains("-B")).orElse(false))
                .map(ProcessHandle::pid).findFirst();
    }
}
