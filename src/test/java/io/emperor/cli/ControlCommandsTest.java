package io.emperor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The human output of {@code emperor status} and the exit statuses of the client commands. */
class ControlCommandsTest {

    static Map<String, Object> vassal(String name, String state, long pid, long uid, double uptime, long restarts,
                                      String lastExit, double backoff, String problem) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("state", state);
        m.put("pid", pid);
        m.put("uid", uid);
        m.put("uptime", uptime);
        m.put("restarts", restarts);
        m.put("last_exit", lastExit);
        m.put("backoff", backoff);
        m.put("problem", problem);
        return m;
    }

    @Test
    void theStatusTableIsAlignedAndEndsWithTheProblemsAndASummary() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ControlCommands.table(new PrintStream(bytes, true, StandardCharsets.UTF_8), List.of(
                vassal("api", "running", 41235, 1001, 7384.2, 0, null, 0, null),
                vassal("broken", "failed", 0, -1, 0, 0, null, 0, "/v/broken.ini:3: exec: needs a command"),
                vassal("worker", "backoff", 0, 1002, 0, 4, "status=1", 7.2, null)));
        assertEquals(String.join("\n",
                "NAME    STATE    PID    UID   UPTIME  RESTARTS  LAST EXIT",
                "api     running  41235  1001  2h03m   0         -",
                "broken  failed   -      -     -       0         -",
                "worker  backoff  -      1002  -       4         status=1 (retry in 8s)",
                "broken: /v/broken.ini:3: exec: needs a command",
                "3 vassals: 1 backoff, 1 failed, 1 running.",
                ""), bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aWaitingVassalSaysForWhatUnderTheTableItsNamesEscaped() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Map<String, Object> plone = vassal("plone", "waiting", 0, -1, 0, 0, null, 0, null);
        plone.put("waiting_for", "zeo (not ready), db\u001b[2J (no such vassal)");
        ControlCommands.table(new PrintStream(bytes, true, StandardCharsets.UTF_8), List.of(
                vassal("zeo", "starting", 41235, 1001, 1.2, 0, null, 0, null), plone));
        assertEquals(String.join("\n",
                "NAME   STATE     PID    UID   UPTIME  RESTARTS  LAST EXIT",
                "zeo    starting  41235  1001  1s      0         -",
                "plone  waiting   -      -     -       0         -",
                "plone: waiting for zeo (not ready), db\\x1b[2J (no such vassal)",
                "2 vassals: 1 starting, 1 waiting.",
                ""), bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aVassalsSocketsAreListedUnderTheTableEscaped() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Map<String, Object> web = vassal("web", "running", 41235, 1001, 1.2, 0, null, 0, null);
        web.put("listen", List.of("127.0.0.1:8000", "unix:/run/web\u001b[2J.sock"));
        ControlCommands.table(new PrintStream(bytes, true, StandardCharsets.UTF_8), List.of(web));
        assertEquals(String.join("\n",
                "NAME  STATE    PID    UID   UPTIME  RESTARTS  LAST EXIT",
                "web   running  41235  1001  1s      0         -",
                "web: listening on 127.0.0.1:8000, unix:/run/web\\x1b[2J.sock",
                "1 vassal: 1 running.",
                ""), bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anEmptyEmperor() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ControlCommands.table(new PrintStream(bytes, true, StandardCharsets.UTF_8), List.of());
        assertEquals("NAME  STATE  PID  UID  UPTIME  RESTARTS  LAST EXIT\n0 vassals.\n", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void durations() {
        assertEquals("0s", ControlCommands.duration(0));
        assertEquals("59s", ControlCommands.duration(59));
        assertEquals("1m00s", ControlCommands.duration(60));
        assertEquals("2h03m", ControlCommands.duration(7384));
        assertEquals("5d03h", ControlCommands.duration(5 * 86400 + 3 * 3600 + 59));
        // Formatted by hand (no String.format on the client's path): the same as "%dm%02ds" and its kin.
        for (long s : new long[] {61, 599, 600, 3599, 3600, 3660, 36000, 86399, 86400, 90000, 864000, 100 * 86400 + 7}) {
            String expected = s < 3600 ? String.format("%dm%02ds", s / 60, s % 60)
                    : s < 86400 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60)
                    : String.format("%dd%02dh", s / 86400, s % 86400 / 3600);
            assertEquals(expected, ControlCommands.duration(s), Long.toString(s));
        }
    }

    @Test
    void exitStatusesFollowTheErrorCode() {
        assertEquals(0, ControlCommands.status(Map.of("ok", true)));
        assertEquals(4, ControlCommands.status(Map.of("ok", false, "error", "not-found")));
        assertEquals(5, ControlCommands.status(Map.of("ok", false, "error", "denied")));
        assertEquals(2, ControlCommands.status(Map.of("ok", false, "error", "bad-request")));
        assertEquals(1, ControlCommands.status(Map.of("ok", false, "error", "failed")));
    }
}
