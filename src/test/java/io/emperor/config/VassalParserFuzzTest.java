package io.emperor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.emperor.testing.VassalFuzz;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The parser on many thousands of generated malformed files, in process (issue 11): nothing is
 * thrown, the result is a spec or problems naming the file, and no file yields more than the
 * bounded number of problems. Seeded: {@code -Demperor.fuzz.seed=N} replays a failure (the seed is
 * printed).
 */
class VassalParserFuzzTest {
    private static final int CASES = 4000;

    @Test
    void noThrowableEscapesAndEveryProblemNamesTheFile() {
        long seed = Long.getLong("emperor.fuzz.seed", System.nanoTime());
        System.out.println("VassalParserFuzzTest seed " + seed + " (replay: -Demperor.fuzz.seed=" + seed + ")");
        VassalFuzz fuzz = new VassalFuzz(seed, "/bin/sh -c 'exec sleep 3600' marker", "/tmp/fuzz-logs");
        Map<String, String> env = Map.of("HOME", "/root", "PATH", "/usr/bin:/bin");
        VassalParser plain = new VassalParser(FakeUserDb.standard(), "host1", env, false);
        VassalParser tyrant = new VassalParser(FakeUserDb.standard(), "host1", env, true);
        int ok = 0;
        for (int i = 0; i < CASES; i++) {
            VassalFuzz.Case c = fuzz.next();
            Path file = Path.of("/fuzz/f" + i + ".ini");
            for (VassalParser parser : new VassalParser[] {plain, tyrant}) {
                Parsed<VassalSpec> parsed;
                try {
                    parsed = parser.parse(file, c.content());
                } catch (Throwable t) {
                    throw new AssertionError("seed " + seed + " case " + i + " (" + c.how() + ") threw", t);
                }
                String what = "seed " + seed + " case " + i + " (" + c.how() + "): " + parsed.errors();
                assertEquals(parsed.isOk(), parsed.value() != null, what);
                assertTrue(parsed.errors().size() <= Problems.MAX_REPORTED + 1, what);
                assertTrue(parsed.warnings().size() <= Problems.MAX_REPORTED + 1, what);
                for (Problem p : parsed.errors()) {
                    if (!p.toString().startsWith(file + ":") || p.message().isBlank()) {
                        fail("a problem that does not name the file, or says nothing: " + p + "\n" + what);
                    }
                }
                if (parsed.isOk() && parser == plain) {
                    ok++;
                }
            }
        }
        System.out.println("VassalParserFuzzTest: " + ok + " of " + CASES + " files parse");
        assertTrue(ok > 0 && ok < CASES, "the generator makes both good and bad files: " + ok);
    }
}
