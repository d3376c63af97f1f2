package io.emperor.config;

import java.nio.file.Path;

/**
 * The {@code control} and {@code stats} keys of {@code [emperor]} (docs/control.md, docs/stats.md).
 *
 * @param socket     the control socket, or null when {@code control} is empty (no socket)
 * @param configured whether {@code control} was given: then a socket that cannot be created stops
 *                   the start; the default one is only warned about (an emperor run by a user
 *                   cannot create {@code /run/emperor}), and the emperor runs without it
 * @param stats      the stats server's address ({@code HOST:PORT} or a unix socket path), or null
 */
public record ControlSettings(Path socket, boolean configured, String stats) {
    public static final Path DEFAULT_SOCKET = Path.of("/run/emperor/control.sock");
    public static final ControlSettings DEFAULTS = new ControlSettings(DEFAULT_SOCKET, false, null);
}
