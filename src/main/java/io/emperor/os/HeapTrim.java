package io.emperor.os;


/**
 * malloc_trim(3): glibc gives the free memory at the top of its heaps, and the free pages inside
 * them, back to the system. Bound on first use; without the function (a C library other than
 * glibc) it does nothing.
 */
public final class HeapTrim {
    /** The one function, in an interface of its own so that a libc without it costs nothing else. */
    public interface Malloc {
        int malloc_trim(long pad);
    }

    private static Malloc malloc;
    private static boolean unavailable;

    private HeapTrim() {}

    /** Trims the C heap; false when this C library cannot. */
    public static synchronized boolean trim() {
        if (unavailable) {
            return false;
        }
        try {
            if (malloc == null) {
                malloc = Jnr.load(Malloc.class, "c");
            }
            malloc.malloc_trim(0);
            return true;
        } catch (LinkageError | RuntimeException e) {
            unavailable = true;
            return false;
        }
    }
}
