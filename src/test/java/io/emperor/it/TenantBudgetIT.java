package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.it.TyrantSupport.User;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, item 9: one tenant must not exhaust the heap for all. Under the packaged heap
 * ({@code -Xmx64m}), a tenant drops 100 files of about 1 MiB, each expanding to about 1 MiB of
 * values its spec keeps (about 94 MiB in all): before the tenant budget the emperor ran out of memory (exit 3, a restart
 * loop under the unit). Now what is over the owner's budget is refused, naming the owner and the
 * limit, and another tenant's file dropped afterwards still spawns.
 */
class TenantBudgetIT extends UsersItSupport {
    /** The flags of packaging/emperor that size the heap ({@code -XX:+ExitOnOutOfMemoryError} is always given). */
    private static final String PACKAGED_JVM_FLAGS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m";
    private static final int HOSTILE = 100;

    private static User mallory;
    private static User bob;

    @BeforeAll
    static void createUsers() {
        mallory = accounts.user("m");
        bob = accounts.user("b");
    }

    private EmperorProcess tyrant(String... more) {
        List<String> lines = new ArrayList<>(List.of("vassals = " + ws.vassals, "tyrant = true"));
        lines.addAll(List.of(more));
        return EmperorProcess.start(ws, Map.of("JAVA_TOOL_OPTIONS", PACKAGED_JVM_FLAGS), "--config",
                ws.emperorIni(lines.toArray(String[]::new)).toString());
    }

    /**
     * 16 values of 60,000 characters: a file of about 940 KiB whose spec keeps about 940 KiB of
     * {@code env}, within the reader's and expansion's per-file limits (1 MiB each).
     */
    private static String[] hugeVassal(String exec) {
        List<String> lines = new ArrayList<>();
        lines.add(exec);
        lines.add("stop-timeout = 2");
        String value = "x".repeat(60_000);
        for (int i = 0; i < 16; i++) {
            lines.add("env = V" + i + "=" + value);
        }
        return lines.toArray(String[]::new);
    }

    @Test
    void oneTenantsHundredHugeFilesAreRefusedOverItsBudgetAndAnotherTenantsFileStillSpawns() {
        try (EmperorProcess emp = tyrant()) {
            int from = emp.mark();
            String[] huge = hugeVassal("exec = " + ws.exec("sleeps.sh"));
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < HOSTILE; i++) {
                files.add(TyrantSupport.vassal(ws, ws.vassals, String.format("h%03d", i), mallory.uid(), mallory.gid(),
                        "rw-r--r--", huge));
            }

            // Each of the 100 is either taken or refused naming the owner and the limit, once.
            Pattern overBudget = Pattern.compile("^\\S+ \\[emperor\\] (h\\d{3}): refused: \\S+: " + q("owner "
                    + mallory.name() + " (uid " + mallory.uid() + ") would hold more than 4 MiB of parsed vassal files"
                    + " with this one (") + "\\d+ (KiB|MiB)" + q(") (tenant-max-bytes): make the owner's files smaller"
                    + " or fewer, or raise the limit") + "$");
            Pattern spawnedHuge = Pattern.compile("^\\S+ \\[emperor\\] (h\\d{3}): spawned pid=");
            io.emperor.testing.Poll.until("each of the " + HOSTILE + " files spawned or refused", WAIT.multipliedBy(2),
                    () -> !emp.isAlive() || emp.find(from, overBudget).size() + emp.find(from, spawnedHuge).size()
                            >= HOSTILE, emp::diagnostics);
            assertTrue(emp.isAlive(), () -> "the emperor is up\n" + emp.diagnostics());
            int refused = emp.find(from, overBudget).size();
            int spawned = emp.find(from, spawnedHuge).size();
            assertTrue(spawned <= 4, () -> "at most four files of about 940 KiB fit 4 MiB: " + spawned);
            assertEquals(HOSTILE, refused + spawned, emp::diagnostics);
            Set<String> names = new HashSet<>();
            emp.find(from, overBudget).forEach(l -> assertTrue(names.add(l.group(1)), "refused once: " + l));

            // Another tenant's good file dropped afterwards spawns, as its owner.
            int later = emp.mark();
            TyrantSupport.vassal(ws, ws.vassals, "good", bob.uid(), bob.gid(), "rw-r--r--",
                    "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Proc good = awaitRunning(emp, later, "good");
            assertEquals(bob.uid(), TyrantSupport.uidOf(Path.of("/proc/" + good.pid())), "runs as bob");

            // The scan that found it judged the tenant's files again: no refusal is logged again, nothing flaps.
            assertEquals(0, emp.find(later, overBudget).size() + emp.find(later, spawnedHuge).size(),
                    () -> "no refusal or spawn repeated\n" + emp.diagnostics());
        }
    }

    /** Many small files: past tenant-max-vassals the owner's files are refused unread, the first by name taken. */
    @Test
    void pastTenantMaxVassalsATenantsFilesAreRefusedAndAnotherTenantsFileStillSpawns() {
        try (EmperorProcess emp = tyrant("tenant-max-vassals = 5")) {
            int from = emp.mark();
            String exec = "exec = " + ws.exec("sleeps.sh");
            // Each put in place with one rename; whichever a scan sees first, 5 are taken and every other refused once.
            for (int i = 0; i < 50; i++) {
                TyrantSupport.vassal(ws, ws.vassals, String.format("s%03d", i), mallory.uid(), mallory.gid(),
                        "rw-r--r--", exec, "stop-timeout = 2");
            }
            Pattern tooMany = Pattern.compile("^\\S+ \\[emperor\\] (s\\d{3}): refused: \\S+: " + q("owner "
                    + mallory.name() + " (uid " + mallory.uid() + ") has more than 5 vassal files (tenant-max-vassals);"
                    + " this one is not read: remove some of the owner's files, or raise the limit") + "$");
            emp.awaitCount(from, tooMany, 45, WAIT);
            List<LogLine> spawned = emp.awaitCount(from, Pattern.compile("^\\S+ \\[emperor\\] (s\\d{3}): spawned pid="),
                    5, WAIT);
            assertEquals(5, spawned.size(), emp::diagnostics);

            int later = emp.mark();
            TyrantSupport.vassal(ws, ws.vassals, "good", bob.uid(), bob.gid(), "rw-r--r--", exec, "stop-timeout = 2");
            Proc good = awaitRunning(emp, later, "good");
            assertEquals(bob.uid(), TyrantSupport.uidOf(Path.of("/proc/" + good.pid())), "runs as bob");
            assertEquals(45, emp.find(from, tooMany).size(), "each refused once");
        }
    }
}
