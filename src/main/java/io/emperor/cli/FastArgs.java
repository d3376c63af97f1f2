package io.emperor.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The fast path of {@code emperor run} and of the client commands (docs/performance.md, "Weight"):
 * {@code emperor run|status|start|stop|restart|reload|logs|rescan} with plain arguments run without
 * picocli, whose model of every command (built by reflection on each start, from classes CDS
 * cannot archive) costs more than the rest of a client command together, and a third of the
 * daemon's start. It fills the same command objects picocli would and calls
 * them, so the behaviour is one. Anything it is not sure of (help, version, an unknown or
 * repeated option, a missing or odd value, {@code --}, {@code @file}, a wrong number of names)
 * goes to picocli, which answers it as before: usage errors, help and exit statuses are picocli's.
 *
 * <p>On the client path it loads no picocli, logback or jnr class (FastArgsTest runs it in a JVM
 * that lists what it loads).
 */
final class FastArgs {
    /*
     * No regular expression and no lambda on the client's path: java.util.regex builds its
     * character classes from lambdas, and the first lambda of a JVM links the method-handle
     * machinery, about 10 ms of `emperor status` that no JDK 17 archive saves (docs/performance.md).
     */

    /** {@code [0-9]{1,9}}. */
    static boolean isCount(String s) {
        return digits(s, 0, s.length());
    }

    /** {@code [0-9]{1,9}(\.[0-9]{1,9})?}. */
    static boolean isNumber(String s) {
        int dot = s.indexOf('.');
        return dot < 0 ? digits(s, 0, s.length()) : digits(s, 0, dot) && digits(s, dot + 1, s.length());
    }

    private static boolean digits(String s, int from, int to) {
        if (to - from < 1 || to - from > 9) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }
    private static final Set<String> ACTIONS = Set.of("start", "stop", "restart", "reload");
    private static final Set<String> OTHERS = Set.of("status", "logs", "rescan");

    private FastArgs() {}

