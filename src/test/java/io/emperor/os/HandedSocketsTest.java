package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Listen;
import io.emperor.config.ReloadMode;
import io.emperor.config.UwsgiCommand;
import io.emperor.config.VassalSpec;
import io.emperor.loop.Launcher.SpawnResult;
import io.emperor.loop.LoopEvent;
import io.emperor.testing.Poll;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sockets the emperor holds, handed to the vassal (issue 15, docs/sockets.md): on fds 3, 4, …
 * in {@code listen} order with LISTEN_PID (the vassal's own), LISTEN_FDS and LISTEN_FDNAMES, the
 * report fd, the uWSGI channel and the env memfd above them; or, for a uWSGI on-demand vassal, the
 * one socket on fd 0. Each case both ways: through the spawn server and through posix_spawn. The
 * sockets are bound here ({@link TestSockets}), as the emperor's binding would hold them; real
 * processes, read in /proc.
 */
class HandedSocketsTest {
    private static final Path HELPER =
            Path.of(System.getProperty("emperor.buildDir", "target"), "emperor-exec").toAbsolutePath();

    private final List<LoopEvent> events = new CopyOnWriteArrayList<>();
    private final IoThread io = new IoThread(events::add);
    private final List<HelperLauncher> launchers = new ArrayList<>();
    private final List<long[]> runs = new ArrayList<>(); // {launcher index, run id}
    private final List<TestSockets.Bound> bound = new ArrayList<>();
    private long nextRun = 1;

    @TempDir
    Path tmp;

    @BeforeEach
    void startIo() {
        io.start();
    }

    @AfterEach
    void reapEverything() throws InterruptedException {
        for (long[] r : runs) {
            launchers.get((int) r[0]).reap(r[1]);
        }
        launchers.forEach(HelperLauncher::close);
        bound.forEach(TestSockets.Bound::close);
        io.close();
    }

    private HelperLauncher launcher(boolean served, UwsgiCommand uwsgi) {
        return served(new Environment(Map.of(), "uwsgi"), false, uwsgi, served);
    }

    /**
     * A launcher whose spawn server is ready before the first spawn ({@code served}: the emperor's first
     * spawn starts it and spawns through posix_spawn until it is ready), or closed, so that every spawn
     * goes through posix_spawn, as at the emperor's end.
     */
    private HelperLauncher served(Environment env, boolean tyrant, UwsgiCommand uwsgi, boolean served) {
        SpawnServer server = new SpawnServer(HELPER, new Spawner(), Native.libc().getpid(), System::nanoTime, w -> {});
        HelperLauncher l = new HelperLauncher(HELPER, io, env, tyrant, uwsgi, Containment.none("test"), server);
        if (served) {
            assertTrue(server.awaitReady(60_000));
        } else {
            server.disable();
        }
        launchers.add(l);
        return l;
    }

    private HelperLauncher launcher(boolean served) {
        return launcher(served, UwsgiCommand.of("uwsgi"));
    }

    private SpawnResult spawn(HelperLauncher l, VassalSpec spec, int... fds) {
        long id = nextRun++;
        SpawnResult r = l.spawn(spec.name(), id, spec, fds);
        if (r instanceof SpawnResult.Started) {
            runs.add(new long[] {launchers.indexOf(l), id});
        }
        return r;
    }

    private long started(HelperLauncher l, VassalSpec spec, int... fds) {
        SpawnResult r = spawn(l, spec, fds);
        assertTrue(r instanceof SpawnResult.Started, r::toString);
        return ((SpawnResult.Started) r).pid();
    }

    private TestSockets.Bound socket() {
        TestSockets.Bound b = TestSockets.listen();
        bound.add(b);
        return b;
    }

    private VassalSpec spec(String name, VassalSpec.Kind kind, List<String> argv, List<String> env) {
        return new VassalSpec(name, tmp.resolve(name + ".ini"), kind, argv, Path.of("/"), env, 0022, null, -1, -1,
                null, 15, Duration.ofSeconds(5), ReloadMode.SIGNAL, 1, List.of());
    }

    private static Listen listen(List<String> names, boolean stdin, TestSockets.Bound... socks) {
        List<Listen.Address> a = Stream.of(socks).map(s -> (Listen.Address) new Listen.Address.Inet("127.0.0.1",
                s.port())).toList();
        return new Listen(a, -1, Listen.DEFAULT_BACKLOG, names, false, stdin);
    }

    private static int[] fds(TestSockets.Bound... socks) {
        return Stream.of(socks).mapToInt(TestSockets.Bound::fd).toArray();
    }

    // ------------------------------------------------------------------ the layout

    @ParameterizedTest(name = "spawn server: {0}")
    @ValueSource(booleans = {true, false})
    void theSocketsAreOnThreeAndUpInListenOrderWithTheirVariablesAndTheRestAboveThem(boolean served) {
        HelperLauncher l = launcher(served);
        TestSockets.Bound a = socket();
        TestSockets.Bound b = socket();
        // A tenant's own LISTEN_* in its env: replaced, never a second entry.
        VassalSpec spec = spec("web", VassalSpec.Kind.PROGRAM, List.of("/bin/sleep", "1000"),
                List.of("LISTEN_FDS=50", "LISTEN_PID=1", "LISTEN_FDNAMES=evil", "A=1")).withListen(
                listen(List.of(), false, b, a));
        long pid = started(l, spec, fds(b, a));
        awaitExec(pid, "sleep");
        Map<Integer, String> fds = fdTargets(pid);
        assertEquals("/dev/null", fds.get(0));
        assertEquals(inode(b.fd()), fds.get(3), "the first listen address on fd 3: " + fds);
        assertEquals(inode(a.fd()), fds.get(4), "the second on fd 4: " + fds);
        assertEquals(List.of(0, 1, 2, 3, 4), List.copyOf(fds.keySet()),
                "nothing else: the report fd (5) is closed by the exec, the env fd (7) after its read: " + fds);
        assertEquals(List.of("A=1", "LISTEN_FDNAMES=web.socket:web.socket", "LISTEN_FDS=2", "LISTEN_PID=" + pid),
                environ(pid).stream().filter(e -> e.startsWith("LISTEN_") || e.startsWith("A=")).sorted().toList());
    }

    @ParameterizedTest(name = "spawn server: {0}")
    @ValueSource(booleans = {true, false})
    void aUwsgiVassalsChannelMovesAboveTheSocketsAndItsVariableSaysWhere(boolean served) throws IOException {
        Path fakeUwsgi = tmp.resolve("fake-uwsgi");
        Files.writeString(fakeUwsgi, "#!/bin/sh\nexec /bin/sleep 1000\n");
        fakeUwsgi.toFile().setExecutable(true);
        HelperLauncher l = launcher(served, UwsgiCommand.of(fakeUwsgi.toString()));
        TestSockets.Bound a = socket();
        TestSockets.Bound b = socket();
        VassalSpec spec = spec("u", VassalSpec.Kind.UWSGI, List.of(), List.of())
                .withListen(listen(List.of("http", "admin"), false, a, b));
        long pid = started(l, spec, fds(a, b));
        awaitExec(pid, "sleep");
        Map<Integer, String> fds = fdTargets(pid);
        assertEquals(inode(a.fd()), fds.get(3));
        assertEquals(inode(b.fd()), fds.get(4));
        assertTrue(fds.get(6).startsWith("socket:"), "the channel on 6: " + fds);
        assertEquals(List.of(0, 1, 2, 3, 4, 6), List.copyOf(fds.keySet()), fds::toString);
        List<String> env = environ(pid);
        assertTrue(env.contains("UWSGI_EMPEROR_FD=6"), env::toString);
        assertTrue(env.contains("LISTEN_FDNAMES=http:admin"), env::toString);
        assertTrue(env.contains("LISTEN_FDS=2"), env::toString);
    }

    @ParameterizedTest(name = "spawn server: {0}")
    @ValueSource(booleans = {true, false})
    void anOnDemandUwsgiVassalGetsItsSocketOnFdZeroAndNoListenVariables(boolean served) throws IOException {
        Path fakeUwsgi = tmp.resolve("fake-uwsgi");
        Files.writeString(fakeUwsgi, "#!/bin/sh\nexec /bin/sleep 1000\n");
        fakeUwsgi.toFile().setExecutable(true);
        HelperLauncher l = launcher(served, UwsgiCommand.of(fakeUwsgi.toString()));
        TestSockets.Bound a = socket();
        VassalSpec spec = spec("od", VassalSpec.Kind.UWSGI, List.of(), List.of("LISTEN_FDS=1"))
                .withListen(listen(List.of(), true, a));
        long pid = started(l, spec, fds(a));
        awaitExec(pid, "sleep");
        Map<Integer, String> fds = fdTargets(pid);
        assertEquals(inode(a.fd()), fds.get(0), "the socket on fd 0, where uWSGI looks: " + fds);
        assertTrue(fds.get(4).startsWith("socket:"), "the channel where it always was: " + fds);
        assertEquals(List.of(0, 1, 2, 4), List.copyOf(fds.keySet()), fds::toString);
        List<String> env = environ(pid);
        assertTrue(env.contains("UWSGI_EMPEROR_FD=4"), env::toString);
        assertTrue(env.stream().noneMatch(e -> e.startsWith("LISTEN_")), env::toString);
    }

    @ParameterizedTest(name = "spawn server: {0}")
    @ValueSource(booleans = {true, false})
    void aVassalWithoutSocketsGetsNoListenVariableWhateverItsEnvSays(boolean served) {
        HelperLauncher l = launcher(served);
        VassalSpec spec = spec("plain", VassalSpec.Kind.PROGRAM, List.of("/bin/sleep", "1000"),
                List.of("LISTEN_FDS=3", "LISTEN_PID=1", "LISTEN_FDNAMES=x"));
        long pid = started(l, spec);
        awaitExec(pid, "sleep");
        assertTrue(environ(pid).stream().noneMatch(e -> e.startsWith("LISTEN_")), environ(pid)::toString);
        assertEquals(List.of(0, 1, 2), List.copyOf(fdTargets(pid).keySet()));
    }

    /** Tyrant mode: the tenant's program gets the sockets after the whole drop, its own LISTEN_* replaced. */
    @ParameterizedTest(name = "spawn server: {0}")
    @ValueSource(booleans = {true, false})
    void aTenantsVassalGetsItsSocketsAfterTheDropAndNoneOfItsOwnVariables(boolean served) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Native.libc().geteuid() == 0,
                "needs root: tyrant mode drops to another uid");
        HelperLauncher l = served(new Environment(Map.of("LISTEN_FDS", "7"), "uwsgi"), true, UwsgiCommand.of("uwsgi"),
                served);
        TestSockets.Bound a = socket();
        VassalSpec spec = new VassalSpec("tenant", tmp.resolve("tenant.ini"), VassalSpec.Kind.PROGRAM,
                List.of("/bin/sleep", "1000"), Path.of("/"), List.of("LISTEN_PID=1", "LISTEN_FDS=50"), 0022, null,
                65534, 65534, null, 15, Duration.ofSeconds(5), ReloadMode.SIGNAL, 1, List.of())
                .withListen(listen(List.of(), false, a));
        long pid = started(l, spec, fds(a));
        awaitExec(pid, "sleep");
        assertTrue(read(Path.of("/proc/" + pid + "/status")).contains("\nUid:\t65534\t65534\t65534\t65534\n"));
        assertEquals(inode(a.fd()), fdTargets(pid).get(3));
        assertEquals(List.of(0, 1, 2, 3), List.copyOf(fdTargets(pid).keySet()));
        assertEquals(List.of("LISTEN_FDNAMES=tenant.socket", "LISTEN_FDS=1", "LISTEN_PID=" + pid),
                environ(pid).stream().filter(e -> e.startsWith("LISTEN_")).sorted().toList());
    }

    // ------------------------------------------------------------------ a program that serves on them

    @ParameterizedTest(name = "spawn server: {0}")
    @ValueSource(booleans = {true, false})
    void aSocketActivatedProgramServesOnFdThreeAndItsListenPidIsItsOwn(boolean served) throws IOException {
        Path prog = tmp.resolve("serves-fd.py");
        try (InputStream in = HandedSocketsTest.class.getResourceAsStream("/fixtures/serves-fd.py")) {
            Files.copy(in, prog, StandardCopyOption.REPLACE_EXISTING);
        }
        Path record = tmp.resolve("record");
        HelperLauncher l = launcher(served);
        TestSockets.Bound a = socket();
        VassalSpec spec = spec("py", VassalSpec.Kind.PROGRAM,
                List.of("/usr/bin/python3", prog.toString(), "--record", record.toString()), List.of("PATH=/usr/bin:/bin"))
                .withListen(listen(List.of("http"), false, a));
        long pid = started(l, spec, fds(a));
        String answer = get(a.port());
        assertTrue(answer.startsWith("HTTP/1.0 200 OK"), answer);
        String expected = "pid=" + pid + " listen_pid=" + pid + " listen_fds=1 listen_fdnames=http fds=3";
        assertTrue(answer.endsWith("\r\n\r\n" + expected + "\n"), answer);
        assertEquals(expected + "\n", Files.readString(record));
    }

    // ------------------------------------------------------------------ refusals

    @ParameterizedTest(name = "spawn server: {0}")
    @ValueSource(booleans = {true, false})
    void spawnsThatCannotGetTheirSocketsRightAreRefusedWithTheReason(boolean served) {
        HelperLauncher l = launcher(served);
        TestSockets.Bound a = socket();
        TestSockets.Bound b = socket();
        List<String> sleep = List.of("/bin/sleep", "1000");
        assertEquals(new SpawnResult.Failed("listen: 1 of the 2 sockets are held (see the listen line above)"),
                spawn(l, spec("x", VassalSpec.Kind.PROGRAM, sleep, List.of()).withListen(listen(List.of(), false, a, b)),
                        fds(a)));
        assertEquals(new SpawnResult.Failed("listen-names: not a valid fd name (at most 255 printable ASCII characters,"
                        + " no ':'): \"a:b\""),
                spawn(l, spec("x", VassalSpec.Kind.PROGRAM, sleep, List.of()).withListen(
                        listen(List.of("a:b"), false, a)), fds(a)));
        assertEquals(new SpawnResult.Failed("listen-names: 2 names for 1 sockets"),
                spawn(l, spec("x", VassalSpec.Kind.PROGRAM, sleep, List.of()).withListen(
                        listen(List.of("a", "b"), false, a)), fds(a)));
        TestSockets.Bound[] many = new TestSockets.Bound[HelperLauncher.MAX_LISTEN + 1];
        java.util.Arrays.fill(many, a);
        assertEquals(new SpawnResult.Failed("listen: 33 sockets, more than 32"),
                spawn(l, spec("x", VassalSpec.Kind.PROGRAM, sleep, List.of()).withListen(listen(List.of(), false, many)),
                        fds(many)));
        assertEquals(new SpawnResult.Failed("listen: 2 sockets for fd 0, which takes one"),
                spawn(l, spec("x", VassalSpec.Kind.UWSGI, List.of(), List.of()).withListen(listen(List.of(), true, a, b)),
                        fds(a, b)));
        // The most there may be: each on its fd, in order.
        TestSockets.Bound[] most = new TestSockets.Bound[HelperLauncher.MAX_LISTEN];
        for (int i = 0; i < most.length; i++) {
            most[i] = socket();
        }
        long pid = started(l, spec("most", VassalSpec.Kind.PROGRAM, sleep, List.of())
                .withListen(listen(List.of(), false, most)), fds(most));
        awaitExec(pid, "sleep");
        Map<Integer, String> fds = fdTargets(pid);
        for (int i = 0; i < most.length; i++) {
            assertEquals(inode(most[i].fd()), fds.get(3 + i), "fd " + (3 + i));
        }
        assertTrue(environ(pid).contains("LISTEN_FDS=32"));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"a:b", "tab\there", "é", "del\u007f"})
    void aNameThatSystemdWouldRefuseIsNotAnFdName(String name) {
        assertTrue(!HelperLauncher.validFdName(name));
        assertTrue(HelperLauncher.validFdName("web.socket") && HelperLauncher.validFdName("")
                && HelperLauncher.validFdName("with space ~"), "what systemd's fdname_is_valid takes");
        assertTrue(HelperLauncher.validFdName("x".repeat(255)) && !HelperLauncher.validFdName("x".repeat(256)));
    }

    // ------------------------------------------------------------------ /proc and the client

    private static String get(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** Until {@code pid} runs {@code comm}, with the loader's fds closed (the layout is final then). */
    /**
     * Waits until {@code pid} runs {@code comm} (sleep) and sleeps in it: past its dynamic loader, which holds
     * {@code libc.so} open for a moment after the exec (a sample then saw it on fd 3), so its fds are what the
     * exec left it.
     */
    private static void awaitExec(long pid, String comm) {
        Path proc = Path.of("/proc/" + pid);
        Poll.until(pid + " sleeps in " + comm, Poll.WAIT, () -> read(proc.resolve("comm")).trim().equals(comm)
                && read(proc.resolve("wchan")).contains("nanosleep"),
                () -> "comm " + read(proc.resolve("comm")).trim() + ", wchan " + read(proc.resolve("wchan"))
                        + ", fds " + fdTargets(pid));
    }

    private static Map<Integer, String> fdTargets(long pid) {
        Map<Integer, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : s.toList()) {
                try {
                    m.put(Integer.parseInt(fd.getFileName().toString()), Files.readSymbolicLink(fd).toString());
                } catch (IOException closedMeanwhile) {
                    // gone between the listing and the read
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    /** {@code socket:[INODE]} of one of this JVM's fds. */
    private static String inode(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> environ(long pid) {
        try {
            String all = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/environ")), StandardCharsets.UTF_8);
            return Stream.of(all.split("\0")).filter(e -> !e.isEmpty()).collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }
}
