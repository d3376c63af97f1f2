package io.emperor.config;

/**
 * A resource limit applied in the exec helper before exec. {@code soft}/{@code hard} of
 * {@link #UNLIMITED} mean RLIM_INFINITY.
 */
public record Rlimit(Resource resource, long soft, long hard) {
    public static final long UNLIMITED = -1;

    /** The limits a vassal file may set, with the name the exec helper takes. */
    public enum Resource {
        NOFILE("nofile"), NPROC("nproc"), CORE("core");

        public final String helperName;

        Resource(String helperName) {
            this.helperName = helperName;
        }
    }
}
