package io.emperor.config;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a vassal file (DESIGN §2) into a {@link VassalSpec}, or every problem it has.
 *
 * <ol>
 *   <li>The content is read by the file's format ({@link VassalFormat}): {@code NAME.ini} with
 *       {@link IniReader}; {@code NAME.yaml}/{@code .yml}, {@code NAME.json}/{@code .js} and
 *       {@code NAME.xml} are uWSGI vassals, read with {@link UwsgiYaml}, {@link UwsgiJson} and
 *       {@link UwsgiXml} into one {@code [uwsgi]} section (they have no {@code [vassal]}). A file
 *       that is not text fails here.</li>
 *   <li>A {@code [vassal]} section wins; other sections are ignored with a warning.</li>
 *   <li>Else a {@code [uwsgi]} section makes a uWSGI vassal: only the ini syntax is checked,
 *       values are neither expanded nor validated (uWSGI has its own, richer magic).</li>
 *   <li>Else the file is an error.</li>
 * </ol>
 * For {@code [vassal]}, see {@link VassalSection} for the keys. In tyrant mode its {@code uid} and
 * {@code gid} keys are ignored with a warning (the identity is the file's owner, which the
 * scanner applies: {@code io.emperor.source.dir.TyrantRules}).
 */
public final class VassalParser implements VassalFileParser {
    public static final String VASSAL = "vassal";
    public static final String UWSGI = "uwsgi";
    /** The section (block, object, element) of a uWSGI file with the emperor's own keys, which uWSGI ignores. */
    public static final String EMPEROR = "emperor";

    private static final Duration UWSGI_STOP_TIMEOUT = Duration.ofSeconds(30);
    /**
     * The options of a uWSGI vassal the emperor reads itself (how it stops and reloads it); the
     * YAML, JSON and XML readers refuse a value of these that uWSGI builds would read differently.
     */
    static final Set<String> UWSGI_READ = Set.of("master", "graceful-shutdown");

    private final UserDb users;
    private final String hostname;
    private final Map<String, String> environment;
    private final boolean tyrant;
    private final java.util.function.IntFunction<Map<String, String>> tenantEnvironment;
    /** Tyrant mode: the addresses a tenant's {@code listen} may name ({@code tenant-listen}). */
    private volatile TenantListen tenantListen = TenantListen.ANY;

    /** Outside tyrant mode. */
    public VassalParser(UserDb users, String hostname, Map<String, String> environment) {
        this(users, hostname, environment, false);
    }

    /**
     * @param users       resolves {@code uid} and {@code gid} names
     * @param hostname    for {@code %h}
     * @param environment the emperor's environment, for {@code $(VAR)}
     * @param tyrant      tyrant mode: {@code uid} and {@code gid} are ignored, with a warning
     */
    public VassalParser(UserDb users, String hostname, Map<String, String> environment, boolean tyrant) {
        this(users, hostname, environment, tyrant, owner -> Map.of());
    }

    /**
     * @param environment       the emperor's environment, for {@code $(VAR)} outside tyrant mode
     * @param tenantEnvironment tyrant mode: the variables {@code $(VAR)} may read in a file owned by
     *                          a uid (-1: not known), the same a tenant's vassal starts from
     *                          (io.emperor.os.Environment#forTenant); the emperor's own are never read
     */
    public VassalParser(UserDb users, String hostname, Map<String, String> environment, boolean tyrant,
                        java.util.function.IntFunction<Map<String, String>> tenantEnvironment) {
        this.users = Objects.requireNonNull(users, "users");
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.environment = Map.copyOf(environment);
        this.tyrant = tyrant;
        this.tenantEnvironment = Objects.requireNonNull(tenantEnvironment, "tenantEnvironment");
    }

    /** Tyrant mode: a tenant's {@code listen} must also match {@code allowed} ({@code [emperor] tenant-listen}). */
    public VassalParser withTenantListen(TenantListen allowed) {
        this.tenantListen = Objects.requireNonNull(allowed, "allowed");
        return this;
    }

    /** The addresses a tenant's {@code listen} may name now (uWSGI on-demand sockets are held to them too). */
    public TenantListen tenantListen() {
        return tenantListen;
    }

    @Override
    public Parsed<VassalSpec> parse(Path file, byte[] content) {
        return parse(file, content, -1);
    }

    @Override
    public Parsed<VassalSpec> parse(Path file, byte[] content, int owner) {
        Path path = file.toAbsolutePath();
        return parse(path, read(path, content), owner);
    }

