package io.emperor.control;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * The client's end of the control socket (a blocking AF_UNIX stream connection): one request out,
 * answer lines in. {@link NativeClientSocket} (JNI, {@code libemperor-client.so} next to the exec
 * helper) when the library is there, else the JDK's unix-domain {@code SocketChannel}
 * ({@link JdkClientSocket}: a by-hand {@code java -jar} run, a build without it). Both fail with
 * the same exceptions (class and message), so {@link ClientErrors} says the same either way.
 */
interface ClientSocket extends Closeable {
    /**
     * Connects to {@code socket} through the library when it can be loaded, else through the JDK.
     * The exceptions are the JDK's: {@link java.net.ConnectException} for ECONNREFUSED, a
     * {@link java.net.SocketException} with the strerror text for most of the rest.
     */
    static ClientSocket connect(Path socket) throws IOException {
        if (NativeClientSocket.usable()) {
            return NativeClientSocket.connect(socket);
        }
        return JdkClientSocket.connect(socket);
    }

    /** The answers, as the socket gives them (unbuffered). */
    InputStream in();

    /** Writes all of {@code bytes}. */
    void write(byte[] bytes) throws IOException;

    /** Closes the connection; nothing to report. */
    @Override
    void close();
}
