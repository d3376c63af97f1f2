package io.emperor.source.etcd;

import io.emperor.config.Account;
import io.emperor.config.FleetSettings;
import io.emperor.config.IniReader;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.TenantBudget;
import io.emperor.config.UserDb;
import io.emperor.config.VassalFileParser;
import io.emperor.config.VassalSpec;
import io.emperor.source.dir.Fingerprint;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.TyrantRules;
import io.emperor.source.dir.VassalFile;
import io.emperor.source.dir.VassalNames;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which etcd keys are this node's vassals, and what each one says (docs/fleet.md). Pure but for
 * the passwd lookups; not safe for concurrent use (the source's thread).
 *
 * <ul>
 *   <li>{@code PREFIX/vassals/FILE}: every node's; {@code PREFIX/nodes/NODE/vassals/FILE}: this node's
 *       only, and it wins over a fleet-wide key of the same vassal name; {@code PREFIX/users/USER/vassals/FILE}:
 *       in tyrant mode, runs as USER. {@code FILE} follows the directories' naming rules
 *       ({@link VassalNames}); other keys are not vassals.</li>
 *   <li>A name both an operator's key (fleet-wide or this node's) and a user's key have is the
 *       operator's; of two users' keys, the first user's by name. The other is ignored and logged once.</li>
 *   <li>Refused, with the reason as the vassal's error (status shows it): in tyrant mode, a fleet-wide or
 *       node key (a vassal from etcd runs as the user of its prefix there); outside it, a user's key;
 *       a user that does not exist, uid 0 or gid 0, the emperor's group; a value larger than 1 MiB;
 *       a {@code [uwsgi]} vassal (uWSGI reads its file itself, and there is none).</li>
 *   <li>The fingerprint of a key is its revisions (create, mod, version), its size and the uid and gid it
 *       runs as: a put, even of the same text, is a change, as a touch is for a file.</li>
 *   <li>A vassal from etcd has no directory: its default working directory is {@code /}, a user's vassal's
 *       that user's home (if it is a directory, else {@code /}); a relative path in the text is relative to the key's "directory", which does
 *       not exist: use absolute paths.</li>
 * </ul>
 */
final class FleetKeys {
    private static final Logger log = LoggerFactory.getLogger("emperor");
    private static final int REGULAR_0644 = 0100644;

    enum Scope { NODE, FLEET, USER }

    /** One key that names a vassal file. */
    record Key(String key, Scope scope, String user, String fileName, String name) {}

    /** One key's value and revisions, as etcd gave them. */
    record Entry(String key, byte[] value, long createRevision, long modRevision, long version, long lease) {}

    /**
     * A vassal's {@code [fleet]} section: it runs on {@code replicas} nodes, those whose name matches {@code nodes}
     * (a glob: {@code *}, {@code ?}; null: any).
     */
    record Placement(int replicas, String nodes) {
        /** No {@code [fleet]} section: every node runs it. */
        static final Placement EVERYWHERE = new Placement(0, null);

