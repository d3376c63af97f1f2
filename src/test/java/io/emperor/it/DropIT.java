package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.q;
import static io.emperor.it.TyrantSupport.allFour;
import static io.emperor.it.TyrantSupport.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.it.TyrantSupport.User;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * uWSGI's emperor.ini as the Plone training writes it ({@code uid}, {@code gid},
 * {@code cap = setgid,setuid} in {@code [uwsgi]}) started as root: once its log and control socket
 * are open the emperor becomes that user, with its groups, keeping CAP_SETGID, CAP_SETUID and
 * CAP_KILL as ambient capabilities (in every thread of the JVM), and runs a tenant's vassal in
 * tyrant mode as the tenant.
 * A user "w" stands for www-data.
 */
class DropIT extends UsersItSupport {
    /** CAP_KILL (5), CAP_SETGID (6), CAP_SETUID (7). */
    private static final String KEPT = "00000000000000e0";

    @TempDir
    static Path published;

    private static User www;
    private static int webGroup;
    private static User tenant;
    private static String classPath;

    @BeforeAll
    static void setUp() throws IOException {
        webGroup = accounts.group("web");
        www = accounts.user("w", "web");
        tenant = accounts.user("t");
        // Once it is www the emperor must still read its classes: not under /root.
        classPath = TyrantSupport.publish(published);
    }

    private Path trainingIni() {
        Path ini = ws.root.resolve("emperor.ini");
        Workspace.write(ini, String.join("\n", "[uwsgi]",
                "emperor = " + ws.vassals,
                "emperor-tyrant = true",
                "uid = " + www.name(),
                "gid = " + www.name(),
                "cap = setgid,setuid",
                "master = true",
                "no-orphans = true",
                "log-date = true",
                "") );
        return ini;
    }

