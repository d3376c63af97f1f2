package io.emperor.vassal;

import java.util.Map;

/**
 * The exit codes uWSGI gives a meaning to (its {@code uwsgi.h}: {@code UWSGI_RELOAD_CODE} and the
 * others), named in the exit lines of uWSGI vassals only: for another program 30 means whatever
 * that program says. docs/lifecycle.md has the table.
 */
public final class UwsgiExitCodes {
    private static final Map<Integer, String> NAMES = Map.of(
            1, "error",
            5, "monitored exception",
            15, "going cheap",
            17, "reload requested",
            22, "app failed to load",
            26, "exiled, asks not to be respawned",
            29, "quiet exit",
            30, "end requested",
            31, "brutal reload",
            173, "de-hijacked");

    private UwsgiExitCodes() {}

    /** uWSGI's meaning of an exit code, or null for a code it gives none (0 included). */
    public static String name(int code) {
        return NAMES.get(code);
    }

    /**
     * {@code status=30 (uWSGI: end requested)} for a uWSGI vassal's exit with a
     * named code; else the status as {@link ExitStatus#toString} writes it.
     */
    public static String describe(ExitStatus status, boolean uwsgi) {
        String name = uwsgi && status.signal() == 0 ? name(status.code()) : null;
        return name == null ? status.toString() : status + " (uWSGI: " + name + ")";
    }
}
