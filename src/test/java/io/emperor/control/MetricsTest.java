package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class MetricsTest {
    /** A name with everything the format escapes: a quote, a backslash and a line feed. */
    static final String QUOTED = "we\"ird\\\nname";

    /** Prints every sample as JSON: family, type, sample name, labels, value. */
    private static final String PARSE = String.join("\n",
            "import json, sys",
            "from prometheus_client.parser import text_string_to_metric_families",
            "out = []",
            "for f in text_string_to_metric_families(sys.stdin.read()):",
            "    for s in f.samples:",
            "        out.append({'family': f.name, 'type': f.type, 'help': f.documentation,",
            "                    'name': s.name, 'labels': s.labels, 'value': s.value})",
            "print(json.dumps(out))");

    /** One parsed sample. */
    record Sample(String family, String type, String help, String name, Map<String, Object> labels, double value) {}

    static EmperorStatus status() {
        List<VassalStatus> vassals = new ArrayList<>(UwsgiStatsTest.status().vassals());
        vassals.add(UwsgiStatsTest.vassal(QUOTED, "reloading", "uwsgi", "/etc/vassals/q.ini", 99));
        EmperorStatus base = UwsgiStatsTest.status();
        return new EmperorStatus(base.version(), base.pid(), base.uid(), base.gid(), base.cwd(), base.vassalDirs(),
                base.tyrant(), base.startedAt(), base.spawns(), base.restarts(), base.exits(), 1.5, vassals,
                new EmperorStatus.Internals(3, 4096, 5, 2, 4, 65536, 12, 7, 1));
    }

    /**
     * Parses Prometheus text with the reference Python parser ({@code python3-prometheus-client});
     * skips the test, saying why, when it is not installed.
     */
    @SuppressWarnings("unchecked")
    static List<Sample> parse(String text) throws Exception {
        String python = Python.find("prometheus_client.parser");
        Assumptions.assumeTrue(python != null,
                "the Prometheus parser is missing: apt-get install python3-prometheus-client");
        String json = Python.run(List.of(python, "-c", PARSE), text);
        List<Sample> samples = new ArrayList<>();
        for (Object o : (List<Object>) Json.parse(json)) {
            Map<String, Object> m = (Map<String, Object>) o;
            samples.add(new Sample((String) m.get("family"), (String) m.get("type"), (String) m.get("help"),
                    (String) m.get("name"), (Map<String, Object>) m.get("labels"), ((Number) m.get("value")).doubleValue()));
        }
        return samples;
    }

    /** The samples of one metric by the value of its one label (the empty string when it has none). */
    static Map<String, Double> values(List<Sample> samples, String name) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Sample s : samples) {
            if (s.name().equals(name)) {
                out.put(s.labels().isEmpty() ? "" : (String) s.labels().values().iterator().next(), s.value());
            }
        }
        return out;
    }

    @Test
    void parsesWithThePrometheusParserWithTheExpectedValues() throws Exception {
        List<Sample> samples = parse(Metrics.prometheus(status()));

        assertEquals(Map.of("0.1.0 \"dev\"", 1.0), values(samples, "emperor_info"));
        assertEquals((UwsgiStatsTest.NOW - 3_600_000) / 1000.0, values(samples, "emperor_start_time_seconds").get(""), 1e-6);
        Map<String, Double> byState = new LinkedHashMap<>();
        byState.put("starting", 0.0);
        byState.put("running", 2.0);
        byState.put("reloading", 1.0);
        byState.put("stopping", 0.0);
        byState.put("backoff", 1.0);
        byState.put("waiting", 0.0);
        byState.put("failed", 1.0);
        byState.put("stopped", 1.0);
        assertEquals(byState, values(samples, "emperor_vassals"));
        assertEquals(Map.of("", 9.0), values(samples, "emperor_spawns_total"));
        assertEquals(Map.of("", 5.0), values(samples, "emperor_restarts_total"));
        assertEquals(Map.of("clean", 1.0, "error", 0.0, "signal", 2.0, "stopped", 0.0, "spawn_failed", 0.0),
                values(samples, "emperor_exits_total"));
        assertEquals(Map.of("", 0.0015), values(samples, "emperor_loop_lag_seconds"));

        Map<String, Double> up = values(samples, "emperor_vassal_up");
        assertEquals(1.0, up.get(UwsgiStatsTest.NASTY));
        assertEquals(1.0, up.get(QUOTED), "reloading counts as up; the label value survives escaping");
        assertEquals(0.0, up.get("flappy"));
        assertEquals(6, up.size());
        assertEquals(2.0, values(samples, "emperor_vassal_restarts_total").get(QUOTED));
        assertEquals(30.5, values(samples, "emperor_vassal_uptime_seconds").get(QUOTED));
        assertEquals(3.5, values(samples, "emperor_vassal_backoff_seconds").get("flappy"));
        assertEquals(0.0, values(samples, "emperor_vassal_backoff_seconds").get("app"));
    }

    @Test
    void everyFamilyHasHelpAndTheRightType() throws Exception {
        Map<String, String> types = new LinkedHashMap<>();
        for (Sample s : parse(Metrics.prometheus(status()))) {
            assertTrue(!s.help().isEmpty(), s.name() + " has a HELP text");
            types.put(s.name(), s.type());
        }
        for (String counter : List.of("emperor_spawns_total", "emperor_restarts_total", "emperor_exits_total",
                "emperor_vassal_restarts_total")) {
            assertEquals("counter", types.get(counter), counter);
        }
        for (String gauge : List.of("emperor_info", "emperor_start_time_seconds", "emperor_vassals",
                "emperor_loop_lag_seconds", "emperor_control_connections", "emperor_control_pending_bytes",
                "emperor_io_runs", "emperor_io_probes", "emperor_log_tails", "emperor_log_tail_bytes", "emperor_vassal_up", "emperor_vassal_uptime_seconds",
                "emperor_vassal_backoff_seconds")) {
            assertEquals("gauge", types.get(gauge), gauge);
        }
    }

    /** What the control and I/O threads hold: a leak of connections, answer bytes, runs or probes shows here. */
    @Test
    void theThreadsFiguresAreGauges() throws Exception {
        List<Sample> samples = parse(Metrics.prometheus(status()));
        assertEquals(Map.of("", 3.0), values(samples, "emperor_control_connections"));
        assertEquals(Map.of("", 4096.0), values(samples, "emperor_control_pending_bytes"));
        assertEquals(Map.of("", 5.0), values(samples, "emperor_io_runs"));
        assertEquals(Map.of("", 2.0), values(samples, "emperor_io_probes"));
        assertEquals(Map.of("", 4.0), values(samples, "emperor_log_tails"));
        assertEquals(Map.of("", 65536.0), values(samples, "emperor_log_tail_bytes"));
    }

    /** What the notify socket read, the fds it closed and the runs it keeps something for (docs/stats.md). */
    @Test
    void theNotifySocketsFiguresAreCountersAndAGauge() throws Exception {
        List<Sample> samples = parse(Metrics.prometheus(status()));
        Map<String, String> types = new LinkedHashMap<>();
        for (Sample s : samples) {
            if (s.family().startsWith("emperor_notify")) {
                types.put(s.name(), s.type());
            }
        }
        assertEquals(Map.of("emperor_notify_datagrams_total", "counter", "emperor_notify_fds_closed_total", "counter",
                "emperor_notify_runs", "gauge"), types);
        assertEquals(Map.of("", 12.0), values(samples, "emperor_notify_datagrams_total"));
        assertEquals(Map.of("", 7.0), values(samples, "emperor_notify_fds_closed_total"));
        assertEquals(Map.of("", 1.0), values(samples, "emperor_notify_runs"));
    }

    @Test
    void writesEscapedLabelsAndPlainNumbers() {
        String text = Metrics.prometheus(status());
        assertTrue(text.contains("\nemperor_vassal_up{vassal=\"we\\\"ird\\\\\\nname\"} 1\n"), text);
        assertTrue(text.contains("\nemperor_start_time_seconds 1764429553.123\n"), text);
        assertTrue(text.contains("\n# TYPE emperor_spawns_total counter\nemperor_spawns_total 9\n"), text);
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void noVassalsStillListsEveryStateAndCause() throws Exception {
        EmperorStatus empty = new EmperorStatus("v", 1, 0, 0, "/", List.of(), false, 0, 0, 0, Map.of(), 0, List.of());
        List<Sample> samples = parse(Metrics.prometheus(empty));
        assertEquals(io.emperor.vassal.State.values().length, values(samples, "emperor_vassals").size());
        assertEquals(EmperorStatus.EXIT_CAUSES, List.copyOf(values(samples, "emperor_exits_total").keySet()));
        assertTrue(values(samples, "emperor_vassal_up").isEmpty());
    }
}
