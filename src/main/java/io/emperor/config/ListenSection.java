package io.emperor.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The socket keys of a {@code [vassal]} section (issue 15, docs/sockets.md): {@code listen} (repeatable),
 * {@code listen-mode}, {@code listen-backlog}, {@code listen-names}, {@code on-demand}. Pure; every problem is
 * {@code file:line: key: what}. An address is a literal, never resolved: {@code HOST:PORT} (IPv4),
 * {@code [IPV6]:PORT}, {@code *:PORT} or {@code :PORT} (every address), {@code unix:/ABSOLUTE/PATH}. In tyrant
 * mode a TCP port below 1024 is refused here, where the line is known, and {@link TenantListen} says which
 * addresses the admin allows.
 */
final class ListenSection {
    static final List<String> KEYS = List.of("listen", "listen-mode", "listen-backlog", "listen-names", "on-demand");
    /** The most {@code listen} lines a vassal may have (systemd passes at most a few; a tenant gets no more). */
    static final int MAX_LISTEN = 16;
    /** systemd's bound on an fd name (sd_listen_fds_with_names(3)). */
    static final int MAX_NAME = 255;
    /** Ports below this need privileges: refused to a tenant. */
    static final int FIRST_UNPRIVILEGED_PORT = 1024;
    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
    private static final Pattern OCTAL = Pattern.compile("0?[0-7]{1,3}");

    private final ExpandedSection section;
    private final boolean tyrant;
    private final TenantListen allowed;
    private final Problems problems;
    private final Listen listen;

    /**
     * @param tyrant  tyrant mode: ports below 1024 and addresses {@code allowed} does not name are refused
     * @param allowed the admin's {@code tenant-listen}
     */
    ListenSection(ExpandedSection section, boolean tyrant, TenantListen allowed, Problems problems) {
        this.section = section;
        this.tyrant = tyrant;
        this.allowed = allowed;
        this.problems = problems;
        this.listen = parse();
    }

    Listen listen() {
        return listen;
    }

    private Listen parse() {
        List<Listen.Address> addresses = new ArrayList<>();
        Set<Listen.Address> seen = new HashSet<>();
        List<IniEntry> lines = section.all("listen");
        for (IniEntry e : lines) {
            Listen.Address a = address(e);
            if (a == null) {
                continue;
            }
            if (!seen.add(a)) {
                problems.error(e, a.text() + " is listed twice");
                continue;
            }
            if (tyrant) {
                Optional<String> refused = tenantRefusal(a);
                if (refused.isPresent()) {
                    problems.error(e, refused.get());
                    continue;
                }
            }
            addresses.add(a);
        }
        if (lines.size() > MAX_LISTEN) {
            problems.error(lines.get(MAX_LISTEN), "at most " + MAX_LISTEN + " listen lines");
        }
        int mode = section.last("listen-mode").map(this::mode).orElse(-1);
        int backlog = section.last("listen-backlog").map(this::backlog).orElse(Listen.DEFAULT_BACKLOG);
        List<String> names = section.last("listen-names").map(e -> names(e, lines.size())).orElse(List.of());
        boolean onDemand = section.last("on-demand").map(this::onDemand).orElse(false);
        if (lines.isEmpty()) {
            for (String key : List.of("listen-mode", "listen-backlog", "listen-names", "on-demand")) {
                if (key.equals("on-demand") ? onDemand : section.has(key)) {
                    section.last(key).ifPresent(e -> problems.error(e, "needs a listen line"));
                }
            }
        } else if (mode >= 0 && addresses.stream().noneMatch(a -> a instanceof Listen.Address.Unix)
                && lines.stream().noneMatch(e -> e.value().startsWith("unix:"))) {
            section.last("listen-mode").ifPresent(e -> problems.error(e, "applies to unix sockets only, and no listen"
                    + " line is one"));
        }
        return new Listen(addresses, mode, backlog, names, onDemand, false);
    }

    /** Why tyrant mode refuses {@code a}, or empty. */
    private Optional<String> tenantRefusal(Listen.Address a) {
        if (a instanceof Listen.Address.Inet inet && inet.port() < FIRST_UNPRIVILEGED_PORT) {
            return Optional.of("port " + inet.port() + " is below " + FIRST_UNPRIVILEGED_PORT
                    + ": refused in tyrant mode (a tenant may not take a privileged port); use a port from 1024 up");
        }
        return allowed.refusal(a);
    }

