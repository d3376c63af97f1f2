package io.emperor.control;

import io.emperor.config.ControlSettings;
import io.emperor.config.EmperorConfig;
import io.emperor.config.EmperorConfigParser;
import io.emperor.config.IniReader;
import io.emperor.config.Parsed;
import io.emperor.os.OpenedFile;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What the CLI says when it cannot connect to the control socket (docs/control.md, "When the
 * client cannot connect"). It tells apart what it can prove:
 * <ul>
 *   <li>{@link Failure#ABSENT}: no file at the path. If an emperor process runs whose control
 *       socket is that path (its command line, and its emperor.ini when the client may read it),
 *       the emperor runs without its socket: "no control socket at PATH (the emperor logs why)".
 *       Else "no emperor running", naming the sockets of the emperors that do run, if any.</li>
 *   <li>{@link Failure#REFUSED}: a socket file nobody listens on (ECONNREFUSED): left by an emperor
 *       that stopped.</li>
 *   <li>{@link Failure#DENIED}: the socket or a directory above it does not let the caller in.</li>
 * </ul>
 * An emperor process is a {@code java} whose command line runs {@code emperor.jar} or
 * {@code io.emperor.cli.Main} with the {@code run} command ({@code /proc/PID/cmdline}, readable for
 * every process unless /proc is mounted with {@code hidepid}).
 */
public final class ClientErrors {
    /** How the connect failed. */
    public enum Failure {
        /** No file at the socket path (ENOENT). */
        ABSENT,
        /** A file, and nobody listening (ECONNREFUSED). */
        REFUSED,
        /** EACCES on the socket or a directory above it. */
        DENIED,
        /** Anything else. */
        OTHER
    }

    /**
     * A running emperor and the control socket it was told to create.
     *
     * @param socket its socket; empty when it has none ({@code control =} empty); null when the
     *               client cannot tell (an emperor.ini it may not read)
     */
    public record Emperor(long pid, Optional<Path> socket) {}

    private ClientErrors() {}

    /** The failure of connecting to {@code socket}, classified and explained (reads /proc for ABSENT and REFUSED). */
    public static IOException explain(Path socket, IOException e) {
        Failure kind = classify(socket, e);
        List<Emperor> running = kind == Failure.ABSENT || kind == Failure.REFUSED ? running(Path.of("/proc")) : List.of();
        return new IOException(message(socket, kind, String.valueOf(e.getMessage()), running), e);
    }

    /** The JDK reports ECONNREFUSED as a {@link ConnectException}, the rest with the strerror text. */
    public static Failure classify(Path socket, IOException e) {
        String text = String.valueOf(e.getMessage());
        if (text.contains("Permission denied")) {
            return Failure.DENIED;
        }
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return Failure.ABSENT;
        }
        if (e instanceof ConnectException || text.contains("Connection refused")) {
            return Failure.REFUSED;
        }
        return Failure.OTHER;
    }

    /** The message for a failure; {@code running}: the emperors found running. */
    public static String message(Path socket, Failure kind, String detail, List<Emperor> running) {
        return switch (kind) {
            case DENIED -> "permission denied on " + socket
                    + " (the control socket, or a directory above it, does not let you in)";
            case OTHER -> "cannot connect to the emperor on " + socket + ": " + detail;
            case REFUSED -> "no emperor running on " + socket + " (a socket left by one that stopped)" + others(socket, running);
            case ABSENT -> absent(socket, running);
        };
    }

    private static String absent(Path socket, List<Emperor> running) {
        List<Emperor> here = running.stream()
                .filter(e -> e.socket() != null && e.socket().isPresent() && e.socket().get().equals(socket)).toList();
        if (!here.isEmpty()) {
            return "no control socket at " + socket + " (the emperor, pid " + pids(here)
                    + ", runs without it: its log says why, on the line 'no control socket: …')";
        }
        List<Emperor> unknown = running.stream().filter(e -> e.socket() == null).toList();
        if (!unknown.isEmpty()) {
            return "no control socket at " + socket + " (an emperor runs, pid " + pids(unknown)
                    + ": if it should listen there, its log says why it does not; else it uses another `control`)";
        }
        return "no emperor running (no control socket at " + socket + "; see `control` in emperor.ini)"
                + others(socket, running);
    }

    /** The sockets of the emperors that run elsewhere, for a client that looked in the wrong place. */
    private static String others(Path socket, List<Emperor> running) {
        List<String> elsewhere = running.stream()
                .filter(e -> e.socket() != null && e.socket().isPresent() && !e.socket().get().equals(socket))
                .map(e -> "pid " + e.pid() + " on " + e.socket().get()).toList();
        return elsewhere.isEmpty() ? "" : "; emperors running: " + String.join(", ", elsewhere) + " (use --socket PATH)";
    }

    private static String pids(List<Emperor> emperors) {
        return emperors.stream().map(e -> Long.toString(e.pid())).collect(Collectors.joining(", "));
    }

    /** The emperors running on this machine, as far as {@code proc} shows them. */
    public static List<Emperor> running(Path proc) {
        List<Emperor> found = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path dir : pids) {
                long pid = Long.parseLong(dir.getFileName().toString());
                if (pid == self) {
                    continue;
                }
                try {
                    byte[] raw = Files.readAllBytes(dir.resolve("cmdline"));
                    if (raw.length == 0) {
                        continue;
                    }
                    List<String> argv = Arrays.asList(new String(raw, StandardCharsets.UTF_8).split("\0"));
                    if (argv.stream().noneMatch(a -> a.endsWith("emperor.jar") || a.equals("io.emperor.cli.Main"))) {
                        continue; // not an emperor: its cwd and environment are not read
                    }
                    Path cwd = null;
                    try {
                        cwd = Files.readSymbolicLink(dir.resolve("cwd"));
                    } catch (IOException | SecurityException e) {
                        // another user's process: its cwd is not ours to read; a relative path stays unknown
                    }
                    int owner = (Integer) Files.getAttribute(dir, "unix:uid");
                    describe(pid, argv, cwd, environ(dir), owner).ifPresent(found::add);
                } catch (IOException | RuntimeException e) {
                    // gone, or not readable: not one we can say anything about
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return found;
    }

    /** The environment of a process, for {@code $(VAR)} in its emperor.ini; empty when it is not ours to read. */
    private static Map<String, String> environ(Path dir) {
        try {
            Map<String, String> env = new java.util.HashMap<>();
            for (String kv : new String(Files.readAllBytes(dir.resolve("environ")), StandardCharsets.UTF_8).split("\0")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    env.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            return env;
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
    }

    /**
     * The emperor that {@code argv} runs (with its socket), or empty when it is not {@code emperor run}.
     *
     * @param cwd its working directory (relative paths), or null when not known
     * @param env its environment ({@code $(VAR)} in its emperor.ini)
     * @param owner its uid: its emperor.ini is read only when owned by that uid or root
     */
    public static Optional<Emperor> describe(long pid, List<String> argv, Path cwd, Map<String, String> env, int owner) {
        if (argv.isEmpty() || !Path.of(argv.get(0)).getFileName().toString().startsWith("java")) {
            return Optional.empty(); // a wrapper (timeout, sudo …) naming the jar is not the emperor
        }
        int main = -1;
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.endsWith("emperor.jar") || a.equals("io.emperor.cli.Main")) {
                main = i;
                break;
            }
        }
        if (main < 0 || main + 1 >= argv.size() || !argv.get(main + 1).equals("run")) {
            return Optional.empty();
        }
        String config = null;
        String control = null;
        for (int i = main + 2; i < argv.size(); i++) {
            String a = argv.get(i);
            if ((a.equals("--config") || a.equals("--control")) && i + 1 < argv.size()) {
                if (a.equals("--config")) {
                    config = argv.get(++i);
                } else {
                    control = argv.get(++i);
                }
            } else if (a.startsWith("--config=")) {
                config = a.substring("--config=".length());
            } else if (a.startsWith("--control=")) {
                control = a.substring("--control=".length());
            }
        }
        if (control != null) {
            if (control.isEmpty()) {
                return Optional.of(new Emperor(pid, Optional.empty()));
            }
            Path p = resolve(control, cwd);
            return Optional.of(new Emperor(pid, p == null ? null : Optional.of(p)));
        }
        if (config == null) {
            return Optional.of(new Emperor(pid, Optional.of(ControlSettings.DEFAULT_SOCKET)));
        }
        Path file = resolve(config, cwd);
        byte[] content = file == null ? null : readConfig(file, owner);
        if (content == null) {
            return Optional.of(new Emperor(pid, null));
        }
        Parsed<EmperorConfig> parsed = new EmperorConfigParser("localhost", env).parse(file, content);
        if (!parsed.isOk()) {
            return Optional.of(new Emperor(pid, null));
        }
        return Optional.of(new Emperor(pid, Optional.ofNullable(parsed.value().control().socket())));
    }

    /**
     * The content of a process's emperor.ini, or null: a path any user's process may name is read
     * by a client that may be root, so only a regular file (opened without blocking, never a FIFO,
     * device or /proc file: {@link OpenedFile}) owned by the process's uid or root, at most 1 MiB.
     */
    private static byte[] readConfig(Path file, int owner) {
        try (OpenedFile opened = OpenedFile.open(file, false)) {
            OpenedFile.Status status = opened.status();
            if (status.notAFile() != null || (status.uid() != owner && status.uid() != 0)
                    || status.size() > IniReader.MAX_BYTES) {
                return null;
            }
            return opened.read(IniReader.MAX_BYTES);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Path resolve(String path, Path cwd) {
        Path p = Path.of(path);
        if (p.isAbsolute()) {
            return p.normalize();
        }
        return cwd == null ? null : cwd.resolve(p).normalize();
    }
}
