package io.emperor.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code emperor run|check|status|…}: the command line (docs/emperor.8.md, docs/control.md). */
@Command(name = "emperor",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Keeps one process running per vassal file in the watched directories.",
        subcommands = {RunCommand.class, CheckCommand.class, ControlCommands.Status.class, ControlCommands.Start.class,
            ControlCommands.Stop.class, ControlCommands.Restart.class, ControlCommands.Reload.class,
            ControlCommands.Logs.class, ControlCommands.Rescan.class, FleetCommand.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:success (run: a clean shutdown; check: every file is valid; start, stop, ...: every vassal got there)",
            "1:run: emperor.ini has errors, the log file or a configured control/stats socket cannot be opened, the exec helper is missing, tyrant mode lacks a capability, or the vassal directories cannot be watched; check: a file has errors; start, stop, ...: a vassal was refused or did not get there",
            "2:bad command line",
            "3:status, start, stop, restart, reload, logs, rescan: the emperor cannot be reached (no socket, not running)",
            "4:a named vassal does not exist (or is not yours)",
            "5:permission denied on the control socket",
            "70:run: an internal failure: the I/O thread failed (every vassal was stopped first), or an error reached the top of a thread (fatal: ... in the log)",
            "3:run: out of memory under the packaged launcher (-XX:+ExitOnOutOfMemoryError)"})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("run")) {
            io.emperor.os.Jnr.useReflection(); // before jnr-unixsocket's bindings too
            Warmup.start();
        }
        // The client commands with plain arguments skip picocli (FastArgs); the rest, and
        // anything unusual, is picocli's.
        java.util.OptionalInt fast = FastArgs.run(args);
        int code = fast.isPresent() ? fast.getAsInt() : new CommandLine(new Main()).execute(args);
        if (code == 0 && fast.isPresent() && !args[0].equals("run")) {
            // A client command that succeeded ends as main returns (it started no thread): from
            // JDK 21 on, System.exit first sets up System.Logger to log the exit ("java.lang.Runtime"
            // at DEBUG), a ServiceLoader and the client's first method handles (docs/performance.md).
            return;
        }
        System.exit(code);
    }

    @Override
    public void run() {
        throw Usage.missingCommand(spec);
    }

    /**
     * picocli's exceptions live here, not in Main: the verifier would load them with Main, and
     * the client's fast path loads no picocli class.
     */
    static final class Usage {
        private Usage() {}

        static RuntimeException missingCommand(CommandLine.Model.CommandSpec spec) {
            return new CommandLine.ParameterException(spec.commandLine(),
                    "missing command: run, check, status, start, stop, restart, reload, logs, rescan or fleet");
        }
    }

    public static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"emperor " + version()};
        }
    }
}
