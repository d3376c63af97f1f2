package io.emperor.vassal;

import io.emperor.config.ReloadMode;
import io.emperor.config.VassalSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Vassal specs for tests, without files. */
public final class Specs {
    private Specs() {}

    public static VassalSpec program(String name, String... argv) {
        return new VassalSpec(name, Path.of("/v/" + name + ".ini"), VassalSpec.Kind.PROGRAM, List.of(argv),
                Path.of("/v"), List.of(), 0022, null, -1, -1, null, 15, Duration.ofSeconds(30),
                ReloadMode.SIGNAL, 1, List.of());
    }

    /** A {@code [uwsgi]} vassal as VassalParser makes it (stop INT after 30 s, reload HUP). */
    public static VassalSpec uwsgi(String name, boolean master, boolean gracefulShutdown) {
        return new VassalSpec(name, Path.of("/v/" + name + ".ini"), VassalSpec.Kind.UWSGI, List.of(),
                Path.of("/v"), List.of(), 0022, null, -1, -1, null, 2, Duration.ofSeconds(30),
                ReloadMode.SIGNAL, 1, List.of(), new VassalSpec.Uwsgi(master, gracefulShutdown));
    }

    public static VassalSpec withArgv(VassalSpec s, String... argv) {
        return new VassalSpec(s.name(), s.file(), s.kind(), List.of(argv), s.chdir(), s.env(), s.umask(),
                s.user(), s.uid(), s.gid(), s.logto(), s.stopSignal(), s.stopTimeout(), s.reload(),
                s.reloadSignal(), s.rlimits());
    }

    public static VassalSpec withReload(VassalSpec s, ReloadMode mode) {
        return new VassalSpec(s.name(), s.file(), s.kind(), s.argv(), s.chdir(), s.env(), s.umask(),
                s.user(), s.uid(), s.gid(), s.logto(), s.stopSignal(), s.stopTimeout(), mode,
                s.reloadSignal(), s.rlimits());
    }

    public static VassalSpec withStop(VassalSpec s, int signal, Duration timeout) {
        return new VassalSpec(s.name(), s.file(), s.kind(), s.argv(), s.chdir(), s.env(), s.umask(),
                s.user(), s.uid(), s.gid(), s.logto(), signal, timeout, s.reload(),
                s.reloadSignal(), s.rlimits());
    }

    public static VassalSpec withEnv(VassalSpec s, String... env) {
        return new VassalSpec(s.name(), s.file(), s.kind(), s.argv(), s.chdir(), List.of(env), s.umask(),
                s.user(), s.uid(), s.gid(), s.logto(), s.stopSignal(), s.stopTimeout(), s.reload(),
                s.reloadSignal(), s.rlimits());
    }

    /** The same spec, on demand (issue 15) on these addresses ({@code 127.0.0.1:8080}). */
    public static VassalSpec onDemand(VassalSpec s, int... ports) {
        List<io.emperor.config.Listen.Address> a = new java.util.ArrayList<>();
        for (int p : ports) {
            a.add(new io.emperor.config.Listen.Address.Inet("127.0.0.1", p));
        }
        return s.withListen(new io.emperor.config.Listen(a, -1, io.emperor.config.Listen.DEFAULT_BACKLOG, List.of(),
                true, s.kind() == VassalSpec.Kind.UWSGI));
    }
}
