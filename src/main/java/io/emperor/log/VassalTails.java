package io.emperor.log;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The last lines each vassal printed, kept in memory for {@code emperor logs NAME} (the control
 * socket). Written by the I/O thread ({@link #append}); read from any thread ({@link #lines},
 * {@link #follow}); a vassal's tail is dropped when the loop forgets the vassal ({@link #forget}).
 *
 * <p>Bounded twice per vassal: at most {@link #MAX_LINES} lines and at most {@link #MAX_BYTES}
 * bytes of UTF-8 (so at most that many characters), whichever is reached first (oldest lines go
 * first). A line is at most the 64 KiB cut of {@link LineSplitter} plus escapes (up to 4 bytes per
 * byte), so without the second bound 200 lines could hold 50 MiB per vassal; with it a tail holds
 * at most ~1 MiB plus one line.
 *
 * <p>Lines are kept as UTF-8 bytes and become {@code String}s only when read: a flooding vassal
 * replaces its whole tail at every read of its pipe, and making 200 {@code String}s per read that
 * nobody looks at was half of the I/O thread's own work (docs/performance.md).
 *
 * <p>Thread-safety: one lock per vassal tail; stored bytes are never changed; listeners are called
 * on the writer's thread, after the line is stored, outside any lock, and must not block.
 */
public final class VassalTails {
    public static final int MAX_LINES = 200;
    public static final int MAX_BYTES = 1024 * 1024;

    private final int maxLines;
    private final int maxBytes;
    private final Map<String, Tail> tails = new ConcurrentHashMap<>();
    private final Map<String, List<Consumer<String>>> followers = new ConcurrentHashMap<>();

    /** One stored line: {@code data[from, to)}, UTF-8; {@code data} may hold other lines too. */
    private record Line(byte[] data, int from, int to) {
        int length() {
            return to - from;
        }

        String text() {
            return new String(data, from, to - from, StandardCharsets.UTF_8);
        }
    }

    private static final class Tail {
        final ArrayDeque<Line> lines = new ArrayDeque<>();
        long bytes;
    }

    public VassalTails() {
        this(MAX_LINES, MAX_BYTES);
    }

    /** With other bounds (tests). */
    public VassalTails(int maxLines, int maxBytes) {
        if (maxLines < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("bounds must be positive");
        }
        this.maxLines = maxLines;
        this.maxBytes = maxBytes;
    }

    /** Stores one line of {@code name} and hands it to its followers. */
    public void append(String name, String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        Tail t = tails.computeIfAbsent(name, n -> new Tail());
        synchronized (t) {
            store(t, new Line(b, 0, b.length));
        }
        List<Consumer<String>> f = followers.get(name);
        if (f != null) {
            for (Consumer<String> c : f) {
                c.accept(line);
            }
        }
    }

    /**
     * Stores the lines of one read of {@code name}'s output (the I/O thread calls this): one copy
     * of the bytes of the lines the tail can keep, the last {@link #maxLines}. Every line becomes a
     * {@code String} only when someone follows the vassal.
     */
    void append(String name, LineBatch batch) {
        int n = batch.count();
        if (n == 0) {
            return;
        }
        int first = Math.max(0, n - maxLines);
        int offset = batch.start(first);
        byte[] copy = Arrays.copyOfRange(batch.bytes, offset, batch.end(n - 1));
        Tail t = tails.computeIfAbsent(name, k -> new Tail());
        synchronized (t) {
            for (int i = first; i < n; i++) {
                store(t, new Line(copy, batch.start(i) - offset, batch.end(i) - offset));
            }
        }
        List<Consumer<String>> f = followers.get(name);
        if (f != null && !f.isEmpty()) {
            for (int i = 0; i < n; i++) {
                String line = batch.line(i);
                for (Consumer<String> c : f) {
                    c.accept(line);
                }
            }
        }
    }

    private void store(Tail t, Line line) {
        t.lines.addLast(line);
        t.bytes += line.length();
        // Keep at least the newest line, even when it alone exceeds the byte bound.
        while (t.lines.size() > maxLines || t.bytes > maxBytes && t.lines.size() > 1) {
            t.bytes -= t.lines.removeFirst().length();
        }
    }

    /** The stored lines of {@code name}, oldest first; empty for a vassal with none. */
    public List<String> lines(String name) {
        Tail t = tails.get(name);
        if (t == null) {
            return List.of();
        }
        Line[] snapshot;
        synchronized (t) {
            snapshot = t.lines.toArray(new Line[0]);
        }
        List<String> lines = new ArrayList<>(snapshot.length);
        for (Line l : snapshot) {
            lines.add(l.text());
        }
        return List.copyOf(lines);
    }

    /**
     * Calls {@code listener} with every later line of {@code name}, on the writer's thread (it
     * must not block: hand the line to a queue). Close the result to stop. Followers outlive
     * {@link #forget}: a follower of a vassal that comes back sees its new lines.
     */
    public AutoCloseable follow(String name, Consumer<String> listener) {
        List<Consumer<String>> list = followers.computeIfAbsent(name, n -> new CopyOnWriteArrayList<>());
        list.add(listener);
        return () -> list.remove(listener);
    }

    /** Drops the tail of a vassal the emperor no longer knows. */
    public void forget(String name) {
        tails.remove(name);
    }

    /** The vassals that have a tail (for tests: nothing left behind). */
    public java.util.Set<String> names() {
        return java.util.Set.copyOf(tails.keySet());
    }
}
