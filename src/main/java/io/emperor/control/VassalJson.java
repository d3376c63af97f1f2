package io.emperor.control;

import java.time.Instant;

/**
 * A vassal as the control socket's {@code status} shows it (docs/control.md): one JSON object,
 * {@link Json#write} writes the components in this order, in snake_case. Times are Unix seconds
 * ({@code null}: never); {@code uptime} and {@code backoff} seconds. The fields after
 * {@code problem} were added later; the older ones keep their meaning.
 */
public record VassalJson(
        String name,
        String state,
        String kind,
        String file,
        int owner,
        long pid,
        int uid,
        int gid,
        Double startedAt,
        double uptime,
        long spawns,
        long restarts,
        int failures,
        double backoff,
        String lastExit,
        Double lastExitAt,
        String problem,
        String lastProblem,
        Double lastProblemSince,
        String lastProblemSinceUtc,
        String waitingFor,
        boolean ready,
        String statusText,
        java.util.List<String> listen) {

    public static VassalJson of(VassalStatus s) {
        boolean trouble = s.lastProblem() != null;
        return new VassalJson(s.name(), s.state(), s.kind(), s.file(), s.owner(), s.pid(), s.uid(), s.gid(),
                seconds(s.startedAt()), s.uptimeMillis() / 1000.0, s.spawns(), s.restarts(), s.failures(),
                s.backoffMillis() / 1000.0, s.lastExit(), seconds(s.lastExitAt()), s.problem(), s.lastProblem(),
                trouble ? s.lastProblemSince() / 1000.0 : null,
                trouble ? Instant.ofEpochMilli(s.lastProblemSince()).toString() : null,
                s.waitingFor(), s.ready(), s.statusText(), s.listen().isEmpty() ? null : s.listen());
    }

    private static Double seconds(long millis) {
        return millis == 0 ? null : millis / 1000.0;
    }
}
