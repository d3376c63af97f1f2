package io.emperor.source.dir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Account;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.ReloadMode;
import io.emperor.config.UserDb;
import io.emperor.config.VassalSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link TyrantRules}: one row per case, the verdict and the exact message. */
class TyrantRulesTest {
    private static final Path FILE = Path.of("/etc/emperor/vassals/app.ini");
    private static final int REG = 0100000;
    private static final int LNK = 0120000;
    private static final String CHOWN = "owned by root (uid 0): chown it to the user that should run it";
    private static final String CHGRP = "group is root (gid 0): chgrp it to the user's group";

    /** alice 1001 (passwd gid 1001), bob 1002; uid 12345 has no passwd entry. */
    private static final UserDb USERS = new UserDb() {
        private final Map<Integer, Account> byId = Map.of(
                1001, new Account("alice", 1001, 1001, "/home/alice"),
                1002, new Account("bob", 1002, 1002, "/home/bob"));

        @Override
        public Optional<Account> userByName(String name) {
            return byId.values().stream().filter(a -> a.name().equals(name)).findFirst();
        }

        @Override
        public Optional<Account> userById(int uid) {
            return Optional.ofNullable(byId.get(uid));
        }

        @Override
        public OptionalInt groupByName(String name) {
            return OptionalInt.empty();
        }
    };

    private static final VassalSpec SPEC = new VassalSpec("app", FILE, VassalSpec.Kind.PROGRAM, List.of("/bin/app"),
            FILE.getParent(), List.of(), 0022, null, -1, -1, null, 15, Duration.ofSeconds(30), ReloadMode.SIGNAL, 1,
            List.of());

    private static Fingerprint file(int uid, int gid, int perms) {
        return new Fingerprint(100, 1, 1, 7, 1, uid, gid, REG | perms);
    }

    private static Fingerprint link(int uid, int gid) {
        return new Fingerprint(20, 1, 1, 8, 1, uid, gid, LNK | 0777);
    }

    private static TyrantRules.Subject regular(Fingerprint f) {
        return new TyrantRules.Subject(FILE, null, f, true);
    }

    private static TyrantRules.Subject followed(Fingerprint link, Fingerprint target) {
        return new TyrantRules.Subject(FILE, link, target, true);
    }

    private static TyrantRules.Subject nofollow(Fingerprint link, Fingerprint target) {
        return new TyrantRules.Subject(FILE, link, target, false);
    }

    private static Parsed<VassalSpec> judge(TyrantRules.Subject subject) {
        return TyrantRules.judge(Parsed.ok(SPEC, List.of()), subject, USERS);
    }

