package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.emperor.it.Procs.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, items 3 and 4: files written to stop the emperor from acting on any other file. Each
 * is refused with a reason, and a good file dropped afterwards still spawns (and reloads): the
 * watcher is alive.
 */
class HostileFilesIT extends ItSupport {

    /** 5,000 chained keys overflowed the watcher's stack; 7 KB of doubling references made 200 MB. */
    @Test
    void expansionBombsAreRefusedAndAGoodFileStillSpawnsAndReloads() {
        try (EmperorProcess emp = emperor()) {
            int from = emp.mark();
            StringBuilder chain = new StringBuilder("[vassal]\nexec = %(k4999)\nk0 = /bin/true\n");
            for (int i = 1; i < 5000; i++) {
                chain.append("k").append(i).append(" = %(k").append(i - 1).append(")\n");
            }
            Path chainFile = ws.vassals.resolve("chain.ini");
            Workspace.write(chainFile, chain.toString());
            StringBuilder bomb = new StringBuilder("[vassal]\nexec = %(v199)\nk0 = 0123456789012345678901234567890123456789\n");
            for (int i = 1; i <= 14; i++) {
                bomb.append("k").append(i).append(" = %(k").append(i - 1).append(")%(k").append(i - 1).append(")\n");
            }
            for (int i = 0; i < 200; i++) {
                bomb.append("v").append(i).append(" = %(k14)%(k14)\n"); // 1.3 MB each, 260 MB in all
            }
            assertTrue(bomb.length() < 8 * 1024, "a small file: " + bomb.length());
            Path bombFile = ws.vassals.resolve("bomb.ini");
            Workspace.write(bombFile, bomb.toString());

            emp.awaitLog(lifecycle("chain", q("refused: " + chainFile + ":2: exec: %(k4999): references nest more than 16"
                    + " deep (%(exec) -> %(k4999) -> ... -> %(k4984) at line 4987 -> %(k4983))") + "$"));
            emp.awaitLog(lifecycle("bomb", q("refused: " + bombFile + ":2: exec: expanding the file's values makes more"
                    + " than 1 MiB of text (the limit for all values together, each %(key) counted every time it is used)")
                    + "$"));

            goodFileSpawnsAndReloads(emp);
            assertEquals(0, emp.countLog(spawned("chain")) + emp.countLog(spawned("bomb")), "never started");
        }
    }

    /**
     * A FIFO blocked the watcher's open(), a link to /proc/kmsg its read, for ever. Each is now
     * refused with a reason, unread.
     */
    @Test
    void fifosDevicesAndKernelFilesAreRefusedAndAGoodFileStillSpawns() throws IOException {
        try (EmperorProcess emp = emperor()) {
            emp.mark();
            Path fifo = ws.vassals.resolve("fifo.ini");
            assertEquals(0, io.emperor.testing.Fifo.make(fifo), "mkfifo");
            Path kmsg = Files.createSymbolicLink(ws.vassals.resolve("kmsg.ini"), Path.of("/proc/kmsg"));
            Path zero = Files.createSymbolicLink(ws.vassals.resolve("zero.ini"), Path.of("/dev/zero"));
            Path self = Files.createSymbolicLink(ws.vassals.resolve("self.ini"), Path.of("/proc/self/environ"));

            String proc = ": is on a proc file system (a kernel interface), not a regular file on disk";
            emp.awaitLog(lifecycle("fifo", q("refused: " + fifo + ": is a FIFO, not a regular file") + "$"));
            emp.awaitLog(lifecycle("kmsg", q("refused: " + kmsg + proc) + "$"));
            emp.awaitLog(lifecycle("zero", q("refused: " + zero + ": is a character device, not a regular file") + "$"));
            emp.awaitLog(lifecycle("self", q("refused: " + self + proc) + "$"));

            goodFileSpawnsAndReloads(emp);

            EmperorProcess.CliResult check = EmperorProcess.cli(ws.root, "check", fifo.toString(), kmsg.toString(),
                    zero.toString());
            assertEquals(1, check.exitCode(), check.stderr());
            assertEquals(List.of(fifo + ": is a FIFO, not a regular file", kmsg + proc,
                    zero + ": is a character device, not a regular file"), check.stderr().lines().toList(),
                    "emperor check reads the same way, unblocked");
        }
    }

    /** Tyrant mode: someone else's file hard-linked in would run with this directory as %d and chdir. */
    @Test
    void aHardLinkedFileIsRefusedInTyrantMode() throws IOException {
        assumeTrue(TyrantSupport.isRoot(), "needs root: tyrant mode, files owned by another uid");
        TyrantSupport.openUp(tmp, ws);
        int id = TyrantSupport.Accounts.unusedId();
        Path elsewhere = TyrantSupport.ownedDir(ws.root.resolve("elsewhere"), id, id);
        try (EmperorProcess emp = emperor("tyrant = true")) {
            emp.mark();
            Path original = TyrantSupport.vassal(ws, elsewhere, "app", id, id, "rw-r--r--",
                    "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Path linked = Files.createLink(ws.vassals.resolve("app.ini"), original);
            emp.awaitLog(lifecycle("app", q("refused: " + linked + ": has 2 hard links: a file linked in from elsewhere"
                    + " would run with this directory as %d and its working directory; copy it instead of linking it"
                    + " (cp, not ln)") + "$"));

            int from = emp.mark();
            Files.delete(original);
            Workspace.touch(linked);
            Proc p = awaitRunning(emp, from, "app");
            assertEquals(id, TyrantSupport.uidOf(Path.of("/proc/" + p.pid())), "runs as the file's owner");
        }
    }

    /** A good file dropped now spawns, and an edit reloads it: the watcher is alive and acting. */
    private void goodFileSpawnsAndReloads(EmperorProcess emp) {
        Path record = ws.root.resolve("hups");
        String exec = "exec = " + ws.exec("trap-hup.sh", record.toString());
        int from = emp.mark();
        ws.vassal("good", exec, "stop-timeout = 2");
        Proc good = awaitRunning(emp, from, "good");
        awaitRunningState(ws, "good");
        emp.mark();
        ws.vassal("good", exec, "stop-timeout = 3");
        emp.awaitLog(lifecycle("good", q("reloading signal=HUP pid=" + good.pid()) + "$"));
        assertEquals(List.of("hup " + good.pid()), awaitLines(record, 1));
        assertTrue(emp.isAlive(), "the emperor is up");
    }

    /**
     * Waits until the emperor holds {@code name} as running (its exec was reached): an edit that
     * comes while it is still starting is taken as its configuration, with no reload.
     */
    static void awaitRunningState(Workspace ws, String name) {
        String socket = ws.root.resolve("control.sock").toString();
        io.emperor.testing.Poll.until(name + " in state running", WAIT, () -> EmperorProcess.cli(ws.root, "status",
                "--socket", socket, name).stdout().lines().anyMatch(l -> l.matches(java.util.regex.Pattern.quote(name)
                + "\\s+running\\s.*")));
    }
}
