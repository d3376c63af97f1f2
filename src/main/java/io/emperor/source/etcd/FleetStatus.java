package io.emperor.source.etcd;

import io.emperor.config.FleetSettings;
import io.emperor.control.Json;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@code emperor fleet status}: every node's vassals as published under {@code PREFIX/status/NODE/NAME}
 * (docs/fleet.md), read from etcd (no emperor is asked). A node whose emperor died is absent once its
 * lease expired. Called by {@code io.emperor.cli.FleetCommand} through {@link io.emperor.source.FleetLoader}.
 */
public final class FleetStatus {
    /** Exit statuses: 0, or 3 when etcd cannot be read (as for an emperor that cannot be reached). */
    static final int OK = 0;
    static final int UNREACHABLE = 3;

    private FleetStatus() {}

    /** Prints the table (or one line of JSON); the exit status. */
    public static int print(FleetSettings settings, String password, boolean json, PrintStream out, PrintStream err) {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "emperor-etcd-client");
            t.setDaemon(true);
            return t;
        });
        String root = settings.prefix() + "/status/";
        GetResponse r;
        try (Client client = EtcdSource.client(settings, password, executor)) {
            r = client.getKVClient().get(EtcdSource.bytes(root), GetOption.builder().isPrefix(true).build())
                    .get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            err.println("emperor: etcd " + String.join(",", settings.endpoints()) + ": " + EtcdSource.reason(e));
            return UNREACHABLE;
        } finally {
            executor.shutdownNow();
        }
        Map<String, Map<String, Object>> nodes = new TreeMap<>();
        for (KeyValue kv : r.getKvs()) {
            String[] parts = kv.getKey().toString(StandardCharsets.UTF_8).substring(root.length()).split("/", -1);
            if (parts.length != 2) {
                continue;
            }
            Object record;
            try {
                record = Json.parse(kv.getValue().toString(StandardCharsets.UTF_8));
            } catch (Json.ParseException e) {
                record = Map.of("name", parts[1], "state", "unreadable");
            }
            nodes.computeIfAbsent(parts[0], n -> new TreeMap<>()).put(parts[1], record);
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ok", true);
            m.put("revision", r.getHeader().getRevision());
            Map<String, Object> byNode = new LinkedHashMap<>();
            nodes.forEach((node, vassals) -> byNode.put(node, new ArrayList<>(vassals.values())));
            m.put("nodes", byNode);
            out.println(Json.write(m));
            return OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NODE", "NAME", "STATE", "PID", "UID", "RESTARTS", "LAST EXIT"});
        int count = 0;
        for (Map.Entry<String, Map<String, Object>> n : nodes.entrySet()) {
            for (Map.Entry<String, Object> v : n.getValue().entrySet()) {
                Map<?, ?> rec = v.getValue() instanceof Map<?, ?> m ? m : Map.of();
                rows.add(new String[] {n.getKey(), v.getKey(), text(rec.get("state")), number(rec.get("pid"), 0),
                        number(rec.get("uid"), -1), number(rec.get("restarts"), -1), text(rec.get("last_exit"))});
                count++;
            }
        }
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                sb.append(row[i]);
                if (i < row.length - 1) {
                    sb.append(" ".repeat(width[i] - row[i].length() + 2));
                }
            }
            out.println(sb.toString().stripTrailing());
        }
        out.println(count + " vassal(s) on " + nodes.size() + " node(s).");
        return OK;
    }

    private static String text(Object o) {
        return o == null ? "-" : escape(String.valueOf(o));
    }

    /** A pid (0: none), a uid (-1: none) or a count, as the status table shows them. */
    private static String number(Object o, long none) {
        return o instanceof Number n && n.longValue() != none ? String.valueOf(n.longValue()) : "-";
    }

    /** What another node wrote reaches this terminal without its control characters. */
    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0 ? String.format("\\x%02x", (int) c) : c);
        }
        return sb.toString();
    }
}