    @Test
    void theTrainingsEmperorIniStartedAsRootBecomesItsUserAndRunsATenantsVassal() throws IOException {
        Path ini = trainingIni();
        Path hups = TyrantSupport.ownedFile(ws.root.resolve("tenant.hups"), tenant.uid(), tenant.gid());
        // The socket's directory is www's, as systemd's RuntimeDirectory= (or the emperor itself for
        // /run/emperor) makes it, so that www can remove the socket when it stops.
        Path socket = TyrantSupport.ownedDir(ws.root.resolve("run"), www.uid(), www.gid()).resolve("control.sock");
        try (EmperorProcess emp = EmperorProcess.startWithClassPath(ws, classPath, "--config", ini.toString(),
                "--control", socket.toString())) {
            emp.awaitLog(Lines.emperor(q("cap: CAP_KILL added to the capabilities the emperor keeps (" + ini
                    + ":6: setgid,setuid): signalling other users' vassals needs it")));
            emp.awaitLog(Lines.emperor(q("became " + www.name() + " (uid " + www.uid() + "): gid=" + www.gid()
                    + " groups=") + "\\S+" + q(" capabilities=CAP_SETGID,CAP_SETUID,CAP_KILL (effective, permitted,"
                    + " inheritable, ambient)")));

            Map<String, String> self = status(emp.pid());
            assertEquals(allFour(www.uid()), self.get("Uid"), "the emperor is www: " + self);
            assertEquals(allFour(www.gid()), self.get("Gid"), "with www's group: " + self);
            assertEquals(Stream.of(www.gid(), webGroup).sorted().map(String::valueOf).toList(),
                    Stream.of(self.get("Groups").split("\\s+")).map(Integer::parseInt).sorted().map(String::valueOf)
                            .toList(), "www's groups (initgroups): " + self);
            for (String set : List.of("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd")) {
                assertEquals(KEPT, self.get(set), set + " of the emperor: " + self);
            }
            // Every thread: glibc changes the uid of all, libemperor-signal.so their capabilities.
            Map<String, Map<String, String>> threads = threads(emp.pid());
            assertTrue(threads.size() > 5, threads.keySet().toString());
            assertTrue(threads.keySet().stream().anyMatch(t -> t.endsWith(" emperor-loop")), threads.keySet()::toString);
            for (Map.Entry<String, Map<String, String>> t : threads.entrySet()) {
                Map<String, String> s = t.getValue();
                assertEquals(allFour(www.uid()), s.get("Uid"), "thread " + t.getKey() + ": " + s);
                assertEquals(allFour(www.gid()), s.get("Gid"), "thread " + t.getKey() + ": " + s);
                assertEquals(self.get("Groups"), s.get("Groups"), "thread " + t.getKey() + ": " + s);
                for (String set : List.of("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd")) {
                    assertEquals(KEPT, s.get(set), set + " of thread " + t.getKey() + ": " + s);
                }
            }
            // The control socket is the emperor's now, so it can remove it when it stops.
            assertEquals(www.uid(), TyrantSupport.uidOf(socket));

            // Tyrant mode as www: a tenant's vassal runs, reloads and stops as the tenant.
            int from = emp.mark();
            Path v = TyrantSupport.vassal(ws, ws.vassals, "app", tenant.uid(), tenant.gid(), "rw-r--r--",
                    "exec = " + ws.exec("trap-hup.sh", hups.toString()), "stop-timeout = 5");
            LogLine spawned = emp.awaitLogFrom(from, lifecycle("app", "spawned pid=(\\d+) uid=" + tenant.uid()
                    + " gid=" + tenant.gid() + "$"), WAIT);
            Proc p = awaitRunning(emp, from, "app");
            assertEquals(spawned.longGroup(1), p.pid());
            assertEquals(allFour(tenant.uid()), status(p.pid()).get("Uid"));
            assertEquals(TyrantSupport.NO_CAPS, status(p.pid()).get("CapEff"));
            assertEquals(emp.pid(), p.ppid());
            // Contained after the change too: the emperor handed its cgroups over before it (a
            // vassal in no cgroup of its own would escape a stop).
            String cgroups = Files.readString(Path.of("/proc/" + p.pid() + "/cgroup"));
            String emperorLine = emp.awaitLogFrom(0, Lines.emperor("containment: (.*)$"), WAIT).group(1);
            if (!emperorLine.startsWith("mark") && !emperorLine.startsWith("none")) {
                assertTrue(cgroups.contains("/app.vassal"), () -> "the vassal has a cgroup of its own: " + cgroups);
            }

            for (int n = 1; n <= 2; n++) {
                emp.mark();
                Workspace.touch(v);
                emp.awaitLog(lifecycle("app", q("reloading signal=HUP pid=" + p.pid()) + "$"));
                assertEquals("hup " + p.pid(), awaitLines(hups, n).get(n - 1));
            }
            assertTrue(p.isAlive(), "reloaded in place");

            emp.mark();
            Workspace.delete(v);
            emp.awaitLog(lifecycle("app", "stopped status=0 "));
            awaitGone(p, WAIT);
            assertTrue(emp.isAlive());
        }
        assertTrue(Files.notExists(socket), "removed at the stop");
    }

