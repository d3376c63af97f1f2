package io.emperor.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * uWSGI's own emperor.ini (a {@code [uwsgi]} section with {@code emperor = DIR} and friends,
 * as in the Plone training) read as our {@code [emperor]} section: each uWSGI option is mapped to
 * our key, or accepted and ignored with a warning saying why, or reported as unknown.
 * docs/migrating-from-uwsgi.md has the same table.
 */
final class UwsgiEmperorIni {
    /** uWSGI option → our {@code [emperor]} key. */
    static final Map<String, String> MAPPED = Map.ofEntries(
            Map.entry("emperor", "vassals"),
            Map.entry("emperor-tyrant", "tyrant"),
            Map.entry("emperor-tyrant-nofollow", "nofollow"),
            Map.entry("emperor-nofollow", "nofollow"),
            Map.entry("emperor-freq", "rescan"),
            Map.entry("emperor-required-heartbeat", "required-heartbeat"),
            Map.entry("logto", "log"),
            Map.entry("daemonize", "log"),
            Map.entry("vassals-include", "vassals-include"),
            Map.entry("vassals-include-before", "vassals-include-before"),
            Map.entry("vassal-set", "vassal-set"),
            Map.entry("vassals-set", "vassal-set"),
            Map.entry("binary-path", "uwsgi-binary"),
            Map.entry("emperor-stats", "stats"),
            Map.entry("emperor-stats-server", "stats"),
            Map.entry("uid", "uid"),
            Map.entry("gid", "gid"),
            Map.entry("cap", "cap"),
            Map.entry("emperor-on-demand-extension", "on-demand-extension"),
            Map.entry("emperor-on-demand-ext", "on-demand-extension"),
            Map.entry("emperor-on-demand-directory", "on-demand-directory"),
            Map.entry("emperor-on-demand-dir", "on-demand-directory"));

    /** uWSGI option → why it is accepted and ignored. */
    static final Map<String, String> IGNORED = Map.ofEntries(
            Map.entry("emperor-throttle", "the emperor backs off per vassal, exponentially (min-uptime, max-backoff)"),
            Map.entry("emperor-max-throttle", "the emperor backs off per vassal, exponentially (min-uptime, max-backoff)"),
            Map.entry("emperor-graceful-shutdown", "set graceful-shutdown = true in the vassal files that want it"),
            Map.entry("emperor-pidfile", "no pid file: systemd (Type=notify) tracks the emperor"),
            Map.entry("master", "the emperor needs no master process"),
            Map.entry("workers", "the emperor has no workers"),
            Map.entry("processes", "the emperor has no workers"),
            Map.entry("no-orphans", "always so: every vassal gets the parent-death signal"),
            Map.entry("log-date", "every log line has a timestamp"),
            Map.entry("autoload", "plugins are the vassals' business"),
            Map.entry("plugins", "plugins are the vassals' business"),
            Map.entry("plugin", "plugins are the vassals' business"),
            Map.entry("emperor-tyrant-initgroups", "always so: a tenant's vassal gets the owner's groups (initgroups)"),
            Map.entry("emperor-subreaper", "always so: the emperor is a child subreaper"),
            Map.entry("early-emperor", "always so: the emperor is its own program, started first"),
            Map.entry("emperor-no-blacklist", "there is no blacklist: a failing vassal backs off alone, and a touch"
                    + " retries it at once"));

    private UwsgiEmperorIni() {}

    /** The {@code [uwsgi]} section as an {@code [emperor]} section; ignored and unknown options go to {@code problems}. */
    static IniSection translate(IniSection uwsgi, Problems problems) {
        List<IniEntry> entries = new ArrayList<>();
        for (IniEntry e : uwsgi.entries()) {
            String ours = MAPPED.get(e.key());
            if (ours != null) {
                entries.add(new IniEntry(ours, value(e, problems), e.line(), e.assigned()));
            } else if (IGNORED.containsKey(e.key())) {
                problems.warning(e, "uWSGI option ignored: " + IGNORED.get(e.key()));
            } else if (!e.assigned()) {
                problems.error(e.line(), "expected KEY = VALUE, found: " + e.key());
            } else {
                problems.error(e, "unknown uWSGI emperor option (see docs/migrating-from-uwsgi.md)");
            }
        }
        return new IniSection(EmperorConfigParser.EMPEROR, uwsgi.line(), entries);
    }

    /** Values needing a change: {@code emperor = dir://D} or a glob watches a directory. */
    private static String value(IniEntry e, Problems problems) {
        String v = e.value();
        if (e.key().equals("emperor")) {
            int scheme = v.indexOf("://");
            if (scheme > 0 && !v.startsWith("dir://") && !v.startsWith("glob://")) {
                problems.error(e, "the imperial monitor " + v.substring(0, scheme + 3) + " is not supported: vassals"
                        + " come from directories (a path, dir:// or glob://)");
                return v;
            }
            if (v.startsWith("dir://")) {
                return v.substring("dir://".length());
            }
            String glob = v.startsWith("glob://") ? v.substring("glob://".length()) : v;
            if (glob.chars().anyMatch(ch -> ch == '*' || ch == '?' || ch == '[')) {
                int slash = glob.lastIndexOf('/');
                String dir = slash < 0 ? "." : glob.substring(0, Math.max(slash, 1));
                problems.warning(e, "a glob is not supported: watching the directory " + dir
                        + " (every NAME.ini in it is a vassal)");
                return dir;
            }
            return glob;
        }
        if (e.key().equals("daemonize")) {
            problems.warning(e, "the emperor never daemonizes: daemonize is read as its log file");
        }
        return v;
    }
}
