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
    /** The few calls the main code's LibC has no use for. */
    public interface Calls {
        @SaveError
        int socket(int domain, int type, int protocol);

        @SaveError
        int bind(int fd, Pointer addr, int len);

        @SaveError
        int listen(int fd, int backlog);

        @SaveError
        int getsockname(int fd, Pointer addr, Pointer len);

        int close(int fd);
    }

    private static final Calls C = Jnr.load(Calls.class, "c");
    private static final int AF_INET = 2;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 02000000;

    /** A bound, listening socket: its fd (the test's to close) and its port. */
    record Bound(int fd, int port) {
        void close() {
            C.close(fd);
        }
    }

    private TestSockets() {}

    static Bound listen() {
        jnr.ffi.Runtime rt = Native.runtime();
        int fd = C.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IllegalStateException("socket: " + Native.strerror(rt.getLastError()));
        }
        Pointer sa = Memory.allocateDirect(rt, 16);
        sa.setMemory(0, 16, (byte) 0);
        sa.putShort(0, (short) AF_INET);
        sa.putByte(4, (byte) 127);
        sa.putByte(7, (byte) 1); // 127.0.0.1, port 0 (network order: any)
        Pointer len = Memory.allocateDirect(rt, 4);
        len.putInt(0, 16);
        if (C.bind(fd, sa, 16) != 0 || C.listen(fd, 128) != 0 || C.getsockname(fd, sa, len) != 0) {
            String why = Native.strerror(rt.getLastError());
            C.close(fd);
            throw new IllegalStateException("bind/listen: " + why);
        }
        int port = ((sa.getByte(2) & 0xff) << 8) | (sa.getByte(3) & 0xff);
        return new Bound(fd, port);
    }
}
