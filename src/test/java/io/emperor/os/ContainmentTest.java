package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the emperor puts its cgroups, read from mountinfo and /proc/self/cgroup; vassal names as cgroup names. */
class ContainmentTest {
    @TempDir
    Path tmp;

    /** This machine's kind of layout: v1 controllers, name=systemd, and an empty unified v2 (hybrid). */
    private List<String> hybrid(Path fs) {
        return List.of(
                "30 22 0:27 / " + fs + " rw,relatime - tmpfs tmpfs rw,mode=755",
                "34 30 0:31 / " + fs.resolve("memory") + " rw,relatime - cgroup cgroup rw,memory",
                "36 30 0:33 / " + fs.resolve("freezer") + " rw,relatime - cgroup cgroup rw,freezer",
                "38 30 0:35 / " + fs.resolve("pids") + " rw,relatime - cgroup cgroup rw,pids",
                "39 30 0:36 / " + fs.resolve("systemd") + " rw,relatime - cgroup cgroup rw,name=systemd",
                "40 30 0:37 / " + fs.resolve("unified") + " rw,relatime - cgroup2 cgroup2 rw");
    }

    private static final List<String> OWN = List.of("9:name=systemd:/", "8:pids:/svc", "6:freezer:/",
            "4:memory:/process_api/x", "0::/svc");

    private Containment detect(List<String> mounts, List<String> own, String wanted) throws Exception {
        Path mi = Files.writeString(tmp.resolve("mountinfo"), String.join("\n", mounts) + "\n");
        Path cg = Files.writeString(tmp.resolve("cgroup"), String.join("\n", own) + "\n");
        return Containment.detect(List.of(tmp.resolve("vassals")), wanted, tmp, mi, cg);
    }

