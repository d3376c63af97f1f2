package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.emperor.testing.Poll;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native exec helper (src/main/c/emperor-exec.c), driven through its command line. Each test
 * looks at what the helper exec'd (its /proc/self/status, limits, fds) rather than at the helper.
 */
class ExecHelperTest {

    private static final Path HELPER =
            Path.of(System.getProperty("emperor.buildDir", "target"), "emperor-exec").toAbsolutePath();
    private static final Duration DEADLINE = Duration.ofSeconds(20);
    /** A signal or capability mask in /proc/PID/status with nothing in it. */
    private static final String ALL_ZERO = "0000000000000000";
    /** A uid/gid with no passwd entry: the numeric-owner case of DESIGN §5. */
    private static final String NOBODY_ID = "12345";

    private static boolean isRoot;
    /** Users and groups created by tests, removed in {@link #removeAccounts()} whatever happened. */
    private static final List<String> createdUsers = new ArrayList<>();
    private static final List<String> createdGroups = new ArrayList<>();

    @TempDir
    Path tmp;

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit=" + exit + " out=[" + out + "] err=[" + err + "]";
        }
    }

    @BeforeAll
    static void findHelper() throws IOException {
        assertTrue(Files.isExecutable(HELPER), "helper not built: " + HELPER);
        isRoot = procStatus(Files.readString(Path.of("/proc/self/status"))).get("Uid").split("\\s+")[1].equals("0");
    }

    @AfterAll
    static void removeAccounts() throws Exception {
        for (String user : createdUsers) {
            run(List.of("/usr/sbin/userdel", user));
        }
        for (String group : createdGroups) {
            run(List.of("/usr/sbin/groupdel", group));
        }
    }

    // ---------------------------------------------------------------- process state

    @Test
    void signalMaskAndDispositionsAreReset() throws Exception {
        // This JVM's children start with SIGQUIT blocked (JDK 17) and signals 32, 33 ignored.
        Result r = runHelper("--", "grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status");
        assertEquals(0, r.exit(), r::toString);
        Map<String, String> status = procStatus(r.out());
        assertEquals(ALL_ZERO, status.get("SigBlk"), r::toString);
        assertEquals(ALL_ZERO, status.get("SigIgn"), r::toString);
    }

    @Test
    void ignoredSignalsInheritedFromTheSpawnerAreReset() throws Exception {
        String script = "trap '' HUP INT TERM USR1; exec \"$@\" grep ^SigIgn /proc/self/status";
        // Control: without the helper SIG_IGN survives exec, so the test can see a difference.
        Result control = run(List.of("sh", "-c", script, "sh"));
        assertNotEquals(ALL_ZERO, procStatus(control.out()).get("SigIgn"), control::toString);
        Result r = run(List.of("sh", "-c", script, "sh", HELPER.toString(), "--"));
        assertEquals(0, r.exit(), r::toString);
        assertEquals(ALL_ZERO, procStatus(r.out()).get("SigIgn"), r::toString);
    }

    @Test
    void programLeadsItsOwnSessionAndKeepsThePid() throws Exception {
        Started p = start(List.of(HELPER.toString(), "--", "cat", "/proc/self/stat"), Map.of());
        Result r = finish(p);
        assertEquals(0, r.exit(), r::toString);
        String stat = r.out();
        // pid (comm) state ppid pgrp session ...; comm may hold spaces, so split after ')'.
        String[] after = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        long pid = Long.parseLong(stat.substring(0, stat.indexOf(' ')));
        assertEquals(p.pid(), pid, "the helper execs, it does not fork: " + stat);
        assertEquals(pid, Long.parseLong(after[2]), "pgrp: " + stat);
        assertEquals(pid, Long.parseLong(after[3]), "session: " + stat);
    }

    @Test
    void inheritedFdsAreClosed() throws Exception {
        String script = "exec 7</dev/null 9>/dev/null; exec \"$@\" ls -l /proc/self/fd";
        Result control = run(List.of("sh", "-c", script, "sh"));
        assertTrue(fds(control.out()).containsKey(7), "control should see fd 7: " + control);
        Result r = run(List.of("sh", "-c", script, "sh", HELPER.toString(), "--"));
        assertEquals(0, r.exit(), r::toString);
        Map<Integer, String> fds = fds(r.out());
        assertTrue(fds.keySet().containsAll(Set.of(0, 1, 2)), r::toString);
        fds.forEach((fd, target) -> {
            if (fd > 2) {
                // Only ls's own directory fd may be there.
                assertTrue(target.matches("/proc/\\d+/fd"), "fd " + fd + " -> " + target + " leaked: " + r);
            }
        });
    }

    @Test
    void keptFdsStayOpenAndInheritableTheOthersAreClosed() throws Exception {
        // fd 5 and 8 are kept (-K), fd 7 and 9 are not; the helper clears CLOEXEC on what it keeps.
        String script = "exec 5</dev/null 7</dev/null 8</dev/null 9>/dev/null; exec \"$@\" ls -l /proc/self/fd";
        Result r = run(List.of("sh", "-c", script, "sh", HELPER.toString(), "-K", "5", "-K", "8", "--"));
        assertEquals(0, r.exit(), r::toString);
        Map<Integer, String> fds = fds(r.out());
        assertEquals("/dev/null", fds.get(5), r::toString);
        assertEquals("/dev/null", fds.get(8), r::toString);
        assertTrue(!fds.containsKey(7) || fds.get(7).matches("/proc/\\d+/fd"), r::toString);
        assertTrue(!fds.containsKey(9) || fds.get(9).matches("/proc/\\d+/fd"), r::toString);
    }

    @Test
    void chdir() throws Exception {
        Result r = runHelper("-d", tmp.toString(), "--", "pwd");
        assertEquals(0, r.exit(), r::toString);
        assertEquals(tmp.toRealPath().toString(), r.out().trim());
    }

    @Test
    void joinsTheCgroupByWritingItsOwnPidWhichIsTheProgramsPid() throws Exception {
        // A regular file stands for cgroup.procs: what is written, and that it is the vassal's pid.
        Path procs = tmp.resolve("cgroup.procs");
        Files.writeString(procs, "");
        Result r = runHelper("-G", procs.toString(), "--", "sh", "-c", "echo $$");
        assertEquals(0, r.exit(), r::toString);
        assertEquals(r.out(), Files.readString(procs), "the pid written is the program's own");
    }

    @Test
    void umask() throws Exception {
        Result r = runHelper("-m", "027", "--", "sh", "-c", "umask");
        assertEquals(0, r.exit(), r::toString);
        assertEquals("0027", r.out().trim());
    }

    @Test
    void resourceLimits() throws Exception {
        // nproc: keep the current hard limit (raising it needs CAP_SYS_RESOURCE), lower the soft one.
        String hard = limits(Files.readString(Path.of("/proc/self/limits"))).get("Max processes")[1];
        long soft = hard.equals("unlimited") ? 4096 : Math.min(4096, Long.parseLong(hard));
        Result r = runHelper("-r", "nofile=100:200", "-r", "core=0", "-r", "nproc=" + soft + ":" + hard,
                "--", "cat", "/proc/self/limits");
        assertEquals(0, r.exit(), r::toString);
        Map<String, String[]> limits = limits(r.out());
        assertEquals(List.of("100", "200"), List.of(limits.get("Max open files")), r::toString);
        assertEquals(List.of("0", "0"), List.of(limits.get("Max core file size")), r::toString);
        assertEquals(List.of(Long.toString(soft), hard), List.of(limits.get("Max processes")), r::toString);
    }

    // ---------------------------------------------------------------- logto

    @Test
    void logtoIsCreatedWithMode0640AndAppended() throws Exception {
        Path log = tmp.resolve("vassal.log");
        Result first = runHelper("-m", "022", "-l", log.toString(), "--", "sh", "-c", "echo one; echo err1 >&2");
        assertEquals(new Result(0, "", ""), first);
        Result second = runHelper("-m", "022", "-l", log.toString(), "--", "echo", "two");
        assertEquals(new Result(0, "", ""), second);
        assertEquals("one\nerr1\ntwo\n", Files.readString(log));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));
    }

    @Test
    void logtoRefusesASymlink() throws Exception {
        Path target = Files.createFile(tmp.resolve("target"));
        Path link = Files.createSymbolicLink(tmp.resolve("link.log"), target);
        Result r = runHelper("-l", link.toString(), "--", "echo", "written");
        assertFailure(r, "logto " + link + ": Too many levels of symbolic links");
        assertEquals(0, Files.size(target));

        // A dangling link must not create its target either.
        Path absent = tmp.resolve("absent");
        Path dangling = Files.createSymbolicLink(tmp.resolve("dangling.log"), absent);
        assertFailure(runHelper("-l", dangling.toString(), "--", "true"),
                "logto " + dangling + ": Too many levels of symbolic links");
        assertFalse(Files.exists(absent, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void withoutReportFdAFailureAfterLogtoLandsInTheLog() throws Exception {
        Path log = tmp.resolve("vassal.log");
        Result r = runHelper("-l", log.toString(), "--", "/nonexistent/program");
        assertEquals(new Result(127, "", ""), r);
        assertEquals("exec /nonexistent/program: No such file or directory\n", Files.readString(log));
    }

    // ---------------------------------------------------------------- failures

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(List.of("-d", "/nonexistent", "--", "true"), "chdir /nonexistent: No such file or directory"),
                Arguments.of(List.of("--", "/usr/bin/emperor-no-such-program"),
                        "exec /usr/bin/emperor-no-such-program: No such file or directory"),
                Arguments.of(List.of("-r", "nofile=200:100", "--", "true"), "rlimit nofile=200:100: Invalid argument"),
                Arguments.of(List.of("-P", "2147483647", "--", "true"), "pdeathsig: parent exited"),
                Arguments.of(List.of("-x", "--", "true"), "usage: unknown option -x"),
                Arguments.of(List.of("-d", "/"), "usage: missing -- before PROGRAM"),
                Arguments.of(List.of("true"), "usage: expected an option or --, got true"),
                Arguments.of(List.of("-d", "/", "--"), "usage: missing PROGRAM after --"),
                Arguments.of(List.of("-d"), "usage: option -d needs a value"),
                Arguments.of(List.of("-u", "1000", "--", "true"), "usage: -u needs -g"),
                Arguments.of(List.of("-U", "root", "--", "true"), "usage: -U needs -g"),
                Arguments.of(List.of("-u", "abc", "-g", "1", "--", "true"), "usage: bad value for -u: abc"),
                Arguments.of(List.of("-u", "-1", "-g", "1", "--", "true"), "usage: bad value for -u: -1"),
                Arguments.of(List.of("-u", "4294967295", "-g", "1", "--", "true"),
                        "usage: bad value for -u: 4294967295"),
                Arguments.of(List.of("-m", "0999", "--", "true"), "usage: bad value for -m: 0999"),
                Arguments.of(List.of("-s", "65", "--", "true"), "usage: bad value for -s: 65"),
                Arguments.of(List.of("-r", "bogus=1", "--", "true"), "usage: bad rlimit: bogus=1"),
                Arguments.of(List.of("-r", "nofile=1:", "--", "true"), "usage: bad rlimit: nofile=1:"),
                Arguments.of(List.of("-r", "nofile", "--", "true"), "usage: bad rlimit: nofile"),
                Arguments.of(List.of("-K", "2", "--", "true"), "usage: -K needs an fd >= 3: 2"),
                Arguments.of(List.of("-K", "x", "--", "true"), "usage: bad value for -K: x"),
                Arguments.of(List.of("-G", "/emperor-no-such-cgroup/cgroup.procs", "--", "true"),
                        "cgroup /emperor-no-such-cgroup/cgroup.procs: No such file or directory"),
                // -L: socket activation; fds that are not there, a huge N, the helper's own fds among them
                Arguments.of(List.of("-L", "1", "--", "true"), "listen fd 3: Bad file descriptor"),
                Arguments.of(List.of("-L", "0", "--", "true"), "usage: -L needs 1 to 32 fds: 0"),
                Arguments.of(List.of("-L", "33", "--", "true"), "usage: bad value for -L: 33"),
                Arguments.of(List.of("-L", "18446744073709551617", "--", "true"),
                        "usage: bad value for -L: 18446744073709551617"),
                Arguments.of(List.of("-L", "-1", "--", "true"), "usage: bad value for -L: -1"),
                Arguments.of(List.of("-L", "2", "-K", "4", "--", "true"), "usage: -K 4 is among the -L fds"),
                Arguments.of(List.of("-L", "2", "-E", "3", "--", "true"), "usage: -E 3 is among the -L fds"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("failures")
    void failureIsOneLineAndStatus127(List<String> args, String message) throws Exception {
        assertFailure(runHelper(args.toArray(String[]::new)), message);
    }

    @Test
    void programIsLookedUpInThePathTheHelperWasGiven() throws Exception {
        Path bin = Files.createDirectory(tmp.resolve("bin"));
        Path prog = bin.resolve("emperor-test-prog");
        Files.writeString(prog, "#!/bin/sh\necho \"found $1\"\n");
        Files.setPosixFilePermissions(prog, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cmd = List.of(HELPER.toString(), "--", "emperor-test-prog", "arg");
        assertEquals(new Result(0, "found arg\n", ""), run(cmd, Map.of("PATH", bin + ":/usr/bin:/bin")));
        assertFailure(run(cmd, Map.of("PATH", "/usr/bin:/bin")), "exec emperor-test-prog: No such file or directory");
    }

    // ---------------------------------------------------------------- -E: the vassal's environment

    /** NUL-terminated KEY=VALUE strings in a file, as the emperor writes them into its memfd. */
    private Path envFile(String... entries) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String e : entries) {
            b.append(e).append('\0');
        }
        Path f = Files.createTempFile(tmp, "env", ".bin");
        Files.writeString(f, b);
        return f;
    }

    /** The helper with {@code -E 5}, fd 5 reading {@code env}, run by sh with the helper's own environment {@code own}. */
    private static Result runWithEnvFd(Path env, Map<String, String> own, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "f=$1; shift; exec \"$@\" 5<\"$f\"", "sh",
                env.toString(), HELPER.toString(), "-E", "5"));
        cmd.addAll(List.of(args));
        return run(cmd, own);
    }

    @Test
    void programGetsExactlyTheEnvironmentOfTheEnvFdAndNoneOfTheHelpersOwn() throws Exception {
        Path env = envFile("A=1", "B=two words", "EMPTY=", "PATH=/usr/bin:/bin", "LD_PRELOAD=/nonexistent/x.so");
        Result r = runWithEnvFd(env, Map.of("HELPER_OWN", "leak"), "--", "/usr/bin/env");
        assertEquals(0, r.exit(), r::toString);
        // env(1) would have failed to start had the loader of the exec'd program not seen LD_PRELOAD: it
        // warns and goes on; the helper itself never saw it (its own environment is sh's).
        assertEquals(List.of("A=1", "B=two words", "EMPTY=", "PATH=/usr/bin:/bin", "LD_PRELOAD=/nonexistent/x.so"),
                r.out().lines().toList(), r::toString);
        Result fds = runWithEnvFd(env, Map.of(), "--", "ls", "-l", "/proc/self/fd");
        assertEquals(0, fds.exit(), fds::toString);
        assertFalse(fds(fds.out()).containsKey(5) && !fds(fds.out()).get(5).matches("/proc/\\d+/fd"),
                "the env fd is closed: " + fds);
    }

    @Test
    void watchdogPidIsTheVassalsOwnPid() throws Exception {
        Path env = envFile("A=1");
        Result r = runWithEnvFd(env, Map.of(), "-W", "--", "/bin/sh", "-c", "echo \"$WATCHDOG_PID $$ $A\"");
        assertEquals(0, r.exit(), r::toString);
        String[] f = r.out().strip().split(" ");
        assertEquals(3, f.length, r::toString);
        assertEquals(f[1], f[0], "WATCHDOG_PID is the pid exec kept: " + r);
        assertEquals("1", f[2], "the rest of the environment is kept");
        Result without = runWithEnvFd(env, Map.of(), "--", "/bin/sh", "-c", "echo \"${WATCHDOG_PID-unset}\"");
        assertEquals("unset", without.out().strip(), without::toString);
    }

    // ---------------------------------------------------------------- -L: the sockets on 3, 4, …

    /**
     * The helper with {@code -E ENVFD -L N} and {@code args}, exec'd by a python3 that put N
     * listening TCP sockets on fds 3 .. 3+N-1 (and {@code extra} /dev/null fds where they say,
     * {@code {fd}}), {@code env} on fd {@code envFd}.
     */
    private static Result runWithSockets(int sockets, List<Integer> devNulls, Path env, int envFd, String... args)
            throws Exception {
        String script = String.join("\n",
                "import os, socket, sys",
                "n, nulls, env, envfd = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])",
                "socks = [socket.socket() for _ in range(n)]",
                "high = []",
                "for s in socks:",
                "    s.bind(('127.0.0.1', 0)); s.listen(); high.append(os.dup2(s.fileno(), 200 + len(high)))",
                "for i, fd in enumerate(high): os.dup2(fd, 3 + i)",
                "def put(src, fd):",
                "    os.dup2(src, fd) if src != fd else os.set_inheritable(fd, True)",
                "for fd in [int(x) for x in nulls.split(',') if x]: put(os.open('/dev/null', os.O_RDONLY), fd)",
                "put(os.open(env, os.O_RDONLY), envfd)",
                "os.execv(sys.argv[5], sys.argv[5:])");
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script, Integer.toString(sockets),
                String.join(",", devNulls.stream().map(String::valueOf).toList()), env.toString(),
                Integer.toString(envFd), HELPER.toString(), "-E", Integer.toString(envFd)));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    @Test
    void listenFdsReachTheProgramWithItsOwnPidAndCountAndATenantsAreReplaced() throws Exception {
        // A tenant's env naming 50 fds and another pid, twice: the program sees one of each, the helper's.
        Path env = envFile("LISTEN_FDS=50", "A=1", "LISTEN_PID=1", "LISTEN_FDS=49", "LISTEN_FDNAMES=web:admin");
        Result r = runWithSockets(2, List.of(9), env, 5, "-L", "2", "--", "/bin/sh", "-c",
                "echo \"$LISTEN_PID $$ $LISTEN_FDS $A\"; env | grep ^LISTEN_ | sort; ls -l /proc/self/fd");
        assertEquals(0, r.exit(), r::toString);
        List<String> lines = r.out().lines().toList();
        String[] f = lines.get(0).split(" ");
        assertEquals(f[1], f[0], "LISTEN_PID is the pid exec kept, the program's: " + r);
        assertEquals("2", f[2], r::toString);
        assertEquals("1", f[3], "the rest of the environment is kept: " + r);
        assertEquals(List.of("LISTEN_FDNAMES=web:admin", "LISTEN_FDS=2", "LISTEN_PID=" + f[1]), lines.subList(1, 4),
                "one of each (the emperor sets LISTEN_FDNAMES itself): " + r);
        Map<Integer, String> fds = fds(r.out());
        assertTrue(fds.get(3).startsWith("socket:"), r::toString);
        assertTrue(fds.get(4).startsWith("socket:"), r::toString);
        assertFalse(fds.containsKey(5) && !fds.get(5).matches("/proc/\\d+/fd"), "the env fd is closed: " + r);
        assertFalse(fds.containsKey(9) && !fds.get(9).matches("/proc/\\d+/fd"), "fd 9 is swept: " + r);
    }

    @Test
    void listenFdsThatAreMissingOrNotSocketsAreRefused() throws Exception {
        Path env = envFile("A=1");
        assertFailure(runWithSockets(2, List.of(), env, 9, "-L", "3", "--", "true"), "listen fd 5: Bad file descriptor");
        assertFailure(runWithSockets(1, List.of(4), env, 9, "-L", "2", "--", "true"), "listen fd 4: not a socket");
        // The report fd among them: refused (the line goes to that fd, a listening socket, so nowhere).
        Result r = runWithSockets(2, List.of(), env, 9, "-L", "2", "-R", "4", "--", "echo", "ran");
        assertEquals(127, r.exit(), r::toString);
        assertEquals("", r.out(), r::toString);
    }

    @Test
    void aBareProgramIsLookedUpInTheVassalsPathNotTheHelpers() throws Exception {
        Path bin = Files.createDirectory(tmp.resolve("vbin"));
        Path prog = bin.resolve("emperor-test-envprog");
        Files.writeString(prog, "#!/bin/sh\necho \"found $1\"\n");
        Files.setPosixFilePermissions(prog, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path vassalPath = envFile("PATH=" + bin + ":/usr/bin:/bin");
        assertEquals(new Result(0, "found arg\n", ""),
                runWithEnvFd(vassalPath, Map.of("PATH", "/usr/bin:/bin"), "--", "emperor-test-envprog", "arg"));
        Path otherPath = envFile("PATH=/usr/bin:/bin");
        assertFailure(runWithEnvFd(otherPath, Map.of("PATH", bin + ":/usr/bin:/bin"), "--", "emperor-test-envprog"),
                "exec emperor-test-envprog: No such file or directory");
    }

    @Test
    void aMalformedOrOversizedEnvFdIsRefusedWithAReason() throws Exception {
        assertFailure(runWithEnvFd(envFile("A=1", "noequals"), Map.of(), "--", "true"),
                "env: entry 2 is not KEY=VALUE: noequals");
        assertFailure(runWithEnvFd(envFile("=value"), Map.of(), "--", "true"), "env: entry 1 is not KEY=VALUE: =value");
        Path unterminated = Files.writeString(tmp.resolve("unterminated"), "A=1");
        assertFailure(runWithEnvFd(unterminated, Map.of(), "--", "true"),
                "env: the last entry is not terminated by a NUL byte");
        Path big = Files.writeString(tmp.resolve("big"), "A=" + "x".repeat(1024 * 1024) + "\0");
        assertFailure(runWithEnvFd(big, Map.of(), "--", "true"), "env: more than 1048576 bytes");
        String[] most = new String[16384];
        for (int i = 0; i < most.length; i++) {
            most[i] = "V" + i + "=1";
        }
        Result r = runWithEnvFd(envFile(most), Map.of(), "--", "sh", "-c", "env | grep -c '^V[0-9]*=1$'");
        assertEquals(new Result(0, "16384\n", ""), r, "16384 entries are the most, and all of them are passed");
        String[] tooMany = java.util.Arrays.copyOf(most, most.length + 1);
        tooMany[most.length] = "LAST=1";
        assertFailure(runWithEnvFd(envFile(tooMany), Map.of(), "--", "true"), "env: more than 16384 entries");
        assertFailure(runHelper("-E", "2", "--", "true"), "usage: -E needs an fd >= 3: 2");
        assertFailure(runHelper("-E", "9", "--", "true"), "env fd 9: Bad file descriptor");
    }

    @Test
    void helperIsBoundNowWithARelroAndNoRunPath() throws Exception {
        Path readelf = Path.of("/usr/bin/readelf");
        Assumptions.assumeTrue(Files.isExecutable(readelf), "needs binutils readelf");
        Result dynamic = run(List.of(readelf.toString(), "-d", HELPER.toString()));
        assertEquals(0, dynamic.exit(), dynamic::toString);
        assertTrue(dynamic.out().contains("BIND_NOW"), "-z now: " + dynamic);
        assertFalse(dynamic.out().contains("RPATH") || dynamic.out().contains("RUNPATH"), "no run path: " + dynamic);
        Result segments = run(List.of(readelf.toString(), "-l", HELPER.toString()));
        assertTrue(segments.out().contains("GNU_RELRO"), "-z relro: " + segments);
    }

    // ---------------------------------------------------------------- -A: limits after the drop

    @Test
    void limitsAfterTheDropCanOnlyGoDown() throws Exception {
        Path prlimit = Path.of("/usr/bin/prlimit");
        Assumptions.assumeTrue(Files.isExecutable(prlimit), "needs util-linux prlimit");
        List<String> helper = List.of(prlimit.toString(), "--nofile=1024:4096", "--", HELPER.toString(), "-A");
        List<String> raise = new ArrayList<>(helper);
        raise.addAll(List.of("-r", "nofile=1048576", "--", "true"));
        // Even as root: -A never raises a hard limit.
        assertFailure(run(raise), "rlimit nofile=1048576: hard limit 1048576 is above the emperor's hard limit 4096"
                + " (tyrant mode: a vassal's limits can only go down)");
        List<String> lower = new ArrayList<>(helper);
        lower.addAll(List.of("-r", "nofile=100:2048", "--", "cat", "/proc/self/limits"));
        Result r = run(lower);
        assertEquals(0, r.exit(), r::toString);
        assertEquals(List.of("100", "2048"), List.of(limits(r.out()).get("Max open files")), r::toString);
    }

    @Test
    void expectedParentPidThatIsTheParentIsAccepted() throws Exception {
        Result r = runHelper("-P", Long.toString(ProcessHandle.current().pid()), "--", "true");
        assertEquals(new Result(0, "", ""), r);
    }

    // ---------------------------------------------------------------- report fd

    @Test
    void failureGoesToTheReportFd() throws Exception {
        Path report = tmp.resolve("report");
        Result r = run(List.of("sh", "-c", "\"$0\" -R 3 -d /nonexistent -- true 3>\"$1\"",
                HELPER.toString(), report.toString()));
        assertEquals(new Result(127, "", ""), r);
        assertEquals("chdir /nonexistent: No such file or directory\n", Files.readString(report));
    }

    @Test
    void usageErrorAfterReportFdGoesToTheReportFd() throws Exception {
        Path report = tmp.resolve("report");
        Result r = run(List.of("sh", "-c", "\"$0\" -R 3 -x -- true 3>\"$1\"", HELPER.toString(), report.toString()));
        assertEquals(new Result(127, "", ""), r);
        assertEquals("usage: unknown option -x\n", Files.readString(report));
    }

    @Test
    void reportFdIsClosedByASuccessfulExec() throws Exception {
        Path report = tmp.resolve("report");
        Result r = run(List.of("sh", "-c", "\"$0\" -R 3 -- ls -l /proc/self/fd 3>\"$1\"",
                HELPER.toString(), report.toString()));
        assertEquals(0, r.exit(), r::toString);
        assertFalse(fds(r.out()).containsValue(report.toString()), r::toString);
        assertEquals("", Files.readString(report));
    }

    @Test
    void emperorSeesEofWithNoDataWhileTheVassalRuns() throws Exception {
        // The report fd is this JVM's stdout pipe; the vassal's own stdout goes to /dev/null.
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", "exec \"$0\" -R 3 -- sleep 60 3>&1 1>/dev/null",
                HELPER.toString()).redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        try {
            byte[] report = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }).get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            assertEquals("", new String(report, StandardCharsets.UTF_8));
            assertTrue(p.isAlive(), "vassal should still run");
            assertEquals("sleep", comm(p.pid()));
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    // ---------------------------------------------------------------- parent-death signal

    @Test
    void vassalDiesWithItsParent() throws Exception {
        // sh starts the helper in the background with -P $$, prints its pid, waits for stdin EOF.
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", "\"$0\" -P $$ -- sleep 300 & echo $!; read x",
                HELPER.toString()).redirectError(ProcessBuilder.Redirect.DISCARD);
        Process sh = pb.start();
        long pid = -1;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(sh.getInputStream(), StandardCharsets.UTF_8));
            pid = Long.parseLong(out.readLine().trim());
            long vassal = pid;
            awaitTrue(() -> "sleep".equals(comm(vassal)), "helper exec'd sleep");
            sh.getOutputStream().close(); // sh's read returns: sh exits
            assertTrue(sh.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS), "sh exits");
            awaitTrue(() -> isDead(vassal), "sleep killed by the parent-death signal");
        } finally {
            sh.destroyForcibly();
            if (pid > 0) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    // ---------------------------------------------------------------- root: credentials

    @Test
    void dropToNumericUser() throws Exception {
        Assumptions.assumeTrue(isRoot, "needs root: changes uid/gid");
        Result r = runHelper("-u", NOBODY_ID, "-g", NOBODY_ID, "-C", "-N", "--", "cat", "/proc/self/status");
        assertEquals(0, r.exit(), r::toString);
        Map<String, String> status = procStatus(r.out());
        String all = String.join("\t", NOBODY_ID, NOBODY_ID, NOBODY_ID, NOBODY_ID);
        assertEquals(all, status.get("Uid"));
        assertEquals(all, status.get("Gid"));
        assertEquals(NOBODY_ID, status.get("Groups"));
        for (String cap : List.of("CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd")) {
            assertEquals(ALL_ZERO, status.get(cap), cap);
        }
        assertEquals("1", status.get("NoNewPrivs"));
    }

    @Test
    void vassalPathsAreCheckedAsTheVassal() throws Exception {
        Assumptions.assumeTrue(isRoot, "needs root: changes uid/gid");
        Path rootOnly = Files.createDirectory(tmp.resolve("root-only"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path log = rootOnly.resolve("vassal.log");
        assertFailure(runHelper("-u", NOBODY_ID, "-g", NOBODY_ID, "-C", "-l", log.toString(), "--", "true"),
                "logto " + log + ": Permission denied");
        assertFalse(Files.exists(log));
        assertFailure(runHelper("-u", NOBODY_ID, "-g", NOBODY_ID, "-C", "-d", rootOnly.toString(), "--", "true"),
                "chdir " + rootOnly + ": Permission denied");
    }

    @Test
    void supplementaryGroupsComeFromInitgroups() throws Exception {
        Assumptions.assumeTrue(isRoot, "needs root: creates a user and changes uid/gid");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/useradd")), "needs useradd");
        String base = "emxt" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30), 36);
        String groupA = base + "a", groupB = base + "b";
        for (String g : List.of(groupA, groupB)) {
            assertEquals(0, run(List.of("/usr/sbin/groupadd", g)).exit(), "groupadd " + g);
            createdGroups.add(g);
        }
        Result add = run(List.of("/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin", "-G", groupA + "," + groupB, base));
        assertEquals(0, add.exit(), add::toString);
        createdUsers.add(base);
        createdGroups.add(base); // normally removed by userdel with the user; groupdel then just fails
        String uid = run(List.of("id", "-u", base)).out().trim();
        String gid = run(List.of("id", "-g", base)).out().trim();
        Set<String> expected = new TreeSet<>(List.of(gid, gidOf(groupA), gidOf(groupB)));

        Result r = runHelper("-u", uid, "-g", gid, "-U", base, "-C", "-N", "--", "cat", "/proc/self/status");
        assertEquals(0, r.exit(), r::toString);
        Map<String, String> status = procStatus(r.out());
        assertEquals(String.join("\t", uid, uid, uid, uid), status.get("Uid"));
        assertEquals(expected, new TreeSet<>(List.of(status.get("Groups").split("\\s+"))), r::toString);
    }

    @Test
    void vassalCannotRegainRoot() throws Exception {
        Assumptions.assumeTrue(isRoot, "needs root: changes uid/gid");
        Path python = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(Files.isExecutable(python), "needs /usr/bin/python3");
        Result r = runHelper("-u", NOBODY_ID, "-g", NOBODY_ID, "-C", "-N", "-d", "/", "--",
                python.toString(), "-c", "import os; os.setuid(0)");
        assertNotEquals(0, r.exit(), r::toString);
        assertTrue(r.err().contains("PermissionError"), r::toString);
    }

    @Test
    void verifyRefusesWhenCapabilitiesSurviveTheUidChange() throws Exception {
        Assumptions.assumeTrue(isRoot, "needs root: runs the helper as uid 1000 with ambient CAP_SETUID");
        Path setpriv = Path.of("/usr/bin/setpriv");
        Assumptions.assumeTrue(Files.isExecutable(setpriv), "needs util-linux setpriv");
        // A non-root emperor holding CAP_SETUID/CAP_SETGID: they survive a change between two
        // non-zero uids, so without -C the vassal could become root again.
        List<String> emperor = List.of(setpriv.toString(), "--reuid", "1000", "--regid", "1000", "--clear-groups",
                "--inh-caps", "+setuid,+setgid", "--ambient-caps", "+setuid,+setgid", HELPER.toString(),
                "-u", NOBODY_ID, "-g", NOBODY_ID);
        List<String> withoutDrop = new ArrayList<>(emperor);
        withoutDrop.addAll(List.of("--", "true"));
        assertFailure(run(withoutDrop), "verify: could regain root");

        List<String> withDrop = new ArrayList<>(emperor);
        withDrop.addAll(List.of("-C", "--", "cat", "/proc/self/status"));
        Result r = run(withDrop);
        assertEquals(0, r.exit(), r::toString);
        Map<String, String> status = procStatus(r.out());
        assertEquals(String.join("\t", NOBODY_ID, NOBODY_ID, NOBODY_ID, NOBODY_ID), status.get("Uid"));
        // The bounding set stays (no CAP_SETPCAP): what matters is that nothing is held.
        for (String cap : List.of("CapInh", "CapPrm", "CapEff", "CapAmb")) {
            assertEquals(ALL_ZERO, status.get(cap), cap);
        }
    }

    @Test
    void dropWithoutAUidChangeClearsAmbientCapabilities() throws Exception {
        Assumptions.assumeTrue(isRoot, "needs root: runs the helper as uid 1000 with ambient capabilities");
        Path setpriv = Path.of("/usr/bin/setpriv");
        Assumptions.assumeTrue(Files.isExecutable(setpriv), "needs util-linux setpriv");
        // The shipped unit's emperor outside tyrant mode: a vassal that keeps the emperor's uid.
        List<String> emperor = List.of(setpriv.toString(), "--reuid", "1000", "--regid", "1000", "--clear-groups",
                "--inh-caps", "+setuid,+setgid,+kill", "--ambient-caps", "+setuid,+setgid,+kill", HELPER.toString());
        List<String> without = new ArrayList<>(emperor);
        without.addAll(List.of("--", "cat", "/proc/self/status"));
        Result control = run(without);
        assertEquals("00000000000000e0", procStatus(control.out()).get("CapAmb"), "control: " + control);

        List<String> with = new ArrayList<>(emperor);
        with.addAll(List.of("-C", "--", "cat", "/proc/self/status"));
        Result r = run(with);
        assertEquals(0, r.exit(), r::toString);
        Map<String, String> status = procStatus(r.out());
        for (String cap : List.of("CapInh", "CapPrm", "CapEff", "CapAmb")) {
            assertEquals(ALL_ZERO, status.get(cap), cap);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void assertFailure(Result r, String message) {
        assertEquals(127, r.exit(), r::toString);
        assertEquals(message + "\n", r.err(), "one line on the report channel");
        assertEquals("", r.out());
    }

    private Result runHelper(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(HELPER.toString());
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private static Result run(List<String> cmd) throws Exception {
        return finish(start(cmd, Map.of()));
    }

    /** With these environment variables replaced. */
    private static Result run(List<String> cmd, Map<String, String> env) throws Exception {
        return finish(start(cmd, env));
    }

    /** A started command whose stdout and stderr go to files (no pipe to drain, no deadlock). */
    record Started(Process process, Path out, Path err) {
        long pid() {
            return process.pid();
        }
    }

    private static Started start(List<String> cmd, Map<String, String> env) throws IOException {
        Path out = Files.createTempFile("exec-helper", ".out");
        Path err = Files.createTempFile("exec-helper", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Process p = pb
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        return new Started(p, out, err);
    }

    private static Result finish(Started s) throws Exception {
        try {
            if (!s.process().waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                s.process().destroyForcibly().waitFor();
                fail("timed out: " + s.process().info());
            }
            return new Result(s.process().exitValue(), Files.readString(s.out()), Files.readString(s.err()));
        } finally {
            Files.deleteIfExists(s.out());
            Files.deleteIfExists(s.err());
        }
    }

    private static void awaitTrue(BooleanSupplier condition, String what) {
        Poll.until(what, DEADLINE, condition);
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).trim();
        } catch (IOException e) {
            return null;
        }
    }

    /** Gone, or a zombie waiting for its (new) parent to reap it. */
    private static boolean isDead(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException e) {
            return true; // NoSuchFileException, or ESRCH when it went between open and read
        }
    }

    private static String gidOf(String group) throws Exception {
        Result r = run(List.of("getent", "group", group));
        assertEquals(0, r.exit(), r::toString);
        return r.out().split(":")[2];
    }

    /** "Key:\tvalue" lines of /proc/PID/status, values trimmed. */
    private static Map<String, String> procStatus(String text) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                map.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return map;
    }

    private static final Pattern LIMIT = Pattern.compile("^(.+?)\\s{2,}(\\S+)\\s+(\\S+)(\\s+\\S+)?\\s*$");

    /** /proc/PID/limits: name → {soft, hard}. */
    private static Map<String, String[]> limits(String text) {
        Map<String, String[]> map = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            Matcher m = LIMIT.matcher(line);
            if (m.matches()) {
                map.put(m.group(1).trim(), new String[] {m.group(2), m.group(3)});
            }
        }
        return map;
    }

    private static final Pattern FD_LINE = Pattern.compile(" (\\d+) -> (.*)$");

    /** `ls -l /proc/self/fd` output: fd → link target. */
    private static Map<Integer, String> fds(String lsOutput) {
        Map<Integer, String> map = new LinkedHashMap<>();
        for (String line : lsOutput.split("\n")) {
            Matcher m = FD_LINE.matcher(line);
            if (m.find()) {
                map.put(Integer.parseInt(m.group(1)), m.group(2));
            }
        }
        return map;
    }
}
