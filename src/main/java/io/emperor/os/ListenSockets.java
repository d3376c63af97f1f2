package io.emperor.os;

import io.emperor.config.Listen;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * The listening sockets the emperor holds for its vassals (issue 15, docs/sockets.md), by vassal name: bound
 * and listening before the vassal's first spawn, kept across its restarts, reloads, crashes and backoff, so
 * that connections wait in the backlog while no process runs. One per {@link HelperLauncher}; loop thread only.
 *
 * <p>{@link #hold} with the settings already held keeps the same fds. A socket whose settings changed is
 * bound anew <em>before</em> the old one is closed, and a failure keeps every old socket: the vassal keeps
 * what it had. Per address: a {@code listen} line added or removed leaves the others' fds alone, and a
 * changed {@code listen-backlog} is a second listen(2) on the same fd (Linux takes the new backlog).
 *
 * <p>TCP sockets are made here: {@code SOCK_STREAM|SOCK_CLOEXEC}, {@code SO_REUSEADDR} (a port in
 * TIME_WAIT after a stop binds again), bind, listen; blocking, because O_NONBLOCK is a property of the open
 * file, shared with the vassal's copy (epoll does not need it). An IPv6 address gets {@code IPV6_V6ONLY=1}:
 * {@code [::]:80} and {@code 0.0.0.0:80} are two sockets and may both be listed; {@code *:80} (every
 * address) is one {@code [::]} socket with {@code IPV6_V6ONLY=0}, IPv4 as mapped addresses, or
 * {@code 0.0.0.0} where the kernel has no IPv6. Unix sockets are a path the vassal chose: {@link UnixBinder}
 * binds them in a child with the vassal's identity, never with the emperor's.
 */
public final class ListenSockets {
    private static final int SO_REUSEADDR = 2;
    private static final int IPPROTO_IPV6 = 41;
    private static final int IPV6_V6ONLY = 26;
    private static final int EAFNOSUPPORT = 97;

    /** Binds a unix socket as the vassal: the fd, or why not. */
    public interface UnixBinder {
        /**
         * @param mode the socket file's permission bits ({@code listen-mode}), or -1 for the default
         * @param uid  who the vassal runs as (-1: the emperor's uid)
         */
        Bound bind(Listen.Address.Unix unix, int mode, int backlog, int uid, int gid, String user);
    }

    /** A bound and listening socket's fd, or the reason there is none (fd -1). */
    public record Bound(int fd, String problem) {
        static Bound failed(String problem) {
            return new Bound(-1, problem);
        }
    }

    /** One held socket and the settings it was made with. */
    private record Sock(Listen.Address address, int fd, int backlog, int mode, int uid, int gid) {
        /** Whether a socket of these settings can be this same one (the backlog is changed in place). */
        boolean same(Listen.Address a, int mode, int uid, int gid) {
            if (!address.equals(a)) {
                return false;
            }
            return !(a instanceof Listen.Address.Unix) || this.mode == mode && this.uid == uid && this.gid == gid;
        }
    }

    private final LibC c = Native.libc();
    private final UnixBinder unix;
    private final Map<String, List<Sock>> held = new HashMap<>();
    private final Pointer addr = Memory.allocateDirect(Native.runtime(), 128);
    private final Pointer intValue = Memory.allocateDirect(Native.runtime(), 4);

    /** @param unix how unix sockets are bound (as the vassal) */
    public ListenSockets(UnixBinder unix) {
        this.unix = unix;
    }

    /**
     * Holds {@code listen}'s sockets for {@code name} as {@link ListenSockets} says; an empty listen releases
     * them. Empty when held, else {@code listen ADDRESS: what} and the old sockets are kept.
     *
     * @param uid  who the vassal runs as, for its unix sockets (-1: the emperor's uid)
     * @param gid  its group (-1: the emperor's)
     * @param user its passwd name (supplementary groups of the unix binder), or null
     */
    public Optional<String> hold(String name, Listen listen, int uid, int gid, String user) {
        if (!listen.any()) {
            release(name);
            return Optional.empty();
        }
        List<Sock> old = held.getOrDefault(name, List.of());
        List<Sock> next = new ArrayList<>();
        List<Sock> fresh = new ArrayList<>();
        for (Listen.Address a : listen.addresses()) {
            Sock kept = null;
            for (Sock s : old) {
                if (s.same(a, listen.mode(), uid, gid)) {
                    kept = s;
                    break;
                }
            }
            if (kept != null) {
                if (kept.backlog() != listen.backlog()) {
                    if (c.listen(kept.fd(), listen.backlog()) != 0) {
                        closeAll(fresh);
                        return Optional.of("listen " + a.text() + ": listen: " + Native.strerror(Native.errno()));
                    }
                    kept = new Sock(a, kept.fd(), listen.backlog(), kept.mode(), uid, gid);
                }
                next.add(kept);
                continue;
            }
            Bound b = a instanceof Listen.Address.Inet inet ? bindInet(inet, listen.backlog())
                    : unix.bind((Listen.Address.Unix) a, listen.mode(), listen.backlog(), uid, gid, user);
            if (b.fd() < 0) {
                closeAll(fresh);
                return Optional.of("listen " + a.text() + ": " + b.problem());
            }
            Sock s = new Sock(a, b.fd(), listen.backlog(), listen.mode(), uid, gid);
            fresh.add(s);
            next.add(s);
        }
        for (Sock s : old) {
            if (!next.contains(s) && next.stream().noneMatch(n -> n.fd() == s.fd())) {
                c.close(s.fd());
            }
        }
        held.put(name, List.copyOf(next));
        return Optional.empty();
    }

    /** The fds held for {@code name}, in the order of its {@code listen} lines; empty if none. */
    public int[] fds(String name) {
        List<Sock> socks = held.get(name);
        if (socks == null) {
            return new int[0];
        }
        int[] fds = new int[socks.size()];
        for (int i = 0; i < fds.length; i++) {
            fds[i] = socks.get(i).fd();
        }
        return fds;
    }

    /** What {@code name}'s held sockets listen on, as written ({@code status}); empty if none. */
    public List<String> addresses(String name) {
        return held.getOrDefault(name, List.of()).stream().map(s -> s.address().text()).toList();
    }

    /**
     * Closes {@code name}'s sockets. A unix socket's file stays where it is: removing a path the vassal
     * chose is not done with the emperor's privileges; the next bind there replaces it (it is a socket).
     */
    public void release(String name) {
        List<Sock> socks = held.remove(name);
        if (socks != null) {
            closeAll(socks);
        }
    }

    private void closeAll(List<Sock> socks) {
        for (Sock s : socks) {
            c.close(s.fd());
        }
    }

    private Bound bindInet(Listen.Address.Inet inet, int backlog) {
        boolean every = inet.host().isEmpty();
        byte[] ip;
        if (every) {
            ip = new byte[16];
        } else {
            try {
                ip = InetAddress.getByName(inet.host()).getAddress(); // a literal (the parser checked): no lookup
            } catch (UnknownHostException e) {
                return Bound.failed("not an address: " + inet.host());
            }
        }
        Bound b = bindInet(ip, inet.port(), backlog, every);
        if (b.fd() < 0 && every && b.problem().startsWith("socket: ")) {
            b = bindInet(new byte[4], inet.port(), backlog, false); // no IPv6 here: every IPv4 address
        }
        return b;
    }

    private Bound bindInet(byte[] ip, int port, int backlog, boolean dualStack) {
        int family = InetSockaddr.family(ip);
        int fd = c.socket(family, Native.SOCK_STREAM | Native.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return Bound.failed("socket: " + Native.strerror(Native.errno()));
        }
        String step = "setsockopt SO_REUSEADDR";
        boolean ok = setInt(fd, Native.SOL_SOCKET, SO_REUSEADDR, 1);
        if (ok && family == InetSockaddr.AF_INET6) {
            step = "setsockopt IPV6_V6ONLY";
            ok = setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dualStack ? 0 : 1);
        }
        if (ok) {
            step = "bind";
            ok = c.bind(fd, addr, InetSockaddr.write(addr, ip, port)) == 0;
        }
        if (ok) {
            step = "listen";
            ok = c.listen(fd, backlog) == 0;
        }
        if (!ok) {
            String why = Native.strerror(Native.errno());
            c.close(fd);
            return Bound.failed(step + ": " + why);
        }
        return new Bound(fd, null);
    }

    private boolean setInt(int fd, int level, int option, int value) {
        intValue.putInt(0, value);
        return c.setsockopt(fd, level, option, intValue, 4) == 0;
    }

}
