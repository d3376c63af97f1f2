package io.emperor.systemd;

import io.emperor.testing.Poll;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;

/** A stand-in for systemd's notify socket: a bound datagram socket that collects what arrives. */
public final class NotifyListener implements AutoCloseable {
    private final UnixDatagramChannel channel;
    private final String notifySocket;
    private final Path file;
    private final List<String> received = new ArrayList<>();

    private NotifyListener(UnixDatagramChannel channel, String notifySocket, Path file) {
        this.channel = channel;
        this.notifySocket = notifySocket;
        this.file = file;
    }

    /** Bound to {@code path} (made writable by everyone, as /run/systemd/notify is). */
    public static NotifyListener atPath(Path path) throws IOException {
        UnixDatagramChannel ch = UnixDatagramChannel.open();
        ch.bind(new UnixSocketAddress(path.toFile()));
        ch.configureBlocking(false);
        Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        return new NotifyListener(ch, path.toString(), path);
    }

    /** Bound to a fresh abstract name; {@link #notifySocket()} is it with a leading {@code @}. */
    public static NotifyListener abstractName() throws IOException {
        String name = "emperor-test-" + ProcessHandle.current().pid() + "-" + ThreadLocalRandom.current().nextLong(1L << 40);
        UnixDatagramChannel ch = UnixDatagramChannel.open();
        ch.bind(new UnixSocketAddress("\0" + name));
        ch.configureBlocking(false);
        return new NotifyListener(ch, "@" + name, null);
    }

    /** The value for NOTIFY_SOCKET. */
    public String notifySocket() {
        return notifySocket;
    }

    /** The next datagram within {@code timeout}, or empty. */
    public Optional<String> next(Duration timeout) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4096);
        try {
            return Poll.within(timeout, () -> {
                b.clear();
                try {
                    if (!receive(b)) {
                        return Optional.empty();
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                b.flip();
                String s = StandardCharsets.UTF_8.decode(b).toString();
                received.add(s);
                return Optional.of(s);
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** One non-blocking receive: true when a datagram arrived (jnr throws EAGAIN where the JDK returns null). */
    private boolean receive(ByteBuffer b) throws IOException {
        try {
            return channel.receive(b) != null || b.position() > 0;
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("temporarily unavailable")) {
                return false;
            }
            throw e;
        }
    }

    /** Reads until a datagram matches (returned) or {@code timeout} passes (an AssertionError listing what came). */
    public String await(Predicate<String> match, Duration timeout) throws IOException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = end - System.nanoTime();
            Optional<String> m = left > 0 ? next(Duration.ofNanos(left)) : Optional.empty();
            if (m.isEmpty()) {
                throw new AssertionError("no matching notification within " + timeout + "; received " + received);
            }
            if (match.test(m.get())) {
                return m.get();
            }
        }
    }

    /** Everything received so far, in order. */
    public List<String> received() {
        return List.copyOf(received);
    }

    @Override
    public void close() throws IOException {
        channel.close();
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }
}
