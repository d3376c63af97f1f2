package io.emperor.config;

import java.nio.file.Path;

/**
 * When a run of a vassal counts as ready, so that the vassals that {@code requires} or
 * {@code after} it may start (the {@code ready} key, docs/vassal.ini.5.md). However it is
 * learned, a run becomes ready through one lifecycle event ({@code io.emperor.vassal.Event.Ready}).
 */
public sealed interface Readiness {

    /** The value as written in a file ({@code started}, {@code tcp:127.0.0.1:8100} …). */
    String text();

    /** {@code ready = started}: ready once the program runs (the exec helper reached exec). */
    record Started() implements Readiness {
        public String text() {
            return "started";
        }
    }

    /** {@code ready = notify}: ready when the vassal sends {@code READY=1} on {@code NOTIFY_SOCKET}. */
    record Notify() implements Readiness {
        public String text() {
            return "notify";
        }
    }

    /**
     * The default of a {@code [uwsgi]} vassal: ready when uWSGI says on its emperor channel that it
     * accepts requests (byte 5). Not written in files: a uWSGI vassal without {@code ready} has it.
     */
    record UwsgiAccepting() implements Readiness {
        public String text() {
            return "accepting";
        }
    }

    /**
     * {@code ready = tcp:HOST:PORT}: ready when a TCP connection to that address succeeds.
     *
     * @param host an IP address literal (IPv6 without brackets); never a name to resolve
     * @param port 1 to 65535
     */
    record Tcp(String host, int port) implements Readiness {
        public String text() {
            return "tcp:" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /**
     * {@code ready = unix:PATH}: ready when a connection to that unix stream socket succeeds.
     *
     * @param path absolute, normalized
     */
    record Unix(Path path) implements Readiness {
        public String text() {
            return "unix:" + path;
        }
    }

    Readiness STARTED = new Started();
    Readiness NOTIFY = new Notify();
    Readiness UWSGI_ACCEPTING = new UwsgiAccepting();
}
