package io.emperor.os;

import io.emperor.loop.LoopEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import jnr.ffi.LibraryLoader;
import sun.misc.Signal;

/**
 * Turns SIGTERM, SIGINT, SIGHUP and SIGQUIT into loop events. The first three go through
 * {@code sun.misc.Signal}. The JVM keeps SIGQUIT (thread dumps) and refuses it there, so it is
 * routed by {@code libemperor-signal.so}, a four-line native handler that writes a byte to a
 * pipe the I/O thread watches. (With SIGQUIT taken, {@code jcmd}/{@code jstack} need the JVM
 * started with {@code -XX:+StartAttachListener}, which the packaged launcher passes.)
 */
public final class SignalHandlers {
    public static final String LIBRARY = "libemperor-signal.so";
    private static final int SIGQUIT = 3;

    /** The native side of libemperor-signal.so. */
    public interface SignalLib {
        int emperor_signal_to_fd(int sig, int fd);
    }

    private SignalHandlers() {}

    /** Installs the handlers; returns what could not be taken over, with why. */
    public static List<String> install(Consumer<LoopEvent> sink, IoThread io, Path libDir) {
        List<String> missed = new ArrayList<>();
        for (String name : List.of("TERM", "INT", "HUP")) {
            try {
                Signal.handle(new Signal(name), s -> sink.accept(new LoopEvent.SignalReceived(name)));
            } catch (IllegalArgumentException e) {
                missed.add("SIG" + name + ": " + e.getMessage());
            }
        }
        String quit = routeQuit(io, libDir.resolve(LIBRARY));
        if (quit != null) {
            missed.add("SIGQUIT: " + quit);
        }
        return missed;
    }

    private static String routeQuit(IoThread io, Path lib) {
        if (!Files.isRegularFile(lib)) {
            return lib + " not found";
        }
        int[] fds = new int[2];
        LibC c = Native.libc();
        if (c.pipe2(fds, Native.O_CLOEXEC | Native.O_NONBLOCK) != 0) {
            return "pipe2: " + Native.strerror(Native.errno());
        }
        try {
            SignalLib sl = LibraryLoader.create(SignalLib.class).load(lib.toString());
            io.watchSignals(fds[0]);
            if (sl.emperor_signal_to_fd(SIGQUIT, fds[1]) != 0) {
                return "sigaction: " + Native.strerror(Native.errno());
            }
            return null;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            c.close(fds[0]);
            c.close(fds[1]);
            return e.getMessage();
        }
    }
}
