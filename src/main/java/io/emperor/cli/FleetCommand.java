package io.emperor.cli;

import io.emperor.config.EmperorConfig;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.source.FleetLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code emperor fleet status}: what every node of the fleet runs, from etcd (docs/fleet.md). */
@Command(name = "fleet", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "The fleet in etcd (docs/fleet.md).", subcommands = {FleetCommand.Status.class})
final class FleetCommand implements Runnable {
    @Override
    public void run() {
        System.err.println("emperor fleet: missing command: status");
    }

    @Command(name = "status", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Every node's vassals as published in etcd (PREFIX/status/NODE/NAME): a table, or --json. "
                    + "Exit 0, 1 when emperor.ini has errors or no etcd, 3 when etcd cannot be read.")
    static final class Status implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE",
                description = "the emperor.ini whose etcd keys to use (default /etc/emperor/emperor.ini)")
        Path config = Path.of("/etc/emperor/emperor.ini");

        @Option(names = "--json", description = "one line of JSON: {\"ok\":true,\"revision\":R,\"nodes\":{NODE:[...]}}")
        boolean json;

        @Override
        public Integer call() throws Exception {
            Parsed<EmperorConfig> p = RunCommand.load(Files.exists(config) ? config : null, null, null, false, false);
            if (!p.isOk()) {
                for (Problem e : p.errors()) {
                    System.err.println(e);
                }
                return 1;
            }
            if (!p.value().fleet().enabled()) {
                System.err.println("emperor: " + config + " sets no etcd (docs/fleet.md)");
                return 1;
            }
            Class<?> status;
            try {
                status = FleetLoader.fleetClass("io.emperor.source.etcd.FleetStatus");
            } catch (IllegalStateException e) {
                System.err.println("emperor: etcd: " + e.getMessage());
                return 1;
            }
            return (Integer) status.getMethod("print", io.emperor.config.FleetSettings.class, String.class,
                    boolean.class, java.io.PrintStream.class, java.io.PrintStream.class)
                    .invoke(null, p.value().fleet(), FleetLoader.password(p.value().fleet()), json, System.out, System.err);
        }
    }
}
