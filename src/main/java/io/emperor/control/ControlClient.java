package io.emperor.control;

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
    /** What was read and not yet returned: {@code buf[start..end)}. */
    private final byte[] buf = new byte[8192];
    private int start;
    private int end;

    private ControlClient(Path path, ClientSocket socket) {
        this.path = path;
        this.socket = socket;
        this.in = socket.in();
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
        socket.write((ClientJson.write(request) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The next answer line, parsed; null at EOF. Blocks (the CLI is allowed to block). */
    public Map<String, Object> next() throws IOException {
        String text = readLine();
        if (text == null) {
            return null;
        }
        try {
            return ClientJson.parseObject(text);
        } catch (Json.ParseException e) {
            throw new IOException("the emperor on " + path + " sent an answer that is not a JSON object ("
                    + e.getMessage() + "): " + text, e);
        }
    }

    /**
     * The next line without its newline (UTF-8); at EOF what is left of one, or null when nothing
     * is. Read a buffer at a time, not a byte per call (a status answer of 100 vassals is ~40 KB).
     */
    private String readLine() throws IOException {
        ByteArrayOutputStream line = null;
        while (true) {
            for (int i = start; i < end; i++) {
                if (buf[i] == '\n') {
                    String text;
                    if (line == null) {
                        text = new String(buf, start, i - start, StandardCharsets.UTF_8);
                    } else {
                        line.write(buf, start, i - start);
                        text = line.toString(StandardCharsets.UTF_8);
                    }
                    start = i + 1;
                    return text;
                }
            }
            if (start < end) {
                if (line == null) {
                    line = new ByteArrayOutputStream(4 * buf.length);
                }
                line.write(buf, start, end - start);
            }
            start = 0;
            end = 0;
            int n = in.read(buf, 0, buf.length);
            if (n < 0) {
                return line == null || line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            end = n;
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
