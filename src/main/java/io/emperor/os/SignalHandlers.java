package io.emperor.os;

import io.emperor.loop.LoopEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import sun.misc.Signal;

/**
 * Turns SIGTERM, SIGINT, SIGQUIT and SIGHUP into loop events. The JVM keeps SIGQUIT for thread
 * dumps unless it runs with {@code -Xrs} (the packaged launcher passes it); without it SIGQUIT
 * stays a thread dump and the emperor says so at start.
 */
public final class SignalHandlers {
    private SignalHandlers() {}

    /** Installs the handlers; returns the signals that could not be taken over. */
    public static List<String> install(Consumer<LoopEvent> sink) {
        List<String> missed = new ArrayList<>();
        for (String name : List.of("TERM", "INT", "HUP", "QUIT")) {
            try {
                Signal.handle(new Signal(name), s -> sink.accept(new LoopEvent.SignalReceived(name)));
            } catch (IllegalArgumentException e) {
                missed.add(name);
            }
        }
        return missed;
    }
}
