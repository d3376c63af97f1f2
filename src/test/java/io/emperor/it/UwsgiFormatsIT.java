package io.emperor.it;

import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * uWSGI vassals written in YAML, JSON and XML (issue 12 item 2), run by real uWSGI with the
 * python3 plugin as {@code uwsgi --yaml|--json|--xml FILE}: each serves HTTP, speaks the emperor
 * channel ({@code ready}, {@code accepting}), reloads on a touch with the same master pid (the
 * app is loaded again), and stops on removal with byte 0. Skipped when {@code uwsgi} is not on
 * PATH. The same marker as {@link UwsgiIT} (through {@code vassal-set}) finds leftovers.
 */
class UwsgiFormatsIT extends ItSupport {
    Path app;
    Path loads;

    @BeforeEach
    void needUwsgi() throws IOException {
        Assumptions.assumeTrue(UwsgiIT.onPath("uwsgi"), "uwsgi is not on PATH (apt-get install uwsgi-core uwsgi-plugin-python3)");
        app = ws.root.resolve("app.py");
        loads = ws.root.resolve("loads.txt");
        Files.writeString(app, UwsgiIT.APP);
    }

    EmperorProcess uwsgiEmperor(String... lines) {
        List<String> all = new ArrayList<>(List.of("vassal-set = emperor-it-marker=" + ws.marker));
        all.addAll(List.of(lines));
        return emperor(all.toArray(String[]::new));
    }

    String yaml(int port) {
        return String.join("\n",
                "# a Plone-training vassal, in YAML",
                "uwsgi:",
                "  http-socket: 127.0.0.1:" + port,
                "  plugins: python3",
                "  wsgi-file: " + app,
                "  env: APP_MARKER=" + loads,
                "  master: true",
                "  enable-threads: true",
                "  processes: 1",
                "  threads: 4",
                "");
    }

    String json(int port) {
        return "{\n  \"uwsgi\": {\n"
                + "    \"http-socket\": \"127.0.0.1:" + port + "\",\n"
                + "    \"plugins\": \"python3\",\n"
                + "    \"wsgi-file\": \"" + app + "\",\n"
                + "    \"env\": [\"APP_MARKER=" + loads + "\"],\n"
                + "    \"master\": true,\n"
                + "    \"enable-threads\": true,\n"
                + "    \"processes\": 1,\n"
                + "    \"threads\": 4\n"
                + "  }\n}\n";
    }

    String xml(int port) {
        return String.join("\n",
                "<?xml version=\"1.0\"?>",
                "<uwsgi>",
                "  <http-socket>127.0.0.1:" + port + "</http-socket>",
                "  <plugins>python3</plugins>",
                "  <wsgi-file>" + app + "</wsgi-file>",
                "  <env>APP_MARKER=" + loads + "</env>",
                "  <master/>",
                "  <enable-threads/>",
                "  <processes>1</processes>",
                "  <threads>4</threads>",
                "</uwsgi>",
                "");
    }

    int loadCount() {
        return Files.exists(loads) ? (int) Workspace.read(loads).lines().count() : 0;
    }

    /**
     * Drops {@code fileName} with {@code text}, and checks the whole life of the vassal: argv,
     * HTTP, ready and accepting, a touch reloads with the same pid, removal stops it.
     */
    void servesReloadsAndStops(String fileName, String option, String text, int port) {
        String name = fileName.substring(0, fileName.lastIndexOf('.'));
        try (EmperorProcess emp = uwsgiEmperor()) {
            int from = emp.mark();
            Path file = ws.vassals.resolve(fileName);
            Workspace.write(file, text);
            long pid = UwsgiIT.awaitSpawned(emp, from, name);
            assertTrue(UwsgiIT.awaitHttp(emp, port).startsWith("hello from "));
            emp.awaitLogFrom(from, Lines.lifecycle(name, "ready$"), WAIT);
            emp.awaitLogFrom(from, Lines.lifecycle(name, "accepting$"), WAIT);
            Proc p = Procs.read(pid).orElseThrow();
            assertTrue(p.cmdline().containsAll(List.of("--set", "emperor-it-marker=" + ws.marker, option,
                    file.toString())), p::toString);
            Poll.until("the app loaded once", () -> loadCount() == 1);

            int reload = emp.mark();
            Workspace.touch(file);
            emp.awaitLogFrom(reload, Lines.lifecycle(name, q("reloading byte=1 pid=" + pid) + "$"), WAIT);
            Poll.until("the app loaded again", WAIT, () -> loadCount() == 2, emp::diagnostics);
            emp.awaitLogFrom(reload, Lines.lifecycle(name, "accepting$"), WAIT);
            UwsgiIT.awaitHttp(emp, port);
            assertTrue(Procs.read(pid).orElseThrow().isAlive(), "the master pid stays");
            assertEquals(List.of(), emp.find(reload, Lines.spawned(name)), "a reload spawns nothing");

            int stop = emp.mark();
            Workspace.delete(file);
            emp.awaitLog(Lines.lifecycle(name, q("stopping: file removed byte=0 pid=" + pid)));
            Poll.until("every uWSGI process of the test gone", UwsgiIT.GONE_WITHIN,
                    () -> Procs.withMarker(ws.marker).isEmpty(),
                    () -> Procs.describe(Procs.withMarker(ws.marker)) + "\n" + emp.diagnostics());
            emp.awaitLogFrom(stop, Lines.lifecycle(name, "stopped status=0 "), WAIT);
        }
    }

