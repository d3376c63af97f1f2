package io.emperor.config;

import java.util.Optional;
import java.util.OptionalInt;

/** The passwd and group databases, behind a port so parsing stays testable without real users. */
public interface UserDb {
    /** The passwd entry for a user name, if any. */
    Optional<Account> userByName(String name);

    /** The passwd entry for a uid, if any (a numeric owner may have none). */
    Optional<Account> userById(int uid);

    /** The gid of a group name, if any. */
    OptionalInt groupByName(String name);
}