    @Test
    void inTheEmperorSectionTooAndAnUnknownUserIsAnErrorBeforeAnythingStarts() {
        Path ini = ws.emperorIni("vassals = " + ws.vassals, "uid = " + www.name() + "-nobody", "cap = setuid,setgid");
        EmperorProcess.CliResult r = EmperorProcess.cli(ws.root, "run", "--config", ini.toString(),
                "--control", ws.root.resolve("control.sock").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals("emperor: " + ini + ":3: uid: unknown user \"" + www.name() + "-nobody\"\n", r.stderr());
        assertTrue(Files.notExists(ws.root.resolve("control.sock")), "nothing started");

        Path bad = ws.emperorIni("vassals = " + ws.vassals, "uid = " + www.name(), "cap = setuid,fly");
        r = EmperorProcess.cli(ws.root, "run", "--config", bad.toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains(bad + ":4: cap: unknown capability \"fly\""), r.stderr());
    }

    /**
     * Started as www already (the unit's way: setpriv with the three ambient capabilities), the
     * keys change nothing; started as another ordinary user, the emperor refuses and exits 1.
     */
    @Test
    void asThatUserTheKeysAreANoOpAndAsAnotherUserTheStartIsRefused() throws Exception {
        assumeSetpriv();
        Path ini = trainingIni();
        Path log = TyrantSupport.ownedFile(ws.root.resolve("emperor.log"), www.uid(), www.gid());
        Path socket = TyrantSupport.ownedDir(ws.root.resolve("run"), www.uid(), www.gid()).resolve("control.sock");

        Path err = ws.root.resolve("tenant.err");
        Process refused = new ProcessBuilder(setpriv(tenant, "", "run", "--config", ini.toString(), "--log", log.toString(),
                "--control", socket.toString())).directory(ws.root.toFile()).redirectErrorStream(true)
                .redirectOutput(err.toFile()).start();
        assertTrue(refused.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "exits");
        assertEquals(1, refused.exitValue(), Workspace.read(err));
        // After the warnings of the uWSGI options that are ignored (master …), only this.
        String said = Workspace.read(err);
        assertTrue(said.endsWith(":9: warning: log-date: uWSGI option ignored: every log line has a timestamp\n"
                + "emperor: " + ini + ":4: uid = " + www.name() + ": the emperor runs as " + tenant.name() + " (uid "
                + tenant.uid() + "); only root can become " + www.name() + " (uid " + www.uid() + "): start it as root,"
                + " or as that user\n"), said);
        assertTrue(Files.notExists(socket), "nothing started");

        Path out = ws.root.resolve("www.out");
        Process p = new ProcessBuilder(setpriv(www, "+setuid,+setgid,+kill", "run", "--config", ini.toString(), "--log",
                log.toString(), "--control", socket.toString())).directory(ws.root.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        try {
            LogTail tail = new LogTail(log);
            io.emperor.testing.Poll.until("ready", WAIT, () -> tail.lines().stream().anyMatch(l -> l.contains("ready: ")),
                    () -> Workspace.read(out) + tail.lines());
            assertTrue(tail.lines().stream().noneMatch(l -> l.contains("became ") || l.contains("cap: ")),
                    tail.lines()::toString);
            assertEquals("00000000000000e0", status(p.pid()).get("CapAmb"), "as setpriv started it");
        } finally {
            Procs.kill(p.pid(), "TERM");
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        }
        assertEquals(0, p.exitValue(), Workspace.read(out));
    }

    /** {@code setpriv} as {@code user} with these ambient capabilities (none when empty), running {@code emperor ARGS}. */
    private static List<String> setpriv(User user, String caps, String... args) {
        List<String> cmd = new ArrayList<>(List.of(SETPRIV.toString(), "--reuid", Integer.toString(user.uid()),
                "--regid", Integer.toString(user.gid()), "--init-groups"));
        if (!caps.isEmpty()) {
            cmd.addAll(List.of("--inh-caps", caps, "--ambient-caps", caps));
        }
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classPath, "io.emperor.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** {@code TID NAME} → the thread's {@code /proc/PID/task/TID/status}. */
    private static Map<String, Map<String, String>> threads(long pid) throws IOException {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        List<Path> tasks;
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/task"))) {
            tasks = new ArrayList<>(s.toList());
        }
        for (Path t : tasks) {
            Map<String, String> m = new LinkedHashMap<>();
            try {
                for (String line : Files.readAllLines(t.resolve("status"), StandardCharsets.ISO_8859_1)) {
                    int colon = line.indexOf(':');
                    if (colon > 0) {
                        m.put(line.substring(0, colon), line.substring(colon + 1).trim());
                    }
                }
            } catch (java.nio.file.NoSuchFileException gone) {
                continue; // a thread that ended meanwhile
            }
            out.put(t.getFileName() + " " + m.get("Name"), m);
        }
        return out;
    }
}
