package io.emperor.vassal;

import io.emperor.config.Signals;

/** How a process ended: exactly one of an exit code or a terminating signal. */
public record ExitStatus(int code, int signal, boolean coreDumped) {

    public static ExitStatus exited(int code) {
        return new ExitStatus(code, 0, false);
    }

    public static ExitStatus killed(int signal, boolean coreDumped) {
        return new ExitStatus(-1, signal, coreDumped);
    }

    /** {@code status=3}, {@code signal=KILL} or {@code signal=SEGV (core dumped)}: the form log lines use. */
    @Override
    public String toString() {
        if (signal == 0) {
            return "status=" + code;
        }
        return "signal=" + Signals.name(signal) + (coreDumped ? " (core dumped)" : "");
    }
}
