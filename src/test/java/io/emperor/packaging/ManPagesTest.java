package io.emperor.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** packaging/md2man.py turns docs/emperor.8.md and docs/vassal.ini.5.md into pages man renders. */
class ManPagesTest {
    @TempDir
    Path tmp;

    static String run(Path dir, String... cmd) throws Exception {
        Path out = dir.resolve("out.txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), List.of(cmd) + " finished");
        String text = new String(Files.readAllBytes(out), StandardCharsets.UTF_8); // lenient: groff's bytes
        assertEquals(0, p.exitValue(), List.of(cmd) + ": " + text);
        return text;
    }

    @Test
    void bothPagesConvertAndRender() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "md2man.py needs /usr/bin/python3");
        for (String page : List.of("emperor.8", "vassal.ini.5")) {
            Path roff = tmp.resolve(page);
            run(tmp, "/usr/bin/python3", "packaging/md2man.py", "docs/" + page + ".md", roff.toString(), "test");
            String text = Files.readString(roff);
            assertTrue(text.startsWith("'\\\" t\n.TH \"" + page.substring(0, page.lastIndexOf('.')).toUpperCase()), text);
            assertTrue(text.contains(".SH \"NAME\"") && text.contains(".SH \"SEE ALSO\""), "sections kept");
            if (!Files.isExecutable(Path.of("/usr/bin/groff"))) {
                System.out.println("ManPagesTest: rendering skipped: /usr/bin/groff is not installed");
                continue;
            }
            // -Kutf8: the input is UTF-8 (man-db does the same); only layout warnings may remain.
            String rendered = run(tmp, "/usr/bin/groff", "-Kutf8", "-t", "-man", "-Tutf8", "-P-c", "-P-b", "-P-u", roff.toString());
            assertTrue(rendered.contains("NAME") && rendered.contains("SYNOPSIS"), rendered);
            assertTrue(rendered.lines().noneMatch(l -> l.matches("\\s*\\.(TS|TE|IP|RS|RE|PP|nf|fi)\\b.*")),
                    "no request leaks into the text");
            for (String markup : List.of("\\fB", "\\fI", "\\fR", "**", "](")) {
                assertTrue(!rendered.contains(markup), markup + " leaks into the text");
            }
        }
    }

    /** The stderr of a command that must succeed (its stdout is dropped). */
    static String stderrOf(Path dir, java.util.Map<String, String> env, String... cmd) throws Exception {
        Path err = dir.resolve("err.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), List.of(cmd) + " finished");
        String text = new String(Files.readAllBytes(err), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), List.of(cmd) + ": " + text);
        return text;
    }

    /**
     * {@code man emperor 2>&1 >/dev/null} prints nothing: no troff warning (non-ASCII input, a
     * line that cannot be adjusted or broken in a table), at 80 columns and wider; the SYNOPSIS
     * is the command {@code emperor}, not {@code java -jar}.
     */
    @Test
    void thePagesRenderWithoutAnyTroffWarning() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "md2man.py needs /usr/bin/python3");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/groff")), "needs groff (apt-get install groff-base)");
        for (String page : List.of("emperor.8", "vassal.ini.5")) {
            Path roff = tmp.resolve(page);
            run(tmp, "/usr/bin/python3", "packaging/md2man.py", "docs/" + page + ".md", roff.toString(), "test");
            assertEquals("", stderrOf(tmp, java.util.Map.of(), "/usr/bin/groff", "-ww", "-z", "-t", "-man", roff.toString()),
                    "groff -ww -z -t -man " + page + " warns");
            if (Files.isExecutable(Path.of("/usr/bin/man"))) {
                for (String width : List.of("80", "100", "132")) {
                    assertEquals("", stderrOf(tmp, java.util.Map.of("MANWIDTH", width), "/usr/bin/man", "-l", roff.toString()),
                            "man -l " + page + " at " + width + " columns warns");
                }
            } else {
                System.out.println("ManPagesTest: man -l skipped: /usr/bin/man is not installed");
            }
        }
        String synopsis = Files.readString(Path.of("docs/emperor.8.md"));
        synopsis = synopsis.substring(synopsis.indexOf("## SYNOPSIS"), synopsis.indexOf("## DESCRIPTION"));
        assertTrue(synopsis.contains("\nemperor run [--config FILE]"), synopsis);
        assertTrue(!synopsis.contains("java -jar emperor.jar"), "the SYNOPSIS is the command emperor: " + synopsis);
    }
}
