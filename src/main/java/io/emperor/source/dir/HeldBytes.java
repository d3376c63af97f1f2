package io.emperor.source.dir;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * An estimate from above of the heap a parsed vassal file holds (its spec, its problems), for
 * {@link io.emperor.config.TenantBudget}: every string at 1 byte a char when all its chars are
 * Latin-1 (the JVM's compact strings), else 2, plus its header; a path at 3 bytes a char (its
 * bytes and its cached string); each element, entry and record component a reference and a
 * header. It walks records, collections,
 * maps and optionals whatever their fields, so a key added to a spec is counted without being
 * named here. Pure.
 */
final class HeldBytes {
    private static final int MAX_DEPTH = 32;

    private HeldBytes() {}

    static long of(Object o) {
        return of(o, 0);
    }

    private static long of(Object o, int depth) {
        if (o == null) {
            return 0;
        }
        if (depth > MAX_DEPTH) {
            return 1024;
        }
        if (o instanceof String s) {
            return 48 + (latin1(s) ? 1L : 2L) * s.length();
        }
        if (o instanceof Path p) {
            return 96 + 3L * p.toString().length();
        }
        if (o instanceof Collection<?> c) {
            long n = 48 + 16L * c.size();
            for (Object e : c) {
                n += of(e, depth + 1);
            }
            return n;
        }
        if (o instanceof Map<?, ?> m) {
            long n = 64 + 48L * m.size();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                n += of(e.getKey(), depth + 1) + of(e.getValue(), depth + 1);
            }
            return n;
        }
        if (o instanceof Optional<?> opt) {
            return 16 + of(opt.orElse(null), depth + 1);
        }
        if (o instanceof Enum<?> || o instanceof Boolean) {
            return 0; // shared constants
        }
        if (o instanceof Record r) {
            long n = 16;
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                n += 8 + of(component(r, c), depth + 1);
            }
            return n;
        }
        if (o instanceof byte[] b) {
            return 16 + b.length;
        }
        if (o instanceof int[] a) {
            return 16 + 4L * a.length;
        }
        return 64; // a number, a duration, an instant …
    }

    private static boolean latin1(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0xFF) {
                return false;
            }
        }
        return true;
    }

    private static Object component(Record r, RecordComponent c) {
        try {
            var accessor = c.getAccessor();
            accessor.setAccessible(true);
            return accessor.invoke(r);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
