package io.emperor.control;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.nio.charset.Charset;
import java.nio.file.Path;

/**
 * The client's connection through {@code libemperor-client.so} (src/main/c/emperor-client.c, JNI):
 * socket, connect, read, write and close of one blocking AF_UNIX stream socket, without the JDK's
 * {@code SocketChannel}, whose set-up costs a client more than the rest of its work
 * (docs/performance.md, "Weight"). The library is looked for in the directory of the exec helper
 * the launcher names ({@code -Demperor.helper=/usr/lib/emperor/emperor-exec}), where
 * {@code libemperor-signal.so} is too; without it, or when it cannot be loaded or is of another
 * build, the client uses {@link JdkClientSocket}.
 *
 * <p>Every failure is the exception the JDK's channel throws for the same errno: the same class
 * ({@code sun.nio.ch.Net.handleSocketError}'s choice: {@link ConnectException} for ECONNREFUSED,
 * …) and the same text (strerror, in the process's locale, decoded as the JDK decodes it), so
 * {@link ClientErrors} gives the same message either way (NativeClientSocketTest compares them).
 */
final class NativeClientSocket extends InputStream implements ClientSocket {
    /** The library's file name, in the exec helper's directory. */
    static final String LIBRARY = "libemperor-client.so";
    /** What {@code abi0} of a library of this build answers (EMPEROR_CLIENT_ABI in emperor-client.c). */
    static final int ABI = 1;
    /** The longest path the JDK connects to (JDK 17 and 25: {@code sizeof(sun_path) - 2}), in bytes. */
    static final int MAX_PATH = 106;

    // Linux's errno values (the same on every architecture the package is built for).
    private static final int EACCES = 13;
    private static final int EPIPE = 32;
    private static final int EPROTO = 71;
    private static final int EADDRINUSE = 98;
    private static final int EADDRNOTAVAIL = 99;
    private static final int ECONNRESET = 104;
    private static final int ENOTCONN = 107;
    private static final int ETIMEDOUT = 110;
    private static final int ECONNREFUSED = 111;
    private static final int EHOSTUNREACH = 113;

    /** Null until the first {@link #usable}/{@link #load}; then whether the library is in. */
    private static Boolean loaded;

    private final int fd;
    private boolean closed;

    private NativeClientSocket(int fd) {
        this.fd = fd;
    }

    private static native int abi0();

    private static native int connect0(byte[] path);

    private static native int read0(int fd, byte[] buf, int off, int len);

    private static native int write0(int fd, byte[] buf, int off, int len);

    private static native int close0(int fd);

    private static native byte[] strerror0(int errno);

    /** Whether the library is loaded: on the first call, from the exec helper's directory ({@code emperor.helper}). */
    static synchronized boolean usable() {
        if (loaded == null) {
            String helper = System.getProperty("emperor.helper");
            File dir = helper == null || helper.isEmpty() ? null : new File(helper).getParentFile();
            loaded = dir != null && load(new File(dir, LIBRARY));
        }
        return loaded;
    }

    /**
     * Loads {@code library} (an absolute path) unless a library is in already; whether this
     * class's natives work.
     */
    static synchronized boolean load(File library) {
        if (!Boolean.TRUE.equals(loaded)) {
            loaded = loadable(library);
        }
        return loaded;
    }

    /**
     * Whether {@code library} loads and is of this build: a missing file, a relative path, one
     * that does not load (not a library, another architecture) or one of another build is not,
     * and the client uses the JDK.
     */
    static boolean loadable(File library) {
        if (!library.isAbsolute() || !library.isFile()) {
            return false;
        }
        try {
            System.load(library.getPath());
            return abi0() == ABI;
        } catch (UnsatisfiedLinkError | SecurityException e) {
            return false;
        }
    }

    /** Connects to {@code socket} (the library must be loaded); the JDK's exceptions ({@link ClientSocket#connect}). */
    static NativeClientSocket connect(Path socket) throws IOException {
        // The bytes the JDK passes: the path in sun.jnu.encoding, at most MAX_PATH of them.
        byte[] path = socket.toString().getBytes(jnuCharset());
        if (path.length > MAX_PATH) {
            throw new SocketException("Unix domain path too long");
        }
        int fd = connect0(path);
        if (fd < 0) {
            throw connectFailure(-fd, strerror(-fd));
        }
        return new NativeClientSocket(fd);
    }

    /** The exception the JDK throws for a failed connect with {@code errno} ({@code sun.nio.ch.Net.handleSocketError}). */
    static IOException connectFailure(int errno, String text) {
        return switch (errno) {
            case ECONNREFUSED, ETIMEDOUT, ENOTCONN -> new ConnectException(text);
            case EHOSTUNREACH -> new NoRouteToHostException(text);
            case EADDRINUSE, EADDRNOTAVAIL, EACCES -> new BindException(text);
            case EPROTO -> new ProtocolException(text);
            default -> new SocketException(text);
        };
    }

    /** strerror of {@code errno}, decoded as the JDK decodes its messages (sun.jnu.encoding). */
    static String strerror(int errno) {
        byte[] text = strerror0(errno);
        return text == null ? "errno " + errno : new String(text, jnuCharset());
    }

    private static Charset jnuCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name == null ? Charset.defaultCharset() : Charset.forName(name);
        } catch (IllegalArgumentException e) {
            return Charset.defaultCharset();
        }
    }

    @Override
    public InputStream in() {
        return this;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (closed) {
            throw new SocketException("Socket closed");
        }
        int n = read0(fd, b, off, len);
        if (n < 0) {
            // As the JDK's socket read: a reset (or EPIPE) is "Connection reset", the rest strerror.
            throw new IOException(-n == ECONNRESET || -n == EPIPE ? "Connection reset" : strerror(-n));
        }
        return n == 0 ? -1 : n;
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        if (closed) {
            throw new SocketException("Socket closed");
        }
        int rc = write0(fd, bytes, 0, bytes.length);
        if (rc < 0) {
            throw new IOException(strerror(-rc));
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            close0(fd); // a socket we only read from and wrote to: nothing to report
        }
    }
}