        boolean matches(String node) {
            return nodes == null || java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + nodes)
                    .matches(Path.of(node));
        }
    }

    /** A slot key {@code PREFIX/slots/NAME/K}. */
    record Slot(String name, int index) {}

    /** The slot a key names under {@code slotRoot} ({@code PREFIX/slots/}), or null. */
    static Slot slot(String slotRoot, String key) {
        if (!key.startsWith(slotRoot)) {
            return null;
        }
        String[] parts = key.substring(slotRoot.length()).split("/", -1);
        if (parts.length != 2 || parts[1].isEmpty() || parts[1].length() > 4 || !parts[1].chars().allMatch(Character::isDigit)) {
            return null;
        }
        return new Slot(parts[0], Integer.parseInt(parts[1]));
    }

    private final String prefix;
    private final String node;
    private final VassalFileParser parser;
    private final UserDb users;
    private final boolean tyrant;
    private final TyrantRules.EmperorGroup emperorGroup;
    /** The last parse of each key, by key: reused while the mod revision is the same. */
    private Map<String, VassalFile> cache = new HashMap<>();
    /** The {@code [fleet]} section of each key's current version, when it has a valid one. */
    private final Map<String, Placement> placementCache = new HashMap<>();
    private Set<String> loggedClashes = Set.of();
    /** Tyrant mode: what one user's keys, and all users' keys, may cost (tenant-max-*; docs/fleet.md). */
    private final TenantBudget budget;
    /** The placed vassals of the last snapshot (valid {@code [fleet]} sections), by name. */
    private Map<String, Placement> placements = Map.of();

    FleetKeys(FleetSettings settings, VassalFileParser parser, UserDb users, boolean tyrant,
              TyrantRules.EmperorGroup emperorGroup, TenantBudget budget) {
        this.budget = budget;
        this.prefix = settings.prefix();
        this.node = settings.node();
        this.parser = parser;
        this.users = users;
        this.tyrant = tyrant;
        this.emperorGroup = emperorGroup;
    }

    /** What a key is to this node: a vassal of it, or empty (another node's, a status key, a bad name). */
    static Optional<Key> parse(String prefix, String node, String key) {
        if (!key.startsWith(prefix + "/")) {
            return Optional.empty();
        }
        String[] parts = key.substring(prefix.length() + 1).split("/", -1);
        Scope scope;
        String user = null;
        String file;
        if (parts.length == 2 && parts[0].equals("vassals")) {
            scope = Scope.FLEET;
            file = parts[1];
        } else if (parts.length == 4 && parts[0].equals("nodes") && parts[2].equals("vassals")) {
            if (!parts[1].equals(node)) {
                return Optional.empty();
            }
            scope = Scope.NODE;
            file = parts[3];
        } else if (parts.length == 4 && parts[0].equals("users") && parts[2].equals("vassals")) {
            if (!FleetSettings.segment(parts[1])) {
                return Optional.empty();
            }
            scope = Scope.USER;
            user = parts[1];
            file = parts[3];
        } else {
            return Optional.empty();
        }
        Optional<String> name = VassalNames.vassalName(file);
        if (name.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Key(key, scope, user, file, name.get()));
    }

    /** Whether the key may be one of this node's vassals (the watch's events about others change nothing). */
    boolean matters(String key) {
        return parse(prefix, node, key).isPresent();
    }

    /** The vassals with a valid {@code [fleet]} section at the last snapshot, by name. */
    Map<String, Placement> placements() {
        return placements;
    }

    /**
     * The snapshot of this node's vassals among {@code entries} (every key under the prefix, by key); a placed
     * vassal is in it only when its name is in {@code held} (this node holds one of its slots).
     */
    Snapshot snapshot(Map<String, Entry> entries, Set<String> held) {
        // By name: the key that has it (node over fleet over users; users by name).
        TreeMap<String, Key> byName = new TreeMap<>();
        Set<String> clashes = new HashSet<>();
        List<Key> keys = entries.keySet().stream().sorted().map(k -> parse(prefix, node, k))
                .flatMap(Optional::stream).sorted(java.util.Comparator.comparing(Key::scope)
                        .thenComparing(k -> k.user() == null ? "" : k.user()).thenComparing(Key::fileName))
                .toList();
        for (Key k : keys) {
            Key winner = byName.putIfAbsent(k.name(), k);
            if (winner != null && !(winner.scope() == Scope.NODE && k.scope() == Scope.FLEET)) {
                String clash = k.key() + " " + winner.key();
                clashes.add(clash);
                if (!loggedClashes.contains(clash)) {
                    log.warn("{}: ignored: etcd key {} has the same name as {}", k.name(), k.key(), winner.key());
                }
            }
        }
        loggedClashes = clashes;
        Map<String, VassalFile> files = new HashMap<>();
        Map<String, VassalFile> nextCache = new HashMap<>();
        Map<String, Placement> nextPlacements = new HashMap<>();
        Map<String, String> overBudget = tyrant ? budgeted(byName.values(), entries) : Map.of();
        for (Key k : byName.values()) {
            String refusal = overBudget.get(k.key());
            if (refusal != null) {
                // Not read, not kept: once it fits again it is read like a new key.
                Path path = Path.of(k.key());
                files.put(k.name(), new VassalFile(k.name(), path, fingerprint(k, entries.get(k.key())), null,
                        refused(path, refusal)));
                continue;
            }
            VassalFile f = file(k, entries.get(k.key()));
            nextCache.put(k.key(), f);
            Placement p = placementCache.get(k.key());
            if (p != null && f.parsed().isOk()) {
                nextPlacements.put(k.name(), p);
                if (!held.contains(k.name())) {
                    continue; // another node's to run
                }
            }
            files.put(k.name(), f);
        }
        cache = nextCache;
        placementCache.keySet().retainAll(nextCache.keySet());
        placements = Map.copyOf(nextPlacements);
        return new Snapshot(files, Set.of());
    }

    /**
     * Tyrant mode: each user's keys counted against the tenant budget as a user's files are in the
     * directories (docs/tyrant.md, "The tenant budget"), the oldest key first (a key that was taken keeps
     * its place when a newer one comes), before anything is read: at most {@code tenant-max-vassals} keys a
     * user, and the values' bytes (each with {@link TenantBudget#PER_FILE}) within {@code tenant-max-bytes}
     * a user and {@code tenant-max-total-bytes} for all. Counted apart from the directories' files. The
     * refusals, by key.
     */
    private Map<String, String> budgeted(java.util.Collection<Key> keys, Map<String, Entry> entries) {
        TenantBudget.Tally tally = budget.tally(uid -> users.userById(uid).map(a -> a.name() + " (uid " + uid + ")")
                .orElse("uid " + uid));
        List<Key> byAge = keys.stream().filter(k -> k.scope() == Scope.USER)
                .sorted(java.util.Comparator.comparingLong((Key k) -> entries.get(k.key()).createRevision())
                        .thenComparing(Key::key))
                .toList();
        Map<String, String> refused = new HashMap<>();
        for (Key k : byAge) {
            Optional<Account> a = users.userByName(k.user());
            if (a.isEmpty() || a.get().uid() == 0) {
                continue; // refused for that, and holds nothing
            }
            int uid = a.get().uid();
            String why = tally.count(uid);
            if (why == null) {
                long cost = TenantBudget.PER_FILE + entries.get(k.key()).value().length;
                why = tally.fits(uid, cost);
                if (why == null) {
                    tally.charge(uid, cost);
                }
            }
            if (why != null) {
                refused.put(k.key(), why);
            }
        }
        return refused;
    }

    private Fingerprint fingerprint(Key k, Entry e) {
        Optional<Account> account = k.scope() == Scope.USER ? users.userByName(k.user()) : Optional.empty();
        return new Fingerprint(e.value().length, e.modRevision(), e.createRevision(), e.version(), 0,
                account.map(Account::uid).orElse(0), account.map(Account::gid).orElse(0), REGULAR_0644);
    }

    private VassalFile file(Key k, Entry e) {
        Optional<Account> account = k.scope() == Scope.USER ? users.userByName(k.user()) : Optional.empty();
        Fingerprint fp = fingerprint(k, e);
        VassalFile before = cache.get(k.key());
        if (before != null && before.fingerprint().equals(fp) && before.name().equals(k.name())) {
            return before;
        }
        Path path = Path.of(k.key());
        Parsed<VassalSpec> parsed;
        try {
            parsed = parsed(k, e, path, account);
        } catch (RuntimeException | StackOverflowError ex) {
            // One key's bug is that key's refusal; the others go on.
            log.error("{}: reading {} failed: {}", k.name(), k.key(), ex.toString(), ex);
            parsed = refused(path, "internal error while reading: " + ex);
        }
        return new VassalFile(k.name(), path, fp, null, parsed);
    }

    private Parsed<VassalSpec> parsed(Key k, Entry e, Path path, Optional<Account> account) {
        if (tyrant && k.scope() != Scope.USER) {
            return refused(path, "in tyrant mode a vassal from etcd runs as the user of its key: put it under "
                    + prefix + "/users/USER/vassals/");
        }
        if (!tyrant && k.scope() == Scope.USER) {
            return refused(path, "a user's key (" + prefix + "/users/USER/) runs only in tyrant mode (tyrant = true)");
        }
        if (k.scope() == Scope.USER) {
            if (account.isEmpty()) {
                return refused(path, "no such user '" + k.user() + "': a user's vassal runs as that user");
            }
            Account a = account.get();
            if (a.uid() == 0) {
                return refused(path, "user " + a.name() + " is root (uid 0): no vassal from etcd runs as root");
            }
            if (a.gid() == 0) {
                return refused(path, "user " + a.name() + "'s group is root (gid 0): no vassal from etcd runs"
                        + " with it");
            }
            if (emperorGroup.gid() > 0 && a.gid() == emperorGroup.gid()) {
                return refused(path, "user " + a.name() + "'s group is the emperor's group (gid " + a.gid()
                        + "), which may control every vassal");
            }
        }
        if (e.value().length > IniReader.MAX_BYTES) {
            return refused(path, "value is larger than 1 MiB");
        }
        Parsed<VassalSpec> parsed;
        try {
            parsed = parser.parse(path, e.value(), account.map(Account::uid).orElse(-1));
        } catch (RuntimeException | StackOverflowError ex) {
            log.error("{}: reading {} failed: {}", k.name(), k.key(), ex.toString(), ex);
            return refused(path, "internal error while reading: " + ex);
        }
        placementCache.remove(k.key());
        Parsed<Placement> placement = placement(path, e.value());
        if (!placement.isOk()) {
            return Parsed.failed(placement.errors(), parsed.warnings());
        }
        // The vassal parser does not know [fleet]: its warning about it is not one.
        List<Problem> warnings = parsed.warnings().stream()
                .filter(w -> !w.message().equals("section [fleet] is ignored")).toList();
        parsed = parsed.isOk() ? Parsed.ok(parsed.value(), warnings) : Parsed.failed(parsed.errors(), warnings);
        if (!parsed.isOk()) {
            return parsed;
        }
        if (placement.value() != Placement.EVERYWHERE) {
            placementCache.put(k.key(), placement.value());
        }
        VassalSpec spec = parsed.value();
        if (spec.kind() == VassalSpec.Kind.UWSGI) {
            return Parsed.failed(List.of(new Problem(path, 0, "a [uwsgi] vassal cannot come from etcd: uWSGI reads"
                    + " its file itself, and there is none; run it from a [vassal] section (exec = ...)")),
                    parsed.warnings());
        }
        // The user's home when it is a directory (from passwd, not from the tenant), else /.
        Path home = account.map(Account::home).filter(h -> h != null && h.startsWith("/")).map(Path::of)
                .filter(java.nio.file.Files::isDirectory).orElse(Path.of("/"));
        if (path.getParent().equals(spec.chdir())) {
            spec = spec.withChdir(home);
        }
        if (account.isPresent()) {
            Account a = account.get();
            spec = spec.withIdentity(a.name(), a.home(), a.shell(), a.uid(), a.gid());
        }
        return Parsed.ok(spec, parsed.warnings());
    }

    /** The {@code [fleet]} section of an ini value: {@code replicas} (1 to 1000), {@code nodes} (a glob); {@link Placement#EVERYWHERE} without one. */
    static Parsed<Placement> placement(Path path, byte[] value) {
        if (!path.getFileName().toString().endsWith(".ini")) {
            return Parsed.ok(Placement.EVERYWHERE, List.of());
        }
        io.emperor.config.IniFile ini = IniReader.parse(path, value);
        Optional<io.emperor.config.IniSection> fleet = ini.section("fleet");
        if (fleet.isEmpty()) {
            return Parsed.ok(Placement.EVERYWHERE, List.of());
        }
        List<Problem> errors = new java.util.ArrayList<>();
        Integer replicas = null;
        String nodes = null;
        for (io.emperor.config.IniEntry entry : fleet.get().entries()) {
            switch (entry.key()) {
                case "replicas" -> {
                    String v = entry.value().strip();
                    if (v.matches("[0-9]{1,4}") && Integer.parseInt(v) >= 1 && Integer.parseInt(v) <= 1000) {
                        replicas = Integer.parseInt(v);
                    } else {
                        errors.add(new Problem(path, entry.line(), "replicas: expected a whole number from 1 to 1000: \""
                                + v + "\""));
                    }
                }
                case "nodes" -> {
                    nodes = entry.value().strip();
                    try {
                        java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + nodes);
                    } catch (RuntimeException ex) {
                        errors.add(new Problem(path, entry.line(), "nodes: not a glob: \"" + nodes + "\""));
                    }
                }
                default -> errors.add(new Problem(path, entry.line(), entry.key()
                        + ": unknown key of [fleet] (known keys: replicas, nodes)"));
            }
        }
        if (replicas == null && errors.isEmpty()) {
            errors.add(new Problem(path, fleet.get().line(), "[fleet] needs replicas = N"));
        }
        return errors.isEmpty() ? Parsed.ok(new Placement(replicas, nodes), List.of()) : Parsed.failed(errors, List.of());
    }

    private static Parsed<VassalSpec> refused(Path path, String message) {
        return Parsed.failed(List.of(new Problem(path, 0, message)), List.of());
    }
}
