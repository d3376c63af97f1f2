package io.emperor.testing;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real etcd (Debian's etcd-server) for the fleet's tests: its own data directory, loopback ports
 * chosen free, one member or a cluster of three. It can be SIGKILLed and started again on the same
 * data and ports. The test talks to it with jetcd. Skips (assumption) when etcd is not installed; CI
 * installs it (.ci/run).
 */
public final class EtcdServer implements AutoCloseable {
    private static final Duration UP_WAIT = Poll.WAIT;

    private final Path dir;
    private final List<Member> members = new ArrayList<>();
    private Client client;

    private static final class Member {
        final String name;
        final int clientPort;
        final int peerPort;
        Process process;

        Member(String name, int clientPort, int peerPort) {
            this.name = name;
            this.clientPort = clientPort;
            this.peerPort = peerPort;
        }
    }

    /** Skips the test class unless etcd is installed. */
    public static Path binary() {
        for (String p : List.of("/usr/bin/etcd", "/usr/local/bin/etcd")) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        Assumptions.assumeTrue(false, "etcd is not installed (apt-get install etcd-server)");
        return null;
    }

    /** Starts {@code size} members (1 or 3) under {@code dir} and waits until they answer. */
    public static EtcdServer start(Path dir, int size) {
        binary();
        EtcdServer s = new EtcdServer(dir);
        for (int i = 0; i < size; i++) {
            int[] ports = freePorts(2);
            s.members.add(new Member("m" + i, ports[0], ports[1]));
        }
        for (int i = 0; i < size; i++) {
            s.startMember(i);
        }
        s.client = Client.builder().endpoints(s.endpoints().split(",")).build();
        s.awaitUp();
        return s;
    }

    private EtcdServer(Path dir) {
        this.dir = dir;
    }

    private static int[] freePorts(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            for (ServerSocket s : sockets) {
                s.close();
            }
        } catch (IOException e) {
            throw new AssertionError("no free port", e);
        }
        return ports;
    }

    /** {@code http://127.0.0.1:PORT,...}: the emperor's {@code etcd} value. */
    public String endpoints() {
        return String.join(",", members.stream().map(m -> "http://127.0.0.1:" + m.clientPort).toList());
    }

    private void startMember(int i) {
        Member m = members.get(i);
        String cluster = String.join(",", members.stream().map(x -> x.name + "=http://127.0.0.1:" + x.peerPort).toList());
        Path data = dir.resolve(m.name);
        List<String> cmd = List.of(binary().toString(), "--name", m.name, "--data-dir", data.toString(),
                "--listen-client-urls", "http://127.0.0.1:" + m.clientPort,
                "--advertise-client-urls", "http://127.0.0.1:" + m.clientPort,
                "--listen-peer-urls", "http://127.0.0.1:" + m.peerPort,
                "--initial-advertise-peer-urls", "http://127.0.0.1:" + m.peerPort,
                "--initial-cluster", cluster, "--initial-cluster-state", "new",
                "--initial-cluster-token", "emperor-test-" + dir.getFileName(),
                // Quick elections on a loaded machine, but not so quick that load alone causes them.
                "--heartbeat-interval", "100", "--election-timeout", "1000");
        try {
            m.process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(m.name + ".log").toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start etcd", e);
        }
    }

    /** Waits until a linearizable read answers (a leader exists). */
    public void awaitUp() {
        Poll.until("etcd at " + endpoints() + " to answer", UP_WAIT, () -> {
            try {
                client.getKVClient().get(bytes("/up")).get(2, TimeUnit.SECONDS);
                return true;
            } catch (Exception e) {
                return false;
            }
        }, this::logs);
    }

    /** SIGKILLs member {@code i} and waits until it is gone. */
    public void kill(int i) {
        Member m = members.get(i);
        m.process.destroyForcibly();
        try {
            if (!m.process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("etcd " + m.name + " did not die");
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Starts member {@code i} again on its data and ports (after {@link #kill}). */
    public void restart(int i) {
        startMember(i);
    }

    /** The index of the member that leads now (asked of each live member in turn). */
    public int leader() {
        return Poll.until("a leader", UP_WAIT, () -> {
            for (int i = 0; i < members.size(); i++) {
                Member m = members.get(i);
                if (m.process == null || !m.process.isAlive()) {
                    continue;
                }
                try {
                    io.etcd.jetcd.maintenance.StatusResponse st = client.getMaintenanceClient()
                            .statusMember("http://127.0.0.1:" + m.clientPort).get(5, TimeUnit.SECONDS);
                    if (st.getLeader() != 0 && st.getLeader() == st.getHeader().getMemberId()) {
                        return Optional.of(i);
                    }
                } catch (Exception e) {
                    // not this one, or not now
                }
            }
            return Optional.empty();
        }, this::logs);
    }

    /** The member's pid. */
    public long pid(int i) {
        return members.get(i).process.pid();
    }

    public void put(String key, String value) {
        call(() -> client.getKVClient().put(bytes(key), bytes(value)).get(10, TimeUnit.SECONDS));
    }

    public void delete(String key) {
        call(() -> client.getKVClient().delete(bytes(key)).get(10, TimeUnit.SECONDS));
    }

    /** Every key under {@code prefix} with its value. */
    public Map<String, String> list(String prefix) {
        GetResponse r = call(() -> client.getKVClient().get(bytes(prefix), GetOption.builder().isPrefix(true).build())
                .get(10, TimeUnit.SECONDS));
        Map<String, String> m = new TreeMap<>();
        r.getKvs().forEach(kv -> m.put(kv.getKey().toString(StandardCharsets.UTF_8),
                kv.getValue().toString(StandardCharsets.UTF_8)));
        return m;
    }

    /** The current revision. */
    public long revision() {
        return call(() -> client.getKVClient().get(bytes("/")).get(10, TimeUnit.SECONDS)).getHeader().getRevision();
    }

    /** Compacts the history up to the current revision (a watch from before it is refused). */
    public long compact() {
        long rev = revision();
        call(() -> client.getKVClient().compact(rev).get(10, TimeUnit.SECONDS));
        return rev;
    }

    public Client client() {
        return client;
    }

    private interface Call<T> {
        T run() throws Exception;
    }

    private <T> T call(Call<T> c) {
        // A member just restarted or a new leader: the first requests may fail; retry within the wait.
        return Poll.until("etcd request", UP_WAIT, () -> {
            try {
                return Optional.of(c.run());
            } catch (Exception e) {
                return Optional.empty();
            }
        }, this::logs);
    }

    public static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    public String logs() {
        StringBuilder sb = new StringBuilder();
        for (Member m : members) {
            try {
                List<String> lines = Files.readAllLines(dir.resolve(m.name + ".log"));
                sb.append("\n--- etcd ").append(m.name).append(" (last lines)\n")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
            } catch (IOException e) {
                sb.append("\n(no log of ").append(m.name).append(")");
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
        for (Member m : members) {
            if (m.process != null) {
                m.process.destroyForcibly();
                try {
                    m.process.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
