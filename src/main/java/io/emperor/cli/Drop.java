package io.emperor.cli;

import io.emperor.config.EmperorConfig;
import io.emperor.log.EmperorLog;
import io.emperor.os.Capabilities;
import io.emperor.os.PosixUserDb;
import io.emperor.os.PrivilegeDrop;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The daemon's side of emperor.ini's {@code uid}/{@code gid}/{@code cap} ({@link PrivilegeDrop}):
 * the plan before anything starts, the drop once the log and sockets are open and before any
 * vassal spawns.
 */
final class Drop {
    private Drop() {}

    /** Resolves the users and groups named in emperor.ini, for this process's effective uid. */
    static PrivilegeDrop.Plan plan(EmperorConfig config) {
        if (!config.drop().present()) {
            return new PrivilegeDrop.Plan.Stay();
        }
        return PrivilegeDrop.plan(config.drop(), new PosixUserDb(), io.emperor.os.Native.libc().geteuid());
    }

    /** The uid the emperor runs with once started: the drop's, else {@code current}. */
    static int uid(PrivilegeDrop.Plan plan, int current) {
        return plan instanceof PrivilegeDrop.Plan.Become b ? b.target().uid() : current;
    }

    /** The gid the emperor runs with once started. */
    static int gid(PrivilegeDrop.Plan plan, int current) {
        return plan instanceof PrivilegeDrop.Plan.Become b ? b.target().gid() : current;
    }

    /**
     * Becomes the user of the plan, from the thread that becomes the loop's, before it starts the
     * others; its log lines go to {@code log}; {@code libDir} holds libemperor-signal.so. False when it failed, said on stderr: the start
     * fails. In tyrant mode the capability check of an unprivileged emperor follows.
     */
    static boolean apply(PrivilegeDrop.Plan plan, EmperorConfig config, List<Runnable> log, Path libDir,
                         io.emperor.os.Containment containment) {
        if (!(plan instanceof PrivilegeDrop.Plan.Become b)) {
            return true;
        }
        PrivilegeDrop.Target t = b.target();
        Path stats = config.control().stats() != null && config.control().stats().contains("/")
                ? Path.of(config.control().stats()) : null;
        Optional<String> handed = PrivilegeDrop.handOver(t, config.control().socket(), stats);
        if (handed.isPresent()) {
            System.err.println("emperor: " + handed.get());
            return false;
        }
        // Its cgroups too, or no vassal could get one of its own after the change (docs/lifecycle.md).
        Optional<String> delegated = containment.delegate(t.uid(), t.gid());
        if (delegated.isPresent()) {
            System.err.println("emperor: " + delegated.get());
            return false;
        }
        Path lib = libDir.resolve(io.emperor.os.SignalHandlers.LIBRARY);
        Optional<String> failed = PrivilegeDrop.apply(t, lib);
        if (failed.isPresent()) {
            System.err.println("emperor: " + t.settings().where(t.settings().uid()) + ": cannot become uid "
                    + t.uid() + ": " + failed.get());
            return false;
        }
        String status;
        try {
            status = PrivilegeDrop.threadStatus();
        } catch (java.io.IOException e) {
            status = "";
        }
        for (String line : PrivilegeDrop.lines(t, status)) {
            log.add(() -> EmperorLog.info(line));
        }
        if (!java.nio.file.Files.isRegularFile(lib)) {
            log.add(() -> EmperorLog.warn("only the loop thread and the threads it starts hold the capabilities: " + lib
                    + " not found"));
        }
        if (config.tyrant()) {
            List<String> missing;
            try {
                missing = Capabilities.missingForTyrant(Capabilities.readSelfStatus());
            } catch (java.io.IOException e) {
                System.err.println("emperor: tyrant mode: cannot read /proc/thread-self/status: " + e.getMessage());
                return false;
            }
            if (!missing.isEmpty()) {
                System.err.println("emperor: " + t.settings().where(t.settings().uid()) + ": uid = "
                        + t.settings().uid().value() + " and cap = "
                        + (t.settings().cap() == null ? "" : t.settings().cap().value()) + " leave tyrant mode without "
                        + String.join(" ", missing) + ": add them to cap");
                return false;
            }
        }
        return true;
    }
}
