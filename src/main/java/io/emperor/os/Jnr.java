package io.emperor.os;

import jnr.ffi.LibraryLoader;

/**
 * Every jnr-ffi binding of the emperor is loaded here, by jnr-ffi's reflection loader: no class is
 * generated at run time (docs/performance.md, "Weight"). jnr-ffi's default loader generates each
 * interface's class with ASM and its calls with an x86 assembler: about 60 classes of class-file
 * version 49, which the JVM verifies with its old verifier and no CDS archive can hold, and the
 * generated classes themselves, which no archive can hold either. That was a third of
 * {@code emperor run}'s start; a call through the reflection loader costs a microsecond or two
 * more, which no path of the emperor notices (a few calls per spawn, one {@code read} per 64 KiB of
 * output). The property is jnr-ffi's own and global (jnr-unixsocket's bindings follow it too); it
 * is read once, when jnr-ffi first loads a library, so it is set before that, here and in
 * {@code Main}, and a value given on the command line wins.
 */
public final class Jnr {
    static final String ASM_PROPERTY = "jnr.ffi.asm.enabled";

    static {
        useReflection();
    }

    private Jnr() {}

    /** Sets jnr-ffi's property (unless given on the command line); call before any jnr-ffi use. */
    public static void useReflection() {
        if (System.getProperty(ASM_PROPERTY) == null) {
            System.setProperty(ASM_PROPERTY, "false");
        }
    }

    /** The functions of {@code type} in {@code library} ("c", or a path). */
    public static <T> T load(Class<T> type, String library) {
        return LibraryLoader.create(type).load(library);
    }
}
