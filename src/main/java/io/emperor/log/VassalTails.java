package io.emperor.log;

import java.util.ArrayDeque;
import java.util.ArrayList;
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
 * <p>Bounded twice per vassal: at most {@link #MAX_LINES} lines and at most {@link #MAX_CHARS}
 * characters, whichever is reached first (oldest lines go first). A line is at most the 64 KiB
 * cut of {@link LineSplitter} plus escapes (up to 4 characters per byte), so without the second
 * bound 200 lines could hold 50 MiB per vassal; with it a tail holds at most ~2 MiB (chars are
 * 2 bytes) plus one line. Thread-safety: one lock per vassal tail; listeners are called on the
 * writer's thread, after the line is stored, outside no lock, and must not block.
 */
public final class VassalTails {
    public static final int MAX_LINES = 200;
    public static final int MAX_CHARS = 1024 * 1024;

    private final int maxLines;
    private final int maxChars;
    private final Map<String, Tail> tails = new ConcurrentHashMap<>();
    private final Map<String, List<Consumer<String>>> followers = new ConcurrentHashMap<>();

    private static final class Tail {
        final ArrayDeque<String> lines = new ArrayDeque<>();
        long chars;
    }

    public VassalTails() {
        this(MAX_LINES, MAX_CHARS);
    }

    /** With other bounds (tests). */
    public VassalTails(int maxLines, int maxChars) {
        if (maxLines < 1 || maxChars < 1) {
            throw new IllegalArgumentException("bounds must be positive");
        }
        this.maxLines = maxLines;
        this.maxChars = maxChars;
    }

    /** Stores one line of {@code name} and hands it to its followers (the I/O thread calls this). */
    public void append(String name, String line) {
        Tail t = tails.computeIfAbsent(name, n -> new Tail());
        synchronized (t) {
            t.lines.addLast(line);
            t.chars += line.length();
            // Keep at least the newest line, even when it alone exceeds the character bound.
            while (t.lines.size() > maxLines || t.chars > maxChars && t.lines.size() > 1) {
                t.chars -= t.lines.removeFirst().length();
            }
        }
        List<Consumer<String>> f = followers.get(name);
        if (f != null) {
            for (Consumer<String> c : f) {
                c.accept(line);
            }
        }
    }

    /** The stored lines of {@code name}, oldest first; empty for a vassal with none. */
    public List<String> lines(String name) {
        Tail t = tails.get(name);
        if (t == null) {
            return List.of();
        }
        synchronized (t) {
            return List.copyOf(new ArrayList<>(t.lines));
        }
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
