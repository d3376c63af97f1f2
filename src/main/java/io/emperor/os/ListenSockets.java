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

    /** Binds a unix socket as the vassal, in a child the emperor does not wait for. */
    public interface UnixBinder {
        /**
         * Starts the bind; a {@link Binding} already {@link Binding#failed} when not even that could be done.
         *
         * @param mode the socket file's permission bits ({@code listen-mode}), or -1 for the default
         * @param uid  who the vassal runs as (-1: the emperor's uid)
         */
        Binding start(Listen.Address.Unix unix, int mode, int backlog, int uid, int gid, String user);
    }

    /** A bind under way: the fd its answer comes on, read without blocking. */
    public interface Binding {
        /** Where the answer comes (the I/O thread watches it); -1 for a bind that failed at once. */
        int fd();

        /** The answer (the socket, or why not) once it is complete; empty until then. Never blocks. */
        Optional<Bound> receive();

        /** It answered: whatever is still running of it ends (SIGKILL), and nothing of it stays open. */
        void close();

        /**
         * It did not answer (given up at its time, or no longer wanted): SIGKILL, its answer fd closed; what is
         * needed to know when it is {@link #gone} stays.
         */
        void kill();

        /**
         * After {@link #kill}: whether its process is gone (then nothing of it stays open); never blocks. A child
         * hung in a FUSE lookup outlives its SIGKILL until that file system answers or goes.
         */
        boolean gone();

        /** A bind that could not even start. */
        static Binding failed(String problem) {
            return new Binding() {
                @Override
                public int fd() {
                    return -1;
                }

                @Override
                public Optional<Bound> receive() {
                    return Optional.of(Bound.failed(problem));
                }

                @Override
                public void close() {
                }

                @Override
                public void kill() {
                }

                @Override
                public boolean gone() {
                    return true;
                }
            };
        }
    }

    /**
     * Who waits for a bind's answer (the I/O thread): once {@code fd} is readable, or {@code timeoutMillis} has
     * passed, it tells the loop ({@link io.emperor.loop.LoopEvent.BindAnswer}), once, and the loop calls
     * {@link #answered}.
     */
    public interface Watcher {
        void watch(String name, long id, int fd, long timeoutMillis);

        /** No longer: when this returns, {@code fd} is no longer watched and may be closed. */
        void unwatch(long id);
    }

    /** A bound and listening socket's fd, or the reason there is none (fd -1). */
    public record Bound(int fd, String problem) {
        static Bound failed(String problem) {
            return new Bound(-1, problem);
        }
    }

    /** A child killed before it answered, not gone yet. */
    private record Lingering(int uid, Binding binding) {}

    /**
     * A unix bind asked for a vassal: waiting for its turn ({@link #admit}), then its child under way, then its
     * answer until {@link #hold} takes it.
     */
    private static final class Pending {
        final String name;
        final long id;
        final Listen.Address.Unix address;
        final int mode;
        final int backlog;
        final int uid;
        final int gid;
        final String user;
        /** Null while it waits for its turn. */
        Binding binding;
        /** When its child is given up (System.nanoTime), once started. */
        long deadline;
        /** Null until the child has answered (or the bind failed without one). */
        Bound answer;

        Pending(String name, long id, Listen.Address.Unix address, Listen listen, int uid, int gid, String user) {
            this.name = name;
            this.id = id;
            this.address = address;
            this.mode = listen.mode();
            this.backlog = listen.backlog();
            this.uid = uid;
            this.gid = gid;
            this.user = user;
        }

        boolean same(Listen.Address a, int mode, int uid, int gid) {
            return address.equals(a) && this.mode == mode && this.uid == uid && this.gid == gid;
        }

        /** Its child runs and has not answered. */
        boolean running() {
            return binding != null && answer == null;
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
    private final Watcher watcher;
    private final long bindTimeoutMillis;
    private final Map<String, List<Sock>> held = new HashMap<>();
    /** The unix binds under way or answered, by vassal name; each also by id in {@link #pendingById}. */
    private final Map<String, List<Pending>> pending = new HashMap<>();
    private final Map<Long, Pending> pendingById = new HashMap<>();
    private long nextId = 1;
    /** The binds waiting for their turn ({@link #admit}), in the order they were asked for. */
    private final List<Pending> queued = new java.util.LinkedList<>();
    /**
     * Children killed before they answered (given up at their time, or no longer wanted) and not gone yet, with
     * the uid they bind as: a tenant's FUSE path can hang them past their SIGKILL for good. Children that
     * answered are closed and forgotten: they exit.
     */
    private final List<Lingering> lingering = new ArrayList<>();
    /**
     * At most this many bind children of one uid run or linger at once; the next wait for their turn, or fail
     * while that many linger. So a tenant who hangs its binds on a path of its own holds at most this many
     * processes the kernel cannot end, and slows only its own binds.
     */
    static final int MAX_CHILDREN = 16;
    private final Pointer addr = Memory.allocateDirect(Native.runtime(), 128);
    private final Pointer intValue = Memory.allocateDirect(Native.runtime(), 4);

    /**
     * @param unix               how unix sockets are bound (as the vassal)
     * @param watcher            who waits for a unix bind's answer (the I/O thread)
     * @param bindTimeoutMillis  how long a unix bind may take before it is given up (a child stopped or hung)
     */
    public ListenSockets(UnixBinder unix, Watcher watcher, long bindTimeoutMillis) {
        this.unix = unix;
        this.watcher = watcher;
        this.bindTimeoutMillis = bindTimeoutMillis;
    }

    /**
     * Holds {@code listen}'s sockets for {@code name} as {@link ListenSockets} says; an empty listen releases
     * them. Empty when held or while a unix socket of it is being bound ({@link #binding}: call again once
     * that is {@link #answered}); else {@code listen ADDRESS: what}, and the old sockets are kept.
     *
     * <p>A unix socket is bound by a child that runs as the vassal ({@link UnixBinder}), which nobody waits
     * for: the first hold starts it and returns, the I/O thread watches for its answer, and the hold after
     * {@link #answered} takes the socket. Nothing else changes until every socket of the listen is there.
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
        // A bind this listen no longer wants (its file changed meanwhile) ends.
        for (Pending p : List.copyOf(pending.getOrDefault(name, List.of()))) {
            if (listen.addresses().stream().noneMatch(a -> p.same(a, listen.mode(), uid, gid))) {
                drop(p);
            }
        }
        boolean under = false;
        for (Listen.Address a : listen.addresses()) {
            if (!(a instanceof Listen.Address.Unix u) || kept(old, a, listen.mode(), uid, gid) != null) {
                continue;
            }
            Pending p = find(name, a, listen.mode(), uid, gid);
            if (p == null) {
                p = request(name, u, listen, uid, gid, user);
            }
            if (p.answer == null) {
                under = true;
            } else if (p.answer.fd() < 0) {
                dropAll(name); // the vassal backs off; its next try starts over
                return Optional.of("listen " + a.text() + ": " + p.answer.problem());
            }
        }
        if (under) {
            return Optional.empty();
        }
        List<Sock> next = new ArrayList<>();
        List<Sock> fresh = new ArrayList<>();
        for (Listen.Address a : listen.addresses()) {
            Sock kept = kept(old, a, listen.mode(), uid, gid);
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
                    : take(find(name, a, listen.mode(), uid, gid), listen.backlog());
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

    /** The held socket that can be {@code a} with these settings, or null. */
    private static Sock kept(List<Sock> old, Listen.Address a, int mode, int uid, int gid) {
        for (Sock s : old) {
            if (s.same(a, mode, uid, gid)) {
                return s;
            }
        }
        return null;
    }

    private Pending find(String name, Listen.Address a, int mode, int uid, int gid) {
        for (Pending p : pending.getOrDefault(name, List.of())) {
            if (p.same(a, mode, uid, gid)) {
                return p;
            }
        }
        return null;
    }

    private Pending request(String name, Listen.Address.Unix u, Listen listen, int uid, int gid, String user) {
        Pending p = new Pending(name, nextId++, u, listen, uid, gid, user);
        pending.computeIfAbsent(name, k -> new ArrayList<>()).add(p);
        pendingById.put(p.id, p);
        queued.add(p);
        admit(uid);
        return p;
    }

    /**
     * Starts the binds of {@code uid} that wait for their turn, in order, while fewer than {@value #MAX_CHILDREN}
     * of its children run or linger; while that many linger, they fail instead.
     */
    private void admit(int uid) {
        lingering.removeIf(l -> l.binding().gone());
        long hung = lingering.stream().filter(l -> l.uid() == uid).count();
        long running = pendingById.values().stream().filter(p -> p.uid == uid && p.running()).count();
        for (java.util.Iterator<Pending> it = queued.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.uid != uid) {
                continue;
            }
            if (hung >= MAX_CHILDREN) {
                it.remove();
                p.answer = Bound.failed(hung + " earlier bind children of uid " + uid + " were killed unanswered and"
                        + " are still there (hung on their path?); no new one until they are gone");
                continue;
            }
            if (hung + running >= MAX_CHILDREN) {
                return;
            }
            it.remove();
            launch(p);
            if (p.running()) {
                running++;
            }
        }
    }

    private void launch(Pending p) {
        p.binding = unix.start(p.address, p.mode, p.backlog, p.uid, p.gid, p.user);
        if (p.binding.fd() < 0) {
            p.answer = p.binding.receive().orElseThrow();
            return;
        }
        p.deadline = System.nanoTime() + bindTimeoutMillis * 1_000_000;
        watcher.watch(p.name, p.id, p.binding.fd(), bindTimeoutMillis);
    }

    /** The socket of an answered bind, no longer pending; a changed backlog is a second listen(2). */
    private Bound take(Pending p, int backlog) {
        if (p == null || p.answer == null) {
            return Bound.failed("not bound yet (a bug)");
        }
        forget(p);
        Bound b = p.answer;
        if (b.fd() >= 0 && c.listen(b.fd(), backlog) != 0) {
            String why = Native.strerror(Native.errno());
            c.close(b.fd());
            return Bound.failed("listen: " + why);
        }
        return b;
    }

    /**
     * The I/O thread saw bind {@code id}'s answer fd readable, or its time is up: its answer is read (without
     * blocking) and kept for the next {@link #hold}; a child that has not answered in time is killed, and that
     * is its answer. True when the bind is over; false for a late id or an answer not complete yet (then it
     * is watched again).
     */
    public boolean answered(long id) {
        Pending p = pendingById.get(id);
        if (p == null || !p.running()) {
            return false;
        }
        Optional<Bound> answer = p.binding.receive();
        if (answer.isEmpty()) {
            long left = p.deadline - System.nanoTime();
            if (left > 0) {
                watcher.watch(p.name, p.id, p.binding.fd(), Math.max(1, (left + 999_999) / 1_000_000));
                return false;
            }
            answer = Optional.of(Bound.failed("the exec helper did not answer within " + seconds(bindTimeoutMillis)
                    + " (stopped, or hung on the path?); it was killed"));
            kill(p);
        } else {
            p.binding.close();
        }
        p.answer = answer.get();
        admit(p.uid); // its turn goes to the next bind of its uid
        return true;
    }

    /**
     * What of {@code listen} is being bound for {@code name} now ({@code unix:/run/app.sock}), empty when
     * nothing: while it is not, a {@link #hold} of it returns without holding.
     */
    public Optional<String> binding(String name, Listen listen) {
        List<String> under = new ArrayList<>();
        for (Pending p : pending.getOrDefault(name, List.of())) {
            if (p.answer == null && listen.addresses().contains(p.address)) {
                under.add(p.address.text());
            }
        }
        return under.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", under));
    }

    /** {@code 30 s}, {@code 0.25 s}. */
    private static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : java.math.BigDecimal.valueOf(millis, 3).stripTrailingZeros()
                .toPlainString() + " s";
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
     * Closes {@code name}'s sockets, and ends its binds under way. A unix socket's file stays where it is:
     * removing a path the vassal chose is not done with the emperor's privileges; the next bind there
     * replaces it (it is a socket).
     */
    public void release(String name) {
        dropAll(name);
        List<Sock> socks = held.remove(name);
        if (socks != null) {
            closeAll(socks);
        }
    }

    private void dropAll(String name) {
        List<Pending> mine = pending.remove(name);
        if (mine != null) {
            queued.removeAll(mine); // none of them starts now
            for (Pending p : mine) {
                end(p);
            }
        }
    }

    /** A bind no longer wanted: its child killed, its fds (and a socket it sent) closed. */
    private void drop(Pending p) {
        forget(p);
        end(p);
    }

    private void forget(Pending p) {
        pendingById.remove(p.id);
        List<Pending> mine = pending.get(p.name);
        if (mine != null) {
            mine.remove(p);
            if (mine.isEmpty()) {
                pending.remove(p.name);
            }
        }
    }

    /** A child that has not answered: killed, and it counts against its uid until it is gone. */
    private void kill(Pending p) {
        p.binding.kill();
        if (!p.binding.gone()) {
            lingering.add(new Lingering(p.uid, p.binding));
        }
    }

    private void end(Pending p) {
        pendingById.remove(p.id);
        if (p.binding == null) {
            queued.remove(p);
        } else if (p.answer == null) {
            watcher.unwatch(p.id);
            kill(p);
            admit(p.uid);
        } else if (p.answer.fd() >= 0) {
            c.close(p.answer.fd());
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
