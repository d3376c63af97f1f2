package io.emperor.os;

import io.emperor.config.Account;
import io.emperor.config.UserDb;
import java.util.Optional;
import java.util.OptionalInt;
import jnr.posix.Group;
import jnr.posix.POSIX;
import jnr.posix.Passwd;

/** The system's passwd and group databases, through jnr-posix. */
public final class PosixUserDb implements UserDb {
    private final POSIX posix;

    public PosixUserDb(POSIX posix) {
        this.posix = posix;
    }

    @Override
    public synchronized Optional<Account> userByName(String name) {
        return account(posix.getpwnam(name));
    }

    @Override
    public synchronized Optional<Account> userById(int uid) {
        return account(posix.getpwuid(uid));
    }

    @Override
    public synchronized OptionalInt groupByName(String name) {
        Group g = posix.getgrnam(name);
        return g == null ? OptionalInt.empty() : OptionalInt.of((int) g.getGID());
    }

    private static Optional<Account> account(Passwd pw) {
        if (pw == null) {
            return Optional.empty();
        }
        return Optional.of(new Account(pw.getLoginName(), (int) pw.getUID(), (int) pw.getGID(), pw.getHome(),
                pw.getShell()));
    }
}
