package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.ReloadMode;
import io.emperor.config.Rlimit;
import io.emperor.config.UwsgiCommand;
import io.emperor.config.VassalSpec;
import io.emperor.loop.Launcher.SpawnResult;
import io.emperor.loop.LoopEvent;
import io.emperor.testing.Poll;
import io.emperor.vassal.Event;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spawn server (emperor-exec --serve) behind {@link HelperLauncher}: what a vassal it starts
 * looks like in /proc (the same as one started through posix_spawn, and the emperor's child),
 * what happens when the server dies, and requests it must refuse. Real processes throughout.
 */
class SpawnServerTest {
    private static final Path HELPER =
            Path.of(System.getProperty("emperor.buildDir", "target"), "emperor-exec").toAbsolutePath();
    private static final long ME = ProcessHandle.current().pid();
    private static final List<String> createdUsers = new ArrayList<>();
    private static final List<String> createdGroups = new ArrayList<>();

    private final List<LoopEvent> events = new CopyOnWriteArrayList<>();
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    /** While set, every reading of the clock moves it on by a second (the reply deadline passes). */
    private volatile boolean stepping;
    private final IoThread io = new IoThread(events::add);
    private final List<Runs> launched = new ArrayList<>();
    private long nextRun = 1;

    @TempDir
    Path tmp;

    /** A launcher, its spawn server (the test's: its clock, its warnings) and the runs it started, reaped after each test. */
    private record Runs(HelperLauncher launcher, SpawnServer server, List<Long> ids) {}

    @BeforeEach
    void startIo() {
        io.start();
    }

    @AfterEach
    void reapEverything() throws InterruptedException {
        for (Runs r : launched) {
            for (long id : r.ids()) {
                r.launcher().reap(id);
            }
            r.launcher().close();
        }
        io.close();
    }

    @AfterAll
    static void removeAccounts() {
        createdUsers.forEach(u -> run("/usr/sbin/userdel", u));
        createdGroups.forEach(g -> run("/usr/sbin/groupdel", g));
    }

    private HelperLauncher launcher(boolean tyrant) {
        return launcher(HELPER, tyrant);
    }

    private HelperLauncher launcher(Path helper, boolean tyrant) {
        SpawnServer server = new SpawnServer(helper, new Spawner(), ME,
                () -> stepping ? clock.addAndGet(1_000_000_000L) : clock.get(), warnings::add);
        HelperLauncher l = new HelperLauncher(helper, io, new Environment(Map.of(), "uwsgi"), tyrant,
                UwsgiCommand.of("uwsgi"), Containment.none("test"), server);
        launched.add(new Runs(l, server, new ArrayList<>()));
        return l;
    }

    /** The spawn server behind {@code l}. */
    private SpawnServer server(HelperLauncher l) {
        return launched.stream().filter(x -> x.launcher() == l).findFirst().orElseThrow().server();
    }

    /**
     * Starts {@code l}'s spawn server from this thread and waits for it to be ready, so that the next
     * spawn goes through it (the emperor's first spawn starts it, and spawns through posix_spawn until
     * it is ready).
     */
    private boolean startServer(HelperLauncher l) {
        return server(l).awaitReady(60_000);
    }

    private long spawn(HelperLauncher l, VassalSpec spec) {
        long id = nextRun++;
        SpawnResult r = l.spawn(spec.name(), id, spec);
        assertTrue(r instanceof SpawnResult.Started, r::toString);
        launched.stream().filter(x -> x.launcher() == l).findFirst().orElseThrow().ids().add(id);
        return ((SpawnResult.Started) r).pid();
    }

    private VassalSpec spec(String name, List<String> argv, String user, int uid, int gid, Path logto,
                            List<Rlimit> rlimits) {
        return new VassalSpec(name, tmp.resolve(name + ".ini"), VassalSpec.Kind.PROGRAM, argv, Path.of("/"),
                List.of("FOO=bar"), 0027, user, uid, gid, logto, 15, Duration.ofSeconds(5), ReloadMode.SIGNAL, 1, rlimits);
    }

    private VassalSpec sleeper(String name) {
        return spec(name, List.of("/bin/sleep", "1000"), null, -1, -1, null, List.of());
    }

    // ------------------------------------------------------------------ the vassal

    @Test
    void aVassalIsTheEmperorsChildWithWhatPosixSpawnGaveIt() {
        compareBothWays(false, sleeper("plain"));
        compareBothWays(false, spec("limits", List.of("/bin/sleep", "1000"), null, -1, -1, null,
                List.of(new Rlimit(Rlimit.Resource.NOFILE, 512, 1024), new Rlimit(Rlimit.Resource.CORE, 0, 0))));
        compareBothWays(false, spec("logto", List.of("/bin/sleep", "1000"), null, -1, -1, tmp.resolve("out.log"),
                List.of()));
    }

    @Test
    void aDroppedVassalHasTheSameIdsGroupsCapsAndLimitsBothWays() {
        Assumptions.assumeTrue(isRoot(), "needs root: the vassal drops to a user with supplementary groups");
        String suffix = Long.toString(ME % 100000);
        String group = "zsg" + suffix;
        String user = "zsu" + suffix;
        run("/usr/sbin/groupadd", group);
        createdGroups.add(group);
        Ran r = run("/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin", "-G", group, user);
        assertEquals(0, r.exit(), r.output());
        createdUsers.add(user);
        createdGroups.add(user);
        int uid = Integer.parseInt(run("id", "-u", user).output().trim());
        int gid = Integer.parseInt(run("id", "-g", user).output().trim());
        List<Rlimit> limits = List.of(new Rlimit(Rlimit.Resource.NOFILE, 256, 512));
        Map<String, String> plain = compareBothWays(false, spec("user", List.of("/bin/sleep", "1000"), user, uid, gid,
                null, limits));
        assertEquals(2, plain.get("Groups").trim().split("\\s+").length, plain::toString); // its own and the extra one
        assertEquals(java.util.Set.of(run("id", "-G", user).output().trim().split("\\s+")),
                java.util.Set.of(plain.get("Groups").trim().split("\\s+")), "the user's groups, as id -G says them");
        assertEquals("0000000000000000", plain.get("CapEff"), plain::toString);
        Path logs = tmp.resolve("logs");
        try {
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
            Files.createDirectory(logs);
            Files.setPosixFilePermissions(logs, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> tyrant = compareBothWays(true, spec("tenant", List.of("/bin/sleep", "1000"), user, uid, gid,
                logs.resolve("tenant.log"), limits));
        assertEquals("1", tyrant.get("NoNewPrivs"), tyrant::toString);
    }

    @Test
    void aVassalsGroupsAreLookedUpAtItsSpawnNotAtTheServersStart() {
        Assumptions.assumeTrue(isRoot(), "needs root: the vassal drops to a user whose groups change");
        String suffix = Long.toString(ME % 100000);
        String user = "zsl" + suffix;
        String later = "zsn" + suffix;
        Ran r = run("/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin", user);
        assertEquals(0, r.exit(), r.output());
        createdUsers.add(user);
        createdGroups.add(user);
        int uid = Integer.parseInt(run("id", "-u", user).output().trim());
        int gid = Integer.parseInt(run("id", "-g", user).output().trim());
        HelperLauncher l = launcher(true);
        assertTrue(startServer(l));
        VassalSpec spec = spec("groups", List.of("/bin/sleep", "1000"), user, uid, gid, null, List.of());
        assertEquals(Integer.toString(gid), awaitProgram(spawn(l, spec), "sleep").get("Groups"));
        long server = server(l).pid();
        assertEquals(0, run("/usr/sbin/groupadd", later).exit());
        createdGroups.add(later);
        assertEquals(0, run("/usr/sbin/usermod", "-a", "-G", later, user).exit());
        int laterGid = Integer.parseInt(run("getent", "group", later).output().trim().split(":")[2]);
        Map<String, String> again = awaitProgram(spawn(l, spec), "sleep");
        assertEquals(server, server(l).pid(), "the same server");
        assertEquals(java.util.Set.of(Integer.toString(gid), Integer.toString(laterGid)),
                java.util.Set.of(again.get("Groups").split("\\s+")), again::toString);
    }

    /**
     * Spawns {@code spec} through the spawn server and through posix_spawn, waits for both to run
     * the program, and asserts that /proc says the same of both; returns the server's one.
     */
    private Map<String, String> compareBothWays(boolean tyrant, VassalSpec spec) {
        HelperLauncher served = launcher(tyrant);
        assertTrue(startServer(served));
        HelperLauncher spawned = launcher(tyrant);
        spawned.close(); // every spawn through posix_spawn, as at the emperor's end
        long a = spawn(served, spec);
        long b = spawn(spawned, spec);
        assertTrue(server(served).pid() > 0, "the server was used");
        assertEquals(-1, server(spawned).pid());
        Map<String, String> sa = awaitProgram(a, "sleep");
        Map<String, String> sb = awaitProgram(b, "sleep");
        assertEquals(Long.toString(ME), sa.get("PPid"), "the vassal is the emperor's child: " + sa);
        assertEquals(described(b, sb), described(a, sa), spec.name());
        return sa;
    }

    /** What must be the same of two vassals of the same spec (pids and pipe numbers left out). */
    private static Map<String, String> described(long pid, Map<String, String> status) {
        Map<String, String> d = new TreeMap<>();
        for (String k : List.of("PPid", "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                "NoNewPrivs", "Seccomp", "SigBlk", "SigIgn", "SigCgt", "Umask")) {
            d.put(k, status.get(k));
        }
        d.put("limits", read(Path.of("/proc/" + pid + "/limits")));
        d.put("cwd", readLink(Path.of("/proc/" + pid + "/cwd")));
        String[] stat = read(Path.of("/proc/" + pid + "/stat")).replaceAll("^.*\\) ", "").split(" ");
        d.put("session leader", Boolean.toString(stat[3].equals(Long.toString(pid)) && stat[2].equals(Long.toString(pid))));
        d.put("fds", fds(pid));
        d.put("cgroup", read(Path.of("/proc/" + pid + "/cgroup")));
        return d;
    }

    /** Each fd: its target (a pipe's number left out) and its open flags. */
    private static String fds(long pid) {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : s.sorted((x, y) -> Integer.compare(num(x), num(y))).toList()) {
                String info;
                try {
                    info = Files.readString(Path.of("/proc/" + pid + "/fdinfo/" + fd.getFileName()));
                } catch (java.nio.file.NoSuchFileException closedMeanwhile) {
                    continue; // another thread's file, closed between the listing and this read
                }
                String flags = info.lines().filter(l -> l.startsWith("flags:")).findFirst().orElse("?");
                b.append(fd.getFileName()).append(" -> ").append(readLink(fd).replaceAll("\\[\\d+\\]", ""))
                        .append(' ').append(flags.replaceAll("\\s+", " ")).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toString();
    }

    private static int num(Path fd) {
        return Integer.parseInt(fd.getFileName().toString());
    }

    @Test
    void aVassalGetsNoFdOfTheEmperorsNorDoesTheServer() {
        LibC c = Native.libc();
        int leaked = c.open("/etc/hostname", 0, 0); // no O_CLOEXEC: what the JVM leaks
        assertTrue(leaked > 2);
        try {
            HelperLauncher l = launcher(false);
            assertTrue(startServer(l));
            long pid = spawn(l, sleeper("fds"));
            awaitProgram(pid, "sleep");
            assertEquals("0 -> /dev/null\n1 -> pipe:\n2 -> pipe:\n",
                    fds(pid).replaceAll(" flags:.*", ""), "the vassal's fds");
            long server = server(l).pid();
            String serverFds = fds(server).replaceAll(" flags:.*", "");
            assertTrue(serverFds.matches("0 -> /dev/null\n1 -> /dev/null\n2 -> [^\n]*\n3 -> socket:\n"), serverFds);
        } finally {
            c.close(leaked);
        }
    }

    /**
     * The server's clone shares its memory and holds its thread until the exec (CLONE_VFORK): a
     * vassal stuck before it (here its logto is a FIFO nobody reads) holds one thread, not the
     * server. The next spawn goes through the same server at once, and the stuck one goes on
     * when the FIFO gets its reader.
     */
    @Test
    void aVassalStuckBeforeItsExecHoldsUpNoOtherSpawn() throws Exception {
        Path fifo = tmp.resolve("stuck.fifo");
        assertEquals(0, run("mkfifo", fifo.toString()).exit());
        HelperLauncher l = launcher(false);
        assertTrue(startServer(l));
        long server = server(l).pid();
        long stuck = spawn(l, spec("stuck", List.of("/bin/sleep", "1000"), null, -1, -1, fifo, List.of()));
        Poll.until(stuck + " waits in its logto open", () -> state(stuck) == 'S'
                && read(Path.of("/proc/" + stuck + "/comm")).trim().equals("emperor-exec"));
        long next = spawn(l, sleeper("next"));
        assertEquals(Long.toString(ME), awaitProgram(next, "sleep").get("PPid"));
        assertEquals(server, server(l).pid(), "the same server");
        assertEquals(List.of(), warnings);
        try (java.io.InputStream reader = Files.newInputStream(fifo)) {
            assertEquals(Long.toString(ME), awaitProgram(stuck, "sleep").get("PPid"));
        }
    }

    /**
     * The same attack by a tenant: its vassal, after the drop, opens its logto, a FIFO of its own
     * that nobody reads. It holds one of the server's threads; the tenant's next vassal starts
     * through the same server at once.
     */
    @Test
    void aTenantsVassalStuckAfterItsDropHoldsUpNoOtherSpawn() throws Exception {
        Assumptions.assumeTrue(isRoot(), "needs root: tyrant mode drops to a tenant");
        String user = "zst" + (ME % 100000);
        Ran r = run("/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin", user);
        assertEquals(0, r.exit(), r.output());
        createdUsers.add(user);
        createdGroups.add(user);
        int uid = Integer.parseInt(run("id", "-u", user).output().trim());
        int gid = Integer.parseInt(run("id", "-g", user).output().trim());
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Path fifo = tmp.resolve("tenant.fifo");
        assertEquals(0, run("mkfifo", "-m", "0600", fifo.toString()).exit());
        assertEquals(0, run("chown", user + ":" + user, fifo.toString()).exit());
        HelperLauncher l = launcher(true);
        assertTrue(startServer(l));
        long server = server(l).pid();
        long stuck = spawn(l, spec("stuck", List.of("/bin/sleep", "1000"), user, uid, gid, fifo, List.of()));
        Poll.until(stuck + " waits in its logto open, as " + user, () -> state(stuck) == 'S'
                && read(Path.of("/proc/" + stuck + "/comm")).trim().equals("emperor-exec")
                && status(stuck).get("Uid").startsWith(uid + "\t"));
        long next = spawn(l, spec("next", List.of("/bin/sleep", "1000"), user, uid, gid, null, List.of()));
        assertEquals(Integer.toString(uid), awaitProgram(next, "sleep").get("Uid").split("\\s+")[0]);
        assertEquals(server, server(l).pid(), "the same server");
        assertEquals(List.of(), warnings);
    }

    /**
     * Every way out of a failed spawn closes what it opened: the pipes, the environment's memfd
     * (an environment over the helper's bound, a helper that is not there).
     */
    @Test
    void aSpawnThatFailsLeavesNoFdOpen() {
        HelperLauncher missing = launcher(tmp.resolve("no-helper"), false);
        String big = "BIG=" + "x".repeat(HelperLauncher.MAX_ENV_BYTES);
        VassalSpec tooBig = new VassalSpec("big", tmp.resolve("big.ini"), VassalSpec.Kind.PROGRAM,
                List.of("/bin/sleep", "1000"), Path.of("/"), List.of(big), 0027, null, -1, -1, null, 15,
                Duration.ofSeconds(5), ReloadMode.SIGNAL, 1, List.of());
        VassalSpec uwsgi = new VassalSpec("uwsgi", tmp.resolve("uwsgi.ini"), VassalSpec.Kind.UWSGI,
                List.of(), Path.of("/"), List.of(), 0027, null, -1, -1, null, 15,
                Duration.ofSeconds(5), ReloadMode.SIGNAL, 1, List.of());
        HelperLauncher l = launcher(false);
        long first = nextRun;
        for (int round = 0; round < 2; round++) { // the first round loads what the JVM loads once
            String before = fds(ME);
            SpawnResult r = l.spawn("big", nextRun++, tooBig);
            assertTrue(r instanceof SpawnResult.Failed f && f.reason().startsWith("environment: "), r::toString);
            r = missing.spawn("missing", nextRun++, sleeper("missing"));
            assertTrue(r instanceof SpawnResult.Failed f && f.reason().startsWith("posix_spawn "), r::toString);
            r = missing.spawn("uwsgi", nextRun++, uwsgi);
            assertTrue(r instanceof SpawnResult.Failed f && f.reason().startsWith("posix_spawn "), r::toString);
            if (round == 1) {
                // Nothing of the failed spawns stays open: every fd now was there before. (Other
                // threads of this JVM may open and close files meanwhile: what is only theirs, and
                // only for a moment, is waited out.)
                java.util.Set<String> was = java.util.Set.copyOf(before.lines().toList());
                Poll.until("no fd left open by the failed spawns", Poll.WAIT, () -> was.containsAll(fds(ME).lines().toList()),
                        () -> "before:\n" + before + "now:\n" + fds(ME));
            }
        }
        for (long id = first; id < nextRun; id++) { // no run was kept for any of them: nothing to reap
            long run = id;
            assertThrows(IllegalStateException.class, () -> l.reap(run));
            assertThrows(IllegalStateException.class, () -> missing.reap(run));
        }
    }

    @Test
    void anExecFailureStillReportsItsReason() {
        HelperLauncher l = launcher(false);
        assertTrue(startServer(l));
        long id = nextRun;
        spawn(l, spec("missing", List.of("/nonexistent/program", "x"), null, -1, -1, null, List.of()));
        assertTrue(server(l).pid() > 0);
        l.watch(id);
        String reason = Poll.until("the exec report", Poll.WAIT, () -> events.stream()
                .filter(e -> e instanceof LoopEvent.ForVassal f && f.event() instanceof Event.ExecFailed)
                .map(e -> ((Event.ExecFailed) ((LoopEvent.ForVassal) e).event()).reason()).findFirst(), events::toString);
        assertEquals("exec /nonexistent/program: No such file or directory", reason);
    }

    // ------------------------------------------------------------------ the server's life

    @Test
    void killingTheServerLeavesSpawnsWorkingAndANewOneStartsAfterTheInterval() {
        HelperLauncher l = launcher(false);
        assertTrue(startServer(l));
        awaitProgram(spawn(l, sleeper("one")), "sleep");
        long first = server(l).pid();
        assertTrue(first > 0);
        kill(first);
        awaitZombie(first);
        l.reapAdopted(); // what SIGCHLD does
        assertEquals(-1, server(l).pid());
        assertEquals(List.of("spawn server (pid " + first + "): exited, killed by signal 9; spawning through"
                + " posix_spawn until a new one starts"), warnings);
        long second = spawn(l, sleeper("two")); // within the interval: through posix_spawn
        assertEquals(-1, server(l).pid());
        assertEquals(Long.toString(ME), awaitProgram(second, "sleep").get("PPid"));
        clock.addAndGet(SpawnServer.MIN_RESTART_NANOS);
        long third = spawn(l, sleeper("three"));
        long restarted = server(l).pid();
        assertTrue(restarted > 0 && restarted != first, "a new server: " + restarted);
        assertEquals(Long.toString(ME), awaitProgram(third, "sleep").get("PPid"));
        assertEquals(1, warnings.size(), warnings::toString);
    }

    @Test
    void aServerKilledBeforeSigchldIsNoticedAtTheNextSpawn() {
        HelperLauncher l = launcher(false);
        assertTrue(startServer(l));
        awaitProgram(spawn(l, sleeper("one")), "sleep");
        long first = server(l).pid();
        kill(first);
        awaitZombie(first);
        long second = spawn(l, sleeper("two")); // the send fails: posix_spawn takes it
        assertEquals(Long.toString(ME), awaitProgram(second, "sleep").get("PPid"));
        assertEquals(1, warnings.size(), warnings::toString);
        assertTrue(warnings.get(0).startsWith("spawn server (pid " + first + "): its socket refused a request ("),
                warnings::toString);
        assertTrue(ProcessHandle.of(first).isEmpty(), "reaped");
    }

    @Test
    void aServerThatDoesNotAnswerIsKilledAndTheSpawnFailsWithoutAProcess() {
        HelperLauncher l = launcher(false);
        assertTrue(startServer(l));
        awaitProgram(spawn(l, sleeper("one")), "sleep");
        long server = server(l).pid();
        assertEquals(0, Native.libc().kill((int) server, 19)); // SIGSTOP: it takes no request
        Poll.until("the server stopped", () -> state(server) == 'T');
        int children = ProcessHandle.current().children().toList().size();
        stepping = true;
        SpawnResult r = l.spawn("two", nextRun++, sleeper("two"));
        stepping = false;
        assertEquals(new SpawnResult.Failed("spawn server: no answer within 2000 ms"), r);
        assertEquals(List.of("spawn server (pid " + server + "): no answer within 2000 ms (killed); spawning through"
                + " posix_spawn until a new one starts"), warnings);
        assertTrue(ProcessHandle.of(server).isEmpty(), "killed and reaped");
        assertEquals(children - 1, ProcessHandle.current().children().toList().size(), "no process for the spawn");
        clock.addAndGet(SpawnServer.MAX_RESTART_NANOS);
        long three = spawn(l, sleeper("three"));
        assertTrue(server(l).pid() > 0 && server(l).pid() != server, "a new server");
        assertEquals(Long.toString(ME), awaitProgram(three, "sleep").get("PPid"));
    }

    @Test
    void anArgumentWithANulGoesThroughPosixSpawnAndTheServerStays() {
        HelperLauncher l = launcher(false);
        assertTrue(startServer(l));
        long server = server(l).pid();
        long pid = spawn(l, spec("nul", List.of("/bin/sleep", "1000\0x"), null, -1, -1, null, List.of()));
        awaitProgram(pid, "sleep");
        // Cut at the NUL, as posix_spawn's C strings always did; the server was not asked.
        assertEquals("/bin/sleep\u00001000\u0000", read(Path.of("/proc/" + pid + "/cmdline")));
        assertEquals(server, server(l).pid(), "the same server");
        assertEquals(List.of(), warnings);
        awaitProgram(spawn(l, sleeper("after")), "sleep");
    }

    @Test
    void aServerThatIsNotReadyIsNotWaitedFor() throws IOException {
        // A server whose set-up never ends (an NSS source that does not answer): this "helper"
        // sleeps when it is asked to serve, and is the real helper otherwise.
        Path slow = tmp.resolve("slow-helper");
        Files.writeString(slow, "#!/bin/sh\nif [ \"$1\" = --serve ]; then exec sleep 1000; fi\nexec " + HELPER + " \"$@\"\n");
        Files.setPosixFilePermissions(slow, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        HelperLauncher l = launcher(slow, false);
        long first = spawn(l, sleeper("one")); // through posix_spawn: the server is not ready
        long second = spawn(l, sleeper("two"));
        assertEquals(Long.toString(ME), awaitProgram(first, "sleep").get("PPid"));
        assertEquals(Long.toString(ME), awaitProgram(second, "sleep").get("PPid"));
        long server = server(l).pid();
        assertTrue(server > 0);
        assertEquals('S', state(server), "not killed for being slow");
        assertEquals(List.of(), warnings);
    }

    @Test
    void theServerIsStartedByTheThreadThatSpawnsNotTheOneThatMadeTheLauncher() throws Exception {
        HelperLauncher[] made = new HelperLauncher[1];
        Thread maker = new Thread(() -> made[0] = launcher(false));
        maker.start();
        maker.join(); // had the server been started here, its parent-death signal would have fired now
        long pid = spawn(made[0], sleeper("kept"));
        awaitProgram(pid, "sleep");
        long server = server(made[0]).pid();
        assertTrue(server > 0, "the spawn went through the server");
        assertEquals('S', state(server), "the server runs");
    }

    @Test
    void theServerAndItsVassalsDieWithTheThreadThatStartedIt() throws Exception {
        // Why the emperor starts it from the loop thread, which lives as long as the emperor: the
        // vassals' parent-death signal is tied to that thread as it was with posix_spawn.
        HelperLauncher l = launcher(false);
        long[] got = new long[2];
        Thread spawner = new Thread(() -> {
            assertTrue(startServer(l));
            got[0] = spawn(l, sleeper("short"));
            got[1] = server(l).pid();
            awaitProgram(got[0], "sleep"); // its parent-death signal is armed (the helper's step 12)
        });
        spawner.start();
        spawner.join();
        awaitZombie(got[1]);
        Poll.until("the vassal killed by its parent-death signal", () -> state(got[0]) == 'Z');
    }

    // ------------------------------------------------------------------ requests it refuses

    @Test
    void malformedRequestsAreRefusedAndTheirFdsClosed() {
        try (RawSpawnServer s = new RawSpawnServer(HELPER, ME)) {
            malformedRequestsAreRefusedBy(s);
        }
    }

    private void malformedRequestsAreRefusedBy(RawSpawnServer s) {
        List<String> argv = List.of(HELPER.toString(), "-R", "2", "--", "/bin/true");
        int[] pipe = new int[2];
        assertEquals(0, Native.libc().pipe2(pipe, Native.O_CLOEXEC));
        try {
            int fd = pipe[1];
            int[][] stdio = {{0, 0}, {1, 0}, {2, 0}};
            Map<String, Request> bad = new TreeMap<>();
            bad.put("bad magic", new Request(0x12345678, 1, stdio, argv, List.of(fd)));
            bad.put("more fds declared than sent", new Request(SpawnServer.MAGIC, 2, stdio, argv, List.of(fd)));
            bad.put("fewer fds declared than sent", new Request(SpawnServer.MAGIC, 0, stdio, argv, List.of(fd)));
            bad.put("stderr not placed", new Request(SpawnServer.MAGIC, 1, new int[][] {{0, 0}, {1, 0}}, argv, List.of(fd)));
            bad.put("a target twice", new Request(SpawnServer.MAGIC, 1, new int[][] {{0, 0}, {1, 0}, {2, 0}, {1, -1}},
                    argv, List.of(fd)));
            bad.put("a target of 64", new Request(SpawnServer.MAGIC, 1, new int[][] {{0, 0}, {1, 0}, {2, 0}, {64, 0}},
                    argv, List.of(fd)));
            bad.put("a negative target", new Request(SpawnServer.MAGIC, 1, new int[][] {{0, 0}, {1, 0}, {2, 0}, {-1, 0}},
                    argv, List.of(fd)));
            bad.put("a source beyond the fds", new Request(SpawnServer.MAGIC, 1, new int[][] {{0, 1}, {1, 0}, {2, 0}},
                    argv, List.of(fd)));
            bad.put("an unknown source", new Request(SpawnServer.MAGIC, 1, new int[][] {{0, -3}, {1, 0}, {2, 0}},
                    argv, List.of(fd)));
            bad.put("one action too many", new Request(SpawnServer.MAGIC, 1, java.util.stream.IntStream
                    .rangeClosed(0, SpawnServer.MAX_ACTIONS).mapToObj(t -> new int[] {t, 0}).toArray(int[][]::new),
                    argv, List.of(fd)));
            bad.put("one fd too many", new Request(SpawnServer.MAGIC, SpawnServer.MAX_FDS + 1, stdio, argv,
                    java.util.Collections.nCopies(SpawnServer.MAX_FDS + 1, fd)));
            bad.put("no argv", new Request(SpawnServer.MAGIC, 1, stdio, List.of(), List.of(fd)));
            bad.put("4097 args", new Request(SpawnServer.MAGIC, 1, stdio, java.util.Collections.nCopies(4097, "x"),
                    List.of(fd)));
            for (Map.Entry<String, Request> e : bad.entrySet()) {
                assertRefused(s, e.getKey(), e.getValue().bytes(), e.getValue().fds());
            }
            byte[] good = new Request(SpawnServer.MAGIC, 1, stdio, argv, List.of(fd)).bytes();
            assertRefused(s, "an unterminated last string", java.util.Arrays.copyOf(good, good.length - 1), List.of(fd));
            byte[] trailing = java.util.Arrays.copyOf(good, good.length + 1);
            assertRefused(s, "a byte after the last string", trailing, List.of(fd));
            byte[] more = good.clone();
            ByteBuffer.wrap(more).order(ByteOrder.nativeOrder()).putInt(12 + 8 * 3, argv.size() + 1);
            assertRefused(s, "argc beyond the strings", more, List.of(fd));
            assertRefused(s, "a header cut short", new byte[] {0x45, 0x4d}, List.of(fd));
            assertRefused(s, "over the size bound", java.util.Arrays.copyOf(good, SpawnServer.MAX_REQUEST + 1),
                    List.of(fd));
        } finally {
            Native.libc().close(pipe[0]);
            Native.libc().close(pipe[1]);
        }
    }

    private static void assertRefused(RawSpawnServer s, String what, byte[] bytes, List<Integer> fds) {
        int[] answer = s.exchange(bytes, fds);
        assertEquals(List.of(0, 22), List.of(answer[0], answer[1]), what + ": refused (EINVAL), no child");
        assertNotEquals('Z', state(s.pid()), what + ": the same server goes on");
        String left = fds(s.pid()).replaceAll(" flags:.*", "");
        assertTrue(left.matches("0 -> /dev/null\n1 -> /dev/null\n2 -> [^\n]*\n3 -> socket:\n"),
                what + ": the server keeps none of the fds: " + left);
    }

    /** A request as the server reads it (native byte order): header, placements, argv. */
    private record Request(int magic, int nfds, int[][] placements, List<String> argv, List<Integer> fds) {
        byte[] bytes() {
            List<byte[]> strings = argv.stream().map(a -> a.getBytes(StandardCharsets.UTF_8)).toList();
            int size = 12 + 8 * placements.length + 4 + strings.stream().mapToInt(b -> b.length + 1).sum();
            ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
            b.putInt(magic).putInt(nfds).putInt(placements.length);
            for (int[] p : placements) {
                b.putInt(p[0]).putInt(p[1]);
            }
            b.putInt(argv.size());
            for (byte[] s : strings) {
                b.put(s).put((byte) 0);
            }
            return b.array();
        }
    }

    // ------------------------------------------------------------------ /proc

    /**
     * Waits until {@code pid} runs {@code comm} (the helper has exec'd it) and sleeps with no fd of
     * the dynamic loader's open (it opens each library while it loads the program), and returns
     * its status.
     */
    private static Map<String, String> awaitProgram(long pid, String comm) {
        Poll.until(pid + " runs " + comm, () -> read(Path.of("/proc/" + pid + "/comm")).trim().equals(comm)
                && state(pid) == 'S' && !fds(pid).contains(".so"));
        return status(pid);
    }

    private static Map<String, String> status(long pid) {
        Map<String, String> m = new TreeMap<>();
        for (String line : read(Path.of("/proc/" + pid + "/status")).split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                m.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return m;
    }

    private static char state(long pid) {
        String stat = read(Path.of("/proc/" + pid + "/stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }

    /**
     * Until {@code pid} is a zombie that can be reaped: for the spawn server, a process of several
     * threads, its leader shows {@code Z} while the others are still exiting, and only once the last
     * is gone can a parent wait for it (that is also when SIGCHLD comes).
     */
    private static void awaitZombie(long pid) {
        Poll.until(pid + " exited, every thread of it", () -> state(pid) == 'Z' && threads(pid) <= 1);
    }

    private static long threads(long pid) {
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.count();
        } catch (IOException e) {
            return 0; // gone altogether
        }
    }

    private static void kill(long pid) {
        assertEquals(0, Native.libc().kill((int) pid, 9));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String readLink(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            return "?";
        }
    }

    private static boolean isRoot() {
        return Native.libc().geteuid() == 0;
    }

    private record Ran(int exit, String output) {}

    private static Ran run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Ran(p.waitFor(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
