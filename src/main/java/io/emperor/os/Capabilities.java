package io.emperor.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What tyrant mode needs of the emperor's own capabilities (DESIGN §5): effective
 * {@code CAP_SETUID} and {@code CAP_SETGID} to drop each vassal to its owner, {@code CAP_KILL} to
 * signal vassals of other users. Root has them; an unprivileged emperor gets them as ambient
 * capabilities from systemd. Pure except {@link #readSelfStatus()}.
 */
public final class Capabilities {
    /** The capabilities tyrant mode needs, in the order they are named, with their bit numbers. */
    static final List<Cap> TYRANT = List.of(new Cap("CAP_SETUID", 7), new Cap("CAP_SETGID", 6), new Cap("CAP_KILL", 5));

    /** One capability: its name and its bit in the masks of {@code /proc/PID/status}. */
    record Cap(String name, int bit) {}

    private Capabilities() {}

    /**
     * The effective set from the text of {@code /proc/PID/status} ({@code CapEff:} in hex), or
     * empty when the line is missing or not a hex number.
     */
    static Optional<Long> effective(String procStatus) {
        for (String line : procStatus.split("\n")) {
            if (line.startsWith("CapEff:")) {
                try {
                    return Optional.of(Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    /** The names of the capabilities tyrant mode needs that the effective set lacks (all when unknown). */
    public static List<String> missingForTyrant(String procStatus) {
        Optional<Long> eff = effective(procStatus);
        List<String> missing = new ArrayList<>();
        for (Cap cap : TYRANT) {
            if (eff.isEmpty() || (eff.get() & (1L << cap.bit())) == 0) {
                missing.add(cap.name());
            }
        }
        return missing;
    }

    /** Why the emperor will not start, and the lines that fix it; for a non-empty {@code missing}. */
    public static String refusal(List<String> missing) {
        String all = String.join(" ", TYRANT.stream().map(Cap::name).toList());
        return "emperor: tyrant mode needs the capabilities " + all + " (effective); missing: "
                + String.join(" ", missing) + "\n"
                + "  run the emperor as root, or grant them to its user, e.g. in the [Service] section of"
                + " emperor.service:\n"
                + "    AmbientCapabilities=" + all + "\n"
                + "    CapabilityBoundingSet=" + all + "\n"
                + "  (see docs/tyrant.md)";
    }

    /**
     * The calling thread's {@code /proc/thread-self/status}: capabilities are per thread. An
     * emperor that became a user itself (emperor.ini's {@code uid}, {@link PrivilegeDrop}) without
     * libemperor-signal.so holds them only in this thread and those it started, not in the JVM's
     * first thread that {@code /proc/self/status} shows. Otherwise every thread has the same.
     */
    public static String readSelfStatus() throws IOException {
        return Files.readString(Path.of("/proc/thread-self/status"), StandardCharsets.ISO_8859_1);
    }
}
