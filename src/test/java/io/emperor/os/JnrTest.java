package io.emperor.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;

/** The emperor's libc is bound by jnr-ffi's reflection loader: no class generated at run time (docs/performance.md, "Weight"). */
class JnrTest {
    @Test
    void libcIsAProxyOfTheReflectionLoaderAndWorks() {
        LibC c = Native.libc();
        assertTrue(Proxy.isProxyClass(c.getClass()), "a java.lang.reflect.Proxy, not an ASM-generated class: " + c.getClass());
        assertEquals("false", System.getProperty("jnr.ffi.asm.enabled"));
        assertEquals(ProcessHandle.current().pid(), c.getpid());
        int[] fds = new int[2];
        assertEquals(0, c.pipe2(fds, Native.O_CLOEXEC), "an @Out array through the reflection loader");
        assertTrue(fds[0] >= 0 && fds[1] >= 0 && fds[0] != fds[1]);
        assertEquals(0, c.close(fds[0]));
        assertEquals(0, c.close(fds[1]));
        assertEquals(-1, c.close(fds[1]));
        assertEquals(9, Native.errno(), "EBADF saved by @SaveError");
    }
}
