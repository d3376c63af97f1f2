package io.emperor.control;

/** Who is asking: the SO_PEERCRED of the connection, as the kernel recorded it at connect time. */
public record Peer(long pid, int uid, int gid) {}
