package io.emperor.os;

import io.emperor.config.Account;
import io.emperor.config.VassalSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a vassal's environment starts from.
 *
 * <p>Without tyrant mode: the emperor's own, minus what belongs to the emperor alone (its systemd
 * notify socket and watchdog, socket activation, its journal stream, and every {@code UWSGI_*}
 * variable, which uWSGI would read as options), plus the admin's locale ({@code [emperor] env}).
 *
 * <p>In tyrant mode (a tenant's vassal): nothing of the emperor's environment, which may hold
 * credentials. Only {@code PATH} (the fixed {@value #TENANT_PATH}), {@code HOME}, {@code USER},
 * {@code LOGNAME} and {@code SHELL} of the file's owner, and the admin's locale. The same set is
 * all that {@code $(VAR)} in a tenant's file may read ({@link #forTenant}).
 */
public final class Environment {
    /** The PATH of a tenant's vassal: no directory of the emperor's environment. */
    public static final String TENANT_PATH = "/usr/local/bin:/usr/bin:/bin";
    /** SHELL of an owner whose passwd entry has an empty shell field (passwd(5): /bin/sh). */
    static final String DEFAULT_SHELL = "/bin/sh";

    private final Map<String, String> base;
    private final Map<String, String> locale;
    private final String uwsgiBinary;

    public Environment(Map<String, String> emperorEnv, String uwsgiBinary) {
        this(emperorEnv, uwsgiBinary, Map.of());
    }

    /**
     * @param emperorEnv  the emperor's own environment
     * @param uwsgiBinary how {@code [uwsgi]} vassals are started
     * @param locale      {@code [emperor] env}: LANG, LANGUAGE and LC_* the admin gives every vassal
     */
    public Environment(Map<String, String> emperorEnv, String uwsgiBinary, Map<String, String> locale) {
        Map<String, String> m = new LinkedHashMap<>();
        emperorEnv.forEach((k, v) -> {
            if (!isEmperorOnly(k)) {
                m.put(k, v);
            }
        });
        m.putAll(locale);
        this.base = Map.copyOf(m);
        this.locale = Map.copyOf(new LinkedHashMap<>(locale));
        this.uwsgiBinary = uwsgiBinary;
    }

    static boolean isEmperorOnly(String key) {
        return key.startsWith("UWSGI_")
                || key.equals("NOTIFY_SOCKET")
                || key.startsWith("WATCHDOG_")
                || key.startsWith("LISTEN_")
                || key.equals("JOURNAL_STREAM");
    }

    public String uwsgiBinary() {
        return uwsgiBinary;
    }

    /**
     * KEY=VALUE strings for a vassal outside tyrant mode: the base; when it runs as another user,
     * that user's HOME/USER/LOGNAME (a uid without passwd entry gets HOME=/ and no USER/LOGNAME
     * rather than the emperor's); then its own env entries, which win.
     */
    public List<String> forVassal(VassalSpec spec, boolean otherUser, Account account) {
        Map<String, String> m = new LinkedHashMap<>(base);
        if (account != null) {
            m.put("HOME", account.home());
            m.put("USER", account.name());
            m.put("LOGNAME", account.name());
        } else if (otherUser) {
            m.put("HOME", "/");
            m.remove("USER");
            m.remove("LOGNAME");
        }
        return withOwn(m, spec);
    }

    /**
     * KEY=VALUE strings for a tenant's vassal (tyrant mode): {@link #forTenant} of its owner, then
     * its own env entries, which win.
     */
    public List<String> forTenantVassal(VassalSpec spec, Account owner) {
        return withOwn(new LinkedHashMap<>(forTenant(owner)), spec);
    }

    /**
     * What a tenant's vassal starts from, and all that {@code $(VAR)} in its file may read: PATH,
     * the owner's HOME, USER, LOGNAME and SHELL (an owner without passwd entry: HOME=/ and none of
     * the others), and the admin's locale.
     *
     * @param owner the passwd entry of the file's owner, or null when the uid has none
     */
    public Map<String, String> forTenant(Account owner) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("PATH", TENANT_PATH);
        if (owner != null) {
            m.put("HOME", owner.home());
            m.put("USER", owner.name());
            m.put("LOGNAME", owner.name());
            m.put("SHELL", owner.shell() == null || owner.shell().isEmpty() ? DEFAULT_SHELL : owner.shell());
        } else {
            m.put("HOME", "/");
        }
        m.putAll(locale);
        return m;
    }

    private static List<String> withOwn(Map<String, String> m, VassalSpec spec) {
        for (String kv : spec.env()) {
            int eq = kv.indexOf('=');
            m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        List<String> out = new ArrayList<>(m.size());
        m.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }
}
