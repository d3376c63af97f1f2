package io.emperor.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code uid}, {@code gid} and {@code cap} of emperor.ini (in {@code [emperor]}, or uWSGI's in
 * {@code [uwsgi]}): the user a root emperor becomes once its log and sockets are open, keeping
 * the named capabilities (and {@code kill}) as ambient ones (docs/emperor.8.md). Names are kept
 * as written, with their lines: they are resolved at start ({@code io.emperor.os.PrivilegeDrop}).
 *
 * @param file the emperor.ini, for {@code FILE:LINE} in messages
 * @param uid  the {@code uid} value and line, or null when there is none (then nothing changes)
 * @param gid  the {@code gid} value and line, or null (the user's passwd group)
 * @param cap  the {@code cap} entry, or null
 * @param caps the capability numbers {@code cap} names, in order, each once
 */
public record DropSettings(Path file, Named uid, Named gid, Named cap, List<Integer> caps) {
    /** A value as written and its line. */
    public record Named(String value, int line) {}

    public static final DropSettings NONE = new DropSettings(null, null, null, null, List.of());

    /**
     * Linux capability names without {@code CAP_}, by number (capability.h, up to
     * CAP_CHECKPOINT_RESTORE = 40).
     */
    public static final List<String> CAP_NAMES = List.of("chown", "dac_override", "dac_read_search", "fowner",
            "fsetid", "kill", "setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
            "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace",
            "sys_pacct", "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
            "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
            "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore");
    public static final int CAP_KILL = 5;

    public DropSettings {
        caps = List.copyOf(caps);
    }

    /** True when emperor.ini names a user to become. */
    public boolean present() {
        return uid != null;
    }

    /** {@code FILE:LINE} of an entry. */
    public String where(Named n) {
        return file + ":" + n.line();
    }

    /** {@code CAP_SETUID} for 7. */
    public static String capName(int cap) {
        return "CAP_" + CAP_NAMES.get(cap).toUpperCase(Locale.ROOT);
    }

    /** The number of {@code setuid}, {@code CAP_SETUID} or {@code cap_setuid} (any case), or -1. */
    static int capNumber(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        if (n.startsWith("cap_")) {
            n = n.substring(4);
        }
        return CAP_NAMES.indexOf(n);
    }
}