    /** The exit status of the command, or empty when picocli should parse {@code args}. */
    static OptionalInt run(String[] args) {
        Callable<Integer> command = parse(args);
        if (command == null) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(command.call());
        } catch (Exception e) {
            // What picocli does with an exception out of a command: its stack trace, status 1.
            e.printStackTrace();
            return OptionalInt.of(1);
        }
    }

    /** The command {@code args} ask for, filled in; null when they are for picocli. */
    static Callable<Integer> parse(String[] args) {
        if (args.length == 0) {
            return null;
        }
        String name = args[0];
        if (name.equals("run")) {
            return runCommand(args);
        }
        boolean action = ACTIONS.contains(name);
        if (!action && !OTHERS.contains(name)) {
            return null;
        }
        ControlCommands.Target target = new ControlCommands.Target();
        List<String> names = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        boolean json = false;
        boolean noBlock = false;
        boolean follow = false;
        Double timeout = null;
        Integer lines = null;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.isEmpty() || a.startsWith("@")) {
                return null;
            }
            if (!a.startsWith("-")) {
                names.add(a);
                continue;
            }
            String option = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                option = a.substring(0, eq);
                value = a.substring(eq + 1);
                if (value.isEmpty()) {
                    return null;
                }
            }
            if (!seen.add(canonical(option))) {
                return null; // repeated: picocli says what it thinks of that
            }
            boolean takesValue = switch (option) {
                case "--socket", "--config" -> true;
                case "--timeout" -> action;
                case "-n", "--lines" -> name.equals("logs");
                default -> false;
            };
            if (takesValue) {
                if (value == null) {
                    if (i + 1 >= args.length || args[i + 1].isEmpty() || args[i + 1].startsWith("-")
                            || args[i + 1].startsWith("@")) {
                        return null;
                    }
                    value = args[++i];
                }
                switch (option) {
                    case "--socket" -> target.socket = Path.of(value);
                    case "--config" -> target.config = Path.of(value);
                    case "--timeout" -> {
                        if (!isNumber(value)) {
                            return null;
                        }
                        timeout = Double.valueOf(value);
                    }
                    default -> {
                        if (!isCount(value)) {
                            return null;
                        }
                        lines = Integer.valueOf(value);
                    }
                }
                continue;
            }
            if (value != null) {
                return null; // --json=... and the like
            }
            switch (option) {
                case "--json" -> {
                    if (name.equals("logs") || name.equals("rescan")) {
                        return null;
                    }
                    json = true;
                }
                case "--no-block" -> {
                    if (!action) {
                        return null;
                    }
                    noBlock = true;
                }
                case "-f", "--follow" -> {
                    if (!name.equals("logs")) {
                        return null;
                    }
                    follow = true;
                }
                default -> {
                    return null; // -h, --help, -V, --version, --, an unknown option
                }
            }
        }
        switch (name) {
            case "status" -> {
                ControlCommands.Status c = new ControlCommands.Status();
                c.target = target;
                c.names = names;
                c.json = json;
                return c;
            }
            case "logs" -> {
                if (names.size() != 1) {
                    return null;
                }
                ControlCommands.Logs c = new ControlCommands.Logs();
                c.target = target;
                c.name = names.get(0);
                if (lines != null) {
                    c.lines = lines;
                }
                c.follow = follow;
                return c;
            }
            case "rescan" -> {
                if (!names.isEmpty()) {
                    return null;
                }
                ControlCommands.Rescan c = new ControlCommands.Rescan();
                c.target = target;
                return c;
            }
            default -> {
                if (names.isEmpty()) {
                    return null;
                }
                ControlCommands.Action c = switch (name) {
                    case "start" -> new ControlCommands.Start();
                    case "stop" -> new ControlCommands.Stop();
                    case "restart" -> new ControlCommands.Restart();
                    default -> new ControlCommands.Reload();
                };
                c.target = target;
                c.names = names;
                c.noBlock = noBlock;
                c.timeout = timeout;
                c.json = json;
                return c;
            }
        }
    }

    /** {@code run} with its options, each at most once and with a value where it takes one; else null. */
    private static RunCommand runCommand(String[] args) {
        RunCommand c = new RunCommand();
        Set<String> seen = new HashSet<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            String option = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                option = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            // --vassals repeats; every other option is given once.
            if (!option.equals("--vassals") && !seen.add(option)) {
                return null;
            }
            switch (option) {
                case "--tyrant", "--nofollow" -> {
                    if (value != null) {
                        return null;
                    }
                    if (option.equals("--tyrant")) {
                        c.tyrant = true;
                    } else {
                        c.nofollow = true;
                    }
                    continue;
                }
                case "--config", "--vassals", "--log", "--control", "--stats" -> {
                    // --control and --stats may be empty (none); a path may not.
                    boolean mayBeEmpty = option.equals("--control") || option.equals("--stats");
                    if (value == null) {
                        if (i + 1 >= args.length || args[i + 1].startsWith("-") || args[i + 1].startsWith("@")) {
                            return null;
                        }
                        value = args[++i];
                    }
                    if (value.isEmpty() && !mayBeEmpty || value.startsWith("@")) {
                        return null;
                    }
                }
                default -> {
                    return null; // -h, --help, -V, --version, --, an unknown option, an argument
                }
            }
            switch (option) {
                case "--config" -> c.config = Path.of(value);
                case "--vassals" -> {
                    if (c.vassals == null) {
                        c.vassals = new ArrayList<>();
                    }
                    c.vassals.add(Path.of(value));
                }
                case "--log" -> c.log = Path.of(value);
                case "--control" -> c.control = value;
                default -> c.stats = value;
            }
        }
        return c;
    }

    /** One name per option, so that {@code -n 3 --lines 4} counts as a repetition. */
    private static String canonical(String option) {
        return switch (option) {
            case "-n" -> "--lines";
            case "-f" -> "--follow";
            default -> option;
        };
    }
}