    /** The file's content by its format: ini sections, or the {@code uwsgi} block of YAML, JSON or XML as one. */
    private static IniFile read(Path path, byte[] content) {
        return switch (VassalFormat.ofFile(path)) {
            case INI -> IniReader.parse(path, content);
            case YAML, YML -> withEmperor(UwsgiYaml.parse(path, content, UWSGI_READ),
                    UwsgiYaml.parse(path, content, Set.of(), EMPEROR, false));
            case JSON, JS -> withEmperor(UwsgiJson.parse(path, content, UWSGI_READ),
                    UwsgiJson.parse(path, content, Set.of(), EMPEROR, false));
            case XML -> withEmperor(UwsgiXml.parse(path, content, UWSGI_READ),
                    UwsgiXml.parse(path, content, Set.of(), EMPEROR, false));
        };
    }

    /** The {@code uwsgi} block read, and the {@code emperor} block beside it when there is one. */
    private static IniFile withEmperor(IniFile uwsgi, IniFile emperor) {
        if (uwsgi.sections().isEmpty() || emperor.sections().isEmpty() && emperor.errors().isEmpty()) {
            return uwsgi;
        }
        List<IniSection> sections = new java.util.ArrayList<>(uwsgi.sections());
        sections.addAll(emperor.sections());
        List<Problem> errors = new java.util.ArrayList<>(uwsgi.errors());
        errors.addAll(emperor.errors());
        List<Problem> warnings = new java.util.ArrayList<>(uwsgi.warnings());
        emperor.warnings().stream().filter(w -> !warnings.contains(w)).forEach(warnings::add);
        return new IniFile(uwsgi.file(), sections, errors, warnings);
    }

    private Parsed<VassalSpec> parse(Path path, IniFile ini, int owner) {
        Map<String, String> environment = tyrant ? tenantEnvironment.apply(owner) : this.environment;
        Problems problems = Problems.of(ini);
        if (ini.unreadable()) {
            return problems.result(() -> null);
        }
        Optional<IniSection> vassal = ini.section(VASSAL);
        if (vassal.isPresent()) {
            problems.ignoreOtherSections(ini, VASSAL);
            Magic magic = new Magic(Magic.Context.of(path, hostname, environment, vassal.get()));
            VassalSection section = new VassalSection(path, new ExpandedSection(vassal.get(), magic, problems),
                    users, tyrant, tenantListen, problems);
            return problems.result(() -> section.spec(nameOf(path)));
        }
        if (ini.section(UWSGI).isPresent()) {
            IniSection uwsgi = ini.section(UWSGI).get();
            if (tyrant) {
                for (IniEntry e : uwsgi.entries()) {
                    if (e.key().equals("uid") || e.key().equals("gid")) {
                        problems.warning(e, "tyrant mode already runs the vassal as the owner of its file; uWSGI's own "
                                + e.key() + " change fails (\"cannot set" + e.key() + "() as non-root user\") unless it"
                                + " names that same " + (e.key().equals("uid") ? "user" : "group") + ": remove it");
                    }
                }
            }
            Order order = ini.section(EMPEROR).map(emperor -> {
                ExpandedSection keys = ExpandedSection.literal(emperor, problems);
                keys.rejectUnknown(OrderSection.KEYS);
                return new OrderSection(nameOf(path), path.getParent(), VassalSpec.Kind.UWSGI, keys, problems).order();
            }).orElse(Order.UWSGI);
            return problems.result(() -> uwsgiSpec(path, uwsgi).withOrder(order));
        }
        problems.error(0, "no [vassal] or [uwsgi] section");
        return problems.result(() -> null);
    }

    /** The vassal's name: the file name without {@code .ini} (or {@code .yaml}, {@code .yml}, {@code .json}, {@code .js}, {@code .xml}). */
    public static String nameOf(Path file) {
        return VassalFormat.stem(file.getFileName().toString());
    }

    /**
     * A uWSGI vassal: everything but the file is uWSGI's business, except {@code master} and
     * {@code graceful-shutdown} (last occurrence, uWSGI's boolean rule, not expanded), which decide
     * how it is stopped and reloaded; the stop signal INT is for a vassal without a master.
     */
    private static VassalSpec uwsgiSpec(Path file, IniSection section) {
        VassalSpec.Uwsgi uwsgi = new VassalSpec.Uwsgi(bool(section, "master"), bool(section, "graceful-shutdown"));
        return new VassalSpec(nameOf(file), file, VassalSpec.Kind.UWSGI, List.of(), file.getParent(), List.of(),
                VassalSection.DEFAULT_UMASK, null, -1, -1, null, Signals.INT, UWSGI_STOP_TIMEOUT,
                ReloadMode.SIGNAL, Signals.HUP, List.of(), uwsgi);
    }

    private static boolean bool(IniSection section, String key) {
        List<IniEntry> all = section.all(key);
        return !all.isEmpty() && Values.bool(all.get(all.size() - 1).value());
    }
}
