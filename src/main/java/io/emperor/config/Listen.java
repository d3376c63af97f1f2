package io.emperor.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The sockets the emperor binds and holds for a vassal (issue 15, docs/sockets.md): {@code listen},
 * {@code listen-mode}, {@code listen-backlog}, {@code listen-names}, {@code on-demand} of a
 * {@code [vassal]} section, or a uWSGI vassal's on-demand socket ({@code on-demand-extension},
 * {@code on-demand-directory} of the emperor). The emperor binds them before the first spawn and
 * keeps them for the vassal's whole life; the vassal gets them as fds 3, 4, … with
 * {@code LISTEN_FDS}, {@code LISTEN_PID} and {@code LISTEN_FDNAMES}, or a uWSGI vassal its one
 * socket on fd 0 ({@link #stdin}).
 *
 * @param addresses where to listen, in file order; empty: the emperor holds no socket
 * @param mode      the permission bits of a unix socket's file, or -1 for the default
 * @param backlog   the listen(2) backlog
 * @param names     {@code LISTEN_FDNAMES}, one per address (empty: the default names)
 * @param onDemand  no process until the first connection; an exit 0 goes back to waiting
 * @param stdin     the one socket goes on fd 0, as uWSGI's on-demand vassals expect, not on fd 3
 */
public record Listen(List<Address> addresses, int mode, int backlog, List<String> names, boolean onDemand,
                     boolean stdin) {
    /** listen(2)'s backlog when {@code listen-backlog} is not given (systemd's default, SOMAXCONN). */
    public static final int DEFAULT_BACKLOG = 4096;
    /** No socket held. */
    public static final Listen NONE = new Listen(List.of(), -1, DEFAULT_BACKLOG, List.of(), false, false);

    public Listen {
        addresses = List.copyOf(addresses);
        names = List.copyOf(names);
    }

    /** Whether the emperor holds any socket for the vassal. */
    public boolean any() {
        return !addresses.isEmpty();
    }

    /** Where a socket listens. */
    public sealed interface Address {
        /** As written in the file and shown by {@code status}: {@code 127.0.0.1:8080}, {@code [::1]:80}, {@code unix:/run/x.sock}. */
        String text();

        /** A TCP socket; {@code host} is a literal IPv4 or IPv6 address (no DNS), empty for every address. */
        record Inet(String host, int port) implements Address {
            @Override
            public String text() {
                return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
            }
        }

        /** A unix stream socket at an absolute path. */
        record Unix(Path path) implements Address {
            @Override
            public String text() {
                return "unix:" + path;
            }
        }
    }
}
