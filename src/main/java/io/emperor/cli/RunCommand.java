package io.emperor.cli;

import io.emperor.config.ControlSettings;
import io.emperor.config.EmperorConfig;
import io.emperor.config.EmperorConfigParser;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code emperor run}: the daemon, in the foreground. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Run the emperor in the foreground until SIGTERM, SIGINT or SIGQUIT.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE",
            description = "emperor.ini to read (section [emperor]); without it the defaults apply")
    Path config;

    @Option(names = "--vassals", paramLabel = "DIR",
            description = "a vassal directory to watch (repeatable; replaces the 'vassals' keys of the config)")
    List<Path> vassals;

    @Option(names = "--log", paramLabel = "FILE",
            description = "append the emperor's log to FILE instead of stderr (replaces 'log' of the config)")
    Path log;

    @Option(names = "--tyrant",
            description = "tyrant mode: every vassal runs as the owner of its file (sets 'tyrant' of the config)")
    boolean tyrant;

    @Option(names = "--nofollow",
            description = "judge a symlinked vassal file by the link itself, not its target (sets 'nofollow')")
    boolean nofollow;

    @Option(names = "--control", paramLabel = "PATH",
            description = "the control socket (replaces 'control' of the config; empty: none)")
    String control;

    @Option(names = "--stats", paramLabel = "ADDR",
            description = "serve stats on HOST:PORT, :PORT or a unix socket path (replaces 'stats' of the config)")
    String stats;

    @Override
    public Integer call() throws Exception {
        Parsed<EmperorConfig> parsed = load();
        if (!parsed.isOk()) {
            for (Problem p : parsed.errors()) {
                System.err.println(p);
            }
            return 1;
        }
        for (Problem w : parsed.warnings()) {
            System.err.println(w.file() + (w.line() > 0 ? ":" + w.line() : "") + ": warning: " + w.message());
        }
        return new Daemon(parsed.value(), this::load).run();
    }

    private Parsed<EmperorConfig> load() {
        Parsed<EmperorConfig> p = load(config, vassals, log, tyrant, nofollow);
        if (!p.isOk() || control == null && stats == null) {
            return p;
        }
        EmperorConfig c = p.value();
        ControlSettings cs = c.control();
        if (control != null) {
            cs = new ControlSettings(control.isEmpty() ? null : Path.of(control).toAbsolutePath().normalize(), true, cs.stats());
        }
        if (stats != null) {
            cs = new ControlSettings(cs.socket(), cs.configured(), stats.isEmpty() ? null : stats);
        }
        return Parsed.ok(new EmperorConfig(c.source(), c.vassalDirs(), c.log(), c.rescan(), c.minUptime(), c.maxBackoff(),
                c.tyrant(), c.nofollow(), c.requiredHeartbeat(), c.uwsgi(), c.logging(), cs, c.locale(),
                c.tenantBudget(), c.drop(), c.fleet()), p.warnings());
    }

    /** Reads the config file (if any) and applies the command-line overrides (a flag can only turn a mode on). */
    static Parsed<EmperorConfig> load(Path config, List<Path> vassals, Path log, boolean tyrant, boolean nofollow) {
        Parsed<EmperorConfig> base = config == null
                ? Parsed.ok(EmperorConfig.defaults(), List.of())
                : new EmperorConfigParser(HostName.name(), System.getenv()).parse(config.toAbsolutePath().normalize());
        if (!base.isOk()) {
            return base;
        }
        EmperorConfig c = base.value();
        List<Path> dirs = vassals == null || vassals.isEmpty()
                ? c.vassalDirs()
                : vassals.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        Path logFile = log == null ? c.log() : log.toAbsolutePath().normalize();
        return Parsed.ok(new EmperorConfig(c.source(), dirs, logFile, c.rescan(), c.minUptime(), c.maxBackoff(),
                c.tyrant() || tyrant, c.nofollow() || nofollow, c.requiredHeartbeat(), c.uwsgi(), c.logging(), c.control(),
                c.locale(), c.tenantBudget(), c.drop(), c.fleet()),
                base.warnings());
    }
}
