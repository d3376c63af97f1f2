package io.emperor.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What the kernel says about processes, read from {@code /proc}: the tests assert on real
 * processes, not only on log lines. A process is identified by pid and start time, so a pid
 * the kernel reuses is never mistaken for the process seen earlier.
 */
final class Procs {
    private static final Path PROC = Path.of("/proc");

    private Procs() {}

    /** One process as seen at one moment. */
    record Proc(long pid, long ppid, long pgid, long session, char state, long startTime, List<String> cmdline) {
        /** Still running: the same process (pid and start time) exists and is not a zombie. */
        boolean isAlive() {
            return read(pid).filter(now -> now.startTime == startTime && now.state != 'Z' && now.state != 'X')
                    .isPresent();
        }

        String command() {
            return String.join(" ", cmdline);
        }

        @Override
        public String toString() {
            return pid + " (ppid " + ppid + ", pgid " + pgid + ", state " + state + "): " + command();
        }
    }

    /** The process now, or empty when there is none with that pid. */
    static Optional<Proc> read(long pid) {
        Path dir = PROC.resolve(Long.toString(pid));
        String stat;
        byte[] cmdline;
        try {
            stat = Files.readString(dir.resolve("stat"), StandardCharsets.ISO_8859_1);
            cmdline = Files.readAllBytes(dir.resolve("cmdline"));
        } catch (IOException e) {
            return Optional.empty(); // gone (or going) meanwhile
        }
        // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
        // stime cutime cstime priority nice num_threads itrealvalue starttime ...; comm may hold ") ".
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return Optional.empty();
        }
        String[] f = stat.substring(close + 2).trim().split(" ");
        if (f.length < 20) {
            return Optional.empty();
        }
        return Optional.of(new Proc(pid, Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                f[0].charAt(0), Long.parseLong(f[19]), split(cmdline)));
    }

    private static List<String> split(byte[] cmdline) {
        List<String> args = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < cmdline.length; i++) {
            if (cmdline[i] == 0) {
                args.add(new String(cmdline, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < cmdline.length) {
            args.add(new String(cmdline, start, cmdline.length - start, StandardCharsets.UTF_8));
        }
        return args;
    }

    /** Every process now. */
    static List<Proc> all() {
        List<Proc> procs = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC)) {
            for (Path d : dirs) {
                String name = d.getFileName().toString();
                if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
                    read(Long.parseLong(name)).ifPresent(procs::add);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return procs;
    }

    /** Children, grandchildren ... of {@code pid}, found through their parent pids. */
    static List<Proc> descendantsOf(long pid) {
        List<Proc> all = all();
        List<Proc> found = new ArrayList<>();
        Deque<Long> parents = new ArrayDeque<>(List.of(pid));
        Set<Long> seen = new HashSet<>(List.of(pid));
        while (!parents.isEmpty()) {
            long parent = parents.pop();
            for (Proc p : all) {
                if (p.ppid() == parent && seen.add(p.pid())) {
                    found.add(p);
                    parents.push(p.pid());
                }
            }
        }
        return found;
    }

    /** Live (non-zombie) processes whose command line contains {@code marker}, except this JVM. */
    static List<Proc> withMarker(String marker) {
        long self = ProcessHandle.current().pid();
        return all().stream()
                .filter(p -> p.pid() != self && p.state() != 'Z' && p.command().contains(marker))
                .toList();
    }

    /** A line of {@code /proc/PID/status}, such as {@code Threads}, without the key. */
    static Optional<String> status(long pid, String key) {
        try {
            for (String line : Files.readAllLines(PROC.resolve(pid + "/status"), StandardCharsets.ISO_8859_1)) {
                if (line.startsWith(key + ":")) {
                    return Optional.of(line.substring(key.length() + 1).trim());
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    static int threads(long pid) {
        return Integer.parseInt(status(pid, "Threads").orElseThrow(() -> new AssertionError("no process " + pid)));
    }

    /** The open file descriptors of {@code pid}, each as {@code fd -> target}. */
    static List<String> fds(long pid) {
        List<String> fds = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(PROC.resolve(pid + "/fd"))) {
            for (Path fd : dir) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    target = "?"; // closed between the listing and the readlink
                }
                fds.add(fd.getFileName() + " -> " + target);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot list the fds of " + pid + ": " + e);
        }
        fds.sort((a, b) -> Integer.compare(Integer.parseInt(a.split(" ")[0]), Integer.parseInt(b.split(" ")[0])));
        return fds;
    }

    /** Sends a signal by name (TERM, HUP, KILL ...) with kill(1). */
    static void kill(long pid, String signal) {
        try {
            Process p = new ProcessBuilder("kill", "-s", signal, Long.toString(pid))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kill -s " + signal + " " + pid + " did not finish");
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run kill", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** SIGKILL to each process that is still the one seen (never to a reused pid). */
    static void killAll(List<Proc> procs) {
        for (Proc p : procs) {
            if (p.isAlive()) {
                ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    static String describe(List<Proc> procs) {
        return procs.isEmpty() ? "(none)" : String.join("\n", procs.stream().map(Proc::toString).toList());
    }

    /** The process's environment, from {@code /proc/PID/environ}. */
    static java.util.Map<String, String> environ(long pid) {
        try {
            byte[] b = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/" + pid + "/environ"));
            java.util.Map<String, String> m = new java.util.HashMap<>();
            for (String kv : new String(b, java.nio.charset.StandardCharsets.UTF_8).split("\u0000")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    m.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            return m;
        } catch (java.io.IOException e) {
            throw new AssertionError("cannot read the environment of " + pid, e);
        }
    }
}
