package io.emperor.config;

import static io.emperor.config.ProblemLines.lines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MagicTest {
    private static final Path FILE = Path.of("/etc/emperor/vassals/my.app.ini");
    private static final Map<String, String> ENV = Map.of("HOME", "/root", "EMPTY", "", "PCT", "%n");

    @TempDir
    Path dir;

    static Stream<Arguments> expansions() {
        return Stream.of(
                Arguments.of("%n", "my.app"),
                Arguments.of("%s", "my.app.ini"),
                Arguments.of("%e", "ini"),
                Arguments.of("%p", "/etc/emperor/vassals/my.app.ini"),
                Arguments.of("%d", "/etc/emperor/vassals/"),
                Arguments.of("%c", "vassals"),
                Arguments.of("%h", "host1"),
                Arguments.of("%%", "%"),
                Arguments.of("100%%", "100%"),
                Arguments.of("%%n", "%n"),
                Arguments.of("%d%n.sock", "/etc/emperor/vassals/my.app.sock"),
                Arguments.of("$(HOME)/x", "/root/x"),
                Arguments.of("[$(EMPTY)]", "[]"),
                Arguments.of("$(PCT)", "%n"),
                Arguments.of("$HOME $ (x) a$", "$HOME $ (x) a$"),
                Arguments.of("no magic here", "no magic here"),
                Arguments.of("", ""));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("expansions")
    void expands(String value, String expected) {
        assertEquals(expected, expandOk(FILE, "[s]\nk = " + value + "\n", "k"));
    }

    @Test
    void fileWithoutExtension() {
        assertEquals("app||app", expandOk(Path.of("/srv/app"), "[s]\nk = %n|%e|%s\n", "k"));
    }

    @Test
    void fileInTheRootDirectory() {
        assertEquals("/|", expandOk(Path.of("/app.ini"), "[s]\nk = %d|%c\n", "k"));
    }

    @Test
    void symlinkIsDescribedByTheLinkNotItsTarget() throws IOException {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path target = Files.writeString(real.resolve("target.ini"), "[s]\n");
        Path links = Files.createDirectories(dir.resolve("links"));
        Path link = Files.createSymbolicLink(links.resolve("web.ini"), target);
        assertEquals(link + "|" + links + "/|links|web",
                expandOk(link, "[s]\nk = %p|%d|%c|%n\n", "k"));
    }

    @Test
    void keyReferenceTakesTheFirstOccurrence() {
        assertEquals("one", expandOk(FILE, "[s]\na = one\na = two\nk = %(a)\n", "k"));
    }

    @Test
    void aLaterOccurrenceMayReferToTheFirst() {
        IniFile ini = IniReader.parse(FILE, "[s]\nenv = A=1\nenv = B=%(env)\n");
        IniSection section = ini.section("s").orElseThrow();
        Magic magic = magic(FILE, section);
        assertEquals("B=A=1", magic.expand(section.entries().get(1)).value());
    }

    @Test
    void keyReferencesNest() {
        String text = "[s]\nbase = /srv/%n\nlogs = %(base)/log\nk = %(logs)/%(name).log\nname = x%%\n";
        assertEquals("/srv/my.app/log/x%.log", expandOk(FILE, text, "k"));
    }

    @Test
    void referencedTextIsNotScannedAgain() {
        assertEquals("%n", expandOk(FILE, "[s]\na = %%n\nk = %(a)\n", "k"));
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("[s]\nk = a%Yb\n", List.of("F:2: k: unknown magic variable %Y (write %% for a literal %)")),
                Arguments.of("[s]\n\n\nk = 100%\n", List.of("F:4: k: unknown magic variable % (write %% for a literal %)")),
                Arguments.of("[s]\nk = %Y %Z\n", List.of(
                        "F:2: k: unknown magic variable %Y (write %% for a literal %)",
                        "F:2: k: unknown magic variable %Z (write %% for a literal %)")),
                Arguments.of("[s]\nk = %x\n", List.of("F:2: k: unknown magic variable %x (write %% for a literal %)")),
                Arguments.of("[s]\nk = %(nope)\n", List.of("F:2: k: %(nope): no such key")),
                Arguments.of("[s]\nk = %(nope\n", List.of("F:2: k: %( is not closed by )")),
                Arguments.of("[s]\nk = $(UNSET_VAR)/x\n", List.of("F:2: k: $(UNSET_VAR): environment variable is not set")),
                Arguments.of("[s]\nk = $(HOME\n", List.of("F:2: k: $( is not closed by )")),
                Arguments.of("[s]\nk = %(k)\n", List.of("F:2: k: %(k) refers to itself")),
                Arguments.of("[s]\nk = %(a)\na = %(b)\nb = %(k)\n",
                        List.of("F:4: b: %(k) refers to itself (%(k) -> %(a) -> %(b) -> %(k))")),
                Arguments.of("[s]\na = %Q\nk = x%(a)\n", List.of("F:2: a: unknown magic variable %Q (write %% for a literal %)")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void reportsErrorsAtTheLineOfTheBadText(String text, List<String> expected) {
        Path file = Path.of("F");
        IniSection section = IniReader.parse(file, text).section("s").orElseThrow();
        Magic.Expansion expansion = magic(file, section).expand(section.first("k").orElseThrow());
        assertEquals(expected, lines(expansion.errors()));
    }

    @Test
    void exponentialReferencesAreCapped() {
        StringBuilder text = new StringBuilder("[s]\nk0 = 0123456789012345678901234567890123456789\n");
        for (int i = 1; i <= 15; i++) {
            text.append("k").append(i).append(" = %(k").append(i - 1).append(")%(k").append(i - 1).append(")\n");
        }
        IniSection section = IniReader.parse(FILE, text.toString()).section("s").orElseThrow();
        Magic.Expansion expansion = magic(FILE, section).expand(section.first("k15").orElseThrow());
        assertTrue(expansion.errors().stream().anyMatch(p -> p.message().contains("more than 1 MiB of text")),
                expansion.errors().toString());
    }

    /** 5,000 chained keys overflowed the stack of the thread that expanded them (issue 11). */
    @Test
    void referencesNestAtMostSixteenDeep() {
        StringBuilder text = new StringBuilder("[s]\nk0 = x\n");
        for (int i = 1; i <= 5000; i++) {
            text.append("k").append(i).append(" = %(k").append(i - 1).append(")\n");
        }
        IniSection section = IniReader.parse(FILE, text.toString()).section("s").orElseThrow();
        Magic magic = magic(FILE, section);
        Magic.Expansion deep = magic.expand(section.first("k5000").orElseThrow());
        assertEquals(List.of(FILE + ":5002: k5000: %(k4999): references nest more than 16 deep"
                + " (%(k5000) -> %(k4999) -> ... -> %(k4984) at line 4986 -> %(k4983))"), lines(deep.errors()));
        Magic.Expansion sixteen = magic.expand(section.first("k16").orElseThrow());
        assertEquals("x", sixteen.value(), sixteen.errors().toString());
        assertEquals(List.of(), sixteen.errors());
        Magic.Expansion seventeen = new Magic(Magic.Context.of(FILE, "h", ENV, section))
                .expand(section.first("k17").orElseThrow());
        assertEquals(List.of(FILE + ":19: k17: %(k16): references nest more than 16 deep"
                + " (%(k17) -> %(k16) -> ... -> %(k1) at line 3 -> %(k0))"),
                lines(seventeen.errors()));
    }

    /** 7 KB whose values each expand to 1 MiB took 200 MB and more: the budget is for the whole file. */
    @Test
    void allValuesTogetherMakeAtMostOneMebibyte() {
        StringBuilder text = new StringBuilder("[s]\nk0 = 0123456789012345678901234567890123456789\n");
        for (int i = 1; i <= 15; i++) {
            text.append("k").append(i).append(" = %(k").append(i - 1).append(")%(k").append(i - 1).append(")\n");
        }
        for (int i = 0; i < 200; i++) {
            text.append("v").append(i).append(" = %(k15)\n");
        }
        IniSection section = IniReader.parse(FILE, text.toString()).section("s").orElseThrow();
        Magic magic = magic(FILE, section);
        java.util.Set<Problem> errors = new java.util.LinkedHashSet<>();
        long total = 0;
        for (IniEntry e : section.entries()) {
            Magic.Expansion x = magic.expand(e);
            errors.addAll(x.errors());
            total += x.value().length();
        }
        assertTrue(total <= Magic.MAX_TEXT, "total " + total);
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(lines(List.copyOf(errors)).get(0).endsWith("expanding the file's values makes more than 1 MiB of text"
                + " (the limit for all values together, each %(key) counted every time it is used)"), errors.toString());
    }

    private static String expandOk(Path file, String text, String key) {
        IniSection section = IniReader.parse(file, text).section("s").orElseThrow();
        Magic.Expansion expansion = magic(file, section).expand(section.first(key).orElseThrow());
        assertEquals(List.of(), expansion.errors());
        return expansion.value();
    }

    private static Magic magic(Path file, IniSection section) {
        return new Magic(Magic.Context.of(file, "host1", ENV, section));
    }
}
