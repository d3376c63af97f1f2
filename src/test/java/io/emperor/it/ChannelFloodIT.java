package io.emperor.it;

import static io.emperor.it.Lines.lifecycle;
import static io.emperor.it.Lines.output;
import static io.emperor.it.Lines.spawned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.testing.Poll;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, item 5: a vassal that floods its uWSGI emperor channel starves nobody. The fake
 * uWSGI ({@code floods-channel.sh} as {@code uwsgi-binary}) writes heartbeats, ready, accepting,
 * loyal and unknown bytes as fast as it can beside a {@code [vassal]} printing a line every 0.1 s.
 * Over {@link #FLOOD} the printer's lines keep reaching the log (each soon after it printed it, by
 * the printer's own clock: a loaded machine slowing the printer is no failure), the emperor's
 * memory and CPU time stay bounded, the flooder gets few lines, and a SIGTERM still stops
 * everything in time.
 */
class ChannelFloodIT extends ItSupport {
    static final Duration FLOOD = Duration.ofSeconds(8);
    /** ticks.sh prints 10 lines a second; a few are enough to measure, however slow the machine. */
    static final int MIN_TICKS = 5;
    /** From the printer's echo to the emperor's log line; a starved reader holds lines for the flood. */
    static final Duration MAX_LATENCY = Duration.ofSeconds(2);
    static final Pattern TICK = Pattern.compile("^\\S+ \\[printer\\] tick (\\d+) at (\\d+)$");
    static final long MAX_RSS_GROWTH_KB = 200 * 1024;
    static final int MAX_FLOODER_LINES = 300;
    /** The emperor's CPU time over the flood: reading without a budget took 5.4 s of the 8 (0.16 s with it). */
    static final long MAX_CPU_MILLIS = 2500;
    /** The stop-timeout of a [uwsgi] vassal (30 s): a shutdown must end within it, plus a margin for a busy machine. */
    static final Duration STOPS_WITHIN = Duration.ofSeconds(30);

    /** A fixture copied into the workspace, executable (uwsgi-binary is exec'd directly). */
    Path fixture(String name) {
        Path to = ws.root.resolve("bin").resolve(name);
        try (InputStream in = ChannelFloodIT.class.getResourceAsStream("/fixtures/" + name)) {
            if (in == null) {
                throw new AssertionError("fixture " + name + " is not on the class path");
            }
            Files.createDirectories(to.getParent());
            Files.copy(in, to);
            Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new AssertionError("cannot copy fixture " + name, e);
        }
        return to;
    }

    static long rssKb(long pid) {
        String v = Procs.status(pid, "VmRSS").orElseThrow(() -> new AssertionError("no VmRSS for pid " + pid));
        return Long.parseLong(v.replace("kB", "").trim());
    }

    /** CPU time (user + system) of a process so far, in clock ticks (utime and stime of /proc/PID/stat). */
    static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException e) {
            throw new AssertionError("cannot read /proc/" + pid + "/stat", e);
        }
    }

    @Test
    void aVassalFloodingItsChannelStarvesNobodyAndTheEmperorStillStops() {
        Path flooder = fixture("floods-channel.sh");
        Path ticks = fixture("ticks.sh");
        try (EmperorProcess emp = emperor("uwsgi-binary = " + flooder, "vassal-set = emperor-it-marker=" + ws.marker)) {
            int from = emp.mark();
            ws.vassal("printer", "exec = /bin/sh " + ticks + " " + ws.marker, "stop-timeout = 5");
            emp.awaitLogFrom(from, output("printer", "tick 1 at \\d+$"), WAIT);
            long rssBefore = rssKb(emp.pid());

            int flood = emp.mark();
            Workspace.write(ws.vassals.resolve("flood.ini"), "[uwsgi]\nmaster = false\n");
            emp.awaitLogFrom(flood, spawned("flood"), WAIT);
            Instant floodStart = Instant.now();
            long cpuBefore = cpuTicks(emp.pid());
            long t0 = System.nanoTime();
            long[] rssMax = {rssBefore};
            Poll.within(FLOOD, () -> {
                rssMax[0] = Math.max(rssMax[0], rssKb(emp.pid()));
                return System.nanoTime() - t0 >= FLOOD.toNanos() ? Optional.of(true) : Optional.empty();
            });
            Instant floodEnd = Instant.now();
            long cpu = cpuTicks(emp.pid()) - cpuBefore;

            // Every tick printed during the flood (by its own clock) reached the log within
            // MAX_LATENCY, in order, none lost. The lines come in order through one pipe: once a
            // tick printed after the flood's end is in the log, every earlier one is.
            List<long[]> logged = Poll.until("a tick printed after the flood's end in the log", WAIT, () -> {
                List<long[]> all = new ArrayList<>(); // number, printed at, latency ms
                for (String line : emp.lines()) {
                    Matcher m = TICK.matcher(line);
                    if (m.matches()) {
                        Instant printed = Instant.ofEpochMilli(Long.parseLong(m.group(2)));
                        Instant at = Instant.parse(line.substring(0, line.indexOf(' ')));
                        all.add(new long[] {Long.parseLong(m.group(1)), printed.toEpochMilli(),
                                Duration.between(printed, at).toMillis()});
                    }
                }
                return !all.isEmpty() && all.get(all.size() - 1)[1] > floodEnd.toEpochMilli()
                        ? Optional.of(all) : Optional.empty();
            }, emp::diagnostics);
            List<long[]> during = logged.stream()
                    .filter(t -> t[1] >= floodStart.toEpochMilli() && t[1] <= floodEnd.toEpochMilli()).toList();
            long longestGap = during.stream().mapToLong(t -> t[2]).max().orElse(0);
            for (int i = 1; i < logged.size(); i++) {
                assertEquals(logged.get(i - 1)[0] + 1, logged.get(i)[0], "the printer's lines in order, none lost");
            }
            List<long[]> times = during;
            int aboutFlooder = emp.find(flood, Pattern.compile("^\\S+ \\[(emperor\\] flood:|flood\\])")).size();
            long growth = rssMax[0] - rssBefore;
            String measured = "during " + FLOOD.toMillis() + " ms of flood: " + times.size() + " printer line(s), longest latency "
                    + longestGap + " ms, " + aboutFlooder + " line(s) about the flooder, emperor RSS " + rssBefore
                    + " kB -> max " + rssMax[0] + " kB, emperor CPU " + cpu * 10 + " ms";
            System.out.println("ChannelFloodIT: " + measured);

            assertTrue(times.size() >= MIN_TICKS, () -> "the printer's lines stopped: " + measured + "\n" + emp.diagnostics());
            assertTrue(longestGap <= MAX_LATENCY.toMillis(), () -> "the printer's lines stalled: " + measured + "\n" + emp.diagnostics());
            assertTrue(growth < MAX_RSS_GROWTH_KB, () -> "the emperor's memory grew: " + measured);
            assertTrue(cpu * 10 < MAX_CPU_MILLIS, () -> "the flood cost the emperor CPU time: " + measured);
            assertTrue(aboutFlooder < MAX_FLOODER_LINES, () -> "the flooder filled the log: " + measured + "\n" + emp.diagnostics());
            assertTrue(emp.find(flood, lifecycle("flood", "unknown byte 99 on the emperor channel")).size() >= 1,
                    () -> "the unknown bytes are named: " + measured + "\n" + emp.diagnostics());

            long s0 = System.nanoTime();
            emp.signal("TERM");
            assertEquals(0, emp.awaitExit(STOPS_WITHIN), emp::diagnostics);
            System.out.println("ChannelFloodIT: stopped " + (System.nanoTime() - s0) / 1_000_000 + " ms after SIGTERM");
            // close() fails when any process of the test is left behind after this clean exit.
        }
    }
}
