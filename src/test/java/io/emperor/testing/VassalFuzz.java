package io.emperor.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generates malformed vassal files from a seed (issue 11, the fuzzer): a valid file of one of a
 * few shapes, then one to three mutations: random byte edits, truncation, BOM and CRLF, NUL
 * bytes, invalid UTF-8, huge lines and files, unknown and broken sections, every known key with
 * hostile values, {@code %(}, {@code $(} and {@code @(} forms, reference bombs.
 *
 * <p>Safe to run as root: what a generated file can run is the given runnable command, a
 * mutation of it, or a word that is no dangerous program; {@code logto} only ever points into
 * the given log directory, at a directory, or nowhere. Every stop signal a file can name ends a
 * {@code sleep}.
 */
public final class VassalFuzz {
    /** The keys of {@code [vassal]} (VassalSection.KEYS) and the few of {@code [uwsgi]} the emperor reads. */
    public static final List<String> KEYS = List.of(
            "exec", "chdir", "env", "umask", "uid", "gid", "logto", "daemonize",
            "stop-signal", "stop-timeout", "reload", "reload-signal",
            "rlimit-nofile", "rlimit-nproc", "rlimit-core", "log-tag", "master", "graceful-shutdown");

    private static final List<String> HOSTILE = List.of(
            "", " ", "=", "==", "-1", "0", "1", "007", "0x10", "99999999999999999999", "1e9", "NaN", "\u221e",
            "\u00e9", "\u202e", "\u001b[31mred", "\\", "'", "\"", "'unterminated", "\"unterminated", "a\\", "$HOME",
            "~", "/", "/nonexistent/dir", "../..", "%d", "KILL", "SIGKILL", "SIGTERM", "HUP", "99", "-9", "SIGFOO",
            "restart", "signal", "true", "false", "off", "unlimited", "infinity", "1k", "1.5s", "-0", "root",
            "nobody", "65534", "4294967295", "-2", "A=1", "LD_PRELOAD=/nonexistent.so", "=x", "PATH=",
            "%", "%Q", "%(", "%()", "%(exec)", "%(%(exec))", "%(nope)", "%(a b + 3 * 2)", "%(exec)%(exec)%(exec)",
            "$(", "$()", "$(HOME)", "$(NOPE)", "$(HOME", "$(PATH:-x)", "@(", "@(/etc/hostname)", "@(exec://id)",
            "%n %s %e %p %c %h %%");

    private final Random random;
    private final String runnable;
    private final String logDir;

    /**
     * @param runnable the {@code exec} value of a file that runs (a cheap long sleep)
     * @param logDir   a directory for {@code logto} values
     */
    public VassalFuzz(long seed, String runnable, String logDir) {
        this.random = new Random(seed);
        this.runnable = runnable;
        this.logDir = logDir;
    }

    /** One generated file: its content and what was done to it (for a failure message). */
    public record Case(byte[] content, String how) {}

    public Case next() {
        List<String> how = new ArrayList<>();
        String text = base(how);
        int mutations = 1 + random.nextInt(3);
        byte[] bytes = null;
        for (int i = 0; i < mutations; i++) {
            int kind = random.nextInt(100);
            if (kind < 55) {
                text = textMutation(text, how);
            } else {
                bytes = byteMutation(bytes == null ? text.getBytes(StandardCharsets.UTF_8) : bytes, how);
                text = null;
                break; // further text edits would need valid text
            }
        }
        return new Case(bytes != null ? bytes : text.getBytes(StandardCharsets.UTF_8), String.join(", ", how));
    }

    private String base(List<String> how) {
        switch (random.nextInt(5)) {
            case 0 -> {
                how.add("minimal");
                return "[vassal]\nexec = " + runnable + "\nstop-timeout = 2\n";
            }
            case 1 -> {
                how.add("every key");
                return "[vassal]\nexec = " + runnable + " %n\nchdir = %d\nenv = A=%n\nenv = B=%(chdir)\numask = 022\n"
                        + "logto = " + logDir + "/%n.log\nstop-signal = TERM\nstop-timeout = 2\nreload-signal = HUP\n"
                        + "reload = signal\nrlimit-nofile = 1024\nrlimit-nproc = 4096\nrlimit-core = 0\nlog-tag = true\n";
            }
            case 2 -> {
                how.add("uwsgi");
                return "[uwsgi]\nmaster = true\nsocket = /nonexistent/%n.sock\nprocesses = 2\nmodule = app:%(x)\n"
                        + "env = X=$(HOME)\nlogto = " + logDir + "/%n.log\n";
            }
            case 3 -> {
                how.add("magic");
                return "; a comment\n# another\n[vassal]\nexec = " + runnable + " %n %s %e %c %h 100%%\n"
                        + "chdir = %d\nenv = DIR=%(chdir)\nstop-timeout = 2\n";
            }
            default -> {
                how.add("two sections");
                return "[emperor]\nx = 1\n[vassal]\nexec = " + runnable + "\nstop-timeout = 2\n[uwsgi]\nmaster = true\n";
            }
        }
    }

    private String textMutation(String text, List<String> how) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        int at = random.nextInt(lines.size() + 1);
        switch (random.nextInt(11)) {
            case 0 -> {
                String key = pick(KEYS);
                String value = valueFor(key);
                how.add("key " + key + " = " + shown(value));
                lines.add(at, key + " = " + value);
            }
            case 1 -> {
                String value = hostileValue();
                String key = random.nextBoolean() ? pick(KEYS) : "k" + random.nextInt(5);
                how.add("replaced values with " + shown(value));
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i);
                    if (line.contains("=") && random.nextInt(3) == 0) {
                        String k = line.substring(0, line.indexOf('=')).trim();
                        lines.set(i, line.substring(0, line.indexOf('=') + 1) + " " + (isPath(k) ? valueFor(k) : value));
                    }
                }
                lines.add(at, key + " = " + valueFor(key));
            }
            case 2 -> {
                String section = pick(List.of("[foo]", "[]", "[vassal", "[ vassal ]", "[uwsgi]", "[vassal]", "[Vassal]",
                        "[vassal]]", "[[vassal]", "[emperor]", "[" + "s".repeat(300) + "]"));
                how.add("section " + shown(section));
                lines.add(at, section);
            }
            case 3 -> {
                how.add("line noise");
                String noise = pick(List.of("=", "= x", "key", "  exec", "\texec\t=\t" + runnable, "exec=", ";x", "#x",
                        "exec = " + runnable, "exec = %(exec)", "k", "\r", " = = ", "[vassal] exec = x"));
                lines.add(at, noise);
            }
            case 4 -> {
                how.add("lines shuffled");
                java.util.Collections.shuffle(lines, random);
            }
            case 5 -> {
                how.add("lines dropped");
                lines.removeIf(l -> random.nextInt(3) == 0);
            }
            case 6 -> {
                int length = 65_537 + random.nextInt(60_000);
                how.add("huge line " + length);
                lines.add(at, (random.nextBoolean() ? "env = A=" : "x") + "a".repeat(length));
            }
            case 7 -> {
                int n = 17 + random.nextInt(200);
                how.add("reference chain " + n);
                lines.add(at, "exec = %(c" + n + ")");
                for (int i = 1; i <= n; i++) {
                    lines.add("c" + i + " = %(c" + (i - 1) + ")");
                }
                lines.add("c0 = x");
            }
            case 8 -> {
                int n = 14 + random.nextInt(6);
                how.add("doubling references " + n);
                lines.add(at, "exec = %(d" + Math.min(n, 15) + ")");
                lines.add("d0 = 0123456789012345678901234567890123456789");
                for (int i = 1; i <= n; i++) {
                    lines.add("d" + i + " = %(d" + (i - 1) + ")%(d" + (i - 1) + ")");
                }
                for (int i = 0; i < random.nextInt(50); i++) {
                    lines.add("v" + i + " = %(d" + Math.min(n, 15) + ")");
                }
            }
            case 9 -> {
                how.add("many lines");
                StringBuilder many = new StringBuilder();
                for (int i = 20_000 + random.nextInt(20_000); i > 0; i--) {
                    many.append(random.nextBoolean() ? "=\n" : "[x\n");
                }
                lines.add(at, many.toString());
            }
            default -> {
                how.add("CRLF");
                return String.join("\r\n", lines);
            }
        }
        return String.join("\n", lines);
    }

    private byte[] byteMutation(byte[] bytes, List<String> how) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (random.nextInt(7)) {
            case 0 -> {
                int edits = 1 + random.nextInt(8);
                how.add(edits + " byte edits");
                List<Byte> list = new ArrayList<>();
                for (byte b : bytes) {
                    list.add(b);
                }
                for (int i = 0; i < edits; i++) {
                    int at = list.isEmpty() ? 0 : random.nextInt(list.size());
                    switch (random.nextInt(3)) {
                        case 0 -> list.add(at, (byte) random.nextInt(256));
                        case 1 -> {
                            if (!list.isEmpty()) {
                                list.remove(at);
                            }
                        }
                        default -> {
                            if (!list.isEmpty()) {
                                list.set(at, (byte) (list.get(at) ^ (1 << random.nextInt(8))));
                            }
                        }
                    }
                }
                byte[] result = new byte[list.size()];
                for (int i = 0; i < result.length; i++) {
                    result[i] = list.get(i);
                }
                return result;
            }
            case 1 -> {
                int length = bytes.length == 0 ? 0 : random.nextInt(bytes.length);
                how.add("truncated at " + length);
                return java.util.Arrays.copyOf(bytes, length);
            }
            case 2 -> {
                how.add("BOM + CRLF");
                out.writeBytes(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf});
                out.writeBytes(new String(bytes, StandardCharsets.ISO_8859_1).replace("\n", "\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                return out.toByteArray();
            }
            case 3 -> {
                how.add("NUL");
                return insert(bytes, new byte[] {0});
            }
            case 4 -> {
                byte[][] invalid = {{(byte) 0xff}, {(byte) 0xc3, 0x28}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                    {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xe2, (byte) 0x82}};
                how.add("invalid UTF-8");
                return insert(bytes, invalid[random.nextInt(invalid.length)]);
            }
            case 5 -> {
                if (random.nextInt(8) == 0) {
                    how.add("larger than 1 MiB");
                    out.writeBytes(bytes);
                    byte[] pad = new byte[1024 * 1024 + 1 - Math.min(bytes.length, 1024 * 1024)];
                    java.util.Arrays.fill(pad, (byte) '#');
                    out.writeBytes(pad);
                    return out.toByteArray();
                }
                how.add("empty");
                return new byte[0];
            }
            default -> {
                how.add("random bytes");
                byte[] junk = new byte[random.nextInt(2048)];
                random.nextBytes(junk);
                return random.nextBoolean() ? junk : insert(bytes, junk);
            }
        }
    }

    private byte[] insert(byte[] bytes, byte[] what) {
        int at = bytes.length == 0 ? 0 : random.nextInt(bytes.length + 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, at);
        out.writeBytes(what);
        out.write(bytes, at, bytes.length - at);
        return out.toByteArray();
    }

    /** A hostile value for {@code key}; paths the vassal opens or enters stay in the test's directories. */
    private String valueFor(String key) {
        if (isPath(key)) {
            return pick(List.of("", "%d", "/nonexistent/dir", logDir, logDir + "/%n.log", logDir + "/sub/x.log", "'",
                    "\\", "%(", "$(NOPE)", "%(nope)", logDir + "/" + "x".repeat(300)));
        }
        return hostileValue();
    }

    /** chdir, and the log files a vassal opens (relative to its chdir): never outside the workspace. */
    private static boolean isPath(String key) {
        return key.equals("chdir") || key.equals("logto") || key.equals("daemonize");
    }

    private String hostileValue() {
        if (random.nextInt(20) == 0) {
            return "x".repeat(1 + random.nextInt(5000));
        }
        return pick(HOSTILE);
    }

    private <T> T pick(List<T> from) {
        return from.get(random.nextInt(from.size()));
    }

    private static String shown(String value) {
        String s = value.length() > 40 ? value.substring(0, 40) + "...(" + value.length() + ")" : value;
        return "'" + s.replace("\n", "\\n").replace("\r", "\\r") + "'";
    }
}
