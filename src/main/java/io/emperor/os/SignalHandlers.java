package io.emperor.os;

import io.emperor.config.Signals;
import io.emperor.loop.LoopEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import sun.misc.Signal;

/**
 * Turns SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGCHLD (orphans to reap: the emperor is a child
 * subreaper) into loop events through
 * {@code libemperor-signal.so}: a native handler (installed with sigaction, so a signal that was
 * ignored when the emperor started, as under {@code nohup} or {@code cmd &}, is taken over too)
 * that writes the signal number to a pipe the I/O thread watches. {@code sun.misc.Signal} cannot
 * do this: the JVM keeps SIGQUIT for thread dumps, and it leaves ignored signals ignored. Without
 * the library, TERM, INT and HUP fall back to {@code sun.misc.Signal}. With SIGQUIT taken,
 * {@code jcmd}/{@code jstack} need the JVM started with {@code -XX:+StartAttachListener}.
 */
public final class SignalHandlers {
    public static final String LIBRARY = "libemperor-signal.so";
    private static final List<String> SIGNALS = List.of("TERM", "INT", "HUP", "QUIT", "CHLD");

    /** The native side of libemperor-signal.so. */
    public interface SignalLib {
        int emperor_signal_to_fd(int sig, int fd);
    }

    private SignalHandlers() {}

    /** Installs the handlers; returns what could not be taken over, with why. */
    public static List<String> install(Consumer<LoopEvent> sink, IoThread io, Path libDir) {
        List<String> missed = new ArrayList<>();
        String nativeProblem = routeNatively(io, libDir.resolve(LIBRARY));
        if (nativeProblem == null) {
            return missed;
        }
        for (String name : SIGNALS) {
            try {
                Signal.handle(new Signal(name), s -> sink.accept(new LoopEvent.SignalReceived(name)));
            } catch (IllegalArgumentException e) {
                missed.add("SIG" + name + " (" + nativeProblem + "; " + e.getMessage() + ")");
            }
        }
        return missed;
    }

    private static String routeNatively(IoThread io, Path lib) {
        if (!Files.isRegularFile(lib)) {
            return lib + " not found";
        }
        int[] fds = new int[2];
        LibC c = Native.libc();
        if (c.pipe2(fds, Native.O_CLOEXEC | Native.O_NONBLOCK) != 0) {
            return "pipe2: " + Native.strerror(Native.errno());
        }
        SignalLib sl;
        try {
            sl = Jnr.load(SignalLib.class, lib.toString());
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            c.close(fds[0]);
            c.close(fds[1]);
            return lib + ": " + e.getMessage();
        }
        io.watchSignals(fds[0]);
        for (String name : SIGNALS) {
            int number = Signals.parse(name).getAsInt();
            if (sl.emperor_signal_to_fd(number, fds[1]) != 0) {
                // Cannot happen for these four signals; say so loudly if it ever does.
                throw new IllegalStateException("sigaction SIG" + name + ": " + Native.strerror(Native.errno()));
            }
        }
        return null;
    }
}
