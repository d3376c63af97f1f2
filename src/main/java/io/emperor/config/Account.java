package io.emperor.config;

/** A passwd entry: what {@code uid = NAME} resolves to, and what initgroups needs. */
public record Account(String name, int uid, int gid, String home) {}
