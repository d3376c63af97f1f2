package io.emperor.config;

import java.math.BigDecimal;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Converters from an expanded ini value to a typed value. Each returns either the value or a
 * message saying what was expected; the caller adds {@code file:line: key: }.
 */
public final class Values {
    private static final Pattern DECIMAL = Pattern.compile("[0-9]+(\\.[0-9]+)?");
    private static final Pattern OCTAL = Pattern.compile("[0-7]{1,12}");
    private static final Pattern NUMBER = Pattern.compile("[0-9]{1,18}");
    private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

    private Values() {}

    /**
     * A value, or the reason there is none.
     *
     * @param value the converted value, or null
     * @param error what is wrong, or null
     */
    public record Converted<T>(T value, String error) {
        public Converted {
            if ((value == null) == (error == null)) {
                throw new IllegalArgumentException("exactly one of value and error");
            }
        }

        public static <T> Converted<T> ok(T value) {
            return new Converted<>(value, null);
        }

        public static <T> Converted<T> error(String error) {
            return new Converted<>(null, error);
        }

        public boolean isOk() {
            return error == null;
        }
    }

    /**
     * uWSGI's boolean rule ({@code uwsgi_opt_true}): true unless the value is {@code false},
     * {@code off} or {@code no} in any case, or exactly {@code 0}. An empty value ({@code master}
     * alone on its line) is true.
     */
    public static boolean bool(String value) {
        return !(value.equalsIgnoreCase("false") || value.equalsIgnoreCase("off")
                || value.equalsIgnoreCase("no") || value.equals("0"));
    }

    /**
     * A number of seconds, decimals allowed ({@code 30}, {@code 0.5}), within {@code [min, max]}
     * or {@code (min, max]} when {@code minExclusive}. Precision beyond a nanosecond is dropped.
     */
    public static Converted<Duration> seconds(String value, long min, boolean minExclusive, long max) {
        String range = (minExclusive ? "greater than " + min : "at least " + min) + " and at most " + max;
        if (!DECIMAL.matcher(value).matches()) {
            return Converted.error("not a number of seconds " + range + " (e.g. 30 or 0.5): " + quote(value));
        }
        BigDecimal seconds = new BigDecimal(value);
        int low = seconds.compareTo(BigDecimal.valueOf(min));
        if (low < 0 || minExclusive && low == 0 || seconds.compareTo(BigDecimal.valueOf(max)) > 0) {
            return Converted.error("must be " + range + " seconds: " + quote(value));
        }
        long nanos = seconds.multiply(NANOS_PER_SECOND).longValue();
        if (minExclusive && nanos == 0) {
            return Converted.error("must be at least one nanosecond: " + quote(value));
        }
        return Converted.ok(Duration.ofNanos(nanos));
    }

    /** An octal umask from {@code 0} to {@code 0777}: {@code 022}, {@code 0027}, {@code 7}. */
    public static Converted<Integer> umask(String value) {
        if (OCTAL.matcher(value).matches()) {
            int mask = Integer.parseInt(value, 8);
            if (mask <= 0777) {
                return Converted.ok(mask);
            }
        }
        return Converted.error("not an octal umask from 000 to 777 (e.g. 022): " + quote(value));
    }

    /** A non-negative number that fits an int ({@code uid}, {@code gid}), or null when the value is not all digits. */
    public static Integer id(String value) {
        if (!NUMBER.matcher(value).matches()) {
            return null;
        }
        long number = Long.parseLong(value);
        return number <= Integer.MAX_VALUE ? (int) number : null;
    }

    /** {@code N}, {@code SOFT:HARD} or {@code unlimited} on either side; the soft limit at most the hard one. */
    public static Converted<Rlimit> rlimit(Rlimit.Resource resource, String value) {
        String usage = "expected N, SOFT:HARD or unlimited: " + quote(value);
        int colon = value.indexOf(':');
        long soft = limit(colon < 0 ? value : IniReader.trim(value.substring(0, colon)));
        long hard = colon < 0 ? soft : limit(IniReader.trim(value.substring(colon + 1)));
        if (soft == BAD || hard == BAD) {
            return Converted.error(usage);
        }
        if (hard != Rlimit.UNLIMITED && (soft == Rlimit.UNLIMITED || soft > hard)) {
            return Converted.error("the soft limit " + limitName(soft) + " is above the hard limit "
                    + limitName(hard) + ": " + quote(value));
        }
        return Converted.ok(new Rlimit(resource, soft, hard));
    }

    private static final long BAD = -2;

    private static long limit(String text) {
        if (text.equalsIgnoreCase("unlimited")) {
            return Rlimit.UNLIMITED;
        }
        return NUMBER.matcher(text).matches() ? Long.parseLong(text) : BAD;
    }

    private static String limitName(long limit) {
        return limit == Rlimit.UNLIMITED ? "unlimited" : Long.toString(limit);
    }

    /**
     * A file or directory path, made absolute against {@code base} and normalized. Symlinks are
     * not resolved (the vassal opens the path as itself, later).
     */
    public static Converted<Path> path(String value, Path base) {
        if (value.isEmpty()) {
            return Converted.error("needs a path");
        }
        try {
            return Converted.ok(base.resolve(value).toAbsolutePath().normalize());
        } catch (InvalidPathException e) {
            return Converted.error("not a valid path: " + quote(value));
        }
    }

    private static final Pattern SIZE = Pattern.compile("([0-9]{1,15})([kKmMgG]?)");

    /**
     * A size in bytes: a plain number, or with a binary suffix {@code k}, {@code M} or {@code G}
     * (any case: 1024, 1024², 1024³); {@code 0} is allowed. At most 1 TiB.
     */
    public static Converted<Long> size(String value) {
        java.util.regex.Matcher m = SIZE.matcher(value);
        if (!m.matches()) {
            return Converted.error("expected bytes, or a number with k, M or G: " + quote(value));
        }
        long n = Long.parseLong(m.group(1));
        int shift = switch (m.group(2).toLowerCase(java.util.Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        if (n > (1L << (40 - shift))) {
            return Converted.error("at most 1 TiB: " + quote(value));
        }
        return Converted.ok(n << shift);
    }

    /** A whole number within {@code [min, max]}. */
    public static Converted<Integer> count(String value, int min, int max) {
        if (!NUMBER.matcher(value).matches() || Long.parseLong(value) < min || Long.parseLong(value) > max) {
            return Converted.error("expected a whole number from " + min + " to " + max + ": " + quote(value));
        }
        return Converted.ok(Integer.parseInt(value));
    }

    /** The value in double quotes, for messages. */
    static String quote(String value) {
        return "\"" + value + "\"";
    }
}
