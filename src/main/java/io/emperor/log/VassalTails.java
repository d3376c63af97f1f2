package io.emperor.log;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The last lines each vassal printed, kept in memory for {@code emperor logs NAME} (the control
 * socket). Written by the I/O thread ({@link #append}: what the vassal printed) and by the loop
 * thread ({@link #appendEmperor}: the emperor's lines about the vassal, among its own in the order
 * they came); read from any thread ({@link #lines},
 * {@link #follow}); a vassal's tail is dropped when the loop forgets the vassal ({@link #forget}).
 *
 * <p><b>Whose lines.</b> Every line is stored with the owner of the run that printed it (in
 * tyrant mode the uid the vassal runs as, else {@link #NO_OWNER}). When a name passes to another
 * owner (alice's {@code app.ini} replaced by bob's), the first line of the new owner drops the
 * whole tail first, and the followers bound to the old owner end ({@link #follow}): bob never
 * reads alice's lines, alice's follower never gets bob's. A reader or follower bound to an owner
 * gets only that owner's lines.
 *
 * <p><b>Bounded three times</b> (docs/threads.md has the arithmetic):
 * <ul>
 *   <li>per vassal: at most {@link Limits#lines} lines and {@link Limits#tailBytes} bytes, oldest
 *       first, the newest line always kept;</li>
 *   <li>per owner (a real uid): at most {@link Limits#ownerBytes} for all its vassals together,
 *       so one tenant with many vassals cannot take the memory of the others; over it, the
 *       owner's largest tail loses its oldest lines;</li>
 *   <li>in all: at most {@link Limits#totalBytes}; over it, the largest tail of the owner holding
 *       the most loses its oldest lines, so a flood costs the flooder first.</li>
 * </ul>
 * Bytes are counted as held, not as shown: the lines of one read share one array (one copy per
 * read, not per line), which is counted whole from its first line stored until its last line is
 * gone, and each line and array adds what its objects cost ({@link #LINE_COST},
 * {@link #CHUNK_COST}), so the count is the memory the tails really keep alive.
 *
 * <p>Lines become {@code String}s only when read: a flooding vassal replaces its whole tail at
 * every read of its pipe, and making 200 {@code String}s per read that nobody looks at was half of
 * the I/O thread's own work (docs/performance.md).
 *
 * <p>Thread-safety: one lock for the stored lines (the I/O thread writes, readers copy an array of
 * references under it); stored bytes are never changed; listeners are called on the writer's
 * thread, after the lines are stored, outside the lock, and must not block; a listener that throws
 * is dropped (and ended), never the writer.
 */
public final class VassalTails {
    public static final int MAX_LINES = 200;
    public static final int MAX_BYTES = 1024 * 1024;
    /** What a stored line costs beside its bytes: the Line object and its slot in the deque. */
    static final int LINE_COST = 32;
    /** What one shared array costs beside its bytes: the Chunk object and the array's header. */
    static final int CHUNK_COST = 40;
    /** The owner of lines whose vassal runs as no particular tenant (outside tyrant mode); no per-owner bound. */
    public static final int NO_OWNER = -1;
    /** A reader or follower that may see every owner's lines (root, the emperor's group). */
    public static final int ANY_OWNER = -2;

    /**
     * @param lines      lines per vassal
     * @param tailBytes  bytes per vassal
     * @param ownerBytes bytes of all the vassals of one owner (not for {@link #NO_OWNER})
     * @param totalBytes bytes of every tail
     */
    public record Limits(int lines, int tailBytes, int ownerBytes, int totalBytes) {
        public static final Limits DEFAULT = new Limits(MAX_LINES, MAX_BYTES, 2 * MAX_BYTES, 8 * MAX_BYTES);

        public Limits {
            if (lines < 1 || tailBytes < 1 || ownerBytes < tailBytes || totalBytes < ownerBytes) {
                throw new IllegalArgumentException("bounds must be positive and nested: " + lines + " lines, "
                        + tailBytes + " <= " + ownerBytes + " <= " + totalBytes + " bytes");
            }
        }
    }

    /**
     * What starts the emperor's own lines about a vassal ({@link #appendEmperor}). A line the
     * vassal printed that starts so is read with its {@code [} as {@code \x5b} (the escape the
     * {@link LineSplitter} uses for control characters), so that what starts with it is the
     * emperor's and nothing a vassal prints can pass for it.
     */
    public static final String EMPEROR_PREFIX = "[emperor] ";

    /** The lines of one read (or one line): counted whole while any of its lines is stored. */
    private static final class Chunk {
        final byte[] data;
        final boolean emperor;
        int live;

        Chunk(byte[] data, boolean emperor) {
            this.data = data;
            this.emperor = emperor;
        }
    }

    /** One stored line: {@code chunk.data[from, to)}, UTF-8. */
    private record Line(Chunk chunk, int from, int to) {
        String text() {
            String text = new String(chunk.data, from, to - from, StandardCharsets.UTF_8);
            return chunk.emperor ? text : vassalsOwn(text);
        }
    }

    /** A line the vassal printed, as it is read: one that would pass for the emperor's gets its {@code [} escaped. */
    static String vassalsOwn(String line) {
        return line.startsWith(EMPEROR_PREFIX) ? "\\x5b" + line.substring(1) : line;
    }

    private static final class Tail {
        final ArrayDeque<Line> lines = new ArrayDeque<>();
        int owner;
        long bytes;

        Tail(int owner) {
            this.owner = owner;
        }
    }

    private static final class Owner {
        final Set<Tail> tails = new LinkedHashSet<>();
        long bytes;
    }

    /** A follower: its owner binding, where its lines go, and how it is told that it ends. */
    private static final class Follower {
        final int owner;
        final Consumer<String> lines;
        final Consumer<String> end;

        Follower(int owner, Consumer<String> lines, Consumer<String> end) {
            this.owner = owner;
            this.lines = lines;
            this.end = end;
        }
    }

    private final Limits limits;
    private final Object lock = new Object();
    // Guarded by lock.
    private final Map<String, Tail> tails = new HashMap<>();
    private final Map<Integer, Owner> owners = new HashMap<>();
    private long totalBytes;
    private final Map<String, List<Follower>> followers = new ConcurrentHashMap<>();

    public VassalTails() {
        this(Limits.DEFAULT);
    }

    /** With these line and vassal bounds (injected); the owner and total bounds grow to fit. */
    public VassalTails(int maxLines, int maxBytes) {
        this(new Limits(maxLines, maxBytes, Math.max(maxBytes, Limits.DEFAULT.ownerBytes()),
                Math.max(maxBytes, Limits.DEFAULT.totalBytes())));
    }

    public VassalTails(Limits limits) {
        this.limits = limits;
    }

    /** Stores one line of {@code name}, printed by no particular owner, and hands it to its followers. */
    public void append(String name, String line) {
        append(name, NO_OWNER, line);
    }

    /** Stores one line of {@code name} printed by a run of {@code owner}, and hands it to its followers. */
    public void append(String name, int owner, String line) {
        appendLine(name, owner, line, false);
    }

    /**
     * Stores one of the emperor's lines about {@code name} ({@code spawned …}, {@code exited …}),
     * which starts with {@link #EMPEROR_PREFIX}, among the vassal's own, as {@code owner}'s (the
     * owner of the vassal's file in tyrant mode): bounded, read and followed like them.
     */
    public void appendEmperor(String name, int owner, String line) {
        if (!line.startsWith(EMPEROR_PREFIX)) {
            throw new IllegalArgumentException("an emperor's line starts with " + EMPEROR_PREFIX + ": " + line);
        }
        appendLine(name, owner, line, true);
    }

    private void appendLine(String name, int owner, String line, boolean emperor) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        Chunk chunk = new Chunk(b, emperor);
        List<Follower> ended;
        synchronized (lock) {
            ended = store(name, owner, List.of(new Line(chunk, 0, b.length)));
        }
        deliver(name, owner, ended, List.of(emperor ? line : vassalsOwn(line)));
    }

    /** The lines of one read of {@code name}'s output, printed by no particular owner. */
    void append(String name, LineBatch batch) {
        append(name, NO_OWNER, batch);
    }

    /**
     * Stores the lines of one read of {@code name}'s output, printed by a run of {@code owner} (the
     * I/O thread calls this): one copy of the bytes of the lines the tail can keep (the last
     * {@link Limits#lines}, within {@link Limits#tailBytes}). Every line becomes a {@code String}
     * only when someone follows the vassal.
     */
    void append(String name, int owner, LineBatch batch) {
        int n = batch.count();
        if (n == 0) {
            return;
        }
        // The copy runs from the first kept line to the last (the prefixes between them included):
        // it is what the tail holds, so it is what must fit.
        int first = n - 1;
        int last = batch.end(n - 1);
        while (first > 0 && n - first < limits.lines()
                && last - batch.start(first - 1) + (long) (n - first + 1) * LINE_COST <= limits.tailBytes()) {
            first--;
        }
        int offset = batch.start(first);
        Chunk chunk = new Chunk(Arrays.copyOfRange(batch.bytes, offset, batch.end(n - 1)), false);
        List<Line> lines = new ArrayList<>(n - first);
        for (int i = first; i < n; i++) {
            lines.add(new Line(chunk, batch.start(i) - offset, batch.end(i) - offset));
        }
        List<Follower> ended;
        synchronized (lock) {
            ended = store(name, owner, lines);
        }
        List<Follower> f = followers.get(name);
        if (!ended.isEmpty() || f != null && !f.isEmpty()) {
            List<String> text = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                text.add(vassalsOwn(batch.line(i)));
            }
            deliver(name, owner, ended, text);
        }
    }

    /** Under the lock: stores, bounds, and returns the followers to end (the name changed owner). */
    private List<Follower> store(String name, int owner, List<Line> lines) {
        Tail t = tails.get(name);
        List<Follower> ended = List.of();
        if (t == null) {
            t = new Tail(owner);
            tails.put(name, t);
            ownerOf(owner).tails.add(t);
        } else if (t.owner != owner) {
            // The name passed to another owner: nothing of the old owner's stays readable.
            while (!t.lines.isEmpty()) {
                evictOldest(t);
            }
            Owner old = owners.get(t.owner);
            old.tails.remove(t);
            if (old.tails.isEmpty()) {
                owners.remove(t.owner);
            }
            int previous = t.owner;
            t.owner = owner;
            ownerOf(owner).tails.add(t);
            ended = boundTo(name, previous);
        }
        for (Line line : lines) {
            t.lines.addLast(line);
            charge(t, line.chunk().live++ == 0 ? LINE_COST + CHUNK_COST + line.chunk().data.length : LINE_COST);
        }
        // Keep at least the newest line, even when it alone exceeds the byte bound.
        while (t.lines.size() > limits.lines() || t.bytes > limits.tailBytes() && t.lines.size() > 1) {
            evictOldest(t);
        }
        Owner o = owners.get(owner);
        while (owner != NO_OWNER && o.bytes > limits.ownerBytes()) {
            evictOldest(largest(o.tails));
        }
        while (totalBytes > limits.totalBytes()) {
            Owner biggest = null;
            for (Owner x : owners.values()) {
                if (biggest == null || x.bytes > biggest.bytes) {
                    biggest = x;
                }
            }
            evictOldest(largest(biggest.tails));
        }
        return ended;
    }

    private Owner ownerOf(int owner) {
        return owners.computeIfAbsent(owner, k -> new Owner());
    }

    private static Tail largest(Set<Tail> tails) {
        Tail largest = null;
        for (Tail t : tails) {
            if (largest == null || t.bytes > largest.bytes) {
                largest = t;
            }
        }
        return largest;
    }

    private void charge(Tail t, long bytes) {
        t.bytes += bytes;
        owners.get(t.owner).bytes += bytes;
        totalBytes += bytes;
    }

    private void evictOldest(Tail t) {
        Line line = t.lines.removeFirst();
        charge(t, --line.chunk().live == 0 ? -(LINE_COST + CHUNK_COST + line.chunk().data.length) : -LINE_COST);
    }

    /** The followers of {@code name} bound to {@code owner}, removed from the list. */
    private List<Follower> boundTo(String name, int owner) {
        List<Follower> list = followers.get(name);
        if (list == null) {
            return List.of();
        }
        List<Follower> bound = new ArrayList<>();
        for (Follower f : list) {
            if (f.owner == owner) {
                bound.add(f);
            }
        }
        list.removeAll(bound);
        return bound;
    }

    /** Outside the lock: ends the followers of the old owner, then hands the lines to the others. */
    private void deliver(String name, int owner, List<Follower> ended, List<String> lines) {
        for (Follower f : ended) {
            end(f, "its lines now come from another owner");
        }
        List<Follower> list = followers.get(name);
        if (list == null || list.isEmpty()) {
            return;
        }
        for (Follower f : list) {
            if (f.owner != ANY_OWNER && f.owner != owner) {
                continue; // another owner's run (an old one still stopping): not this follower's
            }
            try {
                for (String line : lines) {
                    f.lines.accept(line);
                }
            } catch (RuntimeException e) {
                list.remove(f);
                EmperorLog.error("bug: a follower of " + name + " failed; it is ended", e);
                end(f, "internal error");
            }
        }
    }

    private static void end(Follower f, String why) {
        try {
            f.end.accept(why);
        } catch (RuntimeException e) {
            EmperorLog.error("bug: ending a follower failed", e);
        }
    }

    /** The stored lines of {@code name}, oldest first, whoever printed them; empty for a vassal with none. */
    public List<String> lines(String name) {
        return lines(name, ANY_OWNER);
    }

    /**
     * The stored lines of {@code name}, oldest first, if they were printed by {@code owner}
     * ({@link #ANY_OWNER}: whoever printed them); else none.
     */
    public List<String> lines(String name, int owner) {
        Line[] snapshot;
        synchronized (lock) {
            Tail t = tails.get(name);
            if (t == null || owner != ANY_OWNER && t.owner != owner) {
                return List.of();
            }
            snapshot = t.lines.toArray(new Line[0]);
        }
        List<String> lines = new ArrayList<>(snapshot.length);
        for (Line l : snapshot) {
            lines.add(l.text());
        }
        return List.copyOf(lines);
    }

    /** {@link #follow(String, int, Consumer, Consumer)} of every owner's lines, never ended. */
    public AutoCloseable follow(String name, Consumer<String> listener) {
        return follow(name, ANY_OWNER, listener, why -> { });
    }

    /**
     * Calls {@code listener} with every later line of {@code name} printed by {@code owner}
     * ({@link #ANY_OWNER}: by anyone), on the writer's thread (it must not block: hand the line to
     * a queue). When the name passes from {@code owner} to another, {@code end} is called once
     * with the reason and no line comes any more. Close the result to stop. Followers outlive
     * {@link #forget}: a follower of a vassal that comes back (of the same owner) sees its new lines.
     */
    public AutoCloseable follow(String name, int owner, Consumer<String> listener, Consumer<String> end) {
        Follower f = new Follower(owner, listener, end);
        List<Follower> list = followers.computeIfAbsent(name, n -> new CopyOnWriteArrayList<>());
        list.add(f);
        return () -> list.remove(f);
    }

    /** Drops the tail of a vassal the emperor no longer knows. */
    public void forget(String name) {
        synchronized (lock) {
            Tail t = tails.remove(name);
            if (t == null) {
                return;
            }
            while (!t.lines.isEmpty()) {
                evictOldest(t);
            }
            Owner o = owners.get(t.owner);
            o.tails.remove(t);
            if (o.tails.isEmpty()) {
                owners.remove(t.owner);
            }
        }
    }

    /** How many vassals have a tail (any thread; the metric emperor_log_tails). */
    public int count() {
        synchronized (lock) {
            return tails.size();
        }
    }

    /** Bytes held by every tail, what they cost included (any thread; the metric emperor_log_tail_bytes). */
    public long totalBytes() {
        synchronized (lock) {
            return totalBytes;
        }
    }
}
