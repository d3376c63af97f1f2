package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.control.Json;
import io.emperor.it.EmperorProcess.CliResult;
import io.emperor.it.Procs.Proc;
import io.emperor.it.TyrantSupport.User;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One tenant cannot make another tenant's vassal ready (tyrant mode; docs/tyrant.md, threat model). The
 * protocol names no vassal: the attack is on the attribution, which goes by the pid and uid the kernel writes
 * into each datagram. Alice's vassals try to speak for Bob's {@code ready = notify} vassal, which never says
 * READY=1 itself and so must stay {@code starting}.
 */
class NotifyTenantIT extends UsersItSupport {
    private static User alice;
    private static User bob;

    @BeforeAll
    static void createUsers() {
        alice = accounts.user("a");
        bob = accounts.user("b");
    }

    String notifies(String mode, String... args) {
        return NotifyIT.PYTHON + " " + ws.fixture("notifies.py") + " " + mode + " " + String.join(" ", args) + " " + ws.marker;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> status(String name) {
        CliResult r = EmperorProcess.cli(ws.root, "status", "--socket", ws.root.resolve("control.sock").toString(), "--json", name);
        try {
            return (Map<String, Object>) ((List<Object>) Json.parseObject(r.stdout().strip()).get("vassals")).get(0);
        } catch (Json.ParseException | RuntimeException e) {
            throw new AssertionError("status --json " + name + ": " + r, e);
        }
    }

    /** Bob's vassal: ready = notify, says nothing for an hour. */
    Proc bobsVassal(EmperorProcess emp, int from) {
        TyrantSupport.vassal(ws, ws.vassals, "bobs", bob.uid(), bob.gid(), "rw-r--r--",
                "exec = " + notifies("ready", "3600", "never"), "ready = notify", "stop-timeout = 5");
        return awaitRunning(emp, from, "bobs");
    }

    @Test
    void aTenantCanNeitherClaimAnotherTenantsPidNorSpeakForItsVassal() {
        NotifyIT.assumePython();
        try (EmperorProcess emp = emperor("tyrant = true")) {
            int from = emp.mark();
            Proc victim = bobsVassal(emp, from);
            TyrantSupport.vassal(ws, ws.vassals, "alices", alice.uid(), alice.gid(), "rw-r--r--",
                    "exec = " + notifies("claim", Long.toString(victim.pid())), "ready = notify", "stop-timeout = 5");
            emp.awaitLogFrom(from, output("alices", q("notifies.py claim as pid " + victim.pid()
                    + ": refused by the kernel: Operation not permitted") + "$"), WAIT);
            // What it sent as itself made its own vassal ready, not Bob's.
            emp.awaitLogFrom(from, lifecycle("alices", q("ready (READY=1)") + "$"), WAIT);
            assertEquals("claimed", status("alices").get("status_text"));
            Map<String, Object> b = status("bobs");
            assertEquals("starting", b.get("state"), "Bob's vassal is not ready");
            assertNull(b.get("status_text"));
            assertEquals(0, emp.find(from, lifecycle("bobs", "ready")).size(), emp::diagnostics);
        }
    }

    @Test
    void aTenantsShellScriptIsReadyWithSystemdNotify() {
        java.nio.file.Path tool = java.nio.file.Path.of("/usr/bin/systemd-notify");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(tool), "needs systemd-notify");
        java.nio.file.Path script = ws.root.resolve("sd.sh");
        Workspace.write(script, String.join("\n",
                "echo \"sd.sh running pid=$$\"",
                // Not root: systemd-notify cannot name its parent's pid and sends from its own, a process of the group.
                tool + " --ready --status='tenant via systemd-notify'",
                "echo \"sd.sh systemd-notify exited $?\"",
                "while :; do sleep 1; done", ""));
        TyrantSupport.chmod(script, "rw-r--r--");
        try (EmperorProcess emp = emperor("tyrant = true")) {
            int from = emp.mark();
            TyrantSupport.vassal(ws, ws.vassals, "alices", alice.uid(), alice.gid(), "rw-r--r--",
                    "exec = /bin/sh " + script + " " + ws.marker, "ready = notify", "stop-timeout = 5");
            emp.awaitLogFrom(from, lifecycle("alices", q("ready (READY=1)") + "$"), WAIT);
            emp.awaitLogFrom(from, output("alices", q("sd.sh systemd-notify exited 0") + "$"), WAIT);
            assertEquals("tenant via systemd-notify", status("alices").get("status_text"));
        }
    }

    @Test
    void aCopiedMarkDoesNotMakeAnotherTenantsProcessItsVassals() {
        NotifyIT.assumePython();
        try (EmperorProcess emp = EmperorProcess.startWithJvmOptions(ws, Map.of(), List.of("-Demperor.containment=mark"),
                "--config", ws.emperorIni("vassals = " + ws.vassals, "tyrant = true").toString())) {
            emp.awaitLogFrom(0, Lines.emperor("containment: mark "), WAIT);
            int from = emp.mark();
            Proc victim = bobsVassal(emp, from);
            String mark = Procs.environ(victim.pid()).get("EMPEROR_RUN");
            assertTrue(mark != null && !mark.isEmpty(), "Bob's vassal carries its run's mark");
            // Alice's vassal asks for no notify socket; it copies Bob's mark and finds the socket by itself.
            String socket = ws.root.resolve("notify.sock").toString();
            TyrantSupport.vassal(ws, ws.vassals, "alices", alice.uid(), alice.gid(), "rw-r--r--",
                    "exec = /usr/bin/env EMPEROR_RUN=" + mark + " NOTIFY_SOCKET=" + socket + " "
                            + notifies("ready", "0", "forged"), "stop-timeout = 5");
            Proc forger = awaitRunning(emp, from, "alices");
            emp.awaitLogFrom(from, output("alices", q("notifies.py sent READY=1") + "$"), WAIT);
            emp.awaitLogFrom(from, Lines.emperor(q("notify: dropped 1 datagram (1 from a vassal's process with another uid"
                    + " than its vassal's; the last from pid " + forger.pid() + " uid " + alice.uid() + ")") + "$"), WAIT);
            Map<String, Object> b = status("bobs");
            assertEquals("starting", b.get("state"));
            assertNull(b.get("status_text"));
        }
    }
}
