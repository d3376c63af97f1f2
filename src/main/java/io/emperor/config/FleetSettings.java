package io.emperor.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The fleet's keys of {@code [emperor]} (docs/fleet.md): where the etcd cluster is, which prefix is
 * ours, who this node is. No {@code etcd} key: no fleet, and nothing of the etcd client is loaded.
 *
 * @param endpoints    {@code etcd = URL[,URL…]}: {@code http://} or {@code https://} endpoints; empty: no fleet
 * @param prefix       {@code etcd-prefix}: absolute, without a trailing slash (default {@value #DEFAULT_PREFIX})
 * @param node         {@code node}: this emperor's name in the fleet (default: the host name)
 * @param ttl          {@code etcd-ttl}: seconds, at least 2 (default 10): the lease of the status keys and
 *                     slots, and how long an outage lasts before placed vassals are fenced
 * @param cacert       {@code etcd-cacert}: the CA that signs the servers' certificates (https), or null
 * @param cert         {@code etcd-cert}: this client's certificate (with {@code etcd-key}), or null
 * @param key          {@code etcd-key}: its private key (PKCS#8 PEM), or null
 * @param user         {@code etcd-user}: the etcd user (with {@code etcd-password-file}), or null
 * @param passwordFile {@code etcd-password-file}: the file whose first line is that user's password, or null
 */
public record FleetSettings(List<String> endpoints, String prefix, String node, Duration ttl, Path cacert,
                            Path cert, Path key, String user, Path passwordFile) {
    public static final String DEFAULT_PREFIX = "/emperor";
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);
    /** The keys this record reads, for {@link EmperorConfigParser#KEYS}. */
    static final List<String> KEYS = List.of("etcd", "etcd-prefix", "node", "etcd-ttl", "etcd-cacert", "etcd-cert",
            "etcd-key", "etcd-user", "etcd-password-file");
    public static final FleetSettings NONE = new FleetSettings(List.of(), DEFAULT_PREFIX, null, DEFAULT_TTL, null,
            null, null, null, null);

    public FleetSettings {
        endpoints = List.copyOf(endpoints);
    }

    /** Whether there is a fleet at all ({@code etcd} is set). */
    public boolean enabled() {
        return !endpoints.isEmpty();
    }

    /** A node name, a user name: one key segment of letters, digits, {@code . _ -}, not {@code .} or {@code ..}. */
    public static boolean segment(String s) {
        if (s == null || s.isEmpty() || s.length() > 253 || s.equals(".") || s.equals("..")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
                    || c == '-')) {
                return false;
            }
        }
        return true;
    }

    static FleetSettings parse(ExpandedSection section, Path dir, String hostname, Problems problems) {
        Optional<IniEntry> etcd = section.last("etcd");
        List<String> endpoints = new ArrayList<>();
        boolean https = false;
        if (etcd.isPresent() && !etcd.get().value().isBlank()) {
            for (String raw : etcd.get().value().split(",")) {
                String url = raw.strip();
                if (!url.startsWith("http://") && !url.startsWith("https://")) {
                    problems.error(etcd.get(), "expected http://HOST:PORT or https://HOST:PORT endpoints separated by"
                            + " commas, got '" + url + "'");
                    continue;
                }
                String rest = url.substring(url.indexOf("://") + 3);
                if (rest.isEmpty() || rest.contains("/") && rest.indexOf('/') != rest.length() - 1) {
                    problems.error(etcd.get(), "an endpoint is a scheme, a host and a port, without a path: '"
                            + url + "'");
                    continue;
                }
                https |= url.startsWith("https://");
                endpoints.add(url);
            }
            if (https && endpoints.stream().anyMatch(u -> u.startsWith("http://"))) {
                problems.error(etcd.get(), "mixes http:// and https:// endpoints; use one scheme");
            }
        }
        String prefix = DEFAULT_PREFIX;
        Optional<IniEntry> p = section.last("etcd-prefix");
        if (p.isPresent()) {
            String v = p.get().value();
            while (v.length() > 1 && v.endsWith("/")) {
                v = v.substring(0, v.length() - 1);
            }
            boolean ok = v.startsWith("/") && v.length() > 1;
            for (String part : ok ? v.substring(1).split("/", -1) : new String[0]) {
                ok &= segment(part);
            }
            if (ok) {
                prefix = v;
            } else {
                problems.error(p.get(), "expected an absolute key prefix such as /emperor (segments of letters,"
                        + " digits, '.', '_' and '-'), got '" + p.get().value() + "'");
            }
        }
        String node = hostname;
        Optional<IniEntry> n = section.last("node");
        if (n.isPresent()) {
            if (segment(n.get().value())) {
                node = n.get().value();
            } else {
                problems.error(n.get(), "expected a node name of letters, digits, '.', '_' and '-', got '"
                        + n.get().value() + "'");
            }
        } else if (!segment(node)) {
            node = null;
            if (!endpoints.isEmpty()) {
                problems.error(etcd.get(), "the host name '" + hostname + "' cannot be a node name: set node");
            }
        }
        Duration ttl = section.last("etcd-ttl").map(e -> {
            Values.Converted<Duration> c = Values.seconds(e.value(), 2, false, 3600);
            if (!c.isOk()) {
                problems.error(e, c.error());
                return DEFAULT_TTL;
            }
            return c.value();
        }).orElse(DEFAULT_TTL);
        Path cacert = path(section, "etcd-cacert", dir, problems);
        Path cert = path(section, "etcd-cert", dir, problems);
        Path key = path(section, "etcd-key", dir, problems);
        if ((cert == null) != (key == null)) {
            problems.error(section.last(cert == null ? "etcd-key" : "etcd-cert").orElseThrow(),
                    "etcd-cert and etcd-key go together (a client certificate and its key)");
        }
        if ((cacert != null || cert != null) && !https && !endpoints.isEmpty()) {
            problems.error(section.last(cacert != null ? "etcd-cacert" : "etcd-cert").orElseThrow(),
                    "TLS keys need https:// endpoints");
        }
        String user = section.last("etcd-user").map(IniEntry::value).filter(v -> !v.isEmpty()).orElse(null);
        Path passwordFile = path(section, "etcd-password-file", dir, problems);
        if ((user == null) != (passwordFile == null)) {
            problems.error(section.last(user == null ? "etcd-password-file" : "etcd-user").orElseThrow(),
                    "etcd-user and etcd-password-file go together");
        }
        if (endpoints.isEmpty()) {
            return NONE; // no fleet: the other keys are checked, and change nothing
        }
        return new FleetSettings(endpoints, prefix, node, ttl, cacert, cert, key, user, passwordFile);
    }

    private static Path path(ExpandedSection section, String name, Path dir, Problems problems) {
        Optional<IniEntry> e = section.last(name);
        if (e.isEmpty() || e.get().value().isEmpty()) {
            return null;
        }
        Values.Converted<Path> c = Values.path(e.get().value(), dir);
        if (!c.isOk()) {
            problems.error(e.get(), c.error());
            return null;
        }
        return c.value();
    }
}
