package io.emperor.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How every {@code [uwsgi]} vassal is started, from {@code [emperor]} in emperor.ini: the binary
 * and what uWSGI's {@code --vassal-set} / {@code --vassals-include[-before]} added.
 *
 * @param binary         {@code uwsgi-binary}: a path, or a name searched in the vassal's PATH (default {@code uwsgi})
 * @param sets           {@code vassal-set = KEY=VALUE} entries, in file order
 * @param includesBefore {@code vassals-include-before} files, absolute, in file order
 * @param includes       {@code vassals-include} files, absolute, in file order
 * @param onDemandExtension {@code on-demand-extension}: a vassal NAME.ini is on demand on the socket named in
 *                       NAME.ini+EXT ({@link UwsgiOnDemand}), or null
 * @param onDemandDirectory {@code on-demand-directory}: else on the unix socket DIR/NAME.socket, or null
 */
public record UwsgiCommand(String binary, List<String> sets, List<Path> includesBefore, List<Path> includes,
                           String onDemandExtension, Path onDemandDirectory) {
    public static final String DEFAULT_BINARY = "uwsgi";
    public static final UwsgiCommand DEFAULT = of(DEFAULT_BINARY);

    public UwsgiCommand {
        sets = List.copyOf(sets);
        includesBefore = List.copyOf(includesBefore);
        includes = List.copyOf(includes);
    }

    /** Without on-demand sockets. */
    public UwsgiCommand(String binary, List<String> sets, List<Path> includesBefore, List<Path> includes) {
        this(binary, sets, includesBefore, includes, null, null);
    }

    /** Whether {@code [uwsgi]} vassals may be on demand ({@code on-demand-extension} or {@code -directory}). */
    public boolean onDemand() {
        return onDemandExtension != null || onDemandDirectory != null;
    }

    /** Only a binary. */
    public static UwsgiCommand of(String binary) {
        return new UwsgiCommand(binary, List.of(), List.of(), List.of());
    }

    /**
     * The vassal's argv, in the uWSGI Emperor's order: {@code BINARY [--include B]... [--set K=V]...
     * --ini FILE [--include I]...}, with {@code --yaml}, {@code --json} or {@code --xml} in place of
     * {@code --ini} by the file's extension ({@link VassalFormat}). An include before the file gives
     * defaults the vassal file overrides; one after overrides the vassal file.
     */
    public List<String> argv(Path file) {
        List<String> a = new ArrayList<>();
        a.add(binary);
        for (Path p : includesBefore) {
            a.add("--include");
            a.add(p.toString());
        }
        for (String kv : sets) {
            a.add("--set");
            a.add(kv);
        }
        a.add(VassalFormat.ofFile(file).uwsgiOption());
        a.add(file.toString());
        for (Path p : includes) {
            a.add("--include");
            a.add(p.toString());
        }
        return a;
    }
}
