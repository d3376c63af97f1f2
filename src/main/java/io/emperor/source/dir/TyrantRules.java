package io.emperor.source.dir;

import io.emperor.config.Account;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.UserDb;
import io.emperor.config.VassalSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Tyrant mode's verdict on one version of a vassal file (DESIGN §5, docs/tyrant.md). Pure: the
 * scanner hands in what it stat'ed; the only lookup is the passwd name of the owner.
 *
 * <p>The vassal runs as the owner of its file: the uid is the file's owner, the gid the file's
 * group (not the owner's passwd gid: {@code chgrp} chooses it), and the user, for initgroups, is
 * the passwd name of that uid when there is one. Whose file that is:
 * <ul>
 *   <li>a regular file: its own;</li>
 *   <li>a symlink that is followed: the file it points to, and the link must have the same owner
 *       (else anyone who may create a link in the directory could run another user's file as that
 *       user);</li>
 *   <li>a symlink with {@code nofollow}: the link itself; the file it points to must then be the
 *       link owner's or readable by everyone (else the link's owner would get, through the vassal,
 *       the content of a file it may not read).</li>
 * </ul>
 * Refused, each with what to do about it: an owner uid 0, a group gid 0, the emperor's own group
 * (see {@link EmperorGroup}), a world-writable file
 * (the one whose content is read), a file with more than one hard link (someone else's file
 * linked into the directory would change what {@code %d} and the default {@code chdir} mean; with
 * {@code nofollow}, the link's own count too), the symlink cases above. A group-writable file
 * gets a warning. The scanner asks for {@link #refusals} before it reads the file (a refused file
 * is never read), and {@link #judge}s what it parsed.
 * A refusal is an error of the whole file (line 0), printed {@code FILE: message}; the parse's own
 * errors follow it.
 */
public final class TyrantRules {
    private static final int WORLD_WRITABLE = 0002;
    private static final int WORLD_READABLE = 0004;
    private static final int GROUP_WRITABLE = 0020;

    private TyrantRules() {}

    /**
     * What tyrant mode looks at in one vassal file.
     *
     * @param path        the vassal file (for a symlink, the link's path)
     * @param link        the symlink itself ({@code lstat}), or null when the path is not a symlink
     * @param target      the regular file that is read: the path itself, or where the symlink leads
     * @param followLinks false with {@code nofollow}: a symlink's owner is the link's
     * @param hardLinks   the highest {@code st_nlink} of what is judged: the file read (its
     *                    {@code fstat}), and with {@code nofollow} the symlink itself
     */
    public record Subject(Path path, Fingerprint link, Fingerprint target, boolean followLinks, long hardLinks) {
        /** One hard link. */
        public Subject(Path path, Fingerprint link, Fingerprint target, boolean followLinks) {
            this(path, link, target, followLinks, 1);
        }

        /** The fingerprint whose owner the vassal runs as. */
        Fingerprint owner() {
            return link != null && !followLinks ? link : target;
        }
    }

    /**
     * The emperor's group: its members, and any process whose gid it is, may control every vassal
     * on the control socket (docs/control.md) and read the stats socket. A vassal runs with the
     * group of its file, so a file with that group (made in a setgid directory of that group, or
     * {@code chgrp}ed by a member) would give its vassal those rights: it is refused.
     *
     * @param gid  the emperor's gid; {@link #NONE} when no group is to be checked
     * @param name its group name, for the message
     */
    public record EmperorGroup(int gid, String name) {
        public static final EmperorGroup NONE = new EmperorGroup(-1, null);
    }

    /** Without a check of the emperor's group ({@link EmperorGroup#NONE}). */
    public static Parsed<VassalSpec> judge(Parsed<VassalSpec> parsed, Subject file, UserDb users) {
        return judge(parsed, file, users, EmperorGroup.NONE);
    }

    /**
     * @param parsed what the parser made of the file's content
     * @return the spec run as the file's owner, or the refusal (the parse's errors included)
     */
    public static Parsed<VassalSpec> judge(Parsed<VassalSpec> parsed, Subject file, UserDb users,
                                           EmperorGroup emperor) {
        List<String> refusals = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        verdict(file, users, emperor, refusals, warnings);
        List<Problem> errors = new ArrayList<>();
        refusals.forEach(m -> errors.add(new Problem(file.path(), 0, m)));
        errors.addAll(parsed.errors());
        List<Problem> allWarnings = new ArrayList<>();
        warnings.forEach(m -> allWarnings.add(new Problem(file.path(), 0, m)));
        allWarnings.addAll(parsed.warnings());
        if (!errors.isEmpty()) {
            return Parsed.failed(errors, allWarnings);
        }
        Fingerprint owner = file.owner();
        Optional<Account> account = users.userById(owner.uid());
        return Parsed.ok(parsed.value().withIdentity(account.map(Account::name).orElse(null),
                account.map(Account::home).orElse(null), account.map(Account::shell).orElse(null), owner.uid(),
                owner.gid()), allWarnings);
    }

    /** What refuses the file, before it is read (each a problem of the whole file, line 0); empty when it may run. */
    public static List<Problem> refusals(Subject file, UserDb users, EmperorGroup emperor) {
        List<String> refusals = new ArrayList<>();
        verdict(file, users, emperor, refusals, new ArrayList<>());
        return refusals.stream().map(m -> new Problem(file.path(), 0, m)).toList();
    }

    private static void verdict(Subject file, UserDb users, EmperorGroup emperor, List<String> refusals, List<String> warnings) {
        Fingerprint link = file.link();
        Fingerprint target = file.target();
        if (link == null) {
            notRoot(target, "owned by root (uid 0): chown it to the user that should run it",
                    "group is root (gid 0): chgrp it to the user's group", refusals);
        } else if (file.followLinks() && link.uid() != target.uid()) {
            refusals.add("symlink owned by " + who(link.uid(), users) + " points to a file owned by "
                    + who(target.uid(), users) + ": the link and its target must have the same owner");
        } else if (file.followLinks()) {
            notRoot(target, "the symlink and the file it points to are owned by root (uid 0): chown them "
                            + "(chown -h for the link) to the user that should run it",
                    "the file it points to has group root (gid 0): chgrp it to the user's group", refusals);
        } else {
            notRoot(link, "symlink owned by root (uid 0): chown -h it to the user that should run it",
                    "symlink's group is root (gid 0): chgrp -h it to the user's group", refusals);
            if (target.uid() != link.uid() && (target.mode() & WORLD_READABLE) == 0) {
                refusals.add("symlink owned by " + who(link.uid(), users) + " points to a file owned by "
                        + who(target.uid(), users) + " that others may not read (mode " + mode(target)
                        + "): the vassal would run with content its owner cannot read; link only to your own"
                        + " files or to world-readable ones");
            }
        }
        emperorGroup(file, emperor, refusals);
        String what = link == null ? "" : "the file it points to is ";
        if ((target.mode() & WORLD_WRITABLE) != 0) {
            refusals.add(what + "world-writable (mode " + mode(target)
                    + "): anyone could make it run code as its owner; chmod o-w it");
        } else if ((target.mode() & GROUP_WRITABLE) != 0) {
            warnings.add(what + "group-writable (mode " + mode(target) + "): members of group gid " + target.gid()
                    + " could make it run code as its owner; chmod g-w it unless they should");
        }
        if (file.hardLinks() > 1) {
            refusals.add("has " + file.hardLinks() + " hard links: a file linked in from elsewhere would run with this"
                    + " directory as %d and its working directory; copy it instead of linking it (cp, not ln)");
        }
    }

    /** The gid the vassal would run with is the emperor's (gid 0 has its own refusal). */
    private static void emperorGroup(Subject file, EmperorGroup emperor, List<String> refusals) {
        int gid = file.owner().gid();
        if (emperor.gid() <= 0 || gid != emperor.gid()) {
            return;
        }
        String whose = file.link() != null && !file.followLinks() ? "symlink's group" : "group";
        String chgrp = file.link() != null && !file.followLinks() ? "chgrp -h" : "chgrp";
        refusals.add(whose + " is the emperor's group " + (emperor.name() == null ? "" : emperor.name() + " ")
                + "(gid " + gid + "), which may control every vassal: " + chgrp + " it to the user's own group"
                + " (a setgid directory of that group gives it to every new file: chmod g-s the directory)");
    }

    private static void notRoot(Fingerprint f, String rootUid, String rootGid, List<String> refusals) {
        if (f.uid() == 0) {
            refusals.add(rootUid);
        }
        if (f.gid() == 0) {
            refusals.add(rootGid);
        }
    }

    /** {@code root (uid 0)}, {@code alice (uid 1000)}, or {@code uid 12345} without a passwd entry. */
    static String who(int uid, UserDb users) {
        if (uid == 0) {
            return "root (uid 0)";
        }
        return users.userById(uid).map(a -> a.name() + " (uid " + uid + ")").orElse("uid " + uid);
    }

    /** The permission bits as {@code 0644}. */
    private static String mode(Fingerprint f) {
        return String.format("%04o", f.mode() & 07777);
    }
}
