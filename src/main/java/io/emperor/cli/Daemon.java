package io.emperor.cli;

import io.emperor.config.EmperorConfig;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.VassalParser;
import io.emperor.log.EmperorLog;
import io.emperor.log.LogSetup;
import io.emperor.loop.Clock;
import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopEvent;
import io.emperor.os.Environment;
import io.emperor.os.HelperLauncher;
import io.emperor.os.HelperLocator;
import io.emperor.os.IoThread;
import io.emperor.os.PosixUserDb;
import io.emperor.os.SignalHandlers;
import io.emperor.scan.DirectoryScanner;
import io.emperor.scan.DirectoryWatcher;
import io.emperor.vassal.Lifecycle;
import io.emperor.vassal.Policy;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/** Wires the emperor together (every seam is a constructor parameter) and runs it. */
final class Daemon {
    private final Supplier<Parsed<EmperorConfig>> reload;
    private EmperorConfig config;
    private DirectoryWatcher watcher;

    Daemon(EmperorConfig config, Supplier<Parsed<EmperorConfig>> reload) {
        this.config = config;
        this.reload = reload;
    }

    int run() throws InterruptedException {
        LogSetup.configure(config.log());
        Optional<Path> helper = HelperLocator.find();
        if (helper.isEmpty()) {
            System.err.println("emperor: the exec helper " + HelperLocator.NAME + " was not found; looked at "
                    + HelperLocator.candidates() + " (build it with 'mvn package', or set -Demperor.helper=PATH)");
            return 1;
        }
        POSIX posix = POSIXFactory.getNativePOSIX();
        VassalParser parser = new VassalParser(new PosixUserDb(posix), Host.name(), System.getenv());
        DirectoryScanner scanner = new DirectoryScanner(config.vassalDirs(), parser, true);
        Policy policy = new Policy(config.minUptime(), config.maxBackoff());

        EmperorLoop[] loopRef = new EmperorLoop[1];
        IoThread io = new IoThread(e -> loopRef[0].post(e));
        HelperLauncher launcher = new HelperLauncher(helper.get(), posix, io,
                new Environment(System.getenv(), "uwsgi"));
        EmperorLoop loop = new EmperorLoop(new Lifecycle(policy), launcher, Clock.system(), new EmperorLoop.Host() {
            @Override
            public Optional<Policy> reloadConfig() {
                return Daemon.this.reloadConfig();
            }

            @Override
            public void stopWatching() {
                watcher.close();
            }
        });
        loopRef[0] = loop;
        watcher = new DirectoryWatcher(scanner, config.rescan(), s -> loop.post(new LoopEvent.Scanned(s)));

        List<String> missed = SignalHandlers.install(loop::post, io, helper.get().getParent());
        Thread.currentThread().setName("emperor-loop");
        EmperorLog.info("started version=" + Main.version() + " pid=" + posix.getpid()
                + " vassals=" + config.vassalDirs().stream().map(Path::toString).collect(Collectors.joining(","))
                + " helper=" + helper.get());
        if (!missed.isEmpty()) {
            EmperorLog.warn("signals not taken over: " + missed);
        }
        io.start();
        try {
            watcher.start();
        } catch (java.io.IOException e) {
            EmperorLog.error("cannot watch the vassal directories: " + e.getMessage(), e);
            io.close();
            return 1;
        }
        loop.run();
        watcher.close();
        io.close();
        EmperorLog.info("stopped");
        return 0;
    }

    /** SIGHUP, on the loop thread: re-read emperor.ini; on errors keep everything as it is. */
    private Optional<Policy> reloadConfig() {
        Parsed<EmperorConfig> p = reload.get();
        if (!p.isOk()) {
            for (Problem e : p.errors()) {
                EmperorLog.warn("emperor.ini not reloaded: " + e);
            }
            watcher.rescanNow();
            return Optional.empty();
        }
        EmperorConfig next = p.value();
        if (next.log() != null || !Objects.equals(next.log(), config.log())) {
            // Also reopens the same file: what an external logrotate needs after a rename.
            LogSetup.configure(next.log());
        }
        config = next;
        watcher.reconfigure(next.vassalDirs(), next.rescan());
        return Optional.of(new Policy(next.minUptime(), next.maxBackoff()));
    }
}
