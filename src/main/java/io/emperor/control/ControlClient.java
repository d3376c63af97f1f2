package io.emperor.control;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * The CLI's side of the control socket: one JSON request per line out, one JSON answer per line in.
 * It blocks, which the CLI may do, so the JDK's own unix-domain {@link SocketChannel} (Java 16+) is
 * enough here; no peer credentials are needed on this side.
 */
public final class ControlClient implements AutoCloseable {
    private final Path path;
    private final SocketChannel channel;
    private final InputStream in;

    private ControlClient(Path path, SocketChannel channel) {
        this.path = path;
        this.channel = channel;
        this.in = new BufferedInputStream(Channels.newInputStream(channel));
    }

    /**
     * Connects; IOException with a message a human can act on ({@link ClientErrors}): "no control
     * socket at PATH (the emperor, pid N, runs without it …)", "no emperor running (no control socket
     * at PATH …)", "permission denied on PATH", ...
     */
    public static ControlClient connect(Path socket) throws IOException {
        try {
            return new ControlClient(socket, SocketChannel.open(UnixDomainSocketAddress.of(socket)));
        } catch (IOException e) {
            throw explain(socket, e);
        }
    }

    /** What the connect failure means ({@link ClientErrors}: no socket, no emperor, denied). */
    private static IOException explain(Path socket, IOException e) {
        return ClientErrors.explain(socket, e);
    }

    public void send(Map<String, Object> request) throws IOException {
        ByteBuffer line = ByteBuffer.wrap((ClientJson.write(request) + "\n").getBytes(StandardCharsets.UTF_8));
        while (line.hasRemaining()) {
            channel.write(line);
        }
    }

    /** The next answer line, parsed; null at EOF. Blocks (the CLI is allowed to block). */
    public Map<String, Object> next() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
        }
        if (b < 0 && line.size() == 0) {
            return null;
        }
        String text = line.toString(StandardCharsets.UTF_8);
        try {
            return ClientJson.parseObject(text);
        } catch (Json.ParseException e) {
            throw new IOException("the emperor on " + path + " sent an answer that is not a JSON object ("
                    + e.getMessage() + "): " + text, e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing a socket we only read from and wrote to: nothing to report to the user
        }
    }
}
