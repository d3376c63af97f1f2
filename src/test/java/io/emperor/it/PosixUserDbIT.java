package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.Account;
import io.emperor.os.PosixUserDb;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The passwd and group databases as the emperor reads them (getpwnam_r and the others into
 * buffers of its own) say what {@code getent} says, entry by entry; an entry larger than the first
 * buffer is read whole, and a group lists its members.
 */
class PosixUserDbIT {
    private final PosixUserDb db = new PosixUserDb();

    private static List<String[]> getent(String database) {
        TyrantSupport.Result r = TyrantSupport.run("getent", database);
        assertEquals(0, r.exit(), r.output());
        return r.output().lines().map(l -> l.split(":", -1)).toList();
    }

    private static String[] getent(String database, String key) {
        TyrantSupport.Result r = TyrantSupport.run("getent", database, key);
        assertEquals(0, r.exit(), database + " " + key + ": " + r.output());
        return r.output().trim().split(":", -1);
    }

    private static Account account(String[] pw) {
        return new Account(pw[0], Integer.parseInt(pw[2]), Integer.parseInt(pw[3]), pw[5], pw[6]);
    }

    private static List<String> members(String field) {
        return field.isEmpty() ? List.of() : Arrays.asList(field.split(","));
    }

    @Test
    void everyPasswdAndGroupEntryIsGetents() {
        List<String[]> users = getent("passwd");
        assertTrue(users.stream().anyMatch(pw -> pw[0].equals("root")), "root is listed");
        for (String[] pw : users) {
            assertEquals(Optional.of(account(pw)), db.userByName(pw[0]), pw[0]);
            // By id: the first entry with that uid, as getent's own lookup gives it.
            assertEquals(Optional.of(account(getent("passwd", pw[2]))), db.userById(Integer.parseInt(pw[2])), pw[2]);
        }
        for (String[] gr : getent("group")) {
            assertEquals(OptionalInt.of(Integer.parseInt(gr[2])), db.groupByName(gr[0]), gr[0]);
            String[] byId = getent("group", gr[2]);
            assertEquals(Optional.of(new PosixUserDb.Group(byId[0], Integer.parseInt(byId[2]), members(byId[3]))),
                    db.groupById(Integer.parseInt(gr[2])), gr[2]);
        }
    }

    @Test
    void whatIsNotThereIsEmpty() {
        int unused = TyrantSupport.Accounts.unusedId();
        assertEquals(Optional.empty(), db.userByName("emperor-no-such-user"));
        assertEquals(Optional.empty(), db.userById(unused));
        assertEquals(OptionalInt.empty(), db.groupByName("emperor-no-such-group"));
        assertEquals(Optional.empty(), db.groupById(unused));
        assertEquals(Optional.empty(), db.userByName(""));
    }

    /** 10 kB of passwd entry: the first buffer (4 KiB) gets ERANGE, a larger one the whole entry. */
    @Test
    void anEntryLargerThanTheFirstBufferIsReadWhole() {
        TyrantSupport.assumeRootWithUseradd();
        String name = "emtlong" + Long.toString(System.nanoTime() % (1L << 30), 36);
        String home = "/nonexistent/" + "h".repeat(5000);
        TyrantSupport.Result r = TyrantSupport.run("/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin",
                "-d", home, "-c", "g".repeat(5000), name);
        assertEquals(0, r.exit(), r.output());
        try {
            String[] pw = getent("passwd", name);
            Account a = db.userByName(name).orElseThrow();
            assertEquals(account(pw), a);
            assertEquals(home, a.home());
            assertEquals(Optional.of(a), db.userById(a.uid()));
        } finally {
            TyrantSupport.run("/usr/sbin/userdel", name);
        }
    }

    @Test
    void aGroupListsItsMembers() {
        TyrantSupport.assumeRootWithUseradd();
        try (TyrantSupport.Accounts accounts = new TyrantSupport.Accounts()) {
            int gid = accounts.group("staff");
            TyrantSupport.User a = accounts.user("a", "staff");
            TyrantSupport.User b = accounts.user("b", "staff");
            PosixUserDb.Group g = db.groupById(gid).orElseThrow();
            assertEquals(gid, g.gid());
            assertEquals(List.of(a.name(), b.name()), g.members());
            assertEquals(OptionalInt.of(gid), db.groupByName(g.name()));
            assertEquals(List.of(), db.groupById(a.gid()).orElseThrow().members(), "a user's own group lists nobody");
        }
    }
}
