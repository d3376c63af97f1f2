package io.emperor.config;

/** How a running vassal takes a changed or touched file. */
public enum ReloadMode {
    /** Send {@code reload-signal} to the vassal (default). */
    SIGNAL,
    /** Stop it and start it again ({@code reload = restart}). */
    RESTART
}
