package io.emperor.source;

/**
 * What {@code status} says of the fleet.
 *
 * @param node          this emperor's node name
 * @param prefix        the etcd prefix
 * @param reachable     whether etcd answered the last request
 * @param sinceMillis   since when (epoch milliseconds) it has (not) answered; 0 before the first answer or failure
 * @param reason        why not, when not reachable; else null
 * @param revision      the etcd revision of the definitions the emperor acts on (0 before the first list)
 * @param vassals       how many vassal keys of this node's view it holds
 */
public record FleetState(String node, String prefix, boolean reachable, long sinceMillis, String reason,
                         long revision, int vassals) {}
