package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.TyrantSupport.User;
import io.emperor.it.Procs.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tenant's vassal cannot leave its cgroup (docs/lifecycle.md, "What a stop reaches"): the
 * helper joined it before the drop, and the cgroup directories and their files are the
 * emperor's, so writing its pid to another cgroup's {@code cgroup.procs} is refused.
 */
class TenantContainmentIT extends UsersItSupport {
    private static User carol;

    @BeforeAll
    static void createUsers() {
        carol = accounts.user("c");
    }

    @Test
    void aTenantsVassalCannotMoveItselfOutOfItsCgroup() {
        try (EmperorProcess emp = emperor("tyrant = true")) {
            LogLine line = emp.awaitLogFrom(0, Lines.emperor("containment: cgroup v[12] (\\S+); subreaper$"), WAIT);
            Path root = Path.of(line.group(1));
            Path script = ws.root.resolve("escape.sh");
            Workspace.write(script, String.join("\n",
                    "# escape.sh TARGET...: tries to move itself into each cgroup.procs, then idles",
                    "for f in \"$@\"; do",
                    "  case \"$f\" in */cgroup.procs) if echo $$ 2>/dev/null > \"$f\"; then echo \"moved to $f\"; else echo \"refused $f\"; fi ;; esac",
                    "done",
                    "echo \"escape.sh running pid=$$\"",
                    "while :; do sleep 1; done", ""));
            int from = emp.mark();
            List<Path> targets = List.of(root.resolve("cgroup.procs"), root.getParent().resolve("cgroup.procs"));
            TyrantSupport.vassal(ws, ws.vassals, "tenant", carol.uid(), carol.gid(), "rw-r--r--",
                    "exec = /bin/sh " + script + " " + targets.get(0) + " " + targets.get(1) + " " + ws.marker);
            emp.awaitLogFrom(from, lifecycle("tenant", "spawned pid=\\d+ uid=" + carol.uid() + " "), WAIT);
            Proc p = awaitRunning(emp, from, "tenant");
            for (Path t : targets) {
                emp.awaitLogFrom(from, Lines.output("tenant", q("refused " + t) + "$"), WAIT);
            }
            assertEquals(0, emp.find(from, Lines.output("tenant", "moved to ")).size(), emp::diagnostics);
            Path own = root.resolve("tenant.vassal");
            assertTrue(Procs.status(p.pid(), "Uid").orElseThrow().startsWith(carol.uid() + "\t"), "runs as the tenant");
            String cgroups = Workspace.read(Path.of("/proc/" + p.pid() + "/cgroup"));
            String rel = "/" + root.getFileName() + "/tenant.vassal";
            assertTrue(cgroups.lines().anyMatch(l -> l.endsWith(rel)), () -> "still in " + own + ":\n" + cgroups);
            try {
                PosixFileAttributes a = Files.readAttributes(own, PosixFileAttributes.class);
                assertEquals("root", a.owner().getName(), "the cgroup is the emperor's");
                PosixFileAttributes procs = Files.readAttributes(own.resolve("cgroup.procs"), PosixFileAttributes.class);
                assertEquals("root", procs.owner().getName(), "its cgroup.procs is the emperor's");
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        }
    }
}
