package io.emperor.control;

import io.emperor.vassal.State;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The emperor's Prometheus metrics, in the text exposition format 0.0.4 ({@code GET /metrics} on
 * the stats server). Every family has {@code # HELP} and {@code # TYPE}; label values are escaped
 * ({@code \\}, {@code \"}, {@code \n}) since vassal names come from file names and may hold any
 * character. Families whose label set is known ({@code state}, {@code cause}) list every value,
 * 0 included, so that a rate or an alert does not see a series appear from nothing.
 */
public final class Metrics {
    private Metrics() {}

    public static String prometheus(EmperorStatus s) {
        StringBuilder out = new StringBuilder(1024 + 256 * s.vassals().size());

        family(out, "emperor_info", "gauge", "The emperor's version, as a label; always 1.");
        sample(out, "emperor_info", "version", s.version(), "1");

        family(out, "emperor_start_time_seconds", "gauge", "When the emperor started, in Unix seconds.");
        sample(out, "emperor_start_time_seconds", null, null, seconds(s.startedAt()));

        Map<String, Long> byState = new LinkedHashMap<>();
        for (State state : State.values()) {
            byState.put(state.label(), 0L);
        }
        for (VassalStatus v : s.vassals()) {
            byState.merge(v.state(), 1L, Long::sum);
        }
        family(out, "emperor_vassals", "gauge", "Vassals by state.");
        byState.forEach((state, count) -> sample(out, "emperor_vassals", "state", state, Long.toString(count)));

        family(out, "emperor_spawns_total", "counter", "Vassal processes started since the emperor started.");
        sample(out, "emperor_spawns_total", null, null, Long.toString(s.spawns()));

        family(out, "emperor_restarts_total", "counter",
                "Of those, restarts: after an exit, a reload by restart or an operator restart.");
        sample(out, "emperor_restarts_total", null, null, Long.toString(s.restarts()));

        family(out, "emperor_exits_total", "counter", "Vassal process exits since the emperor started, by cause.");
        for (String cause : EmperorStatus.EXIT_CAUSES) {
            sample(out, "emperor_exits_total", "cause", cause, Long.toString(s.exits().getOrDefault(cause, 0L)));
        }

        family(out, "emperor_loop_lag_seconds", "gauge",
                "How long the request for these metrics waited in the emperor loop's queue.");
        sample(out, "emperor_loop_lag_seconds", null, null, number(s.loopLagMillis() / 1000.0));

        EmperorStatus.Internals in = s.internals();
        family(out, "emperor_control_connections", "gauge", "Clients connected to the control socket.");
        sample(out, "emperor_control_connections", null, null, Integer.toString(in.controlConnections()));

        family(out, "emperor_control_pending_bytes", "gauge",
                "Answer bytes held for control clients that do not read them yet.");
        sample(out, "emperor_control_pending_bytes", null, null, Long.toString(in.controlPendingBytes()));

        family(out, "emperor_io_runs", "gauge",
                "Vassal processes the I/O thread watches (their output and exit), each until it is reaped.");
        sample(out, "emperor_io_runs", null, null, Integer.toString(in.ioRuns()));

        family(out, "emperor_io_probes", "gauge", "Runs whose readiness (ready = tcp: or unix:) is being probed.");
        sample(out, "emperor_io_probes", null, null, Integer.toString(in.ioProbes()));

        family(out, "emperor_log_tails", "gauge", "Vassals whose last lines are kept in memory (emperor logs).");
        sample(out, "emperor_log_tails", null, null, Integer.toString(in.tails()));

        family(out, "emperor_log_tail_bytes", "gauge", "What the kept lines cost in memory, their objects included.");
        sample(out, "emperor_log_tail_bytes", null, null, Long.toString(in.tailBytes()));

        family(out, "emperor_notify_datagrams_total", "counter",
                "Datagrams read from the vassals' notify socket, dropped ones included.");
        sample(out, "emperor_notify_datagrams_total", null, null, Long.toString(in.notifyDatagrams()));

        family(out, "emperor_notify_fds_closed_total", "counter",
                "File descriptors that came with notify datagrams (SCM_RIGHTS), each closed at once.");
        sample(out, "emperor_notify_fds_closed_total", null, null, Long.toString(in.notifyFdsClosed()));

        family(out, "emperor_notify_runs", "gauge",
                "Runs whose notify messages are kept until the emperor loop takes them.");
        sample(out, "emperor_notify_runs", null, null, Integer.toString(in.notifyRuns()));

        family(out, "emperor_vassal_up", "gauge", "1 while the vassal's process runs (running or reloading), else 0.");
        for (VassalStatus v : s.vassals()) {
            boolean up = v.state().equals(State.RUNNING.label()) || v.state().equals(State.RELOADING.label());
            sample(out, "emperor_vassal_up", "vassal", v.name(), up ? "1" : "0");
        }

        family(out, "emperor_vassal_restarts_total", "counter", "Processes started for the vassal after its first.");
        for (VassalStatus v : s.vassals()) {
            sample(out, "emperor_vassal_restarts_total", "vassal", v.name(), Long.toString(v.restarts()));
        }

        family(out, "emperor_vassal_uptime_seconds", "gauge", "How long the vassal's current process has run; 0 if none.");
        for (VassalStatus v : s.vassals()) {
            sample(out, "emperor_vassal_uptime_seconds", "vassal", v.name(), seconds(v.uptimeMillis()));
        }

        family(out, "emperor_vassal_backoff_seconds", "gauge", "Time left before the next try of a vassal in backoff; 0 otherwise.");
        for (VassalStatus v : s.vassals()) {
            long left = v.state().equals(State.BACKOFF.label()) ? v.backoffMillis() : 0;
            sample(out, "emperor_vassal_backoff_seconds", "vassal", v.name(), seconds(left));
        }
        return out.toString();
    }

    /** The HELP texts are constants without backslashes or newlines, so they need no escaping. */
    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String label, String labelValue, String value) {
        out.append(name);
        if (label != null) {
            out.append('{').append(label).append("=\"");
            escapeLabelValue(out, labelValue);
            out.append("\"}");
        }
        out.append(' ').append(value).append('\n');
    }

    /** The format's only escapes in a label value: backslash, double quote and line feed. */
    private static void escapeLabelValue(StringBuilder out, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    private static String seconds(long millis) {
        return number(millis / 1000.0);
    }

    /**
     * A sample value: integers without a fraction, others in plain decimal ({@code 1764433153.123},
     * not Java's {@code 1.764433153123E9}, which parsers accept but people read badly).
     */
    private static String number(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "+Inf" : "-Inf";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return BigDecimal.valueOf(d).toPlainString();
    }
}
