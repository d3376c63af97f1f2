package io.emperor.control;

import java.util.function.IntPredicate;

/**
 * Who may do what on the control socket (docs/control.md). The group database is a predicate
 * handed in, read only by {@link #resolve} (once per connection, on the control thread); what it
 * makes of a peer, a {@link Caller}, is plain data.
 *
 * <ul>
 *   <li>root, the emperor's own uid, and members of the emperor's group (primary or
 *       supplementary) may see and act on every vassal;</li>
 *   <li>in tyrant mode, any other user sees and acts on the vassals whose files they own, and
 *       nothing else: another user's vassal is "no such vassal" to them, so names do not leak;</li>
 *   <li>otherwise everyone else is refused.</li>
 * </ul>
 */
public final class Rights {
    /** What a peer may reach. */
    public enum Scope { ALL, OWN, NONE }

    private final boolean tyrant;
    private final int emperorUid;
    private final int emperorGid;
    private final String groupName;
    private final IntPredicate inEmperorGroup;

    /**
     * @param groupName      the emperor's group name, for messages
     * @param inEmperorGroup whether a uid is a member of the emperor's group (group database)
     */
    public Rights(boolean tyrant, int emperorUid, int emperorGid, String groupName, IntPredicate inEmperorGroup) {
        this.tyrant = tyrant;
        this.emperorUid = emperorUid;
        this.emperorGid = emperorGid;
        this.groupName = groupName;
        this.inEmperorGroup = inEmperorGroup;
    }

    /** What {@code peer} may reach: reads the group database (the control thread, once per connection). */
    public Caller resolve(Peer peer) {
        return new Caller(peer, scope(peer));
    }

    public Scope scope(Peer peer) {
        if (peer.uid() == 0 || peer.uid() == emperorUid || peer.gid() == emperorGid
                || inEmperorGroup.test(peer.uid())) {
            return Scope.ALL;
        }
        return tyrant ? Scope.OWN : Scope.NONE;
    }

    /** Whether {@code peer} may see and act on a vassal whose file {@code owner} owns. */
    public boolean mayReach(Peer peer, int owner) {
        return resolve(peer).mayReach(owner);
    }

    /**
     * The group whose gid alone gives every right, for tyrant mode's refusal of vassal files with
     * that group ({@link io.emperor.source.dir.TyrantRules}): a vassal running with it could control
     * every other vassal.
     */
    public io.emperor.source.dir.TyrantRules.EmperorGroup emperorGroup() {
        return new io.emperor.source.dir.TyrantRules.EmperorGroup(emperorGid, groupName);
    }

    /** The refusal for a caller with {@link Scope#NONE}. */
    public String refusal(Caller caller) {
        return refusal(caller.peer());
    }

    /** The refusal for a peer with {@link Scope#NONE}. */
    public String refusal(Peer peer) {
        return "permission denied: uid " + peer.uid() + " is not root and not in the emperor's group "
                + groupName + " (gid " + emperorGid + ")";
    }
}
