package io.emperor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The core reads in one direction (source → loop → lifecycle → os; config below them all): no class
 * of {@code config} uses one of {@code vassal} (issue 16 §5: {@code Policy.DEFAULT_REQUIRED_HEARTBEAT}
 * was such a back edge). Comments may name a class anywhere.
 */
class LayersTest {
    private static final Pattern USE_OF_VASSAL = Pattern.compile("\\bio\\.emperor\\.vassal\\.[A-Z]");

    @Test
    void configUsesNothingOfVassal() throws IOException {
        List<String> uses = uses("config", USE_OF_VASSAL);
        assertEquals(List.of(), uses, "config must not use vassal: move what both need into config");
    }

    /** What control/ may not do with the loop: post work to it, or reach into its state (issue 16 §3). */
    private static final Pattern LOOP_INTERNALS = Pattern.compile(
            "\\bLoopEvent\\b|\\bloop\\.(vassal|vassals|file|tally|command|await|scans|policy|post)\\(");

    /**
     * The control wing asks the loop typed queries ({@code LoopQuery}) and gets plain data back: no
     * class of {@code control} posts a closure to the loop or reads its state (was: {@code LoopEvent.Task}
     * closures calling {@code loop.vassal}, {@code loop.command}, {@code loop.await}).
     */
    @Test
    void controlOnlyAsksTheLoopTypedQueries() throws IOException {
        List<String> uses = uses("control", LOOP_INTERNALS);
        assertEquals(List.of(), uses, "control asks the loop with LoopQuery (EmperorLoop#ask), nothing else");
    }

    /** The lines of code (not comments) of {@code src/main/java/io/emperor/PKG} that match, as {@code File.java:LINE: code}. */
    private static List<String> uses(String pkg, Pattern pattern) throws IOException {
        List<String> uses = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("src/main/java/io/emperor", pkg))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    String code = lines.get(i).strip();
                    if (code.startsWith("*") || code.startsWith("/*") || code.startsWith("//")) {
                        continue;
                    }
                    if (pattern.matcher(code).find()) {
                        uses.add(f.getFileName() + ":" + (i + 1) + ": " + code);
                    }
                }
            }
        }
        return uses;
    }
}
