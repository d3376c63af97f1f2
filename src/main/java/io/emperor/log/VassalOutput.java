package io.emperor.log;

import io.emperor.config.IoReasons;
import io.emperor.config.LogSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Where a vassal's output lines go (docs/logging.md): always into its in-memory tail, then either
 * into the emperor's log (tagged with the vassal name, or as printed with {@code log-tag = false})
 * or, with {@code vassal-logs = DIR}, into {@code DIR/NAME.log}, which the emperor opens itself.
 *
 * <p>Threads: {@link #line} and {@link #flush} are called by the I/O thread only, which reads a
 * chunk of a pipe, hands its lines to {@link #line} and then calls {@link #flush} once, so a file
 * gets one write per chunk, not one per line (the emperor's log too: one logging event per chunk,
 * {@link EmperorLog.OutputBatch}). {@link #reconfigure} (SIGHUP) and {@link #forget}
 * come from the loop thread: the first only bumps a generation that makes every file reopen at
 * its next write; the second closes a file under its lock.
 *
 * <p>A file that cannot be opened or written (directory gone, disk full, not writable) is reported
 * once; until a retry {@link #RETRY_NANOS} later succeeds, the vassal's lines go to the emperor's
 * log instead, tagged, so none is lost; the success is reported too.
 */
public final class VassalOutput {
    /** How long after a failure a file is tried again. */
    public static final long RETRY_NANOS = 2_000_000_000L;

    /**
     * How one run's lines are routed.
     *
     * @param name the vassal name
     * @param tag  prefix each line with its timestamp (and, in the emperor's log, {@code [name]})
     *             ({@code log-tag}, default true)
     */
    public record Route(String name, boolean tag) {
        public static Route tagged(String name) {
            return new Route(name, true);
        }
    }

    /** The per-vassal file of one name, with the lines of the chunk being read. */
    private static final class Target {
        final List<String> pending = new ArrayList<>();
        VassalLogFile file;
        int generation;
        boolean failing;
        long retryAt;
        byte[] buffer = new byte[0];
    }

    private final VassalTails tails;
    private final LongSupplier nanoTime;
    private final LongSupplier millis;
    private final LogTime time = new LogTime();
    private final Map<String, Target> targets = new ConcurrentHashMap<>();
    private volatile LogSettings settings = LogSettings.DEFAULTS;
    private volatile int generation;

    public VassalOutput(VassalTails tails) {
        this(tails, System::nanoTime, System::currentTimeMillis);
    }

    /** @param nanoTime monotonic, for retries; @param millis wall time, for line timestamps */
    public VassalOutput(VassalTails tails, LongSupplier nanoTime, LongSupplier millis) {
        this.tails = tails;
        this.nanoTime = nanoTime;
        this.millis = millis;
    }

    public VassalTails tails() {
        return tails;
    }

    /** New settings (start, SIGHUP): every open file is reopened at its next write, so after an external mv too. */
    public void reconfigure(LogSettings next) {
        settings = next;
        generation++;
    }

    /** One line the vassal printed (already split, cut and escaped by {@link LineSplitter}). */
    public void line(Route route, String line) {
        tails.append(route.name(), line);
        targets.computeIfAbsent(route.name(), n -> new Target()).pending.add(line);
    }

    /** The end of a chunk: writes what {@link #line} collected for this vassal's file. */
    public void flush(Route route) {
        Target t = targets.get(route.name());
        if (t == null) {
            return;
        }
        synchronized (t) {
            if (t.pending.isEmpty()) {
                return;
            }
            LogSettings s = settings;
            if (s.vassalLogs().isEmpty()) { // the emperor's log (also when a SIGHUP removed vassal-logs)
                EmperorLog.output(route.name(), t.pending, route.tag());
                t.pending.clear();
                closeFile(t);
                return;
            }
            Path path = s.vassalLogs().get().resolve(route.name() + ".log");
            if (t.file != null && (t.generation != generation || !t.file.path().equals(path))) {
                closeFile(t);
            }
            if (t.failing && nanoTime.getAsLong() - t.retryAt < 0) {
                fallBack(route, t);
                return;
            }
            try {
                if (t.file == null) {
                    t.file = new VassalLogFile(path);
                    t.generation = generation;
                }
                int len = format(route, t);
                t.file.write(t.buffer, len, s.vassalLogMaxSize(), s.vassalLogBackups());
                t.pending.clear();
                if (t.failing) {
                    t.failing = false;
                    EmperorLog.info(route.name() + ": log file " + path + " is writable again");
                }
            } catch (IOException | RuntimeException e) {
                if (!t.failing) {
                    EmperorLog.warn(route.name() + ": cannot write log file " + path + ": " + reason(e)
                            + "; its lines go to the emperor's log until a retry succeeds (every "
                            + RETRY_NANOS / 1_000_000_000L + "s)");
                }
                t.failing = true;
                t.retryAt = nanoTime.getAsLong() + RETRY_NANOS;
                closeFile(t);
                fallBack(route, t);
            }
        }
    }

    /** The vassal is forgotten: drop its tail and close its file. */
    public void forget(String name) {
        tails.forget(name);
        Target t = targets.remove(name);
        if (t != null) {
            synchronized (t) {
                closeFile(t);
            }
        }
    }

    private int format(Route route, Target t) {
        StringBuilder sb = new StringBuilder(t.pending.size() * 128);
        long now = millis.getAsLong();
        for (String line : t.pending) {
            if (route.tag()) {
                time.append(sb, now);
                sb.append(' ');
            }
            sb.append(line).append('\n');
        }
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        t.buffer = bytes;
        return bytes.length;
    }

    private static void fallBack(Route route, Target t) {
        EmperorLog.output(route.name(), t.pending, true);
        t.pending.clear();
    }

    private static void closeFile(Target t) {
        if (t.file != null) {
            t.file.close();
            t.file = null;
        }
    }

    private static String reason(Exception e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e instanceof IOException io ? IoReasons.of(io) : e.toString();
    }
}
