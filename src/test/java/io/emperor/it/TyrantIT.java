package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static io.emperor.it.TyrantSupport.NO_CAPS;
import static io.emperor.it.TyrantSupport.allFour;
import static io.emperor.it.TyrantSupport.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.it.TyrantSupport.Accounts;
import io.emperor.it.TyrantSupport.User;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tyrant mode with a root emperor (docs/tyrant.md): every vassal runs as the owner of its file,
 * with nothing more, and files that would let someone run code as someone else are refused once
 * per version. Real users and groups are created for the class and removed after it.
 */
class TyrantIT extends UsersItSupport {
    /** Member of two extra groups. */
    private static User alice;
    private static User bob;
    private static int extraGroup1;
    private static int extraGroup2;

    @BeforeAll
    static void createUsers() {
        extraGroup1 = accounts.group("g1");
        extraGroup2 = accounts.group("g2");
        alice = accounts.user("a", "g1", "g2");
        bob = accounts.user("b");
    }


    private EmperorProcess tyrant(String... more) {
        String[] lines = new String[more.length + 1];
        lines[0] = "tyrant = true";
        System.arraycopy(more, 0, lines, 1, more.length);
        EmperorProcess emp = emperor(lines);
        emp.awaitLogFrom(0, Lines.emperor(q("tyrant mode: every vassal runs as the owner of its file")), WAIT);
        return emp;
    }

    private Path vassal(String name, int uid, int gid, String... lines) {
        return TyrantSupport.vassal(ws, ws.vassals, name, uid, gid, "rw-r--r--", lines);
    }

    private static Pattern spawnedAs(String name, int uid, int gid) {
        return lifecycle(name, "spawned pid=(\\d+) uid=" + uid + " gid=" + gid + "$");
    }

    private static Pattern refused(String name, Path file, String message) {
        return lifecycle(name, q("refused: " + file + ": " + message) + "$");
    }

    @Test
    void numericOwnerWithoutPasswdEntryIsAllTheVassalGets() {
        int id = Accounts.unusedId();
        try (EmperorProcess emp = tyrant()) {
            int from = emp.mark();
            Path file = vassal("num", id, id, "exec = " + ws.exec("sleeps.sh"), "uid = root", "gid = 0", "stop-timeout = 2");

            emp.awaitLog(lifecycle("num", q("warning: " + file + ":3: uid is ignored in tyrant mode: the vassal runs as"
                    + " the owner of its file") + "$"));
            emp.awaitLog(lifecycle("num", q("warning: " + file + ":4: gid is ignored in tyrant mode: the vassal runs"
                    + " with the group of its file") + "$"));
            emp.awaitLog(spawnedAs("num", id, id));
            Proc p = awaitRunning(emp, from, "num");
            Map<String, String> s = status(p.pid());
            assertEquals(allFour(id), s.get("Uid"), "Uid " + s);
            assertEquals(allFour(id), s.get("Gid"), "Gid " + s);
            assertEquals(Integer.toString(id), s.get("Groups"), "only the file's group: " + s);
            for (String caps : List.of("CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd")) {
                assertEquals(NO_CAPS, s.get(caps), caps + " of " + s);
            }
            assertEquals("1", s.get("NoNewPrivs"));
        }
    }

