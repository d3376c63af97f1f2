package io.emperor.it;

import io.emperor.it.Procs.Proc;
import io.emperor.testing.Poll;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real emperor in its own JVM, started the way a user starts it ({@code java -cp ...
 * io.emperor.cli.Main run ... --log FILE}), so signals, exits and file descriptors are real.
 * It finds its exec helper next to the classes directory by itself.
 *
 * <p>{@link #close()} stops it with SIGTERM (so every test also exercises the shutdown), then
 * SIGKILLs whatever is left: the emperor, every descendant seen, every process carrying the
 * workspace's marker. It fails when a clean shutdown left a process behind or when the log
 * holds a {@code bug:} line.
 */
final class EmperorProcess implements AutoCloseable {
    private static final int TAIL = 50;
    private static final Duration SHUTDOWN_WAIT = Poll.WAIT;

    private final Workspace ws;
    private final Process process;
    private final Path log;
    private final Path out;
    private final LogTail tail;
    private final List<Proc> seen = new ArrayList<>();
    private int mark;
    /** The test stopped the emperor and it exited 0: whatever is left now is an orphan. */
    private boolean stoppedByTest;

    private EmperorProcess(Workspace ws, Process process, Path log, Path out) {
        this.ws = ws;
        this.process = process;
        this.log = log;
        this.out = out;
        this.tail = new LogTail(log);
    }

    /** Starts {@code emperor run ARGS --log WS/emperor.log} and waits for its {@code ready} line. */
    static EmperorProcess start(Workspace ws, String... runArgs) {
        return start(ws, Map.of(), runArgs);
    }

    /** Same, with these environment changes (a null value removes the variable). */
    static EmperorProcess start(Workspace ws, Map<String, String> envChanges, String... runArgs) {
        return start(ws, javaCommand(), envChanges, runArgs);
    }

    /**
     * Same, with the classes and jars at {@code classPath} (an emperor that stops being root
     * must still read them: {@link TyrantSupport#publish}).
     */
    static EmperorProcess startWithClassPath(Workspace ws, String classPath, String... runArgs) {
        return start(ws, EmperorJvm.command(classPath), Map.of(), runArgs);
    }

    /** Same, with these JVM options before the class name (-Xlog:...). */
    static EmperorProcess startWithJvmOptions(Workspace ws, Map<String, String> envChanges, List<String> options,
                                              String... runArgs) {
        List<String> java = new ArrayList<>(javaCommand());
        java.addAll(1, options);
        return start(ws, java, envChanges, runArgs);
    }

    private static EmperorProcess start(Workspace ws, List<String> java, Map<String, String> envChanges,
                                        String... runArgs) {
        Path log = ws.root.resolve("emperor.log");
        Path out = ws.root.resolve("emperor.out");
        List<String> cmd = new ArrayList<>(java);
        cmd.add("run");
        cmd.addAll(List.of(runArgs));
        if (!List.of(runArgs).contains("--control")) {
            // Never the machine's /run/emperor/control.sock: each test emperor has its own.
            cmd.add("--control");
            cmd.add(ws.root.resolve("control.sock").toString());
        }
        cmd.add("--log");
        cmd.add(log.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ws.root.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        envChanges.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        EmperorProcess e;
        try {
            e = new EmperorProcess(ws, pb.start(), log, out);
        } catch (IOException ex) {
            throw new AssertionError("cannot start " + cmd, ex);
        }
        try {
            e.awaitLog(Lines.emperor("started version=\\S+ pid=" + e.pid() + " "));
            e.awaitLog(Lines.emperor("ready: \\d+ vassal\\(s\\)"));
        } catch (AssertionError failed) {
            e.close();
            throw failed;
        }
        return e;
    }

    /**
     * {@code java FLAGS -XX:SharedArchiveFile=ARCHIVE -cp CLASSPATH io.emperor.cli.Main}, as the
     * launcher runs {@code emperor run} ({@link EmperorJvm}).
     */
    static List<String> javaCommand() {
        return EmperorJvm.command(EmperorJvm.Kind.RUN);
    }

    /** What a command-line run printed and returned. */
    record CliResult(int exitCode, String stdout, String stderr) {}

    /** Runs {@code emperor ARGS} to completion (check, --help, --version). */
    static CliResult cli(Path workDir, String... args) {
        List<String> cmd = new ArrayList<>(EmperorJvm.command(EmperorJvm.Kind.CLIENT));
        cmd.addAll(List.of(args));
        try {
            Path stdout = Files.createTempFile(workDir, "cli", ".out");
            Path stderr = Files.createTempFile(workDir, "cli", ".err");
            Process p = new ProcessBuilder(cmd).directory(workDir.toFile())
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(cmd + " did not finish within 60 s");
            }
            return new CliResult(p.exitValue(), Files.readString(stdout), Files.readString(stderr));
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path logFile() {
        return log;
    }

    // ---- the log ----

    /** Every log line so far. */
    List<String> lines() {
        return tail.lines();
    }

    /** Remembers the current end of the log: the next {@link #awaitLog(Pattern)} looks after it. */
    int mark() {
        mark = lines().size();
        return mark;
    }

    /** The first line after the mark that matches; fails with the log's tail on timeout. */
    LogLine awaitLog(Pattern p) {
        return awaitLogFrom(mark, p, Poll.WAIT);
    }

    LogLine awaitLog(Pattern p, Duration timeout) {
        return awaitLogFrom(mark, p, timeout);
    }

    /** The first matching line after {@code earlier}. */
    LogLine awaitLogAfter(LogLine earlier, Pattern p) {
        return awaitLogFrom(earlier.index() + 1, p, Poll.WAIT);
    }

    LogLine awaitLogFrom(int from, Pattern p, Duration timeout) {
        String what = "a log line matching /" + p + "/ (from line " + from + ")";
        return Poll.until(what, timeout, () -> {
            boolean running = process.isAlive(); // before reading: a line written before the exit is seen
            Optional<LogLine> found = first(from, p);
            if (found.isEmpty() && !running) {
                throw new AssertionError("the emperor exited without writing " + what + "\n" + diagnostics());
            }
            return found;
        }, this::diagnostics);
    }

    /** Waits until {@code n} lines from {@code from} on match; returns them. */
    List<LogLine> awaitCount(int from, Pattern p, int n, Duration timeout) {
        return Poll.until(n + " log lines matching /" + p + "/ (from line " + from + ")", timeout, () -> {
            List<LogLine> found = find(from, p);
            return found.size() >= n ? Optional.of(found) : Optional.empty();
        }, () -> "found " + find(from, p).size() + "\n" + diagnostics());
    }

    Optional<LogLine> first(int from, Pattern p) {
        List<String> lines = lines();
        for (int i = from; i < lines.size(); i++) {
            Matcher m = p.matcher(lines.get(i));
            if (m.find()) {
                return Optional.of(new LogLine(i, lines.get(i), m));
            }
        }
        return Optional.empty();
    }

    /** Every matching line from {@code from} on, now. */
    List<LogLine> find(int from, Pattern p) {
        List<String> lines = lines();
        List<LogLine> found = new ArrayList<>();
        for (int i = from; i < lines.size(); i++) {
            Matcher m = p.matcher(lines.get(i));
            if (m.find()) {
                found.add(new LogLine(i, lines.get(i), m));
            }
        }
        return found;
    }

    /** How many lines of the whole log match. */
    int countLog(Pattern p) {
        return find(0, p).size();
    }

    /** The last lines of the log, the emperor's own stdout/stderr, and whether it runs: for failures. */
    String diagnostics() {
        List<String> lines = lines();
        StringBuilder sb = new StringBuilder();
        sb.append("emperor pid ").append(pid()).append(process.isAlive() ? " is running" : " exited with " + process.exitValue())
                .append("; last ").append(Math.min(TAIL, lines.size())).append(" of ").append(lines.size())
                .append(" log lines:\n");
        for (String line : lines.subList(Math.max(0, lines.size() - TAIL), lines.size())) {
            sb.append("  | ").append(line.length() > 300 ? line.substring(0, 300) + "..." : line).append('\n');
        }
        String printed = Workspace.read(out);
        if (!printed.isBlank()) {
            sb.append("its stdout/stderr:\n").append(printed.length() > 5000 ? printed.substring(printed.length() - 5000) : printed);
        }
        return sb.toString();
    }

    // ---- the process ----

    void signal(String signal) {
        Procs.kill(pid(), signal);
    }

    int threads() {
        return Procs.threads(pid());
    }

    int fdCount() {
        return Procs.fds(pid()).size();
    }

    List<String> fds() {
        return Procs.fds(pid());
    }

    /** The emperor's children, grandchildren ... now (and remembered, for {@link #close()}). */
    List<Proc> descendants() {
        List<Proc> d = Procs.descendantsOf(pid());
        seen.addAll(d);
        return d;
    }

    /**
     * The emperor's descendants but its spawn server ({@code emperor-exec --serve}, docs/lifecycle.md,
     * "How a vassal is started"), which lives as long as the emperor: the vassals' processes. The
     * server's clones carry its command line until they exec; the server is the oldest of them (every
     * clone is made after it), so a clone that has not exec'd yet is still counted.
     */
    List<Proc> vassalProcesses() {
        List<Proc> d = new ArrayList<>(descendants());
        d.stream().filter(p -> p.ppid() == pid() && p.cmdline().size() > 1 && p.cmdline().get(1).equals("--serve"))
                .min(java.util.Comparator.comparingLong(Proc::startTime).thenComparingLong(Proc::pid))
                .ifPresent(d::remove);
        return d;
    }

    /** Waits for the emperor to exit on its own (after a signal the test sent); its exit code. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("the emperor did not exit within " + timeout.toMillis() + " ms\n" + diagnostics());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        stoppedByTest = process.exitValue() == 0;
        return process.exitValue();
    }

    @Override
    public void close() {
        List<String> problems = new ArrayList<>();
        boolean clean = stoppedByTest;
        if (process.isAlive()) {
            descendants();
            signal("TERM");
            try {
                clean = process.waitFor(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS) && process.exitValue() == 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!clean) {
                problems.add("the emperor did not stop cleanly within " + SHUTDOWN_WAIT.toMillis() + " ms of SIGTERM");
            }
        }
        if (process.isAlive()) {
            descendants();
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Map<Long, Proc> left = new LinkedHashMap<>();
        for (Proc p : seen) {
            if (p.isAlive()) {
                left.put(p.pid(), p);
            }
        }
        for (Proc p : Procs.withMarker(ws.marker)) {
            left.put(p.pid(), p);
        }
        if (clean && !left.isEmpty()) {
            // A process group SIGKILLed when its vassal was reaped can take a moment to be gone on
            // a loaded machine: wait for that (the condition), not for a guessed time.
            List<Proc> maybe = List.copyOf(left.values());
            Poll.within(Poll.WAIT, () -> maybe.stream().anyMatch(Proc::isAlive) ? Optional.empty() : Optional.of(true));
            List<Proc> still = maybe.stream().filter(Proc::isAlive).toList();
            if (!still.isEmpty()) {
                problems.add("processes left behind by a clean shutdown:\n" + Procs.describe(still));
            }
        }
        killLeftovers(List.copyOf(left.values()));
        for (String line : lines()) {
            if (line.contains("[emperor] bug:") || line.contains("impossible event")) {
                problems.add("the log reports a bug: " + line);
            }
        }
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("\n", problems) + "\n" + diagnostics());
        }
    }

    /** SIGKILLs what is left, and whatever appears with the marker meanwhile, until none is left (10 s at most). */
    private void killLeftovers(List<Proc> left) {
        if (left.isEmpty()) {
            return;
        }
        List<Proc> todo = new ArrayList<>(left);
        Poll.within(Duration.ofSeconds(10), () -> {
            Procs.killAll(todo);
            List<Proc> next = new ArrayList<>();
            for (Proc p : todo) {
                if (p.isAlive()) {
                    next.add(p);
                }
            }
            for (Proc p : Procs.withMarker(ws.marker)) {
                if (next.stream().noneMatch(q -> q.pid() == p.pid())) {
                    next.add(p);
                }
            }
            todo.clear();
            todo.addAll(next);
            return todo.isEmpty() ? Optional.of(Boolean.TRUE) : Optional.empty();
        });
    }
}
