package io.emperor.os;

import io.emperor.config.Account;
import io.emperor.config.UserDb;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * The system's passwd and group databases (NSS: files, LDAP, systemd's dynamic users …), through
 * the reentrant {@code getpwnam_r}, {@code getpwuid_r}, {@code getgrnam_r} and {@code getgrgid_r}
 * of {@link LibC}, each into a buffer of its own that grows while the answer is {@code ERANGE}. A
 * name or id that is not there, and any other error, is an empty answer, as {@code getpwnam} and
 * the others give NULL for both. Calls are serialised on this object (the lookups could run
 * concurrently, but an NSS module need not be made to).
 */
public final class PosixUserDb implements UserDb {
    /** A group: its name, gid and members ({@code gr_mem}; empty when it lists none). */
    public record Group(String name, int gid, List<String> members) {}

    private static final int ERANGE = 34;
    /** The largest buffer asked for (glibc's getgrnam grows without end; a group of 64 MiB is not one). */
    private static final int MAX_BUFFER = 1 << 26;

    private final LibC c = Native.libc();
    private final jnr.ffi.Runtime runtime = Native.runtime();
    private final int p = runtime.addressSize();

    /** A lookup: fills {@code entry} with strings in {@code buf}, sets {@code *result}; returns 0 or an error number. */
    private interface Lookup {
        int call(Pointer entry, Pointer buf, long size, Pointer result);
    }

    @Override
    public synchronized Optional<Account> userByName(String name) {
        return passwd((e, b, n, r) -> c.getpwnam_r(name, e, b, n, r));
    }

    @Override
    public synchronized Optional<Account> userById(int uid) {
        return passwd((e, b, n, r) -> c.getpwuid_r(uid, e, b, n, r));
    }

    @Override
    public synchronized OptionalInt groupByName(String name) {
        Optional<Group> g = group((e, b, n, r) -> c.getgrnam_r(name, e, b, n, r));
        return g.isEmpty() ? OptionalInt.empty() : OptionalInt.of(g.get().gid());
    }

    /** The group of a gid, with its members, if any. */
    public synchronized Optional<Group> groupById(int gid) {
        return group((e, b, n, r) -> c.getgrgid_r(gid, e, b, n, r));
    }

    /** struct passwd: name, passwd, uid, gid, gecos, dir, shell (pointers aligned to their size). */
    private Optional<Account> passwd(Lookup lookup) {
        long dir = align(2L * p + 8) + p;
        return lookup(lookup, dir + 2L * p, pw -> new Account(string(pw, 0), pw.getInt(2L * p), pw.getInt(2L * p + 4),
                string(pw, dir), string(pw, dir + p)));
    }

    /** struct group: name, passwd, gid, mem (a NULL-terminated array of names). */
    private Optional<Group> group(Lookup lookup) {
        long memAt = align(2L * p + 4);
        return lookup(lookup, memAt + p, gr -> {
            List<String> members = new ArrayList<>();
            Pointer mem = gr.getPointer(memAt);
            for (long i = 0; mem != null; i += p) {
                Pointer m = mem.getPointer(i);
                if (m == null) {
                    break;
                }
                members.add(m.getString(0, Integer.MAX_VALUE, StandardCharsets.UTF_8));
            }
            return new Group(string(gr, 0), gr.getInt(2L * p), List.copyOf(members));
        });
    }

    /** The entry filled by {@code lookup}, decoded while its buffer lives; empty when there is none (not found, or an error). */
    private <T> Optional<T> lookup(Lookup lookup, long entrySize, Function<Pointer, T> decode) {
        Pointer entry = Memory.allocateDirect(runtime, (int) entrySize, true);
        Pointer result = Memory.allocateDirect(runtime, p, true);
        for (int size = 4096; size <= MAX_BUFFER; size *= 4) {
            Pointer buf = Memory.allocateDirect(runtime, size);
            result.putAddress(0, 0L);
            int rc = lookup.call(entry, buf, size, result);
            if (rc == ERANGE) {
                continue;
            }
            try {
                return rc != 0 || result.getAddress(0) == 0L ? Optional.empty() : Optional.of(decode.apply(entry));
            } finally {
                Reference.reachabilityFence(buf); // the strings live in buf
            }
        }
        return Optional.empty();
    }

    private long align(long offset) {
        return (offset + p - 1) / p * p;
    }

    private static String string(Pointer entry, long offset) {
        Pointer s = entry.getPointer(offset);
        return s == null ? null : s.getString(0, Integer.MAX_VALUE, StandardCharsets.UTF_8);
    }
}
