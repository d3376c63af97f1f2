package io.emperor.config;

import java.time.Duration;
import java.util.List;

/**
 * What a vassal file says about order and readiness (issue 17; docs/vassal.ini.5.md, "Order and
 * readiness"): the keys of a {@code [vassal]} section, or of the {@code [emperor]} section of a
 * {@code [uwsgi]} file (and its {@code emperor} block in YAML, JSON and XML).
 *
 * @param requires     {@code requires}: vassals that must be ready before this one starts, and
 *                     whose removal or operator stop stops it; names in file order, each once
 * @param after        {@code after}: vassals that, when they exist, start (and get ready) before this one
 * @param ready        {@code ready}: when a run counts as ready
 * @param readyTimeout {@code ready-timeout}: a run not ready this long after its spawn fails;
 *                     {@link Duration#ZERO}: no limit (the default)
 * @param watchdog     {@code watchdog}: with {@code ready = notify}, the longest time between two
 *                     {@code WATCHDOG=1}; {@link Duration#ZERO}: off (the default)
 */
public record Order(List<String> requires, List<String> after, Readiness ready, Duration readyTimeout,
                    Duration watchdog) {

    /** A {@code [vassal]} file without any of the keys. */
    public static final Order PROGRAM = new Order(List.of(), List.of(), Readiness.STARTED, Duration.ZERO, Duration.ZERO);
    /** A {@code [uwsgi]} file without any of the keys: ready when uWSGI accepts. */
    public static final Order UWSGI = new Order(List.of(), List.of(), Readiness.UWSGI_ACCEPTING, Duration.ZERO,
            Duration.ZERO);

    public Order {
        requires = List.copyOf(requires);
        after = List.copyOf(after);
        java.util.Objects.requireNonNull(ready, "ready");
        java.util.Objects.requireNonNull(readyTimeout, "readyTimeout");
        java.util.Objects.requireNonNull(watchdog, "watchdog");
    }

    /** The defaults of a kind of vassal. */
    public static Order defaults(VassalSpec.Kind kind) {
        return kind == VassalSpec.Kind.UWSGI ? UWSGI : PROGRAM;
    }

    /** Whether this vassal names {@code other} in {@code requires} or {@code after}. */
    public boolean names(String other) {
        return requires.contains(other) || after.contains(other);
    }
}
