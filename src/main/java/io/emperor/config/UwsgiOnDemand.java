package io.emperor.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The on-demand socket of a {@code [uwsgi]} vassal (issue 15, docs/sockets.md "uWSGI on demand"), as the
 * uWSGI Emperor resolves it (emperor.c, {@code emperor_check_on_demand_socket}): {@code on-demand-extension
 * = EXT} names the socket in the file {@code NAME.ini}+EXT (its content up to the first byte below 0x20;
 * empty: not on demand), else {@code on-demand-directory = DIR} gives the unix socket {@code DIR/NAME.socket}.
 * A name with a {@code :} is TCP ({@code 127.0.0.1:3031}, {@code :3031} for every address), anything
 * else a unix socket, relative to the vassal's directory. The vassal gets it on fd 0
 * ({@link Listen#stdin}), on demand. Pure: the file is read by the watcher thread
 * ({@code io.emperor.source.dir.OnDemandSockets}); the address is checked as a {@code listen} line is,
 * tyrant mode's rules included.
 */
public final class UwsgiOnDemand {
    /** A socket-name file holds a name, not a document: more is refused unread. */
    public static final int MAX_BYTES = 4096;
    /** uWSGI chmods an on-demand unix socket 0666 (emperor.c, {@code on_demand_bind}): nginx must connect to it. */
    static final int UNIX_MODE = 0666;

    private UwsgiOnDemand() {}

    /** The socket name in a socket-name file's content: up to the first byte below 0x20; empty when none. */
    public static Optional<String> socketName(byte[] content) {
        int end = 0;
        while (end < content.length && (content[end] & 0xff) >= 0x20) {
            end++;
        }
        String name = new String(content, 0, end, StandardCharsets.UTF_8).strip();
        return name.isEmpty() ? Optional.empty() : Optional.of(name);
    }

    /**
     * The spec with the socket {@code name} read from {@code from} (a socket-name file, or the
     * emperor.ini that names the directory), or the problems of the name, as {@code FROM:1: listen: …}.
     *
     * @param tyrant  a tenant's name: a port below 1024, or an address {@code allowed} does not name, is refused
     */
    public static Parsed<VassalSpec> withSocket(VassalSpec spec, Path from, String name, boolean tyrant,
                                                TenantListen allowed) {
        String line;
        boolean unix = name.indexOf(':') < 0;
        if (unix) {
            line = "unix:" + spec.file().getParent().resolve(name).normalize();
        } else {
            line = name;
        }
        Problems problems = new Problems(from);
        IniSection section = new IniSection(VassalParser.VASSAL, 0, List.of(new IniEntry("listen", line, 1)));
        Listen parsed = new ListenSection(ExpandedSection.literal(section, problems), tyrant, allowed, problems).listen();
        return problems.result(() -> spec.withListen(new Listen(parsed.addresses(), unix ? UNIX_MODE : -1,
                Listen.DEFAULT_BACKLOG, List.of(), true, true)));
    }

    /** {@code DIR/NAME.socket}: the on-demand-directory socket of a vassal. */
    public static String directorySocket(Path dir, String vassalName) {
        return dir.resolve(vassalName + ".socket").toString();
    }
}
