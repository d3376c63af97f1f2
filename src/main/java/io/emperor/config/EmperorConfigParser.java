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
 * </ul>
 * Every duration is at most {@value #MAX_SECONDS} seconds. Unknown keys are errors; other sections are
 * ignored with a warning.
 */
public final class EmperorConfigParser {
    public static final String EMPEROR = "emperor";
    static final List<String> KEYS = List.of("vassals", "log", "rescan", "min-uptime", "max-backoff",
            "tyrant", "nofollow");
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
        Path path = file.toAbsolutePath();
        IniFile ini = IniReader.read(path);
        Problems problems = new Problems(path);
        problems.addErrors(ini.errors());
        problems.addWarnings(ini.warnings());
        if (ini.unreadable()) {
            return problems.result(() -> null);
        }
        Optional<IniSection> emperor = ini.section(EMPEROR);
        if (emperor.isEmpty()) {
            problems.error(0, "no [emperor] section");
            return problems.result(() -> null);
        }
        for (IniSection other : ini.sections()) {
            if (!other.name().equals(EMPEROR)) {
                problems.warning(other.line(), "section [" + other.name() + "] is ignored");
            }
        }
        Magic magic = new Magic(Magic.Context.of(path, hostname, environment, emperor.get()));
        ExpandedSection section = new ExpandedSection(emperor.get(), magic, problems);
        section.rejectUnknown(KEYS);
        for (String key : KEYS) {
            if (!key.equals("vassals")) {
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
        return problems.result(() -> new EmperorConfig(path.normalize(), vassals, log, rescan, minUptime, maxBackoff,
                tyrant, nofollow));
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
