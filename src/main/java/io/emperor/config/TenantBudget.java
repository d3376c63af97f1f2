package io.emperor.config;

import java.util.HashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * What the vassal files of one owner may cost the emperor in tyrant mode (docs/tyrant.md,
 * docs/threads.md#memory), so that no tenant can fill the heap for all: at most
 * {@code maxVassals} files an owner ({@code tenant-max-vassals}), at most {@code maxBytes} of
 * parsed files an owner ({@code tenant-max-bytes}) and {@code maxTotalBytes} for all owners
 * together ({@code tenant-max-total-bytes}). A file's cost is what its parse holds on the heap,
 * estimated from above, plus {@link #PER_FILE} for the scanner's and the loop's own records of it.
 * Pure: the scanner decides in which order files ask ({@link Tally}). {@code listen}: where a tenant's
 * vassal may listen ({@code tenant-listen}, {@link TenantListen}); the parser checks it with the file.
 */
public record TenantBudget(int maxVassals, long maxBytes, long maxTotalBytes, TenantListen listen) {
    public static final int DEFAULT_MAX_VASSALS = 200;
    public static final long DEFAULT_MAX_BYTES = 4L << 20;
    public static final long DEFAULT_MAX_TOTAL_BYTES = 16L << 20;
    /** The most files an owner may be allowed ({@code tenant-max-vassals}). */
    public static final int MAX_VASSALS = 100_000;
    /**
     * What one file costs beyond its parse, whatever it holds: the scanner's cache entry, the
     * snapshot's record, the loop's vassal (about 3 KiB an idle vassal measured, docs/threads.md).
     */
    public static final long PER_FILE = 3 << 10;

    public static final TenantBudget DEFAULTS =
            new TenantBudget(DEFAULT_MAX_VASSALS, DEFAULT_MAX_BYTES, DEFAULT_MAX_TOTAL_BYTES);

    /** Any address tyrant mode's own rules allow. */
    public TenantBudget(int maxVassals, long maxBytes, long maxTotalBytes) {
        this(maxVassals, maxBytes, maxTotalBytes, TenantListen.ANY);
    }

    public TenantBudget {
        listen = listen == null ? TenantListen.ANY : listen;
        if (maxVassals < 1 || maxBytes < PER_FILE || maxTotalBytes < maxBytes) {
            throw new IllegalArgumentException("a budget of at least one file, and a total at least an owner's: "
                    + maxVassals + ", " + maxBytes + ", " + maxTotalBytes);
        }
    }

    /** One scan's accounting: each file asks in turn, in the scanner's order. */
    public Tally tally(IntFunction<String> who) {
        return new Tally(who);
    }

    /** What one scan has admitted so far, by owner. Not thread-safe (one scan, one thread). */
    public final class Tally {
        private final IntFunction<String> who;
        private final Map<Integer, Integer> files = new HashMap<>();
        private final Map<Integer, Long> bytes = new HashMap<>();
        private long total;

        private Tally(IntFunction<String> who) {
            this.who = who;
        }

        /**
         * Counts one more file of {@code uid}, whatever becomes of it.
         *
         * @return null when the owner has at most {@code maxVassals} files so far, else the refusal
         *         (the file is then not read)
         */
        public String count(int uid) {
            int n = files.merge(uid, 1, Integer::sum);
            if (n <= maxVassals) {
                return null;
            }
            return "owner " + who.apply(uid) + " has more than " + maxVassals + " vassal files (tenant-max-vassals);"
                    + " this one is not read: remove some of the owner's files, or raise the limit";
        }

        /**
         * @param cost what the file would hold
         * @return null when {@code cost} fits both the owner's and the total budget (nothing is
         *         charged yet: see {@link #charge}), else the refusal
         */
        public String fits(int uid, long cost) {
            long owner = bytes.getOrDefault(uid, 0L);
            if (owner + cost > maxBytes) {
                return "owner " + who.apply(uid) + " would hold more than " + size(maxBytes) + " of parsed vassal"
                        + " files with this one (" + size(cost) + ") (tenant-max-bytes): make the owner's files"
                        + " smaller or fewer, or raise the limit";
            }
            if (total + cost > maxTotalBytes) {
                return "the vassal files of all owners would hold more than " + size(maxTotalBytes)
                        + " with this one (" + size(cost) + ", owner " + who.apply(uid) + ")"
                        + " (tenant-max-total-bytes): the administrator may raise it with the heap";
            }
            return null;
        }

        /** Charges {@code cost} to {@code uid}, whether it fits or not (what is held is held). */
        public void charge(int uid, long cost) {
            bytes.merge(uid, cost, Long::sum);
            total += cost;
        }

        /** What {@code uid} holds so far. */
        public long bytes(int uid) {
            return bytes.getOrDefault(uid, 0L);
        }

        /** What all owners hold so far. */
        public long total() {
            return total;
        }
    }

    /** {@code 4 MiB}, {@code 12 KiB}, {@code 100 B}: whole units, rounded up. */
    static String size(long bytes) {
        if (bytes >= 1L << 20) {
            return ((bytes + (1L << 20) - 1) >> 20) + " MiB";
        }
        if (bytes >= 1L << 10) {
            return ((bytes + 1023) >> 10) + " KiB";
        }
        return bytes + " B";
    }
}
