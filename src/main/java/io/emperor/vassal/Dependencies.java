package io.emperor.vassal;

import io.emperor.config.Order;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The dependency graph of {@code requires} and {@code after} (issue 17), pure: what one vassal
 * waits for given the others' states, and the cycles among the files. No processes, no clock.
 *
 * <ul>
 *   <li>{@code requires = NAME}: wait until NAME is ready. NAME not there (no such file, removed),
 *       stopped by an operator, refused, or stopping for good: a running dependent is stopped
 *       ({@link Wait#stop}) and starts again once NAME is back and ready. NAME only not ready
 *       (starting, crashed and respawning, backing off): a running dependent is left alone.</li>
 *   <li>{@code after = NAME}: ordering only. While NAME exists and has not got ready (starting,
 *       waiting itself), wait; a NAME that does not exist, stopped or failed is no reason to wait.</li>
 *   <li>A cycle through {@code requires} and {@code after} edges (among names that exist) can
 *       never start: {@link #cycles} finds each, and the loop refuses every vassal in it.</li>
 * </ul>
 */
public final class Dependencies {
    private Dependencies() {}

    /**
     * What a vassal with {@code order} waits for now.
     *
     * @param vassals  every vassal the loop knows, by name
     * @param existing the names whose current file parses and is not refused, including those
     *                 the loop has not stepped yet (a scan is applied file by file: a vassal
     *                 listed later in the same scan is "starting", not missing)
     */
    public static Wait of(Order order, Map<String, Vassal> vassals, Set<String> existing) {
        return of(order, vassals::get, existing::contains);
    }

    /**
     * The same, with what the vassal may see of the others: {@code vassal} gives null, and
     * {@code exists} false, for a name it must not depend on (another tenant's, in tyrant mode).
     */
    public static Wait of(Order order, java.util.function.Function<String, Vassal> vassal,
                          java.util.function.Predicate<String> exists) {
        List<String> reasons = new ArrayList<>();
        boolean stop = false;
        for (String name : order.requires()) {
            Vassal r = vassal.apply(name);
            if (r == null) {
                boolean known = exists.test(name);
                reasons.add(name + (known ? " (starting)" : " (no such vassal)"));
                stop |= !known;
                continue;
            }
            // An on-demand vassal waiting for a connection is there for its dependents: its sockets
            // are held, and their first connection starts it (issue 15).
            if (r.isReady() || r.waitsForConnection()) {
                continue;
            }
            String why = switch (r.state()) {
                case STARTING -> "starting";
                case RUNNING, RELOADING -> "not ready";
                case BACKOFF -> "backoff";
                case WAITING -> "waiting";
                case STOPPED -> "stopped";
                case FAILED -> "failed";
                case STOPPING -> switch (r.after()) {
                    case RESTART -> "restarting";
                    // Going back to waiting for a connection (byte 22 on demand)
                    case ON_DEMAND -> "restarting";
                    // Its own stop (STOPPING=1) or a watchdog abort: respawned like a crash
                    case RESPAWN, WATCHDOG -> "restarting";
                    case BACKOFF -> "not ready";
                    case NOTHING -> "stopped";
                    case FORGET -> "removed";
                };
            };
            reasons.add(name + " (" + why + ")");
            stop |= gone(r);
        }
        for (String name : order.after()) {
            Vassal a = vassal.apply(name);
            if (a == null) {
                if (exists.test(name)) {
                    reasons.add(name + " (starting)");
                }
                continue;
            }
            switch (a.state()) {
                case STARTING -> reasons.add(name + " (starting)");
                case WAITING -> {
                    if (!a.waitsForConnection()) {
                        reasons.add(name + " (waiting)");
                    }
                }
                case RUNNING, RELOADING -> {
                    if (!a.isReady()) {
                        reasons.add(name + " (not ready)");
                    }
                }
                default -> { }
            }
        }
        return reasons.isEmpty() ? Wait.NONE : new Wait(reasons, stop);
    }

    /**
     * Whether a required vassal is gone for its dependents: stopped by an operator, refused,
     * stopping for good, or waiting because one of its own requirements is gone (the stop
     * propagates down a chain).
     */
    private static boolean gone(Vassal r) {
        return switch (r.state()) {
            case STOPPED, FAILED -> true;
            case WAITING -> r.waits().stop();
            case STOPPING -> r.after() == Vassal.After.NOTHING || r.after() == Vassal.After.FORGET;
            default -> false;
        };
    }

    /**
     * The cycles among {@code orders} (name -> its order), each once, as the path that names it
     * ({@code [a, b, a]}), with the members of its strongly connected component; edges to names
     * not in {@code orders} do not count. Sorted, so the same files give the same lines.
     */
    public static List<Cycle> cycles(Map<String, Order> orders) {
        Tarjan t = new Tarjan(new TreeMap<>(orders));
        for (String name : t.orders.keySet()) {
            if (!t.index.containsKey(name)) {
                t.visit(name);
            }
        }
        List<Cycle> cycles = new ArrayList<>();
        for (Set<String> component : t.components) {
            cycles.add(new Cycle(path(component, t.orders), List.copyOf(component)));
        }
        cycles.sort((x, y) -> x.members().get(0).compareTo(y.members().get(0)));
        return cycles;
    }

    /**
     * A cycle of vassals that wait for each other.
     *
     * @param path    from its smallest name back to it, {@code [a, b, a]}
     * @param members every vassal that cannot start because of it (its strongly connected component), sorted
     */
    public record Cycle(List<String> path, List<String> members) {
        /** {@code a -> b -> a} */
        public String text() {
            return String.join(" -> ", path);
        }
    }

    private static List<String> edges(Order o, Map<String, Order> orders) {
        List<String> out = new ArrayList<>();
        for (String n : o.requires()) {
            if (orders.containsKey(n)) {
                out.add(n);
            }
        }
        for (String n : o.after()) {
            if (orders.containsKey(n) && !out.contains(n)) {
                out.add(n);
            }
        }
        out.sort(null);
        return out;
    }

    /** A shortest cycle through the component's smallest name (breadth first, inside the component). */
    private static List<String> path(Set<String> component, Map<String, Order> orders) {
        String start = component.iterator().next();
        Map<String, String> parent = new HashMap<>();
        Deque<String> queue = new ArrayDeque<>();
        queue.add(start);
        while (!queue.isEmpty()) {
            String at = queue.poll();
            for (String next : edges(orders.get(at), orders)) {
                if (!component.contains(next)) {
                    continue;
                }
                if (next.equals(start)) {
                    List<String> path = new ArrayList<>();
                    path.add(start);
                    for (String p = at; !p.equals(start); p = parent.get(p)) {
                        path.add(1, p);
                    }
                    path.add(start);
                    return path;
                }
                if (!parent.containsKey(next)) {
                    parent.put(next, at);
                    queue.add(next);
                }
            }
        }
        throw new IllegalStateException("no cycle in component " + component);
    }

    /** Tarjan's strongly connected components; only those of two or more vassals are kept. */
    private static final class Tarjan {
        final Map<String, Order> orders;
        final Map<String, Integer> index = new HashMap<>();
        final Map<String, Integer> low = new HashMap<>();
        final Deque<String> stack = new ArrayDeque<>();
        final Set<String> onStack = new java.util.HashSet<>();
        final List<Set<String>> components = new ArrayList<>();

        Tarjan(Map<String, Order> orders) {
            this.orders = orders;
        }

        void visit(String v) {
            index.put(v, index.size());
            low.put(v, index.get(v));
            stack.push(v);
            onStack.add(v);
            for (String w : edges(orders.get(v), orders)) {
                if (!index.containsKey(w)) {
                    visit(w);
                    low.put(v, Math.min(low.get(v), low.get(w)));
                } else if (onStack.contains(w)) {
                    low.put(v, Math.min(low.get(v), index.get(w)));
                }
            }
            if (low.get(v).equals(index.get(v))) {
                Set<String> component = new TreeSet<>();
                String w;
                do {
                    w = stack.pop();
                    onStack.remove(w);
                    component.add(w);
                } while (!w.equals(v));
                if (component.size() > 1) {
                    components.add(component);
                }
            }
        }
    }
}
