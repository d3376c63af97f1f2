package io.emperor.control;

import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * The client's connection through the JDK's unix-domain {@link SocketChannel} (Java 16+): the
 * fallback when {@code libemperor-client.so} is not there ({@link ClientSocket}). It costs a
 * client more than the rest of its work (the selector provider through a lambda and
 * {@code ServiceLoader}, a {@code SecureRandom} made by {@code sun.nio.ch.UnixDomainSockets};
 * docs/performance.md, "Weight").
 */
final class JdkClientSocket implements ClientSocket {
    private final SocketChannel channel;

    private JdkClientSocket(SocketChannel channel) {
        this.channel = channel;
    }

    static JdkClientSocket connect(Path socket) throws IOException {
        return new JdkClientSocket(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
    }

    @Override
    public InputStream in() {
        return Channels.newInputStream(channel);
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        ByteBuffer line = ByteBuffer.wrap(bytes);
        while (line.hasRemaining()) {
            channel.write(line);
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
