package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emperor.systemd.NotifyingHost;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A host that wraps another must pass on every call, the defaulted ones too: a decorator that
 * inherits a default no-op swallows the call for everything inside it (TrimmingHost once dropped
 * every {@code vassalLine}, so {@code emperor logs NAME} lost the emperor's lines).
 */
class HostDecoratorsTest {
    @Test
    void everyDecoratorDeclaresEveryMethodOfHost() {
        for (Class<?> decorator : List.of(TrimmingHost.class, NotifyingHost.class)) {
            List<String> missing = new ArrayList<>();
            for (Method m : EmperorLoop.Host.class.getMethods()) {
                try {
                    decorator.getDeclaredMethod(m.getName(), m.getParameterTypes());
                } catch (NoSuchMethodException e) {
                    missing.add(m.getName());
                }
            }
            assertEquals(List.of(), missing, decorator.getSimpleName() + " does not pass these on");
        }
    }
}
