package io.emperor.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The keys of a {@code [vassal]} section (DESIGN §2). Values arrive
 * magic-expanded; each key is converted on its own and every problem is collected. A key given
 * twice keeps its last value (with a warning), except {@code env}, which accumulates.
 */
final class VassalSection {
    static final List<String> KEYS = List.of(
            "exec", "chdir", "env", "umask", "uid", "gid", "logto", "daemonize",
            "stop-signal", "stop-timeout", "reload", "reload-signal",
            "rlimit-nofile", "rlimit-nproc", "rlimit-core", "log-tag",
            "requires", "after", "ready", "ready-timeout", "watchdog",
            "listen", "listen-mode", "listen-backlog", "listen-names", "on-demand");
    static final int DEFAULT_UMASK = 0022;
    static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(30);
    static final long MAX_STOP_TIMEOUT_SECONDS = 86400;

    private final Path file;
    private final Path dir;
    private final ExpandedSection section;
    private final UserDb users;
    private final boolean tyrant;
    private final Problems problems;

    private List<String> argv = List.of();
    private Path chdir;
    private final List<String> env = new ArrayList<>();
    private int umask = DEFAULT_UMASK;
    private String user;
    private String home;
    private int uid = -1;
    private int gid = -1;
    private Path logto;
    private int stopSignal = Signals.TERM;
    private Duration stopTimeout = DEFAULT_STOP_TIMEOUT;
    private ReloadMode reload = ReloadMode.SIGNAL;
    private int reloadSignal = Signals.HUP;
    private final List<Rlimit> rlimits = new ArrayList<>();
    private boolean logTag = true;
    private final Order order;
    private final Listen listen;

    /**
     * Converts every key at once; problems go to {@code problems}. In {@code tyrant} mode
     * {@code uid} and {@code gid} are only warned about.
     */
    VassalSection(Path file, ExpandedSection section, UserDb users, boolean tyrant, Problems problems) {
        this(file, section, users, tyrant, TenantListen.ANY, problems);
    }

    /** @param tenantListen tyrant mode: the addresses a tenant may listen on ({@code tenant-listen}) */
    VassalSection(Path file, ExpandedSection section, UserDb users, boolean tyrant, TenantListen tenantListen,
                  Problems problems) {
        this.file = file;
        this.dir = file.getParent();
        this.chdir = dir;
        this.section = section;
        this.users = users;
        this.tyrant = tyrant;
        this.problems = problems;
        section.rejectUnknown(KEYS);
        for (String key : KEYS) {
            if (!key.equals("env") && !key.equals("daemonize") && !key.equals("logto") && !key.equals("listen")
                    && !OrderSection.KEYS.contains(key)) {
                section.warnRepeated(key);
            }
        }
        section.warnRepeated("logto", "daemonize");
        exec();
        section.last("chdir").ifPresent(e -> chdir = path(e, chdir));
        section.all("env").forEach(this::env);
        section.last("umask").ifPresent(e -> umask = convert(e, Values.umask(e.value()), umask));
        identity();
        section.last("logto", "daemonize").ifPresent(e -> logto = path(e, null));
        section.last("stop-signal").ifPresent(e -> stopSignal = signal(e, stopSignal));
        section.last("reload-signal").ifPresent(e -> reloadSignal = signal(e, reloadSignal));
        section.last("stop-timeout").ifPresent(e -> stopTimeout = convert(e,
                Values.seconds(e.value(), 0, true, MAX_STOP_TIMEOUT_SECONDS), stopTimeout));
        section.last("reload").ifPresent(this::reload);
        section.last("log-tag").ifPresent(this::logTag);
        rlimits();
        order = new OrderSection(VassalParser.nameOf(file), dir, VassalSpec.Kind.PROGRAM, section, problems).order();
        listen = new ListenSection(section, tyrant, tenantListen, problems).listen();
    }

    /** The spec; call only when {@code problems} has no errors. */
    VassalSpec spec(String name) {
        return new VassalSpec(name, file, VassalSpec.Kind.PROGRAM, argv, chdir, env, umask, user, uid, gid,
                logto, stopSignal, stopTimeout, reload, reloadSignal, rlimits, null, logTag, home, null, order, listen);
    }

    private void exec() {
        if (!section.has("exec")) {
            problems.error(0, "exec is required");
            return;
        }
        section.last("exec").ifPresent(e -> {
            ShellWords.Split split = ShellWords.split(e.value());
            if (!split.isOk()) {
                problems.error(e, split.error());
                return;
            }
            argv = split.words();
            for (String operator : split.operators()) {
                problems.warning(e, operator + " is passed to the program as an argument: no shell is run"
                        + " (quote it to silence this, or use exec = sh -c '...')");
            }
        });
    }

