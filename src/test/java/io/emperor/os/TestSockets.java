package io.emperor.os;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;

/**
 * Listening TCP sockets on 127.0.0.1, bound by the test itself (socket, bind to port 0, listen,
 * getsockname), with their raw fds: what the emperor holds for a vassal with {@code listen}, for
 * tests of the fds it hands over without the binding code. Close-on-exec, as the emperor's are.
 */
final class TestSockets {
    /** The one call the main code's LibC has no use for. */
    public interface Calls {
        @SaveError
        int getsockname(int fd, Pointer addr, Pointer len);
    }

    private static final Calls C = Jnr.load(Calls.class, "c");
    private static final LibC LIBC = Native.libc();

    /** A bound, listening socket: its fd (the test's to close) and its port. */
    record Bound(int fd, int port) {
        void close() {
            LIBC.close(fd);
        }
    }

    private TestSockets() {}

    static Bound listen() {
        jnr.ffi.Runtime rt = Native.runtime();
        int fd = LIBC.socket(InetSockaddr.AF_INET, Native.SOCK_STREAM | Native.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IllegalStateException("socket: " + Native.strerror(rt.getLastError()));
        }
        Pointer sa = Memory.allocateDirect(rt, InetSockaddr.SIZE);
        int size = InetSockaddr.write(sa, new byte[] {127, 0, 0, 1}, 0); // port 0: any
        Pointer len = Memory.allocateDirect(rt, 4);
        len.putInt(0, size);
        if (LIBC.bind(fd, sa, size) != 0 || LIBC.listen(fd, 128) != 0 || C.getsockname(fd, sa, len) != 0) {
            String why = Native.strerror(rt.getLastError());
            LIBC.close(fd);
            throw new IllegalStateException("bind/listen: " + why);
        }
        int port = ((sa.getByte(2) & 0xff) << 8) | (sa.getByte(3) & 0xff);
        return new Bound(fd, port);
    }
}
