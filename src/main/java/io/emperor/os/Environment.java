package io.emperor.os;

import io.emperor.config.Account;
import io.emperor.config.VassalSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a vassal's environment starts from: the emperor's own, minus what belongs to the emperor
 * alone (its systemd notify socket and watchdog, socket activation, its journal stream, and every
 * {@code UWSGI_*} variable, which uWSGI would read as options).
 */
public final class Environment {
    private final Map<String, String> base;
    private final String uwsgiBinary;

    public Environment(Map<String, String> emperorEnv, String uwsgiBinary) {
        Map<String, String> m = new LinkedHashMap<>();
        emperorEnv.forEach((k, v) -> {
            if (!isEmperorOnly(k)) {
                m.put(k, v);
            }
        });
        this.base = Map.copyOf(m);
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
     * KEY=VALUE strings for a vassal: the base; when it runs as another user, that user's
     * HOME/USER/LOGNAME (a uid without passwd entry gets HOME=/ and no USER/LOGNAME rather than
     * the emperor's); then its own env entries, which win.
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
        for (String kv : spec.env()) {
            int eq = kv.indexOf('=');
            m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        List<String> out = new ArrayList<>(m.size());
        m.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }
}
