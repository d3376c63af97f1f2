package io.emperor.config;

import java.nio.file.FileSystems;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code [emperor] tenant-listen = PATTERN…}: the addresses a tenant's vassal may {@code listen} on in tyrant
 * mode (docs/tyrant.md). Not set: any address the other rules allow (a TCP port from 1024 up; a unix path the
 * tenant may create). Set: each address must match one pattern as well. Pure.
 * <ul>
 *   <li>{@code HOST:PORTS}: HOST is an IPv4 address, {@code [IPV6]}, or {@code *} (any address, and
 *       {@code listen = *:PORT} too); PORTS is {@code *}, a port, or {@code LOW-HIGH} (inclusive).
 *       {@code 127.0.0.1:*}, {@code *:8000-8999}, {@code [::1]:8080}.</li>
 *   <li>{@code unix:GLOB}: an absolute path glob where {@code *} matches within one path component and
 *       {@code **} across them: {@code unix:/run/tenants/*}{@code /*.sock}, {@code unix:/srv/**}.</li>
 * </ul>
 */
public record TenantListen(List<String> patterns) {
    /** No restriction beyond tyrant mode's own rules. */
    public static final TenantListen ANY = new TenantListen(List.of());
    private static final Pattern PORTS = Pattern.compile("\\*|[0-9]{1,5}(-[0-9]{1,5})?");

    public TenantListen {
        patterns = List.copyOf(patterns);
        for (String p : patterns) {
            String problem = problem(p);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
        }
    }

    /** Whether the admin set any pattern. */
    public boolean restricted() {
        return !patterns.isEmpty();
    }

    /**
     * The patterns of a {@code tenant-listen} value (separated by spaces), or the first one's problem.
     *
     * @return the parsed value, or an error text for {@code file:line: tenant-listen: …}
     */
    public static Values.Converted<TenantListen> parse(String value) {
        List<String> patterns = new ArrayList<>();
        for (String word : value.trim().split("\\s+")) {
            if (word.isEmpty()) {
                continue;
            }
            String problem = problem(word);
            if (problem != null) {
                return Values.Converted.error(problem);
            }
            patterns.add(word);
        }
        if (patterns.isEmpty()) {
            return Values.Converted.error("needs at least one pattern (HOST:PORTS or unix:GLOB)");
        }
        return Values.Converted.ok(new TenantListen(patterns));
    }

    /** What is wrong with one pattern, or null. */
    static String problem(String p) {
        if (p.startsWith("unix:")) {
            String glob = p.substring("unix:".length());
            if (!glob.startsWith("/")) {
                return "a unix pattern needs an absolute path glob (unix:/run/tenants/*/*.sock): " + Values.quote(p);
            }
            try {
                matcher(glob);
            } catch (RuntimeException e) {
                return "not a path glob: " + Values.quote(p);
            }
            return null;
        }
        int colon = p.lastIndexOf(':');
        if (colon <= 0) {
            return "expected HOST:PORTS or unix:GLOB (e.g. 127.0.0.1:*, *:8000-8999): " + Values.quote(p);
        }
        String host = p.substring(0, colon);
        String ports = p.substring(colon + 1);
        if (!PORTS.matcher(ports).matches()) {
            return "PORTS must be *, a port or LOW-HIGH: " + Values.quote(p);
        }
        if (!ports.equals("*")) {
            int[] range = range(ports);
            if (range[0] < 1 || range[1] > 65535 || range[0] > range[1]) {
                return "ports are from 1 to 65535, LOW not above HIGH: " + Values.quote(p);
            }
        }
        if (!host.equals("*") && canonical(host) == null) {
            return "HOST must be *, an IP address or [IPV6]; no name is resolved: " + Values.quote(p);
        }
        return null;
    }

    /** Why {@code a} matches no pattern, or empty (also when nothing is restricted). */
    public Optional<String> refusal(Listen.Address a) {
        if (!restricted() || patterns.stream().anyMatch(p -> matches(p, a))) {
            return Optional.empty();
        }
        return Optional.of(a.text() + " is not allowed to tenants: tenant-listen allows only "
                + String.join(" ", patterns));
    }

    static boolean matches(String pattern, Listen.Address a) {
        if (pattern.startsWith("unix:")) {
            return a instanceof Listen.Address.Unix u && matcher(pattern.substring("unix:".length())).matches(u.path());
        }
        if (!(a instanceof Listen.Address.Inet inet)) {
            return false;
        }
        int colon = pattern.lastIndexOf(':');
        String host = pattern.substring(0, colon);
        String ports = pattern.substring(colon + 1);
        if (!ports.equals("*")) {
            int[] range = range(ports);
            if (inet.port() < range[0] || inet.port() > range[1]) {
                return false;
            }
        }
        return host.equals("*") || !inet.host().isEmpty() && canonical(host).equals(canonical(inet.host().indexOf(':') >= 0
                ? "[" + inet.host() + "]" : inet.host()));
    }

    private static PathMatcher matcher(String glob) {
        return FileSystems.getDefault().getPathMatcher("glob:" + glob);
    }

    private static int[] range(String ports) {
        int dash = ports.indexOf('-');
        int low = Integer.parseInt(dash < 0 ? ports : ports.substring(0, dash));
        int high = dash < 0 ? low : Integer.parseInt(ports.substring(dash + 1));
        return new int[] {low, high};
    }

    /** A literal host's canonical address text, or null: {@code 1.2.3.4}, {@code [::1]}; nothing is resolved. */
    private static String canonical(String host) {
        boolean bracketed = host.startsWith("[") && host.endsWith("]");
        String literal = bracketed ? host.substring(1, host.length() - 1) : host;
        boolean ok = bracketed ? literal.indexOf(':') >= 0 && literal.matches("[0-9A-Fa-f:.]+")
                : literal.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
        if (!ok) {
            return null;
        }
        try {
            return java.net.InetAddress.getByName(literal).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }
}
