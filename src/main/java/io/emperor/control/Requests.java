package io.emperor.control;

import io.emperor.vassal.Event;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The requests of the control socket as records (docs/control.md, "Requests"), read from the
 * parsed JSON with the texts a client gets for a field of the wrong type ({@code bad-request}).
 */
final class Requests {
    private Requests() {}

    /** A request the emperor does not understand; the message is the answer's. */
    static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message);
        }
    }

    /** What a request asks. */
    sealed interface Request {}

    /** {@code status}: the named vassals, or (empty) every one the peer may see. */
    record Status(List<String> names) implements Request {}

    /** {@code stop}, {@code start}, {@code restart}, {@code reload}; {@code waits}: the request's {@code wait}; {@code timeout} null: each command's default. */
    record Act(Event.Operator op, List<String> names, boolean waits, Duration timeout) implements Request {}

    /** {@code logs}. */
    record Logs(String name, int lines, boolean follow) implements Request {}

    /** {@code rescan}. */
    record Rescan() implements Request {}

    /** The request of command {@code cmd}. */
    static Request parse(String cmd, Map<String, Object> request) throws BadRequest {
        return switch (cmd) {
            case "status" -> new Status(names(request, false));
            case "stop" -> act(new Event.Stop(), request);
            case "start" -> act(new Event.Start(), request);
            case "restart" -> act(new Event.Restart(), request);
            case "reload" -> act(new Event.Reload(), request);
            case "logs" -> logs(request);
            case "rescan" -> new Rescan();
            default -> throw new BadRequest("unknown command \"" + cmd
                    + "\" (status, start, stop, restart, reload, logs, rescan)");
        };
    }

    private static Act act(Event.Operator op, Map<String, Object> request) throws BadRequest {
        return new Act(op, names(request, true), wait(request), timeout(request));
    }

    private static Logs logs(Map<String, Object> request) throws BadRequest {
        Object n = request.get("name");
        if (!(n instanceof String name)) {
            throw new BadRequest("missing \"name\" (the vassal whose lines to show)");
        }
        Object l = request.getOrDefault("lines", 10L);
        if (!(l instanceof Number num) || num.longValue() < 0) {
            throw new BadRequest("\"lines\" must be a number of lines (0 or more)");
        }
        int lines = (int) Math.min(LogsCommand.MAX_LINES, num.longValue());
        Object f = request.getOrDefault("follow", Boolean.FALSE);
        if (!(f instanceof Boolean follow)) {
            throw new BadRequest("\"follow\" must be true or false");
        }
        return new Logs(name, lines, follow);
    }

    private static List<String> names(Map<String, Object> request, boolean required) throws BadRequest {
        Object n = request.get("names");
        if (n == null) {
            if (required) {
                throw new BadRequest("missing \"names\" (a list of vassal names)");
            }
            return List.of();
        }
        if (!(n instanceof List<?> list) || list.stream().anyMatch(x -> !(x instanceof String))) {
            throw new BadRequest("\"names\" must be a list of strings");
        }
        if (required && list.isEmpty()) {
            throw new BadRequest("\"names\" is empty: name at least one vassal");
        }
        return list.stream().map(String.class::cast).distinct().toList();
    }

    private static boolean wait(Map<String, Object> request) throws BadRequest {
        Object w = request.getOrDefault("wait", Boolean.TRUE);
        if (!(w instanceof Boolean b)) {
            throw new BadRequest("\"wait\" must be true or false");
        }
        return b;
    }

    /** The request's {@code timeout} in seconds, or null for the default of each command. */
    private static Duration timeout(Map<String, Object> request) throws BadRequest {
        Object t = request.get("timeout");
        if (t == null) {
            return null;
        }
        if (!(t instanceof Number n) || n.doubleValue() <= 0 || n.doubleValue() > 86_400) {
            throw new BadRequest("\"timeout\" must be a number of seconds between 0 and 86400");
        }
        return Duration.ofMillis((long) (n.doubleValue() * 1000));
    }
}
