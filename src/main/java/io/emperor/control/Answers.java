package io.emperor.control;

import java.util.List;
import java.util.Map;

/**
 * The answers of the control socket as records (docs/control.md, "The protocol"): each is one
 * line of JSON, its components in order and named in snake_case ({@link Json}). An answer that
 * has a field only when something went wrong is a record of its own, so that no field is ever
 * left out or added by accident.
 */
public final class Answers {
    private Answers() {}

    /** {@code {"ok":false,"error":CODE,"message":…}}: the answer of a request that failed as a whole. */
    public record Failure(boolean ok, String error, String message) {
        public Failure(String error, String message) {
            this(false, error, message);
        }
    }

    /** {@code {"ok":true,"message":…}} ({@code rescan}). */
    public record Done(boolean ok, String message) {
        public Done(String message) {
            this(true, message);
        }
    }

    /** The emperor in a {@code status} answer: {@link Emperor}, or {@link FleetEmperor} when it has a fleet. */
    public sealed interface EmperorPart permits Emperor, FleetEmperor {
        /** The record for {@code s}; {@code fleet} is the fleet's state ({@code etcd}), null without a fleet. */
        static EmperorPart of(EmperorStatus s, Map<String, Object> fleet) {
            Emperor e = Emperor.of(s);
            return fleet == null ? e : new FleetEmperor(e.version(), e.pid(), e.uid(), e.gid(), e.tyrant(),
                    e.startedAt(), e.vassalDirs(), e.loopLag(), fleet);
        }
    }

    /** The emperor in a {@code status} answer. Times in Unix seconds. */
    public record Emperor(String version, long pid, int uid, int gid, boolean tyrant, double startedAt,
                          List<String> vassalDirs, double loopLag) implements EmperorPart {
        public static Emperor of(EmperorStatus s) {
            return new Emperor(s.version(), s.pid(), s.uid(), s.gid(), s.tyrant(), s.startedAt() / 1000.0,
                    s.vassalDirs(), s.loopLagMillis() / 1000.0);
        }
    }

    /** The same with the fleet's state last ({@code "etcd"}, docs/fleet.md): only when {@code [emperor] etcd} is set. */
    public record FleetEmperor(String version, long pid, int uid, int gid, boolean tyrant, double startedAt,
                               List<String> vassalDirs, double loopLag, Map<String, Object> etcd) implements EmperorPart {}

    /** {@code status}, every name found. */
    public record Status(boolean ok, EmperorPart emperor, List<VassalJson> vassals) {}

    /** {@code status} with names that are not there (or not the peer's): the found ones are still listed. */
    public record StatusMissing(boolean ok, String error, String message, EmperorPart emperor,
                                List<VassalJson> vassals) {}

    /** One vassal of a {@code stop}/{@code start}/{@code restart}/{@code reload}. */
    public record Result(String name, boolean ok, String message, String state, long pid) {}

    /** A name in such a command that is not there (or not the peer's). */
    public record Missing(String name, boolean ok, String error, String message) {
        public Missing(String name) {
            this(name, false, "not-found", "no such vassal");
        }
    }

    /** {@code stop}/{@code start}/{@code restart}/{@code reload}: every vassal got there. Each result is a {@link Result} or a {@link Missing}. */
    public record Acted(boolean ok, List<Object> results) {}

    /** The same when some did not: {@code failed}, or {@code not-found} when a name was missing. */
    public record ActFailed(boolean ok, String error, String message, List<Object> results) {}

    /** {@code logs}: the last lines. */
    public record Lines(boolean ok, String name, List<String> lines) {
        public Lines(String name, List<String> lines) {
            this(true, name, lines);
        }
    }

    /** {@code logs} with {@code follow}: one per new line. */
    public record Line(String line) {}
}