    private Listen.Address address(IniEntry e) {
        String v = e.value();
        if (v.startsWith("unix:")) {
            String path = v.substring("unix:".length());
            if (!path.startsWith("/")) {
                problems.error(e, "a unix socket path must be absolute (unix:/run/app.sock): " + Values.quote(v));
                return null;
            }
            if (path.indexOf('\0') >= 0) {
                problems.error(e, "a unix socket path must not contain a NUL: " + Values.quote(v));
                return null;
            }
            if (path.getBytes(StandardCharsets.UTF_8).length > OrderSection.MAX_UNIX_PATH) {
                problems.error(e, "a unix socket path has at most " + OrderSection.MAX_UNIX_PATH + " bytes: "
                        + Values.quote(v));
                return null;
            }
            Path p = Path.of(path).normalize();
            if (p.getNameCount() == 0 || path.endsWith("/")) {
                problems.error(e, "a unix socket path must name a file: " + Values.quote(v));
                return null;
            }
            return new Listen.Address.Unix(p);
        }
        int colon = v.lastIndexOf(':');
        if (colon < 0) {
            problems.error(e, "expected HOST:PORT, [IPV6]:PORT, *:PORT or unix:/PATH (e.g. 127.0.0.1:8000): "
                    + Values.quote(v));
            return null;
        }
        String host = v.substring(0, colon);
        String port = v.substring(colon + 1);
        if (!PORT.matcher(port).matches() || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            problems.error(e, "the port must be a number from 1 to 65535: " + Values.quote(port));
            return null;
        }
        int n = Integer.parseInt(port);
        if (host.isEmpty() || host.equals("*")) {
            return new Listen.Address.Inet("", n);
        }
        boolean bracketed = host.startsWith("[") && host.endsWith("]");
        String literal = bracketed ? host.substring(1, host.length() - 1) : host;
        boolean v4 = !bracketed && IPV4.matcher(literal).matches();
        boolean v6 = bracketed && literal.indexOf(':') >= 0 && IPV6.matcher(literal).matches();
        if (v4 || v6) {
            try {
                // A literal: no name service is asked. The canonical text, so that 127.000.0.1 is 127.0.0.1.
                String canonical = InetAddress.getByName(literal).getHostAddress();
                if (v6 && canonical.indexOf(':') < 0) {
                    canonical = "::ffff:" + canonical; // [::ffff:1.2.3.4] stays an IPv6 socket
                }
                return new Listen.Address.Inet(v6 ? compress(canonical) : canonical, n);
            } catch (UnknownHostException bad) {
                // falls through to the error
            }
        }
        problems.error(e, "HOST must be an IP address ([...] for IPv6) or *; no name is resolved: "
                + Values.quote(host));
        return null;
    }

    /** An IPv6 address in its shortest form ({@code 0:0:0:0:0:0:0:1} is {@code ::1}), as RFC 5952 writes it. */
    static String compress(String v6) {
        int scope = v6.indexOf('%');
        String addr = scope < 0 ? v6 : v6.substring(0, scope);
        if (addr.contains("::") || addr.contains(".")) {
            return v6;
        }
        String[] groups = addr.split(":");
        if (groups.length != 8) {
            return v6;
        }
        for (int i = 0; i < 8; i++) {
            groups[i] = groups[i].replaceFirst("^0+(?=.)", "").toLowerCase(java.util.Locale.ROOT);
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (!groups[i].equals("0")) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j].equals("0")) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        if (bestStart < 0) {
            return String.join(":", groups);
        }
        String head = String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart));
        String tail = String.join(":", java.util.Arrays.copyOfRange(groups, bestStart + bestLen, 8));
        return head + "::" + tail;
    }

    private int mode(IniEntry e) {
        if (!OCTAL.matcher(e.value()).matches()) {
            problems.error(e, "must be octal permission bits, such as 0660: " + Values.quote(e.value()));
            return -1;
        }
        return Integer.parseInt(e.value(), 8);
    }

    private int backlog(IniEntry e) {
        if (!PORT.matcher(e.value()).matches() || Integer.parseInt(e.value()) < 1
                || Integer.parseInt(e.value()) > 65535) {
            problems.error(e, "must be a number from 1 to 65535: " + Values.quote(e.value()));
            return Listen.DEFAULT_BACKLOG;
        }
        return Integer.parseInt(e.value());
    }

    /** {@code LISTEN_FDNAMES}: one name per {@code listen} line, separated by spaces or commas. */
    private List<String> names(IniEntry e, int listens) {
        List<String> names = new ArrayList<>();
        for (String n : e.value().split("[\\s,]+")) {
            if (!n.isEmpty()) {
                names.add(n);
            }
        }
        for (String n : names) {
            if (n.length() > MAX_NAME) {
                problems.error(e, "a name has at most " + MAX_NAME + " characters: " + Values.quote(n));
                return List.of();
            }
            if (n.chars().anyMatch(ch -> ch == ':' || ch < 0x20 || ch >= 0x7f)) {
                problems.error(e, "a name is printable ASCII without ':' (systemd's rule): "
                        + Values.quote(n));
                return List.of();
            }
        }
        if (listens > 0 && names.size() != listens) {
            problems.error(e, names.size() + " names for " + listens + " listen lines: give one name per listen line");
            return List.of();
        }
        return names;
    }

    private boolean onDemand(IniEntry e) {
        return switch (e.value()) {
            case "true" -> true;
            case "false" -> false;
            default -> {
                problems.error(e, "must be true or false: " + Values.quote(e.value()));
                yield false;
            }
        };
    }
}
