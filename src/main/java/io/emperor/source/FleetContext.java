package io.emperor.source;

import io.emperor.config.FleetSettings;
import io.emperor.config.TenantBudget;
import io.emperor.config.UserDb;
import io.emperor.config.VassalFileParser;
import io.emperor.source.dir.Snapshot;
import io.emperor.source.dir.TyrantRules;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the fleet's source is given (the types are the emperor's, shared by the fleet's class loader).
 *
 * @param settings     the {@code etcd} keys of emperor.ini
 * @param parser       the vassal file parser (the directories' own)
 * @param users        the passwd database: {@code PREFIX/users/USER/} keys run as USER
 * @param tyrant       tyrant mode: only {@code users/} keys run, each as its user
 * @param emperorGroup in tyrant mode, the group a vassal must not run with
 * @param budget       in tyrant mode, what one user's keys and all users' keys may cost (tenant-max-*)
 * @param password     the etcd user's password ({@code etcd-password-file}, read at start), or null
 * @param statuses     the {@code status --json} record of each vassal, by name, for
 *                     {@code PREFIX/status/NODE/NAME}; called on the source's thread, so it must not block
 *                     for long (null: nothing is published)
 * @param sink         receives every snapshot of the fleet's vassals, on the source's thread; must not block
 */
public record FleetContext(FleetSettings settings, VassalFileParser parser, UserDb users, boolean tyrant,
                           TyrantRules.EmperorGroup emperorGroup, TenantBudget budget, String password,
                           Supplier<Map<String, String>> statuses, Consumer<Snapshot> sink) {}
