package io.emperor.systemd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;

/**
 * Sends sd_notify(3) datagrams to the socket named by {@code NOTIFY_SOCKET}: a path, or an
 * abstract name written with a leading {@code @} (jnr-unixsocket does not translate it, so this
 * class turns it into the leading NUL the kernel expects). Without {@code NOTIFY_SOCKET} every
 * send is a no-op. The JDK's own unix sockets have no datagrams and no abstract names (DESIGN §10).
 *
 * <p>The channel is non-blocking: a notify socket whose queue is full drops the message (and says
 * so) rather than stall the emperor loop, which is the only caller.
 */
public final class Notifier implements AutoCloseable {
    private final UnixSocketAddress address;
    private final String name;
    private UnixDatagramChannel channel;

    private Notifier(UnixSocketAddress address, String name) {
        this.address = address;
        this.name = name;
    }

    /** A notifier for {@code env}'s NOTIFY_SOCKET; a no-op one when it is unset or empty. */
    public static Notifier fromEnvironment(Map<String, String> env) {
        String s = env.get("NOTIFY_SOCKET");
        return s == null || s.isEmpty() ? disabled() : to(s);
    }

    /** A notifier for one socket: an absolute path, or {@code @name} for an abstract one. */
    public static Notifier to(String notifySocket) {
        return new Notifier(new UnixSocketAddress(socketPath(notifySocket)), notifySocket);
    }

    /** Sends nothing, ever. */
    public static Notifier disabled() {
        return new Notifier(null, "(none)");
    }

    /** The sun_path for NOTIFY_SOCKET: {@code @name} becomes {@code \0name}; anything else is kept. */
    static String socketPath(String notifySocket) {
        return notifySocket.startsWith("@") ? "\0" + notifySocket.substring(1) : notifySocket;
    }

    public boolean enabled() {
        return address != null;
    }

    /** NOTIFY_SOCKET as given ({@code @} for abstract), for log lines. */
    public String socketName() {
        return name;
    }

    /**
     * Sends one datagram of newline-separated {@code KEY=VALUE} assignments; empty when it went
     * out (or nothing is to be sent), else why not.
     */
    public Optional<String> send(String message) {
        if (address == null) {
            return Optional.empty();
        }
        try {
            if (channel == null) {
                channel = UnixDatagramChannel.open();
                channel.configureBlocking(false);
            }
            ByteBuffer b = ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8));
            int sent = channel.send(b, address);
            return sent == b.limit() ? Optional.empty() : Optional.of("the notify socket's queue is full");
        } catch (IOException | RuntimeException e) {
            // A new socket next time: the old one may be in a state we do not know.
            close();
            return Optional.of(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing was buffered in a datagram socket; closing cannot lose a message
            }
            channel = null;
        }
    }
}