    @Test
    void aRealUserKeepsItsSupplementaryGroups() {
        try (EmperorProcess emp = tyrant()) {
            int from = emp.mark();
            vassal("named", alice.uid(), alice.gid(), "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            emp.awaitLog(spawnedAs("named", alice.uid(), alice.gid()));
            Proc p = awaitRunning(emp, from, "named");
            Map<String, String> s = status(p.pid());
            assertEquals(allFour(alice.uid()), s.get("Uid"));
            assertEquals(allFour(alice.gid()), s.get("Gid"));
            assertEquals(new TreeSet<>(Set.of(alice.gid(), extraGroup1, extraGroup2)), groups(s), "Groups " + s);
            assertEquals(NO_CAPS, s.get("CapEff"));
        }
    }

    @Test
    void rootOwnedAndRootGroupFilesAreRefusedOnceAndAChownStartsThem() {
        Path targets = TyrantSupport.ownedDir(ws.root.resolve("targets"), bob.uid(), bob.gid());
        try (EmperorProcess emp = tyrant("rescan = 0.2")) {
            Path rooted = vassal("rooted", 0, bob.gid(), "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Path rootGroup = vassal("rootgroup", bob.uid(), 0, "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            emp.awaitLog(refused("rooted", rooted, "owned by root (uid 0): chown it to the user that should run it"));
            emp.awaitLog(refused("rootgroup", rootGroup, "group is root (gid 0): chgrp it to the user's group"));

            // Proof that periodic rescans happen meanwhile: a symlink whose target lies outside the
            // vassal directory (no inotify event) changes three times, each seen only by a rescan.
            Path target = targets.resolve("probe.conf");
            TyrantSupport.file(ws, target, bob.uid(), bob.gid(), "rw-r--r--", "[vassal]\nbogus0 = 1\n");
            Path probe = TyrantSupport.symlink(ws, ws.vassals, "probe", target, bob.uid(), bob.gid());
            emp.awaitLog(lifecycle("probe", q("refused: " + probe + ":2: bogus0: unknown key")));
            for (int i = 1; i <= 3; i++) {
                TyrantSupport.file(ws, target, bob.uid(), bob.gid(), "rw-r--r--", "[vassal]\nbogus" + i + " = 1\n");
                emp.awaitLog(lifecycle("probe", q("refused: " + probe + ":2: bogus" + i + ": unknown key")));
            }
            assertEquals(1, emp.countLog(lifecycle("rooted", "refused: ")), "logged once per version");
            assertEquals(1, emp.countLog(lifecycle("rootgroup", "refused: ")), "logged once per version");
            assertEquals(0, emp.countLog(spawned("rooted")));
            assertEquals(0, emp.countLog(spawned("rootgroup")));

            int from = emp.mark();
            TyrantSupport.chown(rooted, bob.uid(), bob.gid());
            emp.awaitLog(spawnedAs("rooted", bob.uid(), bob.gid()));
            Proc p = awaitRunning(emp, from, "rooted");
            assertEquals(allFour(bob.uid()), status(p.pid()).get("Uid"));

            TyrantSupport.chown(rootGroup, bob.uid(), extraGroup1);
            emp.awaitLog(spawnedAs("rootgroup", bob.uid(), extraGroup1));
            Proc q = awaitRunning(emp, from, "rootgroup");
            assertEquals(allFour(extraGroup1), status(q.pid()).get("Gid"), "the file's group, not the passwd gid");
        }
    }

    @Test
    void chownOfARunningVassalsFileRestartsItAsTheNewOwner() {
        try (EmperorProcess emp = tyrant()) {
            int from = emp.mark();
            Path file = vassal("app", alice.uid(), alice.gid(), "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            emp.awaitLog(spawnedAs("app", alice.uid(), alice.gid()));
            Proc old = awaitRunning(emp, from, "app");

            from = emp.mark();
            TyrantSupport.chown(file, bob.uid(), bob.gid());
            emp.awaitLog(lifecycle("app", q("restarting: spawn settings changed signal=TERM pid=" + old.pid())));
            emp.awaitLog(lifecycle("app", "stopped status=0 after "));
            emp.awaitLog(spawnedAs("app", bob.uid(), bob.gid()));
            Proc next = awaitRunning(emp, from, "app");
            assertNotEquals(old.pid(), next.pid());
            assertFalse(old.isAlive(), "the old process is gone: " + old);
            assertEquals(allFour(bob.uid()), status(next.pid()).get("Uid"));
            assertEquals(allFour(bob.gid()), status(next.pid()).get("Gid"));
        }
    }

    @Test
    void logtoIsOpenedAsTheOwner() throws IOException {
        Path rootOnly = Files.createDirectory(ws.root.resolve("root-only"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path bobsDir = TyrantSupport.ownedDir(ws.root.resolve("bob"), bob.uid(), bob.gid());
        Path denied = rootOnly.resolve("app.log");
        Path allowed = bobsDir.resolve("app.log");
        try (EmperorProcess emp = tyrant()) {
            vassal("denied", bob.uid(), bob.gid(), "exec = " + ws.exec("sleeps.sh"), "logto = " + denied);
            emp.awaitLog(lifecycle("denied", q("spawn failed: logto " + denied + ": Permission denied") + "$"));
            emp.awaitLog(lifecycle("denied", "exited status=127 "));
            assertFalse(Files.exists(denied), "nothing was created where the owner may not write");

            vassal("allowed", bob.uid(), bob.gid(), "exec = " + ws.exec("sleeps.sh"), "logto = " + allowed,
                    "stop-timeout = 2");
            LogLine line = emp.awaitLog(spawnedAs("allowed", bob.uid(), bob.gid()));
            List<String> lines = awaitLines(allowed, 1);
            assertTrue(lines.get(0).startsWith("sleeps.sh running pid=" + line.longGroup(1)), lines::toString);
            assertEquals(bob.uid(), TyrantSupport.uidOf(allowed), "created by the vassal");
            assertEquals(bob.gid(), TyrantSupport.gidOf(allowed));
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(allowed)));
            assertEquals(0, emp.countLog(output("allowed", "")), "its output goes to the file, not the log");
        }
    }

    @Test
    void aFollowedSymlinkMustHaveTheOwnerOfItsTarget() {
        Path targets = ws.root.resolve("targets");
        TyrantSupport.ownedDir(targets, 0, 0);
        Path alices = TyrantSupport.file(ws, targets.resolve("alice.conf"), alice.uid(), alice.gid(), "rw-r--r--",
                "[vassal]\nexec = " + ws.exec("sleeps.sh", "alice") + "\nstop-timeout = 2\n");
        Path bobs = TyrantSupport.file(ws, targets.resolve("bob.conf"), bob.uid(), bob.gid(), "rw-r--r--",
                "[vassal]\nexec = " + ws.exec("sleeps.sh", "bob") + "\nstop-timeout = 2\n");
        try (EmperorProcess emp = tyrant()) {
            int from = emp.mark();
            TyrantSupport.symlink(ws, ws.vassals, "own", alices, alice.uid(), alice.gid());
            Path cross = TyrantSupport.symlink(ws, ws.vassals, "cross", bobs, alice.uid(), alice.gid());

            emp.awaitLog(refused("cross", cross, "symlink owned by " + alice.name() + " (uid " + alice.uid()
                    + ") points to a file owned by " + bob.name() + " (uid " + bob.uid() + "): the link and its target"
                    + " must have the same owner"));
            emp.awaitLog(spawnedAs("own", alice.uid(), alice.gid()));
            awaitRunning(emp, from, "own");
            assertEquals(0, emp.countLog(spawned("cross")));

            // chown -h of the link alone is a new version of the file.
            from = emp.mark();
            TyrantSupport.chown(cross, bob.uid(), bob.gid());
            emp.awaitLog(spawnedAs("cross", bob.uid(), bob.gid()));
            Proc p = awaitRunning(emp, from, "cross");
            assertEquals(ws.argv("sleeps.sh", "bob"), p.cmdline());
        }
    }

    @Test
    void withNofollowASymlinkRunsAsTheLinksOwner() {
        Path targets = ws.root.resolve("targets");
        TyrantSupport.ownedDir(targets, 0, 0);
        Path shared = TyrantSupport.file(ws, targets.resolve("shared.conf"), bob.uid(), bob.gid(), "rw-r--r--",
                "[vassal]\nexec = " + ws.exec("sleeps.sh", "shared") + "\nstop-timeout = 2\n");
        Path secret = TyrantSupport.file(ws, targets.resolve("secret.conf"), bob.uid(), bob.gid(), "rw-------",
                "[vassal]\nexec = " + ws.exec("sleeps.sh", "secret") + "\nenv = TOKEN=bobs\n");
        try (EmperorProcess emp = tyrant("nofollow = true")) {
            emp.awaitLogFrom(0, Lines.emperor(q("tyrant mode: every vassal runs as the owner of its file (nofollow:"
                    + " a symlink's own owner)")), WAIT);
            int from = emp.mark();
            TyrantSupport.symlink(ws, ws.vassals, "shared", shared, alice.uid(), extraGroup2);
            Path peek = TyrantSupport.symlink(ws, ws.vassals, "peek", secret, alice.uid(), alice.gid());

            emp.awaitLog(spawnedAs("shared", alice.uid(), extraGroup2));
            Proc p = awaitRunning(emp, from, "shared");
            assertEquals(allFour(alice.uid()), status(p.pid()).get("Uid"));
            assertEquals(ws.argv("sleeps.sh", "shared"), p.cmdline());
            emp.awaitLog(refused("peek", peek, "symlink owned by " + alice.name() + " (uid " + alice.uid()
                    + ") points to a file owned by " + bob.name() + " (uid " + bob.uid() + ") that others may not read"
                    + " (mode 0600): the vassal would run with content its owner cannot read; link only to your own"
                    + " files or to world-readable ones"));
            assertEquals(0, emp.countLog(spawned("peek")));
        }
    }

    @Test
    void aVassalCannotBecomeRootAgain() {
        Path python = Path.of("/usr/bin/python3");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(python), "needs /usr/bin/python3");
        try (EmperorProcess emp = tyrant()) {
            vassal("regain", alice.uid(), alice.gid(),
                    "exec = " + python + " -c 'import os; os.setuid(0)' " + ws.marker);
            emp.awaitLog(spawnedAs("regain", alice.uid(), alice.gid()));
            emp.awaitLog(output("regain", q("PermissionError: [Errno 1] Operation not permitted")));
            emp.awaitLog(lifecycle("regain", "exited status=1 "));
        }
    }

    // ---------------------------------------------------------------- what reaches the spawn (issue 11)

    @Test
    void aPreloadedLibraryRunsOnlyInTheVassalAsTheTenantNeverInTheRootHelper() throws Exception {
        PreloadProbe probe = PreloadProbe.build(ws.root.resolve("probe"));
        try (EmperorProcess emp = tyrant()) {
            int from = emp.mark();
            List<String> lines = new java.util.ArrayList<>(List.of("exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2"));
            lines.addAll(List.of(probe.envLines()));
            vassal("preload", alice.uid(), alice.gid(), lines.toArray(String[]::new));
            Proc p = awaitRunning(emp, from, "preload");
            probe.assertOnlyEverRanAs(p.pid(), alice.uid());
        }
    }

    @Test
    void aTenantVassalGetsOnlyItsOwnersVariablesTheAdminsLocaleAndItsOwnEnv() {
        Map<String, String> secret = Map.of("EMPEROR_IT_SECRET", "hunter2", "PATH", ws.root + ":/usr/bin:/bin");
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "tyrant = true", "env = LANG=C.UTF-8", "env = LC_TIME=C");
        try (EmperorProcess emp = EmperorProcess.start(ws, secret, "--config", ini.toString())) {
            int from = emp.mark();
            vassal("clean", alice.uid(), alice.gid(), "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2",
                    "env = FROM_FILE=$(HOME) $(USER) $(SHELL) $(PATH) $(LANG)");
            Proc p = awaitRunning(emp, from, "clean");
            Map<String, String> e = Procs.environ(p.pid());
            String home = "/home/" + alice.name();
            assertEquals(Map.of("PATH", "/usr/local/bin:/usr/bin:/bin", "HOME", home, "USER", alice.name(),
                    "LOGNAME", alice.name(), "SHELL", "/usr/sbin/nologin", "LANG", "C.UTF-8", "LC_TIME", "C",
                    "FROM_FILE", home + " " + alice.name() + " /usr/sbin/nologin /usr/local/bin:/usr/bin:/bin C.UTF-8"),
                    e, "nothing of the emperor's own environment");

            Path leak = vassal("leak", bob.uid(), bob.gid(), "exec = " + ws.exec("sleeps.sh"),
                    "env = STOLEN=$(EMPEROR_IT_SECRET)");
            emp.awaitLog(lifecycle("leak", q("refused: " + leak + ":3: env: $(EMPEROR_IT_SECRET): environment variable"
                    + " is not set") + "$"));
            assertEquals(0, emp.countLog(spawned("leak")));
        }
    }

    @Test
    void aTenantCannotRaiseItsHardLimitAboveTheEmperors() {
        try (EmperorProcess emp = tyrant()) {
            TyrantSupport.Result lowered = TyrantSupport.run("/usr/bin/prlimit", "--pid", Long.toString(emp.pid()),
                    "--nofile=1024:4096");
            assertEquals(0, lowered.exit(), lowered::toString);
            int from = emp.mark();
            vassal("greedy", bob.uid(), bob.gid(), "exec = " + ws.exec("sleeps.sh"), "rlimit-nofile = 1048576",
                    "stop-timeout = 2");
            emp.awaitLog(lifecycle("greedy", q("spawn failed: rlimit nofile=1048576:1048576: hard limit 1048576 is"
                    + " above the emperor's hard limit 4096 (tyrant mode: a vassal's limits can only go down)")));
            assertEquals(List.of(), emp.find(from, output("greedy", "sleeps\\.sh running")), "it never ran");

            // Lowering works as before.
            vassal("modest", bob.uid(), bob.gid(), "exec = " + ws.exec("sleeps.sh"), "rlimit-nofile = 512:2048",
                    "stop-timeout = 2");
            Proc p = awaitRunning(emp, from, "modest");
            assertTrue(TyrantSupport.run("cat", "/proc/" + p.pid() + "/limits").output()
                    .matches("(?s).*Max open files\\s+512\\s+2048\\s.*"), "limits of " + p);
        }
    }

    private static Set<Integer> groups(Map<String, String> status) {
        Set<Integer> ids = new TreeSet<>();
        for (String g : status.get("Groups").split("\\s+")) {
            if (!g.isEmpty()) {
                ids.add(Integer.parseInt(g));
            }
        }
        return ids;
    }
}
