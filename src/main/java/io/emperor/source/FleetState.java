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
 * @param lists         how many full lists of the prefix were taken (the first, then each list again)
 * @param relisted      why the last list after the first was taken ({@code asked}, {@code periodic},
 *                      {@code reachable again}, {@code another member or term}, {@code missed changes},
 *                      {@code watch ended: REASON}); null before one
 */
public record FleetState(String node, String prefix, boolean reachable, long sinceMillis, String reason,
                         long revision, int vassals, long lists, String relisted) {}
