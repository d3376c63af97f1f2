package io.emperor.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The order and readiness keys (issue 17) of a {@code [vassal]} section or of the
 * {@code [emperor]} section of a {@code [uwsgi]} file: {@code requires}, {@code after},
 * {@code ready}, {@code ready-timeout}, {@code watchdog}. Every problem is collected as
 * {@code file:line: key: what}; {@code requires} and {@code after} accumulate over repeated lines.
 */
final class OrderSection {
    static final List<String> KEYS = List.of("requires", "after", "ready", "ready-timeout", "watchdog");
    /** The longest ready-timeout and watchdog: a day, as stop-timeout. */
    static final long MAX_SECONDS = 86400;
    /** At most this many names in requires and after together: a vassal needs a few, not a fleet. */
    static final int MAX_NAMES = 64;
    /** sun_path holds 108 bytes with the terminating NUL. */
    static final int MAX_UNIX_PATH = 107;
    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

    private final String self;
    private final Path dir;
    private final ExpandedSection section;
    private final Problems problems;
    private final Order order;

    /**
     * @param self the vassal's own name (it cannot require itself)
     * @param dir  the vassal file's directory (a relative {@code unix:PATH} is relative to it)
     * @param kind the kind of vassal, for the default of {@code ready}
     */
    OrderSection(String self, Path dir, VassalSpec.Kind kind, ExpandedSection section, Problems problems) {
        this.self = self;
        this.dir = dir;
        this.section = section;
        this.problems = problems;
        Order defaults = Order.defaults(kind);
        for (String key : List.of("ready", "ready-timeout", "watchdog")) {
            section.warnRepeated(key);
        }
        Set<String> seen = new LinkedHashSet<>();
        List<String> requires = names("requires", seen);
        List<String> after = names("after", seen);
        Readiness ready = section.last("ready").map(this::ready).orElse(defaults.ready());
        Duration readyTimeout = section.last("ready-timeout").map(e -> seconds(e, defaults.readyTimeout(), "0: no limit"))
                .orElse(defaults.readyTimeout());
        Duration watchdog = section.last("watchdog").map(e -> seconds(e, defaults.watchdog(), "0: off"))
                .orElse(defaults.watchdog());
        if (kind == VassalSpec.Kind.UWSGI && ready instanceof Readiness.Notify) {
            // uWSGI 2.0 under an emperor says it is ready on its emperor channel, never READY=1:
            // with notify it would stay starting for ever (vassal.ini(5), "The notify socket").
            section.last("ready").ifPresent(e -> problems.error(e, "notify: uWSGI under an emperor never sends"
                    + " READY=1 (it says it accepts on its emperor channel, which the default ready waits for);"
                    + " leave ready out, or use tcp:HOST:PORT or unix:PATH"));
        }
        if (!watchdog.isZero() && !(ready instanceof Readiness.Notify)) {
            section.last("watchdog").ifPresent(e -> problems.error(e,
                    "needs ready = notify (the vassal pings with WATCHDOG=1 on NOTIFY_SOCKET)"));
        }
        this.order = new Order(requires, after, ready, readyTimeout, watchdog);
    }

    Order order() {
        return order;
    }

    /** {@code NAME[, NAME…]}, commas and/or spaces between; each name once over both keys. */
    private List<String> names(String key, Set<String> seen) {
        List<String> names = new ArrayList<>();
        for (IniEntry e : section.all(key)) {
            String[] words = e.value().split("[,\\s]+");
            boolean any = false;
            for (String name : words) {
                if (name.isEmpty()) {
                    continue;
                }
                any = true;
                String bad = badName(name);
                if (bad != null) {
                    problems.error(e, bad + ": " + Values.quote(name));
                } else if (name.equals(self)) {
                    problems.error(e, "a vassal cannot wait for itself: " + Values.quote(name));
                } else if (!seen.add(name)) {
                    problems.warning(e, Values.quote(name) + " is named twice (requires and after);"
                            + " once is enough");
                } else if (seen.size() > MAX_NAMES) {
                    problems.error(e, "more than " + MAX_NAMES + " names in requires and after");
                    return names;
                } else {
                    names.add(name);
                }
            }
            if (!any) {
                problems.error(e, "needs one or more vassal names (NAME[, NAME...])");
            }
        }
        return names;
    }

    /** Why a word cannot be a vassal name (the file name without its extension), or null. */
    private static String badName(String name) {
        if (name.startsWith(".")) {
            return "not a vassal name (names do not start with .)";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c < 0x20 || c == 0x7f) {
                return "not a vassal name (a name has no / and no control character)";
            }
        }
        return null;
    }

    private Readiness ready(IniEntry e) {
        String v = e.value();
        if (v.equals("started")) {
            return Readiness.STARTED;
        }
        if (v.equals("notify")) {
            return Readiness.NOTIFY;
        }
        if (v.startsWith("tcp:")) {
            return tcp(e, v.substring("tcp:".length()));
        }
        if (v.startsWith("unix:")) {
            return unix(e, v.substring("unix:".length()));
        }
        problems.error(e, "must be started, notify, tcp:HOST:PORT or unix:PATH: " + Values.quote(v));
        return Readiness.STARTED;
    }

    /** {@code HOST:PORT}, HOST an IPv4 address, {@code [IPv6]} or {@code localhost}: nothing is resolved. */
    private Readiness tcp(IniEntry e, String address) {
        int colon = address.lastIndexOf(':');
        String host = colon < 0 ? "" : address.substring(0, colon);
        String port = colon < 0 ? "" : address.substring(colon + 1);
        if (host.isEmpty() || port.isEmpty()) {
            problems.error(e, "expected tcp:HOST:PORT (e.g. tcp:127.0.0.1:8100): " + Values.quote(e.value()));
            return Readiness.STARTED;
        }
        if (!PORT.matcher(port).matches() || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            problems.error(e, "the port must be a number from 1 to 65535: " + Values.quote(port));
            return Readiness.STARTED;
        }
        String literal = host.equals("localhost") ? "127.0.0.1"
                : host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        boolean v4 = IPV4.matcher(literal).matches();
        boolean v6 = host.startsWith("[") && literal.indexOf(':') >= 0 && IPV6.matcher(literal).matches();
        if (v4 || v6) {
            try {
                // A literal: no name service is asked.
                String canonical = InetAddress.getByName(literal).getHostAddress();
                return new Readiness.Tcp(v6 ? literal : canonical, Integer.parseInt(port));
            } catch (UnknownHostException bad) {
                // falls through to the error
            }
        }
        problems.error(e, "HOST must be an IP address ([...] for IPv6) or localhost; no name is resolved: "
                + Values.quote(host));
        return Readiness.STARTED;
    }

    private Readiness unix(IniEntry e, String path) {
        Values.Converted<Path> p = Values.path(path, dir);
        if (!p.isOk()) {
            problems.error(e, p.error());
            return Readiness.STARTED;
        }
        if (p.value().toString().getBytes(StandardCharsets.UTF_8).length > MAX_UNIX_PATH) {
            problems.error(e, "a unix socket path has at most " + MAX_UNIX_PATH + " bytes: " + Values.quote(path));
            return Readiness.STARTED;
        }
        return new Readiness.Unix(p.value());
    }

    private Duration seconds(IniEntry e, Duration fallback, String zero) {
        Values.Converted<Duration> d = Values.seconds(e.value(), 0, false, MAX_SECONDS);
        if (d.isOk()) {
            return d.value();
        }
        problems.error(e, d.error() + " (" + zero + ")");
        return fallback;
    }
}
