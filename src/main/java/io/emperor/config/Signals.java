package io.emperor.config;

import java.util.Locale;
import java.util.OptionalInt;

/**
 * Signal names and numbers as on Linux (x86, arm and most others; not alpha, mips or sparc),
 * with glibc's real-time range: {@code RTMIN} is 34 because glibc keeps 32 and 33 for itself.
 * Names are written the way {@code kill -l} prints them: {@code TERM}, {@code RTMIN+3}, {@code RTMAX-2}.
 */
public final class Signals {
    /** Index = signal number; null where Linux has no name. */
    private static final String[] NAMES = {
        null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
        "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
        "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    };
    public static final int HUP = 1;
    public static final int INT = 2;
    public static final int KILL = 9;
    public static final int TERM = 15;
    public static final int RTMIN = 34;
    public static final int RTMAX = 64;

    private Signals() {}

    /**
     * A signal from its name ({@code TERM}, {@code SIGTERM}, {@code term}, {@code RTMIN+3},
     * aliases {@code IOT}, {@code CLD}, {@code POLL}) or its number (1 to 64).
     */
    public static OptionalInt parse(String text) {
        if (text == null || text.isEmpty()) {
            return OptionalInt.empty();
        }
        if (text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            if (text.length() > 3) {
                return OptionalInt.empty();
            }
            int number = Integer.parseInt(text);
            return number >= 1 && number <= RTMAX ? OptionalInt.of(number) : OptionalInt.empty();
        }
        String name = text.toUpperCase(Locale.ROOT);
        if (name.startsWith("SIG")) {
            name = name.substring(3);
        }
        switch (name) {
            case "IOT": return OptionalInt.of(6);
            case "CLD": return OptionalInt.of(17);
            case "POLL": return OptionalInt.of(29);
            case "RTMIN": return OptionalInt.of(RTMIN);
            case "RTMAX": return OptionalInt.of(RTMAX);
            default: break;
        }
        for (int i = 1; i < NAMES.length; i++) {
            if (name.equals(NAMES[i])) {
                return OptionalInt.of(i);
            }
        }
        return realtime(name);
    }

    /** {@code RTMIN+N} or {@code RTMAX-N}, inside the real-time range. */
    private static OptionalInt realtime(String name) {
        int base;
        int sign;
        if (name.startsWith("RTMIN+")) {
            base = RTMIN;
            sign = 1;
        } else if (name.startsWith("RTMAX-")) {
            base = RTMAX;
            sign = -1;
        } else {
            return OptionalInt.empty();
        }
        String offset = name.substring(6);
        if (offset.isEmpty() || offset.length() > 2 || !offset.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return OptionalInt.empty();
        }
        int number = base + sign * Integer.parseInt(offset);
        return number >= RTMIN && number <= RTMAX ? OptionalInt.of(number) : OptionalInt.empty();
    }

    /**
     * The name without {@code SIG} ({@code TERM}), {@code RTMIN+N} / {@code RTMAX-N} in the
     * real-time range (split as {@code kill -l} does), else the number itself ({@code 32}).
     */
    public static String name(int signal) {
        if (signal >= 1 && signal < NAMES.length) {
            return NAMES[signal];
        }
        if (signal == RTMIN) {
            return "RTMIN";
        }
        if (signal == RTMAX) {
            return "RTMAX";
        }
        if (signal > RTMIN && signal <= RTMIN + 15) {
            return "RTMIN+" + (signal - RTMIN);
        }
        if (signal > RTMIN + 15 && signal < RTMAX) {
            return "RTMAX-" + (RTMAX - signal);
        }
        return Integer.toString(signal);
    }
}
