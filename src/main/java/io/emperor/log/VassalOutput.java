package io.emperor.log;

import io.emperor.config.IoReasons;
import io.emperor.config.LogFormat;
import io.emperor.config.LogSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Where a vassal's output lines go (docs/logging.md): always into its in-memory tail, then either
 * into the emperor's log (tagged with the vassal name, or as printed with {@code log-tag = false})
 * or, with {@code vassal-logs = DIR}, into {@code DIR/NAME.log}, which the emperor opens itself.
 *
 * <p>Threads: {@link #write} and {@link #finish} are called by the I/O thread only, once per read
 * of a pipe. The lines of the read are formatted for their target straight into one byte array
 * ({@link LineBatch}: the target's prefix, then the split and escaped bytes), which goes out as
 * one write: to the vassal's file, or to the emperor's log through its appender's lock
 * ({@link LogSetup#preEncoded}), or, when the emperor's log is a user's logback.xml, as one
 * logging event ({@link EmperorLog.OutputBatch}). {@link #reconfigure} (SIGHUP) and
 * {@link #forget} come from the loop thread: the first only bumps a generation that makes every
 * file reopen at its next write; the second closes a file under its lock.
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
     * @param name  the vassal name
     * @param tag   prefix each line with its timestamp (and, in the emperor's log, {@code [name]})
     *              ({@code log-tag}, default true)
     * @param owner whose lines they are in the in-memory tail: in tyrant mode the uid the run
     *              runs as, else {@link VassalTails#NO_OWNER} ({@link VassalTails})
     */
    public record Route(String name, boolean tag, int owner) {
        /** A run of no particular owner (outside tyrant mode). */
        public Route(String name, boolean tag) {
            this(name, tag, VassalTails.NO_OWNER);
        }

        public static Route tagged(String name) {
            return new Route(name, true);
        }
    }

    /** The per-vassal file of one name. */
    private static final class Target {
        /** {@code [NAME] }, as the emperor's log tags the vassal's lines. */
        final byte[] tag;
        VassalLogFile file;
        int generation;
        boolean failing;
        long retryAt;

        Target(String name) {
            tag = EmperorLayout.tag(name).getBytes(StandardCharsets.UTF_8); // a file name may hold a newline
        }
    }

    /**
     * Where the lines of one read go: {@code file}, else the emperor's log, pre-encoded through
     * {@code log} when there is one, else as an event.
     */
    private record Destination(Path file, LogSetup.PreEncodedLog log, boolean tag) {}

    private final VassalTails tails;
    private final LongSupplier nanoTime;
    private final LongSupplier millis;
    private final LinePrefix linePrefix = new LinePrefix();
    private final Map<String, Target> targets = new ConcurrentHashMap<>();
    private final LineBatch batch = new LineBatch();
    private byte[] prefix = new byte[64];
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

    /**
     * One read of a vassal's output: {@code data[off, off + len)} is split into lines by the run's
     * {@code splitter}, and its complete lines are written with one write.
     */
    public void write(Route route, LineSplitter splitter, byte[] data, int off, int len) {
        Target t = targets.computeIfAbsent(route.name(), Target::new);
        synchronized (t) {
            Destination d = destination(route, t);
            splitter.feed(data, off, len, batch);
            deliver(route, t, d);
        }
    }

    /** The end of a run's output: writes what is left of an unfinished last line. */
    public void finish(Route route, LineSplitter splitter) {
        Target t = targets.computeIfAbsent(route.name(), Target::new);
        synchronized (t) {
            Destination d = destination(route, t);
            splitter.flush(batch);
            deliver(route, t, d);
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

    /** Chooses where this read's lines go, and empties the batch with the prefix they need there. */
    private Destination destination(Route route, Target t) {
        LogSettings s = settings;
        long now = millis.getAsLong();
        if (s.vassalLogs().isPresent()) {
            Path path = s.vassalLogs().get().resolve(route.name() + ".log");
            if (t.file != null && (t.generation != generation || !t.file.path().equals(path))) {
                closeFile(t);
            }
            if (!t.failing || nanoTime.getAsLong() - t.retryAt >= 0) {
                batch.reset(prefix, linePrefix.put(prefix, false, route.tag(), null, now));
                return new Destination(path, null, route.tag());
            }
            return emperorLog(t, true, now); // until the retry: tagged, among the emperor's lines
        }
        closeFile(t); // a SIGHUP removed vassal-logs
        return emperorLog(t, route.tag(), now);
    }

    /** The same prefixes as {@link EmperorLayout} writes for an {@link EmperorLog.OutputBatch} ({@link LinePrefix}). */
    private Destination emperorLog(Target t, boolean tag, long now) {
        LogSetup.PreEncodedLog log = LogSetup.preEncoded();
        int n = 0;
        if (log != null) {
            if (prefix.length < LinePrefix.maxLength(t.tag.length)) {
                prefix = new byte[LinePrefix.maxLength(t.tag.length)];
            }
            n = linePrefix.put(prefix, log.format() == LogFormat.JOURNAL, tag, tag ? t.tag : null, now);
        }
        batch.reset(prefix, n);
        return new Destination(null, log, tag);
    }

    private void deliver(Route route, Target t, Destination d) {
        tails.append(route.name(), route.owner(), batch);
        if (batch.count() == 0) {
            return;
        }
        if (d.file() != null) {
            writeFile(route, t, d.file());
        } else if (d.log() == null || !d.log().appender().writePreEncoded(batch.bytes, 0, batch.size)) {
            // A user's logback.xml, or the appender was just replaced (SIGHUP): logback's way.
            EmperorLog.output(route.name(), batch.lines(), d.tag());
        }
    }

    private void writeFile(Route route, Target t, Path path) {
        LogSettings s = settings;
        try {
            if (t.file == null) {
                t.file = new VassalLogFile(path);
                t.generation = generation;
            }
            t.file.write(batch.bytes, batch.size, s.vassalLogMaxSize(), s.vassalLogBackups());
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
            EmperorLog.output(route.name(), batch.lines(), true);
        }
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
