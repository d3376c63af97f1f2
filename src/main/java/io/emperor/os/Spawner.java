package io.emperor.os;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * {@code posix_spawnp(3)} through {@link LibC}: file actions and attributes in opaque buffers of
 * our own (glibc's {@code posix_spawn_file_actions_t} is 80 bytes, its {@code posix_spawnattr_t}
 * 336: each gets 512), argv and envp as NULL-terminated pointer arrays. Strings are encoded with
 * the JVM's default charset, as jnr-ffi encodes a {@code String} argument. Every step is checked: a
 * file action that cannot be added fails the spawn, it is never run without it. The buffers are
 * kept and reused (a spawn allocates nothing native unless its strings outgrow the last one): one
 * instance per spawning thread, not thread-safe.
 */
final class Spawner {
    /** {@code POSIX_SPAWN_SETSIGMASK}: the child starts with the attribute's signal mask (empty after init). */
    static final short SETSIGMASK = 0x08;
    private static final int OPAQUE = 512;

    /** One file action: {@code dup2(fd, newfd)}, or {@code open(path, oflag, mode)} on {@code fd}. */
    record Action(int fd, int newfd, String path, int oflag, int mode) {
        static Action dup(int fd, int newfd) {
            return new Action(fd, newfd, null, 0, 0);
        }

        static Action open(String path, int fd, int oflag, int mode) {
            return new Action(fd, -1, path, oflag, mode);
        }
    }

    private final LibC c = Native.libc();
    private final jnr.ffi.Runtime runtime = Native.runtime();
    private final int pointerSize = runtime.addressSize();
    private final Pointer actions = Memory.allocateDirect(runtime, OPAQUE);
    private final Pointer attr = Memory.allocateDirect(runtime, OPAQUE);
    private final Pointer pid = Memory.allocateDirect(runtime, 8);
    /** The argv and envp pointer arrays, then every string they and the open actions point to. */
    private Pointer strings;

    /**
     * Spawns {@code file} (searched in PATH if it has no slash; the PATH of this process) with
     * these file actions, in order, and the attribute {@code flags}.
     *
     * @return the child's pid, or minus the error number of the step that failed
     */
    long spawnp(String file, List<Action> fileActions, short flags, List<String> argv, List<String> envp) {
        Charset cs = Charset.defaultCharset();
        List<byte[]> texts = new ArrayList<>(argv.size() + envp.size() + fileActions.size());
        long size = (long) (argv.size() + 1 + envp.size() + 1) * pointerSize;
        for (String s : argv) {
            size += add(texts, s, cs);
        }
        for (String s : envp) {
            size += add(texts, s, cs);
        }
        for (Action a : fileActions) {
            if (a.path() != null) {
                size += add(texts, a.path(), cs);
            }
        }
        if (strings == null || strings.size() < size) {
            strings = Memory.allocateDirect(runtime, (int) Math.max(4096, Long.highestOneBit(size) * 2));
        }
        long[] at = new long[texts.size()];
        long offset = (long) (argv.size() + 1 + envp.size() + 1) * pointerSize;
        for (int i = 0; i < texts.size(); i++) {
            byte[] b = texts.get(i);
            strings.put(offset, b, 0, b.length);
            strings.putByte(offset + b.length, (byte) 0);
            at[i] = offset;
            offset += b.length + 1;
        }
        long base = strings.address();
        int t = 0;
        long slot = 0;
        for (int i = 0; i < argv.size(); i++, slot += pointerSize) {
            strings.putAddress(slot, base + at[t++]);
        }
        strings.putAddress(slot, 0L);
        long envp0 = slot += pointerSize;
        for (int i = 0; i < envp.size(); i++, slot += pointerSize) {
            strings.putAddress(slot, base + at[t++]);
        }
        strings.putAddress(slot, 0L);

        int rc = c.posix_spawn_file_actions_init(actions);
        if (rc != 0) {
            return -rc;
        }
        try {
            for (Action a : fileActions) {
                rc = a.path() != null
                        ? c.posix_spawn_file_actions_addopen(actions, a.fd(), strings.slice(at[t++]), a.oflag(), a.mode())
                        : c.posix_spawn_file_actions_adddup2(actions, a.fd(), a.newfd());
                if (rc != 0) {
                    return -rc;
                }
            }
            rc = c.posix_spawnattr_init(attr);
            if (rc != 0) {
                return -rc;
            }
            try {
                rc = c.posix_spawnattr_setflags(attr, flags);
                if (rc != 0) {
                    return -rc;
                }
                pid.putInt(0, -1);
                rc = c.posix_spawnp(pid, file, actions, attr, strings, strings.slice(envp0));
                return rc != 0 ? -rc : pid.getInt(0);
            } finally {
                c.posix_spawnattr_destroy(attr);
            }
        } finally {
            c.posix_spawn_file_actions_destroy(actions);
        }
    }

    private static int add(List<byte[]> texts, String s, Charset cs) {
        byte[] b = s.getBytes(cs);
        texts.add(b);
        return b.length + 1;
    }
}
