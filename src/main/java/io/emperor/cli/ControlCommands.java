package io.emperor.cli;

import io.emperor.config.ControlSettings;
import io.emperor.config.EmperorConfig;
import io.emperor.config.EmperorConfigParser;
import io.emperor.config.Parsed;
import io.emperor.control.ControlClient;
import io.emperor.control.ClientJson;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The client side of the control socket (docs/control.md): {@code emperor status|start|stop|
 * restart|reload|logs|rescan}. Each command sends one request and prints the answer, for people
 * (a table) or for tools ({@code --json}: the answer as the emperor sent it).
 */
final class ControlCommands {
    /** Exit statuses of the client commands (also in Main's help and docs/control.md). */
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int UNREACHABLE = 3;
    static final int NOT_FOUND = 4;
    static final int DENIED = 5;

    /** The default emperor.ini the client reads the {@code control} key from, when it exists. */
    static final Path DEFAULT_CONFIG = Path.of("/etc/emperor/emperor.ini");
    /** Overrides the socket path, like {@code --socket}. */
    static final String SOCKET_ENV = "EMPEROR_CONTROL";

    private ControlCommands() {}

    /** Where to find the emperor: {@code --socket}, $EMPEROR_CONTROL, {@code control} of emperor.ini, the default. */
    static final class Target {
        @Option(names = "--socket", paramLabel = "PATH",
                description = "the control socket (default: $EMPEROR_CONTROL, else 'control' of the config file, else "
                        + "/run/emperor/control.sock)")
        Path socket;

        @Option(names = "--config", paramLabel = "FILE",
                description = "the emperor.ini whose 'control' key names the socket (default /etc/emperor/emperor.ini when it exists)")
        Path config;

        /** The emperor.ini whose control key {@link ControlKey} read without the full parser; null otherwise. */
        Path quickFrom;

        Path resolve() throws UsageException {
            if (socket != null) {
                return socket;
            }
            String env = System.getenv(SOCKET_ENV);
            if (env != null && !env.isEmpty()) {
                return Path.of(env);
            }
            Path file = config != null ? config : Files.isReadable(DEFAULT_CONFIG) ? DEFAULT_CONFIG : null;
            if (file == null) {
                return ControlSettings.DEFAULT_SOCKET;
            }
            Path quick = ControlKey.find(file);
            if (quick != null) {
                quickFrom = file;
                return quick;
            }
            return parsed(file);
        }

        /** The socket of {@code file} by the emperor's own parser; its first error as a usage error. */
        static Path parsed(Path file) throws UsageException {
            Parsed<EmperorConfig> p = new EmperorConfigParser(HostName.name(), System.getenv()).parse(file.toAbsolutePath().normalize());
            if (!p.isOk()) {
                throw new UsageException("cannot find the control socket in " + file + ": " + p.errors().get(0)
                        + " (or give --socket PATH)");
            }
            Path s = p.value().control().socket();
            if (s == null) {
                throw new UsageException(file + " sets no control socket ('control' is empty)");
            }
            return s;
        }
    }

    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /** Sends one request; hands every answer line to {@code each} until it returns false or EOF. */
    interface Answers {
        boolean each(Map<String, Object> answer) throws IOException;
    }

    static int exchange(Target target, Map<String, Object> request, Answers answers) {
        Path socket;
        try {
            socket = target.resolve();
        } catch (UsageException e) {
            System.err.println("emperor: " + e.getMessage());
            return USAGE;
        }
        ControlClient client;
        try {
            client = ControlClient.connect(socket);
        } catch (IOException e) {
            if (target.quickFrom != null) {
                // Read without the full parser (ControlKey): an emperor.ini with errors says so, as before.
                try {
                    Target.parsed(target.quickFrom);
                } catch (UsageException u) {
                    System.err.println("emperor: " + u.getMessage());
                    return USAGE;
                }
            }
            System.err.println("emperor: " + e.getMessage());
            return UNREACHABLE;
        }
        try (client) {
            client.send(request);
            Map<String, Object> answer;
            while ((answer = client.next()) != null) {
                if (!answers.each(answer)) {
                    return OK;
                }
            }
            System.err.println("emperor: the emperor closed the connection without an answer");
            return UNREACHABLE;
        } catch (IOException e) {
            System.err.println("emperor: " + e.getMessage());
            return UNREACHABLE;
        }
    }