    @Test
    void aYamlVassalServesReloadsOnATouchAndStops() {
        int port = UwsgiIT.freePort();
        servesReloadsAndStops("plone.yaml", "--yaml", yaml(port), port);
    }

    @Test
    void aJsonVassalServesReloadsOnATouchAndStops() {
        int port = UwsgiIT.freePort();
        servesReloadsAndStops("plone.json", "--json", json(port), port);
    }

    @Test
    void anXmlVassalServesReloadsOnATouchAndStops() {
        int port = UwsgiIT.freePort();
        servesReloadsAndStops("plone.xml", "--xml", xml(port), port);
    }

    /** A broken .json is refused with FILE:LINE and never spawned; fixed, it runs. */
    @Test
    void aBrokenJsonVassalIsRefusedWithItsLineThenRunsOnceFixed() {
        try (EmperorProcess emp = uwsgiEmperor()) {
            int from = emp.mark();
            int port = UwsgiIT.freePort();
            Path file = ws.vassals.resolve("plone.json");
            // Line 7 lost its comma: the reader finds it missing at the next member, line 8.
            Workspace.write(file, json(port).replace("\"master\": true,", "\"master\": true"));
            emp.awaitLogFrom(from, Lines.lifecycle("plone", "refused: " + q(file + ":8: not valid JSON: expected '}'")),
                    WAIT);
            assertEquals(List.of(), emp.find(from, Lines.spawned("plone")));
            Workspace.write(file, json(port));
            UwsgiIT.awaitSpawned(emp, from, "plone");
            UwsgiIT.awaitHttp(emp, port);
        }
    }

    /**
     * {@code app.ini} renamed {@code app.yaml}: the same name, another file. A reload would re-run
     * {@code --ini app.ini}, which is gone, so the vassal restarts: a new pid, run with {@code --yaml}.
     */
    @Test
    void anIniVassalRenamedToYamlRestartsWithTheNewFile() throws IOException {
        try (EmperorProcess emp = uwsgiEmperor()) {
            int from = emp.mark();
            int port = UwsgiIT.freePort();
            Path ini = ws.vassals.resolve("plone.ini");
            Workspace.write(ini, String.join("\n", "[uwsgi]", "http-socket = 127.0.0.1:" + port, "plugins = python3",
                    "wsgi-file = " + app, "env = APP_MARKER=" + loads, "master = true", "processes = 1", ""));
            long pid = UwsgiIT.awaitSpawned(emp, from, "plone");
            UwsgiIT.awaitHttp(emp, port);
            emp.awaitLogFrom(from, Lines.lifecycle("plone", "accepting$"), WAIT);

            int renamed = emp.mark();
            Path yaml = ws.vassals.resolve("plone.yaml");
            Workspace.write(ws.root.resolve("plone.yaml"), yaml(port));
            Files.move(ws.root.resolve("plone.yaml"), yaml);
            Files.delete(ini);
            long next = UwsgiIT.awaitSpawned(emp, renamed, "plone");
            assertTrue(next != pid, "a new process");
            // Until its exec the new process is the spawn server's clone (emperor-exec --serve …).
            Poll.until("pid " + next + " runs uwsgi --yaml", WAIT, () -> Procs.read(next)
                    .map(p -> p.cmdline().containsAll(List.of("--yaml", yaml.toString()))).orElse(false));
            assertTrue(UwsgiIT.awaitHttp(emp, port).startsWith("hello from "));
            assertEquals(List.of(), emp.find(renamed, Lines.lifecycle("plone", q("reloading byte=1"))));
        }
    }

