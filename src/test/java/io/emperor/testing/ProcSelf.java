package io.emperor.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What the test's own process shows in /proc: its epoll sets, its threads' reads, its children.
 * Tests observe the emperor's parts from outside through it, as an operator would, instead of
 * through accessors kept in production classes for them.
 */
public final class ProcSelf {
    private ProcSelf() {}

    /** The fds of this process that are epoll sets ({@code anon_inode:[eventpoll]}). */
    public static Set<Integer> epollFds() {
        Set<Integer> out = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals("anon_inode:[eventpoll]")) {
                        out.add(Integer.parseInt(fd.getFileName().toString()));
                    }
                } catch (NoSuchFileException closedMeanwhile) {
                    // another thread's fd of a moment
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * The epoll set that {@code make} opens: the one eventpoll fd that is new after it (fails when
     * there is not exactly one).
     */
    public static int newEpollFd(Runnable make) {
        Set<Integer> before = epollFds();
        make.run();
        Set<Integer> made = epollFds();
        made.removeAll(before);
        if (made.size() != 1) {
            throw new AssertionError("expected one new epoll set, found " + made);
        }
        return made.iterator().next();
    }

    /** How many files the epoll set {@code epfd} holds now (its {@code tfd:} lines in /proc/self/fdinfo). */
    public static int epollRegistrations(int epfd) {
        try {
            return (int) Files.readAllLines(Path.of("/proc/self/fdinfo/" + epfd)).stream()
                    .filter(l -> l.startsWith("tfd:")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The bytes read so far (read(2), recv(2)…) by the threads of this process named {@code name}
     * ({@code rchar} of /proc/self/task/TID/io); threads that ended no longer count.
     */
    public static long bytesReadByThread(String name) {
        long sum = 0;
        for (Path task : tasks(name)) {
            try {
                for (String l : Files.readAllLines(task.resolve("io"))) {
                    if (l.startsWith("rchar:")) {
                        sum += Long.parseLong(l.substring(6).strip());
                    }
                }
            } catch (NoSuchFileException ended) {
                // gone meanwhile
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sum;
    }

    /** The /proc/self/task entries of the threads named {@code name} (the kernel keeps 15 bytes of it). */
    static List<Path> tasks(String name) {
        String comm = name.length() > 15 ? name.substring(0, 15) : name;
        List<Path> out = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    if (Files.readString(t.resolve("comm")).strip().equals(comm)) {
                        out.add(t);
                    }
                } catch (NoSuchFileException ended) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