    /** Accepted: who it runs as (user for initgroups, uid, gid) and the warnings. */
    static Stream<Arguments> accepted() {
        return Stream.of(
                Arguments.of("a user's file", regular(file(1001, 1001, 0644)), "alice", 1001, 1001, List.of()),
                Arguments.of("the gid is the file's group, not the passwd gid", regular(file(1001, 100, 0640)),
                        "alice", 1001, 100, List.of()),
                Arguments.of("a numeric owner without passwd entry", regular(file(12345, 12345, 0600)),
                        null, 12345, 12345, List.of()),
                Arguments.of("group-writable: a warning", regular(file(1001, 1001, 0664)), "alice", 1001, 1001,
                        List.of("group-writable (mode 0664): members of group gid 1001 could make it run code as"
                                + " its owner; chmod g-w it unless they should")),
                Arguments.of("setuid bits do not matter", regular(file(1001, 1001, 04755)), "alice", 1001, 1001,
                        List.of()),
                Arguments.of("followed symlink, same owner", followed(link(1001, 1001), file(1001, 100, 0644)),
                        "alice", 1001, 100, List.of()),
                Arguments.of("followed symlink, the link's group does not matter",
                        followed(link(1001, 0), file(1001, 1001, 0644)), "alice", 1001, 1001, List.of()),
                Arguments.of("nofollow: the link's owner and group", nofollow(link(1002, 1002), file(1002, 100, 0600)),
                        "bob", 1002, 1002, List.of()),
                Arguments.of("nofollow: to a world-readable file of another owner (a shared template)",
                        nofollow(link(1001, 1001), file(0, 0, 0644)), "alice", 1001, 1001, List.of()),
                Arguments.of("nofollow: a group-writable target warns",
                        nofollow(link(1001, 1001), file(1001, 1001, 0660)), "alice", 1001, 1001,
                        List.of("the file it points to is group-writable (mode 0660): members of group gid 1001"
                                + " could make it run code as its owner; chmod g-w it unless they should")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accepted")
    void accepted(String what, TyrantRules.Subject subject, String user, int uid, int gid, List<String> warnings) {
        Parsed<VassalSpec> p = judge(subject);
        assertTrue(p.isOk(), () -> "refused: " + p.errors());
        assertEquals(user, p.value().user());
        assertEquals(uid, p.value().uid());
        assertEquals(gid, p.value().gid());
        String home = user == null ? null : "/home/" + user; // the owner's passwd home goes with the spec
        assertEquals(home, p.value().home());
        assertEquals(SPEC.withIdentity(user, home, uid, gid), p.value(), "nothing else changes");
        assertEquals(warnings.stream().map(m -> new Problem(FILE, 0, m)).toList(), p.warnings());
    }

    /** Refused: every reason, in order. */
    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("owned by root", regular(file(0, 1001, 0644)), List.of(CHOWN)),
                Arguments.of("group root", regular(file(1001, 0, 0644)), List.of(CHGRP)),
                Arguments.of("root:root", regular(file(0, 0, 0644)), List.of(CHOWN, CHGRP)),
                Arguments.of("world-writable", regular(file(1001, 1001, 0666)), List.of(
                        "world-writable (mode 0666): anyone could make it run code as its owner; chmod o-w it")),
                Arguments.of("world-writable with the sticky bit", regular(file(1001, 1001, 01646)), List.of(
                        "world-writable (mode 1646): anyone could make it run code as its owner; chmod o-w it")),
                Arguments.of("root-owned and world-writable", regular(file(0, 1001, 0666)), List.of(CHOWN,
                        "world-writable (mode 0666): anyone could make it run code as its owner; chmod o-w it")),
                Arguments.of("followed symlink to another user's file", followed(link(1001, 1001), file(1002, 1002, 0644)),
                        List.of("symlink owned by alice (uid 1001) points to a file owned by bob (uid 1002): the link"
                                + " and its target must have the same owner")),
                Arguments.of("followed symlink to root's file", followed(link(12345, 12345), file(0, 0, 0644)),
                        List.of("symlink owned by uid 12345 points to a file owned by root (uid 0): the link and its"
                                + " target must have the same owner")),
                Arguments.of("followed symlink of root to root's file", followed(link(0, 0), file(0, 1001, 0644)),
                        List.of("the symlink and the file it points to are owned by root (uid 0): chown them"
                                + " (chown -h for the link) to the user that should run it")),
                Arguments.of("followed symlink to a file of group root", followed(link(1001, 1001), file(1001, 0, 0644)),
                        List.of("the file it points to has group root (gid 0): chgrp it to the user's group")),
                Arguments.of("followed symlink to a world-writable file", followed(link(1001, 1001), file(1001, 1001, 0646)),
                        List.of("the file it points to is world-writable (mode 0646): anyone could make it run code"
                                + " as its owner; chmod o-w it")),
                Arguments.of("nofollow: a root-owned link", nofollow(link(0, 0), file(1001, 1001, 0644)), List.of(
                        "symlink owned by root (uid 0): chown -h it to the user that should run it",
                        "symlink's group is root (gid 0): chgrp -h it to the user's group")),
                Arguments.of("nofollow: to a file its owner may not read", nofollow(link(1001, 1001), file(1002, 1001, 0640)),
                        List.of("symlink owned by alice (uid 1001) points to a file owned by bob (uid 1002) that others"
                                + " may not read (mode 0640): the vassal would run with content its owner cannot"
                                + " read; link only to your own files or to world-readable ones")),
                Arguments.of("nofollow: to a world-writable file", nofollow(link(1001, 1001), file(0, 0, 0666)),
                        List.of("the file it points to is world-writable (mode 0666): anyone could make it run code"
                                + " as its owner; chmod o-w it")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refused(String what, TyrantRules.Subject subject, List<String> reasons) {
        Parsed<VassalSpec> p = judge(subject);
        assertFalse(p.isOk());
        assertNull(p.value());
        assertEquals(reasons.stream().map(m -> new Problem(FILE, 0, m)).toList(), p.errors());
    }

    private static final TyrantRules.EmperorGroup EMPEROR = new TyrantRules.EmperorGroup(998, "emperor");

    /**
     * A vassal with the emperor's gid would get the group's control rights (docs/control.md): the
     * file's group (a setgid directory's, or a chgrp) decides the vassal's gid, so such a file is
     * refused, whichever file decides the group.
     */
    @Test
    void theEmperorsGroupIsRefusedWhereverItDecidesTheVassalsGid() {
        String reason = "group is the emperor's group emperor (gid 998), which may control every vassal: chgrp it to"
                + " the user's own group (a setgid directory of that group gives it to every new file: chmod g-s the"
                + " directory)";
        assertEquals(List.of(new Problem(FILE, 0, reason)), judgeAs(regular(file(1001, 998, 0644))).errors());
        assertEquals(List.of(new Problem(FILE, 0, reason)),
                judgeAs(followed(link(1001, 1001), file(1001, 998, 0644))).errors(), "a followed link: the target's group");
        assertEquals(List.of(new Problem(FILE, 0, "symlink's " + reason.replace("chgrp it", "chgrp -h it"))),
                judgeAs(nofollow(link(1001, 998), file(1001, 1001, 0644))).errors(), "nofollow: the link's group");
        assertTrue(judgeAs(followed(link(1001, 998), file(1001, 1001, 0644))).isOk(),
                "a followed link's own group is not the vassal's");
        assertTrue(judgeAs(regular(file(1001, 1001, 0644))).isOk());
        assertTrue(judge(regular(file(1001, 998, 0644))).isOk(), "without the emperor's group, nothing to check");
        assertEquals(List.of(new Problem(FILE, 0, CHGRP)), TyrantRules.judge(Parsed.ok(SPEC, List.of()),
                regular(file(1001, 0, 0644)), USERS, new TyrantRules.EmperorGroup(0, "root")).errors(),
                "a root emperor's group 0 is refused once, as group root");
    }

    private static Parsed<VassalSpec> judgeAs(TyrantRules.Subject subject) {
        return TyrantRules.judge(Parsed.ok(SPEC, List.of()), subject, USERS, EMPEROR);
    }

    @Test
    void refusalPrintsAsFileColonMessage() {
        Parsed<VassalSpec> p = judge(regular(file(0, 1001, 0644)));
        assertEquals(FILE + ": " + CHOWN, p.errors().get(0).toString());
    }

    @Test
    void parseErrorsFollowTheRefusalAndWarningsAreKept() {
        Problem syntax = new Problem(FILE, 3, "exec: unterminated quote");
        Problem ignored = new Problem(FILE, 2, "uid is ignored in tyrant mode: the vassal runs as the owner of its file");
        Parsed<VassalSpec> broken = Parsed.failed(List.of(syntax), List.of(ignored));

        Parsed<VassalSpec> rootOwned = TyrantRules.judge(broken, regular(file(0, 1001, 0664)), USERS);
        assertEquals(List.of(new Problem(FILE, 0, CHOWN), syntax), rootOwned.errors());
        assertEquals(List.of(new Problem(FILE, 0, "group-writable (mode 0664): members of group gid 1001 could make"
                + " it run code as its owner; chmod g-w it unless they should"), ignored), rootOwned.warnings());

        Parsed<VassalSpec> userOwned = TyrantRules.judge(broken, regular(file(1001, 1001, 0644)), USERS);
        assertEquals(List.of(syntax), userOwned.errors(), "a good owner does not hide parse errors");
        assertEquals(List.of(ignored), userOwned.warnings());
    }

    @Test
    void aUwsgiVassalRunsAsTheOwnerToo() {
        VassalSpec uwsgi = new VassalSpec("app", FILE, VassalSpec.Kind.UWSGI, List.of(), FILE.getParent(), List.of(),
                0022, null, -1, -1, null, 2, Duration.ofSeconds(30), ReloadMode.SIGNAL, 1, List.of());
        Parsed<VassalSpec> p = TyrantRules.judge(Parsed.ok(uwsgi, List.of()), regular(file(1002, 1002, 0644)), USERS);
        assertEquals(uwsgi.withIdentity("bob", "/home/bob", 1002, 1002), p.value());
    }

    @Test
    void anOwnerChangeIsARestart() {
        VassalSpec asAlice = judge(regular(file(1001, 1001, 0644))).value();
        VassalSpec asBob = judge(regular(file(1002, 1002, 0644))).value();
        VassalSpec otherGroup = judge(regular(file(1001, 100, 0644))).value();
        assertTrue(asAlice.needsRestartFor(asBob));
        assertTrue(asAlice.needsRestartFor(otherGroup));
        assertFalse(asAlice.needsRestartFor(judge(regular(file(1001, 1001, 0600))).value()), "a chmod is not");
    }
}
