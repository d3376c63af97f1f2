package io.emperor.source.dir;

/**
 * What identifies one version of a vassal file. Any difference means "changed" (DESIGN §3): a
 * touch changes mtime, a chown changes uid/gid and ctime, a rename-over changes the inode.
 * Never "mtime is newer".
 */
public record Fingerprint(long size, long mtimeNanos, long ctimeNanos, long inode, long device,
                          int uid, int gid, int mode) {}
