package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.systemd.Messages;
import io.emperor.systemd.NotifyListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What {@code emperor run} loads up to READY=1: the emperor's own libc bindings (LibC, a few dozen
 * functions), never jnr-posix's (~250 functions and ~700 classes generated at start,
 * docs/performance.md "Weight").
 */
class DaemonClassesIT extends ItSupport {
    /**
     * jnr-unixsocket (the control socket) names these two in its own bindings' signatures
     * (setsockopt of a timeval): interfaces and a struct, not jnr-posix's set-up.
     */
    static final Set<String> UNIXSOCKET_S_OWN = Set.of("jnr.posix.Timeval", "jnr.posix.DefaultNativeTimeval");

    @Test
    void runUpToReadyLoadsNoJnrPosixClass() throws Exception {
        Path classes = ws.root.resolve("classes.txt");
        try (NotifyListener sd = NotifyListener.abstractName()) {
            EmperorProcess emp = EmperorProcess.startWithJvmOptions(ws, Map.of("NOTIFY_SOCKET", sd.notifySocket()),
                    List.of("-Xlog:class+load=info:file=" + classes), "--vassals", ws.vassals.toString());
            try {
                sd.await(Messages.READY::equals, SystemdNotifyIT.NOTIFY_WAIT);
                List<String> loaded = Files.readAllLines(classes).stream()
                        .map(l -> l.replaceFirst("^.*?\\] ", "").split(" ")[0]).toList();
                assertTrue(loaded.contains("io.emperor.os.HelperLauncher"), "the log lists the launcher");
                assertTrue(loaded.contains("io.emperor.os.Spawner"), "and its posix_spawnp");
                assertTrue(loaded.contains("io.emperor.control.ControlServer"), "and the control socket's server");
                List<String> posix = loaded.stream().filter(c -> c.startsWith("jnr.posix."))
                        .filter(c -> !UNIXSOCKET_S_OWN.contains(c)).toList();
                assertEquals(List.of(), posix, "jnr-posix classes loaded up to READY=1");
            } finally {
                emp.close();
            }
        }
    }
}
