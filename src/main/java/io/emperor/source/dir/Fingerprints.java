package io.emperor.source.dir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Reads the {@link Fingerprint} of a vassal file: one {@code stat} (or {@code lstat}). */
public final class Fingerprints {
    /*
     * The attributes named one by one: "unix:*" would also build the posix owner and group,
     * which costs a getpwuid and a getgrgid (NSS, maybe LDAP) per file per scan.
     */
    private static final String ATTRIBUTES = "unix:size,lastModifiedTime,ctime,ino,dev,uid,gid,mode";
    private static final int S_IFMT = 0170000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFDIR = 0040000;

    private Fingerprints() {}

    /**
     * The fingerprint of {@code file}, or empty when it is not a vassal file: it does not exist
     * (vanished, or a dangling symlink), or it is a directory (named {@code x.ini}). Anything else
     * that exists (a FIFO, a device, a socket, or a symlink to one) has a fingerprint: it is a
     * vassal file that the scanner refuses, with a reason, when it opens it ({@code OpenedFile}).
     *
     * @param followLinks true: a symlink is judged by its target ({@code stat}); false
     *                    ({@code nofollow}): by the link itself ({@code lstat}), which still
     *                    counts only when it leads to a regular file
     * @throws IOException any other failure to stat the file (permission denied, a symlink
     *                     loop): the caller decides, since "absent" would stop a vassal
     */
    public static Optional<Fingerprint> of(Path file, boolean followLinks) throws IOException {
        Map<String, Object> attributes;
        try {
            attributes = followLinks
                    ? Files.readAttributes(file, ATTRIBUTES)
                    : Files.readAttributes(file, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        int mode = (Integer) attributes.get("mode");
        int type = mode & S_IFMT;
        boolean vassal = type == S_IFLNK ? Files.exists(file) && !Files.isDirectory(file) : type != S_IFDIR;
        if (!vassal) {
            return Optional.empty();
        }
        return Optional.of(fingerprint(attributes));
    }

    /**
     * Both ends of a vassal file, for tyrant mode, which must know who owns a symlink and who owns
     * what it leads to.
     *
     * @param link   the symlink itself ({@code lstat}), or null when the path is not a symlink
     * @param target the regular file that is read: the path itself, or where the symlink leads ({@code stat})
     */
    public record Ends(Fingerprint link, Fingerprint target) {}

    /**
     * The {@link Ends} of {@code file}: one {@code lstat}, and a {@code stat} more for a symlink;
     * empty when it is not a vassal file (as {@link #of}).
     *
     * @throws IOException as {@link #of}
     */
    public static Optional<Ends> ends(Path file) throws IOException {
        Map<String, Object> attributes;
        try {
            attributes = Files.readAttributes(file, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        int type = (Integer) attributes.get("mode") & S_IFMT;
        if (type == S_IFDIR) {
            return Optional.empty();
        }
        if (type != S_IFLNK) {
            return Optional.of(new Ends(null, fingerprint(attributes)));
        }
        Fingerprint link = fingerprint(attributes);
        return of(file, true).map(target -> new Ends(link, target));
    }

    private static Fingerprint fingerprint(Map<String, Object> attributes) {
        return new Fingerprint(
                (Long) attributes.get("size"),
                nanos(attributes.get("lastModifiedTime")),
                nanos(attributes.get("ctime")),
                (Long) attributes.get("ino"),
                (Long) attributes.get("dev"),
                (Integer) attributes.get("uid"),
                (Integer) attributes.get("gid"),
                (Integer) attributes.get("mode"));
    }

    private static long nanos(Object fileTime) {
        return ((FileTime) fileTime).to(TimeUnit.NANOSECONDS);
    }
}
