package io.emperor.control;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * The CLI's side of the control socket: one JSON request per line out, one JSON answer per line in.
 * It blocks, which the CLI may do; no peer credentials are needed on this side. The connection is a
 * {@link ClientSocket}: through {@code libemperor-client.so} when the launcher's library is there,
 * else the JDK's unix-domain {@code SocketChannel} (docs/performance.md, "Weight").
 */
public final class ControlClient implements AutoCloseable {
    private final Path path;
    private final ClientSocket socket;
    private final InputStream in;

    private ControlClient(Path path, ClientSocket socket) {
        this.path = path;
        this.socket = socket;
        this.in = new BufferedInputStream(socket.in());
    }

    /**
     * Connects; IOException with a message a human can act on ({@link ClientErrors}): "no control
     * socket at PATH (the emperor, pid N, runs without it …)", "no emperor running (no control socket
     * at PATH …)", "permission denied on PATH", ...
     */
    public static ControlClient connect(Path socket) throws IOException {
        try {
            return new ControlClient(socket, ClientSocket.connect(socket));
        } catch (IOException e) {
            throw explain(socket, e);
        }
    }

    /** {@link #connect(Path)} through the given transport: {@code jdk} the JDK's channel, else the library (loaded). */
    static ControlClient connect(Path socket, boolean jdk) throws IOException {
        try {
            return new ControlClient(socket, jdk ? JdkClientSocket.connect(socket) : NativeClientSocket.connect(socket));
        } catch (IOException e) {
            throw explain(socket, e);
        }
    }

    /** What the connect failure means ({@link ClientErrors}: no socket, no emperor, denied). */
    private static IOException explain(Path socket, IOException e) {
        return ClientErrors.explain(socket, e);
    }

    public void send(Map<String, Object> request) throws IOException {
        socket.write((Json.write(request) + "\n").getBytes(StandardCharsets.UTF_8));
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
            return Json.parseObject(text);
        } catch (Json.ParseException e) {
            throw new IOException("the emperor on " + path + " sent an answer that is not a JSON object ("
                    + e.getMessage() + "): " + text, e);
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
