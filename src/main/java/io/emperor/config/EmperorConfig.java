package io.emperor.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The {@code [emperor]} section of emperor.ini, after command-line overrides.
 *
 * @param source     the file it was read from, or null when there was none
 * @param vassalDirs the directories to watch, absolute, in order (the first one wins a name clash)
 * @param log        the emperor's log file, or null for stderr
 * @param rescan     the period of the full rescan that backs up inotify (default 10 s)
 * @param minUptime  a vassal that ran at least this long is respawned at once (default 10 s)
 * @param maxBackoff the cap of the exponential respawn backoff (default 60 s)
 * @param tyrant     tyrant mode (docs/tyrant.md): every vassal runs as the owner of its file (default false)
 * @param nofollow   a symlinked vassal file is judged by the link itself ({@code lstat}), not by
 *                   its target (default false)
 * @param requiredHeartbeat a uWSGI vassal that sent one heartbeat must send the next within this
 *                   (default 30 s)
 * @param uwsgi      how {@code [uwsgi]} vassals are started: binary, {@code --set}, {@code --include}
 * @param logging    the other log keys: format, per-vassal files, rotation (docs/logging.md)
 * @param control    the control socket and the stats server (docs/control.md)
 * @param locale     {@code env = KEY=VALUE}: LANG, LANGUAGE and LC_* every vassal gets, in tyrant mode
 *                   the only variables of the admin's choosing (docs/tyrant.md); read at start only
 * @param tenantBudget in tyrant mode, what the vassal files of one owner and of all may hold
 *                   ({@code tenant-max-vassals}, {@code tenant-max-bytes}, {@code tenant-max-total-bytes});
 *                   read at start only
 * @param drop       {@code uid}, {@code gid}, {@code cap}: whom a root emperor becomes once its log and
 *                   sockets are open ({@link DropSettings#NONE}: nobody); read at start only
 * @param fleet      {@code etcd} and its keys ({@link FleetSettings#NONE}: no fleet); read at start only
 */
public record EmperorConfig(
        Path source,
        List<Path> vassalDirs,
        Path log,
        Duration rescan,
        Duration minUptime,
        Duration maxBackoff,
        boolean tyrant,
        boolean nofollow,
        Duration requiredHeartbeat,
        UwsgiCommand uwsgi,
        LogSettings logging,
        ControlSettings control,
        java.util.Map<String, String> locale,
        TenantBudget tenantBudget,
        DropSettings drop,
        FleetSettings fleet) {

    public static final Path DEFAULT_VASSALS = Path.of("/etc/emperor/vassals");
    public static final Duration DEFAULT_RESCAN = Duration.ofSeconds(10);
    public static final Duration DEFAULT_MIN_UPTIME = Duration.ofSeconds(10);
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(60);
    /** uWSGI's {@code emperor-required-heartbeat} default. */
    public static final Duration DEFAULT_REQUIRED_HEARTBEAT = Duration.ofSeconds(30);

    public EmperorConfig {
        vassalDirs = List.copyOf(vassalDirs);
        locale = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(locale));
        java.util.Objects.requireNonNull(tenantBudget);
        drop = java.util.Objects.requireNonNull(drop, "drop");
        fleet = java.util.Objects.requireNonNull(fleet, "fleet");
    }

    /** Without a fleet. */
    public EmperorConfig(Path source, List<Path> vassalDirs, Path log, Duration rescan, Duration minUptime,
                         Duration maxBackoff, boolean tyrant, boolean nofollow, Duration requiredHeartbeat,
                         UwsgiCommand uwsgi, LogSettings logging, ControlSettings control,
                         java.util.Map<String, String> locale, TenantBudget tenantBudget, DropSettings drop) {
        this(source, vassalDirs, log, rescan, minUptime, maxBackoff, tyrant, nofollow, requiredHeartbeat, uwsgi,
                logging, control, locale, tenantBudget, drop, FleetSettings.NONE);
    }

    /** With the default tenant budget, and without a user to become. */
    public EmperorConfig(Path source, List<Path> vassalDirs, Path log, Duration rescan, Duration minUptime,
                         Duration maxBackoff, boolean tyrant, boolean nofollow, Duration requiredHeartbeat,
                         UwsgiCommand uwsgi, LogSettings logging, ControlSettings control,
                         java.util.Map<String, String> locale) {
        this(source, vassalDirs, log, rescan, minUptime, maxBackoff, tyrant, nofollow, requiredHeartbeat, uwsgi,
                logging, control, locale, TenantBudget.DEFAULTS, DropSettings.NONE);
    }

    /** Without a locale for the vassals. */
    public EmperorConfig(Path source, List<Path> vassalDirs, Path log, Duration rescan, Duration minUptime,
                         Duration maxBackoff, boolean tyrant, boolean nofollow, Duration requiredHeartbeat,
                         UwsgiCommand uwsgi, LogSettings logging, ControlSettings control) {
        this(source, vassalDirs, log, rescan, minUptime, maxBackoff, tyrant, nofollow, requiredHeartbeat, uwsgi,
                logging, control, java.util.Map.of());
    }

    /** With the default control settings. */
    public EmperorConfig(Path source, List<Path> vassalDirs, Path log, Duration rescan, Duration minUptime,
                         Duration maxBackoff, boolean tyrant, boolean nofollow, Duration requiredHeartbeat,
                         UwsgiCommand uwsgi, LogSettings logging) {
        this(source, vassalDirs, log, rescan, minUptime, maxBackoff, tyrant, nofollow, requiredHeartbeat, uwsgi,
                logging, ControlSettings.DEFAULTS);
    }

    /** With the default log settings. */
    public EmperorConfig(Path source, List<Path> vassalDirs, Path log, Duration rescan, Duration minUptime,
                         Duration maxBackoff, boolean tyrant, boolean nofollow, Duration requiredHeartbeat,
                         UwsgiCommand uwsgi) {
        this(source, vassalDirs, log, rescan, minUptime, maxBackoff, tyrant, nofollow, requiredHeartbeat, uwsgi,
                LogSettings.DEFAULTS);
    }

    /** With the default required heartbeat and uWSGI command. */
    public EmperorConfig(Path source, List<Path> vassalDirs, Path log, Duration rescan, Duration minUptime,
                         Duration maxBackoff, boolean tyrant, boolean nofollow) {
        this(source, vassalDirs, log, rescan, minUptime, maxBackoff, tyrant, nofollow,
                DEFAULT_REQUIRED_HEARTBEAT, UwsgiCommand.DEFAULT);
    }

    /** The same with another mode (SIGHUP keeps the mode of the start). */
    public EmperorConfig withMode(boolean tyrantMode, boolean nofollowMode) {
        return new EmperorConfig(source, vassalDirs, log, rescan, minUptime, maxBackoff, tyrantMode, nofollowMode,
                requiredHeartbeat, uwsgi, logging, control, locale, tenantBudget, drop, fleet);
    }

    public static EmperorConfig defaults() {
        return new EmperorConfig(null, List.of(DEFAULT_VASSALS), null,
                DEFAULT_RESCAN, DEFAULT_MIN_UPTIME, DEFAULT_MAX_BACKOFF, false, false);
    }
}
