package io.emperor.config;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/** A passwd and group database in memory; {@code new FakeUserDb()} has no entry at all. */
public final class FakeUserDb implements UserDb {
    private final Map<String, Account> usersByName = new HashMap<>();
    private final Map<Integer, Account> usersById = new HashMap<>();
    private final Map<String, Integer> groups = new HashMap<>();

    /** alice 1000/1000, bob 1001/100; groups alice 1000, users 100, www-data 33. */
    public static FakeUserDb standard() {
        return new FakeUserDb()
                .user("alice", 1000, 1000)
                .user("bob", 1001, 100)
                .group("alice", 1000)
                .group("users", 100)
                .group("www-data", 33);
    }

    public FakeUserDb user(String name, int uid, int gid) {
        Account account = new Account(name, uid, gid, "/home/" + name);
        usersByName.put(name, account);
        usersById.put(uid, account);
        return this;
    }

    public FakeUserDb group(String name, int gid) {
        groups.put(name, gid);
        return this;
    }

    @Override
    public Optional<Account> userByName(String name) {
        return Optional.ofNullable(usersByName.get(name));
    }

    @Override
    public Optional<Account> userById(int uid) {
        return Optional.ofNullable(usersById.get(uid));
    }

    @Override
    public OptionalInt groupByName(String name) {
        Integer gid = groups.get(name);
        return gid == null ? OptionalInt.empty() : OptionalInt.of(gid);
    }
}
