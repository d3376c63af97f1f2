package io.emperor.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What containment without cgroups reads of other processes in /proc: start times, real uids, environments. */
final class Procfs {
    private static final Path PROC = Path.of("/proc");

    private Procfs() {}

    /** Field 22 of /proc/PID/stat (clock ticks after boot): with the pid, what tells a process from a later one. */
    static Optional<Long> startTime(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(pid + "/stat"), StandardCharsets.ISO_8859_1);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Optional.of(Long.parseLong(f[19]));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The process with this pid exists, is not a zombie, and started at {@code startTime}: the same process, still running. */
    static boolean running(long pid, long startTime) {
        try {
            String stat = Files.readString(PROC.resolve(pid + "/stat"), StandardCharsets.ISO_8859_1);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return !f[0].equals("Z") && !f[0].equals("X") && Long.parseLong(f[19]) == startTime;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Field 5 of /proc/PID/stat (its process group), or -1 when it is gone. */
    static long processGroup(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(pid + "/stat"), StandardCharsets.ISO_8859_1);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 5);
            return Long.parseLong(f[2]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The value of {@code key} in /proc/PID/environ (the environment it was started with), if readable. */
    static Optional<String> variable(long pid, String key) {
        byte[] env;
        try {
            env = Files.readAllBytes(PROC.resolve(pid + "/environ"));
        } catch (IOException e) {
            return Optional.empty();
        }
        byte[] want = (key + "=").getBytes(StandardCharsets.UTF_8);
        int at = 0;
        while (at < env.length) {
            int end = at;
            while (end < env.length && env[end] != 0) {
                end++;
            }
            if (end - at >= want.length && java.util.Arrays.equals(env, at, at + want.length, want, 0, want.length)) {
                return Optional.of(new String(env, at + want.length, end - at - want.length, StandardCharsets.UTF_8));
            }
            at = end + 1;
        }
        return Optional.empty();
    }

    /** The lines of /proc/PID/cgroup, empty when it is gone. */
    static List<String> cgroups(long pid) {
        try {
            return Files.readAllLines(PROC.resolve(pid + "/cgroup"), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The real uid (first field of Uid: in /proc/PID/status), or -1. */
    static int realUid(long pid) {
        try {
            for (String line : Files.readAllLines(PROC.resolve(pid + "/status"), StandardCharsets.ISO_8859_1)) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return -1;
    }

    /**
     * Every process but this one whose environment holds exactly {@code entry} (a {@code
     * KEY=VALUE}), whose real uid is {@code uid} and which started at or after {@code minStart}
     * (clock ticks; 0 for any).
     */
    static List<Long> carrying(String entry, int uid, long minStart) {
        byte[] want = (entry + "\0").getBytes(StandardCharsets.UTF_8);
        long self = ProcessHandle.current().pid();
        List<Long> found = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC)) {
            for (Path d : dirs) {
                String name = d.getFileName().toString();
                if (name.isEmpty() || !name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                long pid = Long.parseLong(name);
                if (pid == self || !holds(d.resolve("environ"), want)) {
                    continue;
                }
                if (realUid(pid) != uid || startTime(pid).orElse(-1L) < minStart) {
                    continue;
                }
                found.add(pid);
            }
        } catch (IOException e) {
            // no /proc: nothing found
        }
        return found;
    }

    /** True when the NUL-separated file holds {@code want} (which ends in NUL) as a whole entry. */
    private static boolean holds(Path environ, byte[] want) {
        byte[] env;
        try {
            env = Files.readAllBytes(environ);
        } catch (IOException e) {
            return false; // gone, or not ours to read
        }
        outer:
        for (int at = 0; at + want.length <= env.length; ) {
            for (int i = 0; i < want.length; i++) {
                if (env[at + i] != want[i]) {
                    int nul = at;
                    while (nul < env.length && env[nul] != 0) {
                        nul++;
                    }
                    at = nul + 1;
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