    /** {@code emperor check} reads the three formats as the emperor does. */
    @Test
    void checkReadsTheThreeFormats() {
        int port = UwsgiIT.freePort();
        Path y = ws.root.resolve("a.yaml");
        Path j = ws.root.resolve("a.json");
        Path x = ws.root.resolve("a.xml");
        Workspace.write(y, yaml(port));
        Workspace.write(j, json(port));
        Workspace.write(x, xml(port));
        EmperorProcess.CliResult ok = EmperorProcess.cli(ws.root, "check", y.toString(), j.toString(), x.toString());
        assertEquals(0, ok.exitCode(), ok::toString);
        assertEquals("", ok.stderr());

        Path by = ws.root.resolve("b.yaml");
        Workspace.write(by, "uwsgi:\n  master: 'false'\n");
        Path bx = ws.root.resolve("b.xml");
        Workspace.write(bx, "<!DOCTYPE uwsgi [<!ENTITY s SYSTEM \"/etc/shadow\">]>\n<uwsgi><socket>&s;</socket></uwsgi>\n");
        EmperorProcess.CliResult ko = EmperorProcess.cli(ws.root, "check", y.toString(), by.toString(), bx.toString());
        assertEquals(1, ko.exitCode(), ko::toString);
        assertTrue(ko.stderr().lines().anyMatch(l -> l.startsWith(by + ":2: master: uWSGI builds read this value"
                + " differently")), ko::toString);
        assertTrue(ko.stderr().lines().anyMatch(l -> l.startsWith(bx + ":1: not valid XML: a DOCTYPE is not allowed")),
                ko::toString);
    }

    /** Tyrant mode (root only): a tenant's .yaml runs as the tenant, and serves HTTP. */
    @Test
    void inTyrantModeATenantsYamlVassalRunsAsTheTenant() {
        TyrantSupport.assumeRootWithUseradd();
        try (TyrantSupport.Accounts accounts = new TyrantSupport.Accounts()) {
            TyrantSupport.User u = accounts.user("y");
            TyrantSupport.openUp(tmp, ws.root, ws.vassals);
            TyrantSupport.chmod(app, "rw-r--r--");
            TyrantSupport.ownedFile(loads, u.uid(), u.gid());
            try (EmperorProcess emp = uwsgiEmperor("tyrant = true")) {
                int from = emp.mark();
                int port = UwsgiIT.freePort();
                Path file = ws.vassals.resolve("plone.yaml");
                TyrantSupport.file(ws, file, u.uid(), u.gid(), "rw-r--r--", yaml(port));
                long pid = emp.awaitLogFrom(from, Lines.lifecycle("plone",
                        "spawned pid=(\\d+) uid=" + u.uid() + " gid=" + u.gid() + "$"), WAIT).longGroup(1);
                assertTrue(UwsgiIT.awaitHttp(emp, port).startsWith("hello from "));
                assertEquals(TyrantSupport.allFour(u.uid()), TyrantSupport.status(pid).get("Uid"));
                Poll.until("the app, running as " + u.name() + ", wrote its marker", () -> loadCount() == 1);

                int reload = emp.mark();
                Workspace.touch(file);
                emp.awaitLogFrom(reload, Lines.lifecycle("plone", q("reloading byte=1 pid=" + pid) + "$"), WAIT);
                Poll.until("the app loaded again, as the tenant", WAIT, () -> loadCount() == 2, emp::diagnostics);
                // Up again before anything else: a uWSGI master told to stop while its new worker is
                // still starting waits for it until the emperor's stop-timeout (30 s) SIGKILLs it.
                emp.awaitLogFrom(reload, Lines.lifecycle("plone", "accepting$"), WAIT);
                assertEquals(TyrantSupport.allFour(u.uid()), TyrantSupport.status(pid).get("Uid"));

                // A root-owned .yaml is refused as a root-owned .ini is.
                int refused = emp.mark();
                Path rootOwned = ws.vassals.resolve("root.yaml");
                TyrantSupport.file(ws, rootOwned, 0, 0, "rw-r--r--", yaml(UwsgiIT.freePort()));
                emp.awaitLogFrom(refused, Lines.lifecycle("root", "refused: "), WAIT);
                assertEquals(List.of(), emp.find(refused, Lines.spawned("root")));
            }
        }
    }
}
