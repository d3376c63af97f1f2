package io.emperor.it;

import static io.emperor.it.Lines.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.it.Procs.Proc;
import io.emperor.systemd.Messages;
import io.emperor.systemd.NotifyListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A real emperor under a stand-in for systemd: NOTIFY_SOCKET names a datagram socket this test
 * reads, WATCHDOG_USEC is set. What a Type=notify unit sees, in order, and what a vassal must
 * not inherit.
 */
class SystemdNotifyIT extends ItSupport {
    static final Duration NOTIFY_WAIT = Duration.ofSeconds(15);

    @Test
    void readyStatusWatchdogReloadAndStoppingReachTheNotifySocket() throws Exception {
        ws.vassal("app", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
        Files.writeString(ws.vassals.resolve("bad.ini"), "[vassal]\nexec = '/bin/true\n");
        Path ini = ws.emperorIni("vassals = " + ws.vassals);
        try (NotifyListener sd = NotifyListener.abstractName()) {
            Map<String, String> env = Map.of("NOTIFY_SOCKET", sd.notifySocket(), "WATCHDOG_USEC", "400000");
            EmperorProcess emp = EmperorProcess.start(ws, env, "--config", ini.toString());
            try {
                sd.await(Messages.READY::equals, NOTIFY_WAIT);
                sd.await("STATUS=1 running, 0 backing off, 1 failed"::equals, NOTIFY_WAIT);
                for (int i = 0; i < 3; i++) {
                    sd.await(Messages.WATCHDOG::equals, NOTIFY_WAIT);
                }

                Proc app = awaitRunning(emp, 0, "app");
                Map<String, String> e = Procs.environ(app.pid());
                assertFalse(e.containsKey("NOTIFY_SOCKET"), "the emperor's notify socket is not the vassal's");
                assertFalse(e.containsKey("WATCHDOG_USEC"), "nor its watchdog");

                Files.delete(ws.vassals.resolve("bad.ini"));
                sd.await("STATUS=1 running, 0 backing off, 0 failed"::equals, NOTIFY_WAIT);

                int from = emp.mark();
                Procs.kill(emp.pid(), "HUP");
                String reloading = sd.await(m -> m.startsWith("RELOADING=1"), NOTIFY_WAIT);
                assertTrue(reloading.matches("RELOADING=1\nMONOTONIC_USEC=\\d+"), reloading);
                sd.await(Messages.READY::equals, NOTIFY_WAIT);
                emp.awaitLogFrom(from, Lines.emperor(q("reloading configuration (SIGHUP)")), WAIT);
                assertTrue(app.isAlive(), "an unchanged vassal is untouched by SIGHUP");
            } finally {
                emp.close(); // SIGTERM, and waits for exit 0
            }
            sd.await(Messages.STOPPING::equals, NOTIFY_WAIT);
            assertFalse(sd.received().stream().anyMatch(m -> m.contains("\0")), "no NUL in a datagram");
        }
    }

}
