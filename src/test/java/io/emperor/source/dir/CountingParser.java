package io.emperor.source.dir;

import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.VassalFileParser;
import io.emperor.config.VassalSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A parser that fails every file with problem "x" and counts its calls (thread-safe). */
final class CountingParser implements VassalFileParser {
    private final AtomicInteger calls = new AtomicInteger();
    private final Map<Path, Integer> byFile = new ConcurrentHashMap<>();

    @Override
    public Parsed<VassalSpec> parse(Path file, byte[] content) {
        calls.incrementAndGet();
        byFile.merge(file, 1, Integer::sum);
        return Parsed.failed(List.of(new Problem(file, 0, "x")), List.of());
    }

    int calls() {
        return calls.get();
    }

    int calls(Path file) {
        return byFile.getOrDefault(file, 0);
    }
}
