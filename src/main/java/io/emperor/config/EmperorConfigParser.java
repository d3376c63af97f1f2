package io.emperor.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads the {@code [emperor]} section of emperor.ini into an {@link EmperorConfig}. Same reader
 * and magic as vassal files ({@code %d} is the config file's directory, {@code %(key)} looks in
 * {@code [emperor]}). Keys:
 * <ul>
 *   <li>{@code vassals}: a directory to watch; repeatable, the first wins a name clash; relative
 *       to the config file's directory; default {@link EmperorConfig#DEFAULT_VASSALS}</li>
 *   <li>{@code log}: the emperor's log file, relative to the config file's directory; empty for stderr (default)</li>
 *   <li>{@code rescan}: seconds between full rescans, greater than 0 (default 10)</li>
 *   <li>{@code min-uptime}: seconds, at least 1, so that no vassal can respawn in a tight loop (default 10)</li>
 *   <li>{@code max-backoff}: seconds, at least 1 (default 60)</li>
 *   <li>{@code tyrant}: a boolean ({@link Values#bool}); every vassal runs as the owner of its
 *       file (default false)</li>
 *   <li>{@code nofollow}: a boolean; a symlinked vassal file is judged by the link itself
 *       (default false)</li>
 *   <li>{@code required-heartbeat}: seconds, greater than 0 (default 30); see docs/lifecycle.md</li>
 *   <li>{@code uwsgi-binary}: the uWSGI program of {@code [uwsgi]} vassals (default {@code uwsgi},
 *       searched in PATH); {@code vassal-set = KEY=VALUE} (repeatable) becomes {@code --set KEY=VALUE};
 *       {@code vassals-include} and {@code vassals-include-before} (repeatable, paths relative to the
 *       config file's directory) become {@code --include FILE} after and before {@code --ini FILE}</li>
 *   <li>{@code log-format}: {@code plain} or {@code journal} (default journal when {@code JOURNAL_STREAM}
 *       is set in the emperor's environment, else plain); see docs/logging.md</li>
 *   <li>{@code vassal-logs}: a directory, relative to the config file's directory; each vassal without
 *       {@code logto} writes to {@code DIR/NAME.log} (default: none, output goes to the emperor's log);
 *       {@code vassal-log-maxsize}: bytes with an optional k/M/G suffix, 0 never rotates (default 0);
 *       {@code vassal-log-backups}: 0 to 1000 (default 5)</li>
 *   <li>{@code log-maxsize}: rotate the {@code log} file at this size (bytes, k/M/G), 0 never (default 0);
 *       {@code log-backups}: gzipped old files kept, 1 to 20 (default 5)</li>
 *   <li>{@code control}: the control socket, relative to the config file's directory; empty for none
 *       (default {@code /run/emperor/control.sock}); see docs/control.md</li>
 *   <li>{@code stats}: the stats server, {@code HOST:PORT}, {@code :PORT} (127.0.0.1) or a unix socket
 *       path (with a {@code /}); default none; see docs/stats.md</li>
 *   <li>{@code env}: {@code KEY=VALUE}, repeatable, KEY one of LANG, LANGUAGE, LC_*: given to every
 *       vassal (the only variables a tenant's vassal gets from the admin; docs/tyrant.md)</li>
 *   <li>{@code tenant-max-vassals} (1 to 100000, default 200), {@code tenant-max-bytes} and
 *       {@code tenant-max-total-bytes} (bytes, k/M/G; default 4M and 16M): in tyrant mode, the
 *       files of one owner, and what the parsed files of one owner and of all owners may hold
 *       ({@link TenantBudget}); read at start only</li>
 *   <li>{@code uid}, {@code gid}, {@code cap}: the user a root emperor becomes once its log and sockets are
 *       open, and the capabilities it keeps ({@link DropSettings}; names resolved at start)</li>
 *   <li>{@code etcd}, {@code etcd-prefix}, {@code node}, {@code etcd-ttl}, {@code etcd-cacert}, {@code etcd-cert},
 *       {@code etcd-key}, {@code etcd-user}, {@code etcd-password-file}: the fleet ({@link FleetSettings},
 *       docs/fleet.md); read at start only</li>
 * </ul>
 * Every duration is at most {@value #MAX_SECONDS} seconds. Unknown keys are errors; other sections are
 * ignored with a warning. A file without {@code [emperor]} but with a {@code [uwsgi]} section is
 * uWSGI's emperor.ini: see {@link UwsgiEmperorIni} for the mapping.
 */
public final class EmperorConfigParser {
    public static final String EMPEROR = "emperor";
    /** uWSGI's emperor.ini: read when there is no {@code [emperor]} section (docs/migrating-from-uwsgi.md). */
    public static final String UWSGI = "uwsgi";
    static final List<String> KEYS = List.of("vassals", "log", "rescan", "min-uptime", "max-backoff",
            "tyrant", "nofollow", "required-heartbeat", "uwsgi-binary", "vassal-set", "vassals-include",
            "vassals-include-before", "log-format", "vassal-logs", "vassal-log-maxsize", "vassal-log-backups", "log-maxsize",
            "log-backups", "control", "stats", "env", "tenant-max-vassals", "tenant-max-bytes",
            "tenant-max-total-bytes", "tenant-listen", "uid", "gid", "cap", "etcd", "etcd-prefix", "node", "etcd-ttl", "etcd-cacert",
            "etcd-cert", "etcd-key", "etcd-user", "etcd-password-file", "on-demand-extension", "on-demand-directory");
    private static final List<String> REPEATABLE = List.of("vassals", "vassal-set", "vassals-include",
            "vassals-include-before", "env");
    static final long MAX_SECONDS = 86400;

    private final String hostname;
    private final Map<String, String> environment;

    /**
     * @param hostname    for {@code %h}
     * @param environment the emperor's environment, for {@code $(VAR)}
     */
    public EmperorConfigParser(String hostname, Map<String, String> environment) {
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.environment = Map.copyOf(environment);
    }

    public Parsed<EmperorConfig> parse(Path file) {
        return parse(file.toAbsolutePath(), IniReader.read(file.toAbsolutePath()));
    }

    /** The same, from content read by the caller (at most {@code IniReader.MAX_BYTES + 1} bytes). */
    public Parsed<EmperorConfig> parse(Path file, byte[] content) {
        return parse(file.toAbsolutePath(), IniReader.parse(file.toAbsolutePath(), content));
    }

    private Parsed<EmperorConfig> parse(Path path, IniFile ini) {
        Problems problems = Problems.of(ini);
        if (ini.unreadable()) {
            return problems.result(() -> null);
        }
        Optional<IniSection> emperor = ini.section(EMPEROR);
        String used = EMPEROR;
        if (emperor.isEmpty() && ini.section(UWSGI).isPresent()) {
            // uWSGI's own emperor.ini: its options are mapped to ours (UwsgiEmperorIni).
            used = UWSGI;
            emperor = Optional.of(UwsgiEmperorIni.translate(ini.section(UWSGI).get(), problems));
        }
        if (emperor.isEmpty()) {
            problems.error(0, "no [emperor] section");
            return problems.result(() -> null);
        }
        problems.ignoreOtherSections(ini, used);
        Magic magic = new Magic(Magic.Context.of(path, hostname, environment, emperor.get()));
        ExpandedSection section = new ExpandedSection(emperor.get(), magic, problems);
        section.rejectUnknown(KEYS);
        for (String key : KEYS) {
            if (!REPEATABLE.contains(key)) {
                section.warnRepeated(key);
            }
        }
        Path dir = path.getParent();
        List<Path> vassals = vassalDirs(section, dir, problems);
        Path log = section.last("log").map(e -> e.value().isEmpty() ? null
                : convert(e, Values.path(e.value(), dir), null, problems)).orElse(null);
        Duration rescan = seconds(section, "rescan", 0, true, EmperorConfig.DEFAULT_RESCAN, problems);
        Duration minUptime = seconds(section, "min-uptime", 1, false, EmperorConfig.DEFAULT_MIN_UPTIME, problems);
        Duration maxBackoff = seconds(section, "max-backoff", 1, false, EmperorConfig.DEFAULT_MAX_BACKOFF, problems);
        boolean tyrant = section.last("tyrant").map(e -> Values.bool(e.value())).orElse(false);
        boolean nofollow = section.last("nofollow").map(e -> Values.bool(e.value())).orElse(false);
        Duration heartbeat = seconds(section, "required-heartbeat", 0, true,
                EmperorConfig.DEFAULT_REQUIRED_HEARTBEAT, problems);
        UwsgiCommand uwsgi = uwsgi(section, dir, problems);
        LogSettings logging = logging(section, dir, problems);
        ControlSettings control = control(section, dir, problems);
        Map<String, String> locale = locale(section, problems);
        TenantBudget budget = tenantBudget(section, problems);
        DropSettings drop = drop(section, path.normalize(), problems);
        FleetSettings fleet = FleetSettings.parse(section, dir, hostname, problems);
        return problems.result(() -> new EmperorConfig(path.normalize(), vassals, log, rescan, minUptime, maxBackoff,
                tyrant, nofollow, heartbeat, uwsgi, logging, control, locale, budget, drop, fleet));
    }

    /** {@code tenant-max-*}: what one owner's vassal files, and all owners', may hold in tyrant mode. */
    private static TenantBudget tenantBudget(ExpandedSection section, Problems problems) {
        int files = section.last("tenant-max-vassals")
                .map(e -> convert(e, Values.count(e.value(), 1, TenantBudget.MAX_VASSALS),
                        TenantBudget.DEFAULT_MAX_VASSALS, problems))
                .orElse(TenantBudget.DEFAULT_MAX_VASSALS);
        Optional<IniEntry> bytesEntry = section.last("tenant-max-bytes");
        long bytes = bytesEntry.map(e -> convert(e, Values.size(e.value()), TenantBudget.DEFAULT_MAX_BYTES, problems))
                .orElse(TenantBudget.DEFAULT_MAX_BYTES);
        if (bytes < TenantBudget.PER_FILE && bytesEntry.isPresent()) {
            problems.error(bytesEntry.get(), "at least " + TenantBudget.PER_FILE + " (what one file costs): "
                    + Values.quote(bytesEntry.get().value()));
            bytes = TenantBudget.DEFAULT_MAX_BYTES;
        }
        Optional<IniEntry> totalEntry = section.last("tenant-max-total-bytes");
        long total = totalEntry.map(e -> convert(e, Values.size(e.value()), TenantBudget.DEFAULT_MAX_TOTAL_BYTES,
                problems)).orElse(Math.max(bytes, TenantBudget.DEFAULT_MAX_TOTAL_BYTES));
        if (total < bytes && totalEntry.isPresent()) {
            problems.error(totalEntry.get(), "at least tenant-max-bytes (" + bytes + "): "
                    + Values.quote(totalEntry.get().value()));
            total = Math.max(bytes, TenantBudget.DEFAULT_MAX_TOTAL_BYTES);
        }
        TenantListen listen = section.last("tenant-listen")
                .map(e -> convert(e, TenantListen.parse(e.value()), TenantListen.ANY, problems))
                .orElse(TenantListen.ANY);
        return new TenantBudget(files, bytes, total, listen);
    }

    /** {@code env = KEY=VALUE}: only the locale (LANG, LANGUAGE, LC_*), which every vassal may be given. */
    private static Map<String, String> locale(ExpandedSection section, Problems problems) {
        Map<String, String> locale = new java.util.LinkedHashMap<>();
        for (IniEntry e : section.all("env")) {
            String v = e.value();
            int eq = v.indexOf('=');
            if (eq <= 0) {
                problems.error(e, "expected KEY=VALUE: " + Values.quote(v));
                continue;
            }
            String key = v.substring(0, eq);
            if (!isLocale(key)) {
                problems.error(e, "only LANG, LANGUAGE and LC_* may be set here (every vassal, a tenant's too,"
                        + " gets them): " + Values.quote(key));
                continue;
            }
            locale.put(key, v.substring(eq + 1));
        }
        return locale;
    }

    /**
     * {@code uid}, {@code gid}, {@code cap}: checked here as far as no user database is needed
     * (capability names; gid and cap need uid); user and group names are resolved at start.
     */
    private static DropSettings drop(ExpandedSection section, Path file, Problems problems) {
        DropSettings.Named uid = named(section, "uid", "a user name or uid", problems);
        DropSettings.Named gid = named(section, "gid", "a group name or gid", problems);
        Optional<IniEntry> cap = section.last("cap");
        List<Integer> caps = new ArrayList<>();
        if (cap.isPresent()) {
            for (String name : cap.get().value().split(",")) {
                if (name.isBlank()) {
                    continue;
                }
                int n = DropSettings.capNumber(name);
                if (n < 0) {
                    problems.error(cap.get(), "unknown capability " + Values.quote(name.strip())
                            + " (names as in capabilities(7), without CAP_: setuid, setgid, kill, net_bind_service…)");
                } else if (!caps.contains(n)) {
                    caps.add(n);
                }
            }
        }
        if (uid == null && gid != null) {
            problems.error(gid.line(), "gid: needs uid: the emperor becomes a user (uid) with a group (gid)");
        }
        if (uid == null && cap.isPresent()) {
            problems.error(cap.get(), "needs uid: the capabilities are what the emperor keeps once it becomes that user");
        }
        return uid == null ? DropSettings.NONE : new DropSettings(file, uid, gid,
                cap.map(e -> new DropSettings.Named(e.value(), e.line())).orElse(null), caps);
    }

    private static DropSettings.Named named(ExpandedSection section, String key, String what, Problems problems) {
        Optional<IniEntry> e = section.last(key);
        if (e.isEmpty()) {
            return null;
        }
        if (e.get().value().isBlank()) {
            problems.error(e.get(), "needs " + what);
            return null;
        }
        return new DropSettings.Named(e.get().value().strip(), e.get().line());
    }

    static boolean isLocale(String key) {
        return key.equals("LANG") || key.equals("LANGUAGE") || key.matches("LC_[A-Z]+(_[A-Z]+)*");
    }


    /** The longest path a unix socket address holds (sun_path is 108 bytes with its NUL). */
    static final int MAX_SOCKET_PATH = 107;

    private static ControlSettings control(ExpandedSection section, Path dir, Problems problems) {
        Optional<IniEntry> c = section.last("control");
        // Not Optional.map: an empty value means "no socket", a null that map would turn into the default.
        Path socket = c.isEmpty() ? ControlSettings.DEFAULT_SOCKET
                : c.get().value().isEmpty() ? null : socketPath(c.get(), c.get().value(), dir, problems);
        String stats = section.last("stats").map(e -> {
            String v = e.value();
            if (v.isEmpty()) {
                return null;
            }
            if (v.contains("/")) {
                Path p = socketPath(e, v, dir, problems);
                return p == null ? null : p.toString();
            }
            int colon = v.lastIndexOf(':');
            if (colon < 0) {
                problems.error(e, "expected HOST:PORT, :PORT or a unix socket path (with a /): " + Values.quote(v));
                return null;
            }
            try {
                int port = Integer.parseInt(v.substring(colon + 1));
                if (port < 0 || port > 65535) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException x) {
                problems.error(e, "the port must be a number from 0 to 65535: " + Values.quote(v));
                return null;
            }
            return v;
        }).orElse(null);
        return new ControlSettings(socket, c.isPresent(), stats);
    }

    private static Path socketPath(IniEntry e, String value, Path dir, Problems problems) {
        Path p = convert(e, Values.path(value, dir), null, problems);
        if (p != null && p.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            problems.error(e, "a unix socket path is at most " + MAX_SOCKET_PATH + " bytes long: " + p);
            return null;
        }
        return p;
    }

    private static LogSettings logging(ExpandedSection section, Path dir, Problems problems) {
        Optional<LogFormat> format = section.last("log-format").map(e -> {
            LogFormat f = LogFormat.parse(e.value());
            if (f == null) {
                problems.error(e, "must be plain or journal: " + Values.quote(e.value()));
            }
            return f;
        });
        Optional<Path> vassalLogs = section.last("vassal-logs").map(e -> e.value().isEmpty() ? null
                : convert(e, Values.path(e.value(), dir), null, problems));
        long maxSize = section.last("vassal-log-maxsize")
                .map(e -> convert(e, Values.size(e.value()), 0L, problems)).orElse(0L);
        int backups = section.last("vassal-log-backups")
                .map(e -> convert(e, Values.count(e.value(), 0, LogSettings.MAX_BACKUPS), LogSettings.DEFAULT_BACKUPS,
                        problems))
                .orElse(LogSettings.DEFAULT_BACKUPS);
        long logMaxSize = section.last("log-maxsize")
                .map(e -> convert(e, Values.size(e.value()), 0L, problems)).orElse(0L);
        int logBackups = section.last("log-backups")
                .map(e -> convert(e, Values.count(e.value(), 1, LogSettings.MAX_LOG_BACKUPS),
                        LogSettings.DEFAULT_BACKUPS, problems))
                .orElse(LogSettings.DEFAULT_BACKUPS);
        return new LogSettings(format, vassalLogs, maxSize, backups, logMaxSize, logBackups);
    }

    private static UwsgiCommand uwsgi(ExpandedSection section, Path dir, Problems problems) {
        String binary = section.last("uwsgi-binary").map(e -> {
            if (e.value().isEmpty()) {
                problems.error(e, "needs a program name or path");
                return UwsgiCommand.DEFAULT_BINARY;
            }
            // A name is searched in PATH; anything with a / is a path relative to the config file.
            return e.value().contains("/") ? convert(e, Values.path(e.value(), dir), null, problems) + "" : e.value();
        }).orElse(UwsgiCommand.DEFAULT_BINARY);
        List<String> sets = new ArrayList<>();
        for (IniEntry e : section.all("vassal-set")) {
            int eq = e.value().indexOf('=');
            if (eq <= 0) {
                problems.error(e, "expected KEY=VALUE: " + Values.quote(e.value()));
            } else {
                sets.add(e.value());
            }
        }
        // uWSGI's on-demand vassals (issue 15, UwsgiOnDemand): NAME.ini+EXT names the socket, else DIR/NAME.socket
        String extension = section.last("on-demand-extension").map(e -> {
            if (e.value().isEmpty() || e.value().indexOf('/') >= 0 || e.value().indexOf('\0') >= 0) {
                problems.error(e, "expected the end of a file name, such as .socket (no /): " + Values.quote(e.value()));
                return null;
            }
            return e.value();
        }).orElse(null);
        Path onDemandDir = section.last("on-demand-directory").map(e -> e.value().isEmpty() ? null
                : convert(e, Values.path(e.value(), dir), null, problems)).orElse(null);
        return new UwsgiCommand(binary, sets, paths(section, "vassals-include-before", dir, problems),
                paths(section, "vassals-include", dir, problems), extension, onDemandDir);
    }

    private static List<Path> paths(ExpandedSection section, String key, Path dir, Problems problems) {
        List<Path> out = new ArrayList<>();
        for (IniEntry e : section.all(key)) {
            Path p = convert(e, Values.path(e.value(), dir), null, problems);
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    /** In file order, each once (a repeat is warned about and dropped); the default when none is given. */
    private static List<Path> vassalDirs(ExpandedSection section, Path dir, Problems problems) {
        if (!section.has("vassals")) {
            return List.of(EmperorConfig.DEFAULT_VASSALS);
        }
        List<Path> dirs = new ArrayList<>();
        for (IniEntry e : section.all("vassals")) {
            Path p = convert(e, Values.path(e.value(), dir), null, problems);
            if (p != null && dirs.contains(p)) {
                problems.warning(e, p + " is already listed; the repeat is ignored");
            } else if (p != null) {
                dirs.add(p);
            }
        }
        return dirs;
    }

    private static Duration seconds(ExpandedSection section, String key, long min, boolean minExclusive,
                                    Duration fallback, Problems problems) {
        return section.last(key)
                .map(e -> convert(e, Values.seconds(e.value(), min, minExclusive, MAX_SECONDS), fallback, problems))
                .orElse(fallback);
    }

    private static <T> T convert(IniEntry e, Values.Converted<T> converted, T fallback, Problems problems) {
        if (converted.isOk()) {
            return converted.value();
        }
        problems.error(e, converted.error());
        return fallback;
    }
}
