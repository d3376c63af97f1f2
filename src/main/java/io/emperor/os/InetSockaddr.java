package io.emperor.os;

import jnr.ffi.Pointer;

/** A {@code sockaddr_in} or {@code sockaddr_in6} written into native memory, for bind(2) and connect(2) through jnr. */
final class InetSockaddr {
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    /** The larger of the two (sockaddr_in6). */
    static final int SIZE = 28;

    private InetSockaddr() {}

    /** The family of an address of {@code ip.length} bytes: 4 is IPv4, 16 IPv6. */
    static int family(byte[] ip) {
        return ip.length == 4 ? AF_INET : AF_INET6;
    }

    /** Writes {@code ip}:{@code port} at {@code addr} (at least {@link #SIZE} bytes) and returns the length to pass. */
    static int write(Pointer addr, byte[] ip, int port) {
        addr.setMemory(0, SIZE, (byte) 0);
        addr.putShort(0, (short) family(ip));
        addr.putByte(2, (byte) (port >> 8));
        addr.putByte(3, (byte) port);
        if (ip.length == 4) {
            addr.put(4, ip, 0, 4);
            return 16;
        }
        addr.put(8, ip, 0, 16);
        return SIZE;
    }
}
