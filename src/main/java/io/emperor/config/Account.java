package io.emperor.config;

/**
 * A passwd entry: what {@code uid = NAME} resolves to, what initgroups needs, and what a tenant's
 * vassal gets as HOME and SHELL.
 *
 * @param shell the login shell field, or null when unknown ({@code ""}: passwd(5) means /bin/sh)
 */
public record Account(String name, int uid, int gid, String home, String shell) {
    /** An entry whose shell is not known. */
    public Account(String name, int uid, int gid, String home) {
        this(name, uid, gid, home, null);
    }
}