    /** What the kernel shows in a new cgroup directory; a plain file system does not. */
    private Path fakeCgroup(Path parent) throws Exception {
        Path dir = parent.resolve("emperor-" + Containment.key(List.of(tmp.resolve("vassals"))));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("cgroup.procs"), "");
        return dir;
    }

    @Test
    void mountPointsOfTheUnifiedHierarchyAndOfAV1Controller() {
        Path fs = Path.of("/sys/fs/cgroup");
        assertEquals(Optional.of(fs.resolve("unified")), Containment.mountOf(hybrid(fs), "cgroup2", null));
        assertEquals(Optional.of(fs.resolve("pids")), Containment.mountOf(hybrid(fs), "cgroup", "pids"));
        assertEquals(Optional.empty(), Containment.mountOf(hybrid(fs), "cgroup", "cpu"));
        // A bind mount of a subtree (a container's view) does not hold our own path.
        assertEquals(Optional.empty(), Containment.mountOf(
                List.of("40 30 0:37 /sub " + fs + " rw - cgroup2 cgroup2 rw"), "cgroup2", null));
    }

    @Test
    void ownPathsFromProcSelfCgroup() {
        assertEquals(Optional.of("/svc"), Containment.ownPath(OWN, ""));
        assertEquals(Optional.of("/svc"), Containment.ownPath(OWN, "pids"));
        assertEquals(Optional.of("/"), Containment.ownPath(OWN, "freezer"));
        assertEquals(Optional.empty(), Containment.ownPath(List.of("8:pids:/"), ""));
    }

    @Test
    void cgroupV2UnderTheEmperorsOwnCgroupIsPreferred() throws Exception {
        Path dir = fakeCgroup(tmp.resolve("fs/unified/svc"));
        fakeCgroup(tmp.resolve("fs/freezer/svc"));
        Containment c = detect(hybrid(tmp.resolve("fs")), OWN, "auto");
        assertEquals(Containment.Mode.CGROUP2, c.mode());
        assertEquals(dir, c.root());
        assertEquals("cgroup v2 " + dir, c.describe());
    }

    @Test
    void v1PidsWhenV2IsNotUsableAndTheMarkWithEveryReasonWhenNeitherIs() throws Exception {
        // No cgroup.procs appears in a plain directory: "not writable", as without the right to;
        // so the freezer hierarchy (tried first) is passed over here for pids.
        Path pids = fakeCgroup(tmp.resolve("fs/pids/svc"));
        Containment v1 = detect(hybrid(tmp.resolve("fs")), OWN, "auto");
        assertEquals(Containment.Mode.CGROUP1, v1.mode());
        assertEquals(pids, v1.root());

        Containment mark = detect(List.of(), OWN, "auto");
        assertEquals(Containment.Mode.MARK, mark.mode());
        String key = Containment.key(List.of(tmp.resolve("vassals")));
        assertEquals("mark EMPEROR_RUN=" + key + "." + ProcessHandle.current().pid() + ":RUN, state file "
                + tmp.resolve("emperor-" + key + ".runs") + " (no cgroup: cgroup v2: not mounted; cgroup v1 freezer:"
                + " not mounted; cgroup v1 pids: not mounted)", mark.describe());
        assertEquals(Containment.Mode.MARK, detect(hybrid(tmp.resolve("fs")), OWN, "mark").mode());
        assertEquals(Containment.Mode.CGROUP1, detect(hybrid(tmp.resolve("fs")), OWN, "cgroup1").mode());
    }

    @Test
    void withoutCgroupsOnlyAProcessWhoseStartTimeIsTheRecordedOneIsAPreviousEmperorsLeftover() throws Exception {
        Containment mark = detect(List.of(), OWN, "mark");
        String key = Containment.key(List.of(tmp.resolve("vassals")));
        Process p = new ProcessBuilder("sleep", "60").start();
        try {
            long start = Procfs.startTime(p.pid()).orElseThrow();
            int uid = Procfs.realUid(p.pid());
            Path state = tmp.resolve("emperor-" + key + ".runs");
            // A pid that was reused: same pid, another start time. Never signalled.
            Files.writeString(state, "+ 1 " + uid + " " + p.pid() + " " + (start - 1) + " app.vassal EMPEROR_RUN=" + key
                    + ".1:1\n");
            assertEquals(java.util.Map.of(), mark.leftovers(new java.util.HashMap<>()));
            // A run that was reaped is not looked for either.
            Files.writeString(state, "+ 1 " + uid + " " + p.pid() + " " + start + " app.vassal EMPEROR_RUN=" + key
                    + ".1:1\n- 1\n");
            assertEquals(java.util.Map.of(), mark.leftovers(new java.util.HashMap<>()));
            // The recorded pid with its recorded start time is the previous emperor's.
            Files.writeString(state, "+ 1 " + uid + " " + p.pid() + " " + start + " app.vassal EMPEROR_RUN=" + key
                    + ".1:1\n");
            assertEquals(java.util.Map.of("app.vassal", List.of(p.pid())), mark.leftovers(new java.util.HashMap<>()));
            assertEquals(List.of(), mark.stop(List.of("app.vassal"), 10_000_000_000L, () -> { }));
            assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "stopped");
            assertFalse(Files.exists(state), "started afresh");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aMarkIsObeyedOnlyInAProcessOfTheRunsOwnRealUidAndAsAWholeEntry() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sleep", "60");
        pb.environment().put("EMPEROR_RUN", "k.1:12");
        Process p = pb.start();
        try {
            int uid = Procfs.realUid(p.pid());
            assertEquals(List.of(p.pid()), Procfs.carrying("EMPEROR_RUN=k.1:12", uid, 0));
            assertEquals(List.of(), Procfs.carrying("EMPEROR_RUN=k.1:12", uid + 1, 0), "another user's mark is not ours");
            assertEquals(List.of(), Procfs.carrying("EMPEROR_RUN=k.1:1", uid, 0), "a prefix is not the run's mark");
            long start = Procfs.startTime(p.pid()).orElseThrow();
            assertEquals(List.of(), Procfs.carrying("EMPEROR_RUN=k.1:12", uid, start + 1), "started before the run");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void keyDependsOnTheDirectoriesNotOnTheirOrder() {
        String ab = Containment.key(List.of(Path.of("/a"), Path.of("/b")));
        assertEquals(ab, Containment.key(List.of(Path.of("/b"), Path.of("/a/../a"))));
        assertNotEquals(ab, Containment.key(List.of(Path.of("/a"))));
        assertTrue(ab.matches("[0-9a-f]{12}"), ab);
    }

    @Test
    void vassalNamesBecomeCgroupNamesThatNoInterfaceFileHasAndBack() {
        assertEquals("app.vassal", Containment.escape("app"));
        assertEquals("pids.max.vassal", Containment.escape("pids.max"));
        assertEquals("a%20b%2Fc%C3%A9.vassal", Containment.escape("a b/cé"));
        for (String name : List.of("app", "a b/cé", "cgroup.procs", "%41", "x%")) {
            assertEquals(name, Containment.unescape(Containment.escape(name)), name);
        }
        String longName = Containment.escape("x".repeat(300));
        assertTrue(longName.length() <= 200 + ".vassal".length(), longName);
        assertFalse(longName.equals(Containment.escape("x".repeat(301))), "long names stay apart");
    }
}