    /**
     * Tyrant mode refuses {@code log-tag = false}: a tenant's untagged line in the emperor's log
     * could pass for one of the emperor's own ({@code TIMESTAMP [emperor] other: spawned ...}).
     */
    private void logTag(IniEntry e) {
        logTag = Values.bool(e.value());
        if (!logTag && tyrant) {
            problems.error(e, "false is refused in tyrant mode: untagged lines in the emperor's log could pass for"
                    + " the emperor's own; remove it, or write the output to a file of your own with logto = FILE");
            logTag = true;
        }
    }

    private void env(IniEntry e) {
        int eq = e.value().indexOf('=');
        if (eq < 0) {
            problems.error(e, "expected KEY=VALUE: " + Values.quote(e.value()));
        } else if (eq == 0) {
            problems.error(e, "the variable name before = is empty: " + Values.quote(e.value()));
        } else if (e.value().substring(0, eq).chars().anyMatch(Character::isWhitespace)) {
            problems.error(e, "the variable name must not contain spaces (write KEY=VALUE, no spaces around =): "
                    + Values.quote(e.value()));
        } else {
            env.add(e.value());
        }
    }

    /**
     * {@code uid} is a user name or a number; a name (or a number with a passwd entry) also gives
     * the user for initgroups and the default gid. {@code gid} is a group name or a number.
     */
    private void identity() {
        if (tyrant) {
            section.all("uid").forEach(e -> problems.warning(e.line(),
                    "uid is ignored in tyrant mode: the vassal runs as the owner of its file"));
            section.all("gid").forEach(e -> problems.warning(e.line(),
                    "gid is ignored in tyrant mode: the vassal runs with the group of its file"));
            return;
        }
        Optional<IniEntry> gidEntry = section.last("gid");
        Optional<IniEntry> uidEntry = section.last("uid");
        gidEntry.ifPresent(e -> {
            Integer number = Values.id(e.value());
            if (number != null) {
                gid = number;
            } else {
                OptionalInt group = e.value().isEmpty() ? OptionalInt.empty() : users.groupByName(e.value());
                if (group.isPresent()) {
                    gid = group.getAsInt();
                } else if (e.value().isEmpty()) {
                    problems.error(e, "needs a group name or gid");
                } else {
                    problems.error(e, "no such group: " + Values.quote(e.value()));
                }
            }
        });
        if (uidEntry.isEmpty()) {
            return;
        }
        IniEntry e = uidEntry.get();
        Integer number = Values.id(e.value());
        Optional<Account> account = number != null ? users.userById(number)
                : e.value().isEmpty() ? Optional.empty() : users.userByName(e.value());
        if (account.isPresent()) {
            uid = account.get().uid();
            user = account.get().name();
            home = account.get().home();
            if (!section.has("gid")) {
                gid = account.get().gid();
            }
        } else if (e.value().isEmpty()) {
            problems.error(e, "needs a user name or uid");
        } else if (number == null) {
            problems.error(e, "no such user: " + Values.quote(e.value()));
        } else if (!section.has("gid")) {
            problems.error(e, "uid " + number + " has no passwd entry: set gid too");
        } else {
            uid = number;
        }
    }

    private void reload(IniEntry e) {
        switch (e.value()) {
            case "signal" -> reload = ReloadMode.SIGNAL;
            case "restart" -> {
                reload = ReloadMode.RESTART;
                section.last("reload-signal").ifPresent(r ->
                        problems.warning(r, "not used, because reload = restart (line " + e.line() + ")"));
            }
            default -> problems.error(e, "must be signal or restart: " + Values.quote(e.value()));
        }
    }

    /** In the order of the lines that set them. */
    private void rlimits() {
        List<IniEntry> entries = new ArrayList<>();
        for (Rlimit.Resource resource : Rlimit.Resource.values()) {
            section.last("rlimit-" + resource.helperName).ifPresent(entries::add);
        }
        entries.sort(Comparator.comparingInt(IniEntry::line));
        for (IniEntry e : entries) {
            Rlimit.Resource resource = Rlimit.Resource.valueOf(
                    e.key().substring("rlimit-".length()).toUpperCase(Locale.ROOT));
            Values.Converted<Rlimit> limit = Values.rlimit(resource, e.value());
            if (limit.isOk()) {
                rlimits.add(limit.value());
            } else {
                problems.error(e, limit.error());
            }
        }
    }

    private int signal(IniEntry e, int fallback) {
        OptionalInt signal = Signals.parse(e.value());
        if (signal.isEmpty()) {
            problems.error(e, "not a signal name or number (e.g. TERM, SIGINT, 15): " + Values.quote(e.value()));
            return fallback;
        }
        return signal.getAsInt();
    }

    /** A path relative to the vassal file's directory. */
    private Path path(IniEntry e, Path fallback) {
        return convert(e, Values.path(e.value(), dir), fallback);
    }

    private <T> T convert(IniEntry e, Values.Converted<T> converted, T fallback) {
        if (converted.isOk()) {
            return converted.value();
        }
        problems.error(e, converted.error());
        return fallback;
    }
}
