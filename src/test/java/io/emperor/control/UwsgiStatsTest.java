package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class UwsgiStatsTest {
    /** A name that broke uWSGI's stats: a quote, a backslash and a control character. */
    static final String NASTY = "a\"b\\\u0001";
    static final long NOW = 1_764_433_153_123L;

    static VassalStatus vassal(String name, String state, String kind, String file, long pid) {
        boolean up = pid != 0;
        return new VassalStatus(name, state, kind, file, 1000, NOW - 60_000, pid, 1000, 1001,
                up ? NOW - 30_000 : 0, up ? 30_500 : 0, NOW - 50_000, 3, 2, 0, 0, null, 0,
                0, 0, 0, 0, null, null, 0, null, false, null);
    }

    /** Every kind of vassal: nasty names, both kinds, both lists, a vassal without a file. */
    static EmperorStatus status() {
        List<VassalStatus> vassals = new ArrayList<>();
        vassals.add(vassal(NASTY, "running", "exec", "/etc/vassals/" + NASTY + ".ini", 4242));
        // A uWSGI vassal that said ready and loyal for its current process, accepting only before it.
        vassals.add(new VassalStatus("app", "running", "uwsgi", "/etc/vassals/app.ini", 0, NOW - 60_000,
                4250, 33, 33, NOW - 30_000, 30_000, NOW - 40_000, 2, 1, 0, 0, "status=1", NOW - 31_000,
                NOW - 29_000, NOW - 35_000, NOW - 20_000, NOW - 1_000, null, null, 0, null, false, null));
        vassals.add(vassal("gone", "stopped", "exec", null, 0));
        vassals.add(new VassalStatus("flappy", "backoff", "exec", "/srv/v/flappy.ini", 0, NOW - 60_000,
                0, 0, 0, 0, 0, NOW - 9_000, 4, 3, 3, 3_500, "signal=KILL", NOW - 500,
                0, 0, 0, 0, null, null, 0, null, false, null));
        vassals.add(new VassalStatus("broken", "failed", "exec", "/srv/v/broken.ini", 0, NOW - 60_000,
                0, -1, -1, 0, 0, 0, 0, 0, 0, 0, null, 0, 0, 0, 0, 0, "line 3: unknown key \"x\"\n", null, 0, null, false, null));
        return new EmperorStatus("0.1.0 \"dev\"", 77, 0, 0, "/", List.of("/etc/vassals", "/srv/v"), true,
                NOW - 3_600_000, 9, 5, Map.of("clean", 1L, "signal", 2L), 1.5, vassals);
    }

    @Test
    void jsonWithNastyNamesParsesWithPythonAndKeepsThem() throws Exception {
        String json = UwsgiStats.json(status());
        String python = Python.find(null);
        Assumptions.assumeTrue(python != null, "no python3 on PATH nor /usr/bin/python3 (apt-get install python3)");

        String pretty = Python.run(List.of(python, "-m", "json.tool"), json);

        // Read back what Python understood: the names survive the round trip.
        Map<String, Object> doc = Json.parseObject(pretty);
        Map<String, Object> first = firstOf(doc, "vassals");
        assertEquals(NASTY + ".ini", first.get("id"));
        assertEquals(NASTY, first.get("name"));
        assertEquals("0.1.0 \"dev\"", doc.get("version"));
        assertEquals("line 3: unknown key \"x\"\n", ((Map<?, ?>) ((List<?>) doc.get("blacklist")).get(1)).get("problem"));
    }

    @Test
    void topLevelHasTheUwsgiShape() throws Exception {
        Map<String, Object> doc = Json.parseObject(UwsgiStats.json(status()));
        assertEquals(List.of("version", "pid", "uid", "gid", "cwd", "emperor", "emperor_tyrant",
                "throttle_level", "vassals", "blacklist"), List.copyOf(doc.keySet()));
        assertEquals(77L, doc.get("pid"));
        assertEquals(List.of("/etc/vassals", "/srv/v"), doc.get("emperor"));
        assertEquals(1L, doc.get("emperor_tyrant"));
        assertEquals(0L, doc.get("throttle_level"));
        assertEquals(3, ((List<?>) doc.get("vassals")).size());
        assertEquals(2, ((List<?>) doc.get("blacklist")).size());
    }

    @Test
    void execVassalIsReadyWhileRunningAndHasTheUwsgiFields() throws Exception {
        Map<String, Object> v = firstOf(Json.parseObject(UwsgiStats.json(status())), "vassals");
        assertEquals(4242L, v.get("pid"));
        assertEquals((NOW - 60_000) / 1000, v.get("born"));
        assertEquals((NOW - 60_000) / 1000, v.get("last_mod"));
        assertEquals(1L, v.get("loyal"));
        assertEquals(1L, v.get("ready"));
        assertEquals(1L, v.get("accepting"));
        assertEquals(0L, v.get("last_ready"));
        assertEquals((NOW - 50_000) / 1000, v.get("first_run"));
        assertEquals((NOW - 30_000) / 1000, v.get("last_run"));
        assertEquals(0L, v.get("cursed"));
        assertEquals(0L, v.get("zerg"));
        assertEquals("", v.get("on_demand"));
        assertEquals(1000L, v.get("uid"));
        assertEquals(1001L, v.get("gid"));
        assertEquals("/etc/vassals", v.get("monitor"));
        assertEquals(2L, v.get("respawns"));
        assertEquals("running", v.get("state"));
        assertEquals(30L, v.get("uptime"));
    }

    @Test
    void uwsgiVassalReportsOnlyWhatItSaidSinceItsStart() throws Exception {
        Map<String, Object> app = byName(Json.parseObject(UwsgiStats.json(status())), "vassals", "app");
        assertEquals("app.ini", app.get("id"));
        assertEquals(1L, app.get("ready"));
        assertEquals(0L, app.get("accepting"), "accepting was said by the previous process");
        assertEquals(1L, app.get("loyal"));
        assertEquals((NOW - 1_000) / 1000, app.get("last_heartbeat"));
        assertEquals((NOW - 20_000) / 1000, app.get("last_loyal"));
    }

    @Test
    void stoppedVassalWithoutFileIsListedWithoutProcess() throws Exception {
        Map<String, Object> gone = byName(Json.parseObject(UwsgiStats.json(status())), "vassals", "gone");
        assertEquals("gone.ini", gone.get("id"));
        assertEquals(0L, gone.get("pid"));
        assertEquals(0L, gone.get("ready"));
        assertEquals(0L, gone.get("loyal"));
        assertEquals("", gone.get("monitor"));
    }

    @Test
    void backoffAndFailedVassalsAreBlacklisted() throws Exception {
        Map<String, Object> doc = Json.parseObject(UwsgiStats.json(status()));
        Map<String, Object> flappy = byName(doc, "blacklist", "flappy");
        assertEquals("flappy.ini", flappy.get("id"));
        assertEquals(3_500L, flappy.get("throttle_level"));
        assertEquals(3L, flappy.get("attempt"));
        assertEquals((NOW - 9_000) / 1000, flappy.get("first_attempt"));
        assertEquals((NOW - 500) / 1000, flappy.get("last_attempt"));
        assertEquals("backoff", flappy.get("state"));
        assertEquals("signal=KILL", flappy.get("last_exit"));
        assertNull(flappy.get("problem"));
        assertEquals("failed", byName(doc, "blacklist", "broken").get("state"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> firstOf(Map<String, Object> doc, String list) {
        return (Map<String, Object>) ((List<?>) doc.get(list)).get(0);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> byName(Map<String, Object> doc, String list, String name) {
        return ((List<Map<String, Object>>) doc.get(list)).stream()
                .filter(m -> name.equals(m.get("name"))).findFirst().orElseThrow();
    }

}
