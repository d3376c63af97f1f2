package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.config.Account;
import io.emperor.config.VassalSpec;
import io.emperor.vassal.Specs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a vassal's environment is made of, with and without tyrant mode (docs/tyrant.md). */
class EnvironmentTest {
    private static final Map<String, String> EMPEROR = Map.of("PATH", "/opt/emperor/bin:/usr/bin", "HOME", "/root",
            "AWS_SECRET_ACCESS_KEY", "hunter2", "NOTIFY_SOCKET", "/run/systemd/notify", "UWSGI_CHEAPER", "2",
            "LANG", "de_DE.UTF-8");
    private final Environment env = new Environment(EMPEROR, "uwsgi", Map.of("LANG", "C.UTF-8", "LC_TIME", "C"));
    private static final Account ALICE = new Account("alice", 1000, 1000, "/home/alice", "/bin/bash");

    @Test
    void aTenantGetsNothingOfTheEmperorsEnvironment() {
        assertEquals(Map.of("PATH", Environment.TENANT_PATH, "HOME", "/home/alice", "USER", "alice", "LOGNAME", "alice",
                "SHELL", "/bin/bash", "LANG", "C.UTF-8", "LC_TIME", "C"), env.forTenant(ALICE));
    }

    @Test
    void anOwnerWithoutPasswdEntryGetsHomeSlashOnlyAndAnEmptyShellIsBinSh() {
        assertEquals(Map.of("PATH", Environment.TENANT_PATH, "HOME", "/", "LANG", "C.UTF-8", "LC_TIME", "C"),
                env.forTenant(null));
        assertEquals("/bin/sh", env.forTenant(new Account("bob", 1001, 100, "/home/bob", "")).get("SHELL"));
    }

    @Test
    void aTenantVassalsOwnEnvComesLastAndWins() {
        VassalSpec spec = Specs.withEnv(Specs.program("app", "/bin/app"), "PATH=/home/alice/bin", "APP=1");
        List<String> e = env.forTenantVassal(spec, ALICE);
        assertEquals(List.of("PATH=/home/alice/bin", "HOME=/home/alice", "USER=alice", "LOGNAME=alice",
                "SHELL=/bin/bash"), e.subList(0, 5));
        assertEquals(List.of("APP=1"), e.subList(e.size() - 1, e.size()));
        assertEquals(8, e.size());
    }

    @Test
    void outsideTyrantModeTheEmperorsEnvironmentIsInheritedButNotItsOwnVariables() {
        List<String> e = env.forVassal(Specs.withEnv(Specs.program("app", "/bin/app"), "APP=1"), false, null);
        assertEquals(List.of("APP=1", "AWS_SECRET_ACCESS_KEY=hunter2", "HOME=/root", "LANG=C.UTF-8", "LC_TIME=C",
                "PATH=/opt/emperor/bin:/usr/bin"), e.stream().sorted().toList(), "the admin's locale overrides");
    }
}