    /**
     * One request, one answer: printed as JSON ({@code --json}) or by {@code human}; the exit
     * status follows the answer ({@link #status}) unless the emperor could not be reached.
     */
    static int once(Target target, Map<String, Object> request, boolean json,
                    java.util.function.Consumer<Map<String, Object>> human) {
        int[] code = {OK};
        // An anonymous class, not a lambda: the client's path links no lambda (FastArgs).
        int rc = exchange(target, request, new Answers() {
            @Override
            public boolean each(Map<String, Object> answer) {
                code[0] = status(answer);
                if (json) {
                    System.out.println(ClientJson.write(answer));
                } else {
                    human.accept(answer);
                }
                return false;
            }
        });
        return rc != OK ? rc : code[0];
    }

    /** The exit status for a failed answer. */
    static int status(Map<String, Object> answer) {
        if (Boolean.TRUE.equals(answer.get("ok"))) {
            return OK;
        }
        return switch (String.valueOf(answer.get("error"))) {
            case "not-found" -> NOT_FOUND;
            case "denied" -> DENIED;
            case "bad-request", "too-long" -> USAGE;
            default -> FAILED;
        };
    }

    static Map<String, Object> request(String cmd) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cmd", cmd);
        return m;
    }

    @Command(name = "status", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Show the vassals: name, state, pid, uid, uptime, restarts, last exit. "
                    + "Exit 0, or 4 when a named vassal does not exist (or is not yours).")
    static final class Status implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(paramLabel = "NAME", arity = "0..*", description = "only these vassals (default: all you may see)")
        List<String> names = new ArrayList<>();

        @Option(names = "--json", description = "print the emperor's answer as JSON (one line)")
        boolean json;

        @Override
        public Integer call() {
            Map<String, Object> req = request("status");
            if (!names.isEmpty()) {
                req.put("names", names);
            }
            return once(target, req, json, new java.util.function.Consumer<Map<String, Object>>() {
                @Override
                public void accept(Map<String, Object> answer) {
                    if (answer.get("vassals") instanceof List<?> vassals) {
                        table(System.out, vassals);
                        fleetLine(System.out, answer.get("emperor"));
                        if (!Boolean.TRUE.equals(answer.get("ok"))) {
                            System.err.println("emperor: " + answer.get("message"));
                        }
                    } else {
                        System.err.println("emperor: " + answer.get("message"));
                    }
                }
            });
        }
    }

    /** {@code etcd: unreachable since ...}: the fleet's outage, when there is one (docs/fleet.md). */
    static void fleetLine(PrintStream out, Object emperor) {
        if (emperor instanceof Map<?, ?> e && e.get("etcd") instanceof Map<?, ?> etcd
                && !Boolean.TRUE.equals(etcd.get("reachable"))) {
            long since = (long) number(etcd.get("since"), 0);
            long now = System.currentTimeMillis() / 1000;
            out.println("etcd: unreachable" + (since > 0 ? " for " + duration(Math.max(0, now - since)) : "")
                    + " (" + ProblemLines.escape(String.valueOf(etcd.get("reason"))) + "); the vassals from etcd"
                    + " run as they were, revision " + number(etcd.get("revision"), 0));
        }
    }

    /** The {@code systemctl list-units}-like table, then one line per vassal's last problem ({@link ProblemLines}), then a summary. */
    static void table(PrintStream out, List<?> vassals) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "STATE", "PID", "UID", "UPTIME", "RESTARTS", "LAST EXIT"});
        Map<String, Integer> byState = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (Object o : vassals) {
            Map<?, ?> v = (Map<?, ?>) o;
            String state = String.valueOf(v.get("state"));
            // No lambda or method reference on the client's path: each one's first call links
            // method handles that no class-data archive of JDK 17 holds (docs/performance.md, "Weight").
            Integer counted = byState.get(state);
            byState.put(state, counted == null ? 1 : counted + 1);
            long pid = number(v.get("pid"), 0);
            long uid = number(v.get("uid"), -1);
            String lastExit = v.get("last_exit") == null ? "-" : String.valueOf(v.get("last_exit"));
            if (state.equals("backoff")) {
                lastExit += " (retry in " + duration((long) Math.ceil(number(v.get("backoff")))) + ")";
            }
            rows.add(new String[] {String.valueOf(v.get("name")), state, pid == 0 ? "-" : String.valueOf(pid),
                    uid < 0 ? "-" : String.valueOf(uid), pid == 0 ? "-" : duration((long) number(v.get("uptime"))),
                    String.valueOf(number(v.get("restarts"), 0)), lastExit});
            String problem = ProblemLines.line(v, System.currentTimeMillis());
            if (problem != null) {
                problems.add(problem);
            }
            if (v.get("status_text") instanceof String text) {
                // What the vassal said with STATUS= (ready = notify): escaped and bounded by the emperor.
                problems.add(v.get("name") + ": status: " + text);
            }
            if (v.get("waiting_for") instanceof String waiting) {
                problems.add(v.get("name") + ": waiting for " + ProblemLines.escape(waiting));
            }
            if (v.get("listen") instanceof List<?> sockets && !sockets.isEmpty()) {
                // The sockets the emperor holds for it (listen, docs/sockets.md).
                StringBuilder line = new StringBuilder().append(v.get("name")).append(": listening on ");
                for (int i = 0; i < sockets.size(); i++) {
                    line.append(i == 0 ? "" : ", ").append(ProblemLines.escape(String.valueOf(sockets.get(i))));
                }
                problems.add(line.toString());
            }
        }
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        // All of it written at once: System.out flushes at every println, a write(2) per line.
        String nl = System.lineSeparator();
        StringBuilder text = new StringBuilder(rows.size() * 80);
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                sb.append(r[i]);
                if (i < r.length - 1) {
                    sb.append(" ".repeat(width[i] - r[i].length() + 2));
                }
            }
            text.append(sb.toString().stripTrailing()).append(nl);
        }
        for (String p : problems) {
            text.append(p).append(nl);
        }
        StringBuilder summary = new StringBuilder();
        summary.append(vassals.size()).append(vassals.size() == 1 ? " vassal" : " vassals");
        if (!byState.isEmpty()) {
            summary.append(": ");
            List<String> parts = new ArrayList<>();
            for (Map.Entry<String, Integer> e : byState.entrySet()) {
                parts.add(e.getValue() + " " + e.getKey());
            }
            summary.append(String.join(", ", parts));
        }
        out.print(text.append(summary).append('.').append(nl));
        out.flush();
    }

    private static double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : o == null ? 0 : -1;
    }

    private static long number(Object o, long fallback) {
        return o instanceof Number n ? n.longValue() : fallback;
    }

    /**
     * {@code 42s}, {@code 12m03s}, {@code 3h12m}, {@code 5d03h}. Not with String.format: its first
     * call (every vassal up for a minute) loads the Formatter, a regular expression, the first
     * lambda of the client and the locale data, more than the rest of the table (docs/performance.md).
     */
    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m" + twoDigits(seconds % 60) + "s";
        }
        if (seconds < 86400) {
            return seconds / 3600 + "h" + twoDigits(seconds % 3600 / 60) + "m";
        }
        return seconds / 86400 + "d" + twoDigits(seconds % 86400 / 3600) + "h";
    }

    private static String twoDigits(long n) {
        return n < 10 ? "0" + n : Long.toString(n);
    }

    /** start, stop, restart, reload: one line per vassal; waits until each arrived unless --no-block. */
    abstract static class Action implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(paramLabel = "NAME", arity = "1..*", description = "the vassals")
        List<String> names;

        @Option(names = "--no-block", description = "do not wait until the vassals got there; answer at once")
        boolean noBlock;

        @Option(names = "--timeout", paramLabel = "SECONDS",
                description = "how long to wait at most (default: the vassal's stop-timeout + 15 s to stop, + 30 s to start)")
        Double timeout;

        @Option(names = "--json", description = "print the emperor's answer as JSON (one line)")
        boolean json;

        /** The command's name (start, stop …), also the request's {@code cmd}. */
        abstract String name();

        @Override
        public Integer call() {
            Map<String, Object> req = request(name());
            req.put("names", names);
            req.put("wait", !noBlock);
            if (timeout != null) {
                req.put("timeout", timeout);
            }
            return once(target, req, json, answer -> {
                if (answer.get("results") instanceof List<?> results) {
                    for (Object o : results) {
                        Map<?, ?> r = (Map<?, ?>) o;
                        boolean ok = Boolean.TRUE.equals(r.get("ok"));
                        (ok ? System.out : System.err).println(r.get("name") + ": " + (ok ? "" : "failed: ") + r.get("message"));
                    }
                } else {
                    System.err.println("emperor: " + answer.get("message"));
                }
            });
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Start vassals that do not run (a stopped one, or one backing off: at once); "
                    + "wait until each runs or fails.")
    static final class Start extends Action {
        @Override
        String name() {
            return "start";
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Stop vassals; they stay stopped until 'emperor start' or a change of their file "
                    + "(or a restart of the emperor). Waits until each has stopped.")
    static final class Stop extends Action {
        @Override
        String name() {
            return "stop";
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Stop vassals and start them again (a stopped one just starts); wait until each runs again.")
    static final class Restart extends Action {
        @Override
        String name() {
            return "restart";
        }
    }

    @Command(name = "reload", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Reload vassals as a touch of their file would: the reload signal, byte 1 for a uWSGI "
                    + "vassal (waits until it is back), or a restart (reload = restart).")
    static final class Reload extends Action {
        @Override
        String name() {
            return "reload";
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Print the last lines a vassal wrote (the emperor keeps the last 200 in memory); "
                    + "with -f, then every new line until interrupted.")
    static final class Logs implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(paramLabel = "NAME", description = "the vassal")
        String name;

        @Option(names = {"-n", "--lines"}, paramLabel = "N", description = "how many of the last lines (default 10, at most 200)")
        int lines = 10;

        @Option(names = {"-f", "--follow"}, description = "then print new lines as they come")
        boolean follow;

        @Override
        public Integer call() {
            if (lines < 0) {
                System.err.println("emperor: --lines must be 0 or more");
                return USAGE;
            }
            Map<String, Object> req = request("logs");
            req.put("name", name);
            req.put("lines", lines);
            req.put("follow", follow);
            int[] code = {OK};
            int rc = exchange(target, req, answer -> {
                if (answer.get("line") instanceof String line) {
                    System.out.println(line);
                    System.out.flush();
                    return true;
                }
                code[0] = status(answer);
                if (code[0] != OK) {
                    System.err.println("emperor: " + answer.get("message"));
                    return false;
                }
                if (answer.get("lines") instanceof List<?> l) {
                    for (Object o : l) {
                        System.out.println(o);
                    }
                    System.out.flush();
                }
                return follow;
            });
            return code[0] != OK ? code[0] : rc;
        }
    }

    @Command(name = "rescan", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Rescan the vassal directories now (inotify does this by itself; for NFS and the like) "
                    + "and wait until the scan is applied.")
    static final class Rescan implements Callable<Integer> {
        @Mixin
        Target target;

        @Override
        public Integer call() {
            return once(target, request("rescan"), false, answer ->
                    (status(answer) == OK ? System.out : System.err).println(answer.get("message")));
        }
    }
}
