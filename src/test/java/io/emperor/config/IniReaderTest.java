package io.emperor.config;

import static io.emperor.config.ProblemLines.lines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class IniReaderTest {
    private static final Path FILE = Path.of("/etc/emperor/vassals/app.ini");

    @TempDir
    Path dir;

    /** One section's entries as "key=value@line" strings. */
    static Stream<Arguments> entries() {
        return Stream.of(
                Arguments.of("repeated keys kept in order", "[s]\nenv = A=1\nenv = B=2\nx=y\nenv = C=3",
                        List.of("env=A=1@2", "env=B=2@3", "x=y@4", "env=C=3@5")),
                Arguments.of("= inside a value", "[s]\nk = a=b = c", List.of("k=a=b = c@2")),
                Arguments.of("no inline comments", "[s]\nsocket = :3031 ; x\nk = v # not a comment",
                        List.of("socket=:3031 ; x@2", "k=v # not a comment@3")),
                Arguments.of("key without =", "[s]\nmaster\n  lazy-apps  ", List.of("master=@2", "lazy-apps=@3")),
                Arguments.of("key with = and no value", "[s]\nk =", List.of("k=@2")),
                Arguments.of("comment lines", "[s]\n; a = 1\n# b = 2\n   ; c\n\t# d\nk=v", List.of("k=v@6")),
                Arguments.of("CRLF endings", "[s]\r\na = 1\r\nb\r\n\r\nc = x \r\n", List.of("a=1@2", "b=@3", "c=x@5")),
                Arguments.of("spaces and tabs trimmed", "  [ s ]  \n\t a \t=\t b \t", List.of("a=b@2")),
                Arguments.of("quotes kept literally", "[s]\nk = \"a b\" 'c'", List.of("k=\"a b\" 'c'@2")),
                Arguments.of("blank lines skipped", "\n\n[s]\n\n\nk=v\n\n", List.of("k=v@6")),
                Arguments.of("no trailing newline", "[s]\nk=v", List.of("k=v@2")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void readsEntries(String what, String text, List<String> expected) {
        IniFile ini = IniReader.parse(FILE, text);
        assertEquals(List.of(), ini.errors());
        assertEquals(List.of(), ini.warnings());
        assertEquals(1, ini.sections().size());
        assertEquals("s", ini.sections().get(0).name());
        assertEquals(expected, ini.sections().get(0).entries().stream()
                .map(e -> e.key() + "=" + e.value() + "@" + e.line()).toList());
    }

    @Test
    void mergesRepeatedSectionsInOrder() {
        IniFile ini = IniReader.parse(FILE, "[a]\nk = 1\n[b]\nx = y\n[a]\nk = 2\nj = 3\n");
        assertEquals(List.of("a", "b"), ini.sections().stream().map(IniSection::name).toList());
        IniSection a = ini.section("a").orElseThrow();
        assertEquals(1, a.line());
        assertEquals(List.of("1", "2"), a.all("k").stream().map(IniEntry::value).toList());
        assertEquals("1", a.first("k").orElseThrow().value());
        assertEquals(List.of(2, 6, 7), a.entries().stream().map(IniEntry::line).toList());
    }

    @Test
    void sectionNamesAreCaseSensitive() {
        IniFile ini = IniReader.parse(FILE, "[Vassal]\nk=v\n");
        assertTrue(ini.section("vassal").isEmpty());
        assertTrue(ini.section("Vassal").isPresent());
    }

    static Stream<Arguments> syntaxErrors() {
        return Stream.of(
                Arguments.of("[vassal\nexec = x", "/etc/emperor/vassals/app.ini:1: section header must end with ]"),
                Arguments.of("[vassal] ; note", "/etc/emperor/vassals/app.ini:1: section header must end with ]"),
                Arguments.of("[]", "/etc/emperor/vassals/app.ini:1: section name is empty"),
                Arguments.of("[s]\n\n = x", "/etc/emperor/vassals/app.ini:3: missing key before ="));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("syntaxErrors")
    void reportsSyntaxErrorsWithLine(String text, String expected) {
        IniFile ini = IniReader.parse(FILE, text);
        assertEquals(List.of(expected), lines(ini.errors()));
    }

    @Test
    void headerWithoutBracketStillOpensTheSectionSoLaterLinesAreChecked() {
        IniFile ini = IniReader.parse(FILE, "[vassal\nexec = x\n");
        assertEquals("x", ini.section("vassal").orElseThrow().first("exec").orElseThrow().value());
    }

    @Test
    void warnsAboutLinesOutsideAnySection() {
        IniFile ini = IniReader.parse(FILE, "; comment\nk = v\n= x\n[s]\nj = w\n");
        assertEquals(List.of(), ini.errors());
        assertEquals(List.of(
                "/etc/emperor/vassals/app.ini:2: line outside any section is ignored",
                "/etc/emperor/vassals/app.ini:3: line outside any section is ignored"),
                lines(ini.warnings()));
        assertEquals(1, ini.section("s").orElseThrow().entries().size());
    }

    @Test
    void readsAFile() throws IOException {
        Path file = write("app.ini", "[uwsgi]\r\nsocket = :3031\r\n");
        IniFile ini = IniReader.read(file);
        assertEquals(List.of(), ini.errors());
        assertEquals(":3031", ini.section("uwsgi").orElseThrow().first("socket").orElseThrow().value());
    }

    @Test
    void emptyFileHasNoSectionsAndNoProblems() throws IOException {
        IniFile ini = IniReader.read(write("empty.ini", ""));
        assertEquals(List.of(), ini.sections());
        assertEquals(List.of(), ini.errors());
        assertTrue(!ini.unreadable());
    }

    @Test
    void rejectsNulByteNamingItsLine() throws IOException {
        Path file = dir.resolve("nul.ini");
        Files.write(file, "[s]\nk = v\nx = a\0b\n".getBytes(StandardCharsets.UTF_8));
        assertOnlyError(file, file + ":3: contains a NUL byte");
    }

    @Test
    void rejectsInvalidUtf8NamingItsLine() throws IOException {
        Path file = dir.resolve("latin1.ini");
        Files.write(file, "[s]\nname = caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        assertOnlyError(file, file + ":2: not valid UTF-8 text");
    }

    @Test
    void rejectsTruncatedUtf8AtTheEnd() throws IOException {
        Path file = dir.resolve("cut.ini");
        byte[] euro = "[s]\nk = \u20ac".getBytes(StandardCharsets.UTF_8);
        Files.write(file, Arrays.copyOf(euro, euro.length - 1));
        assertOnlyError(file, file + ":2: not valid UTF-8 text");
    }

    @Test
    void acceptsUtf8() throws IOException {
        Path file = write("utf8.ini", "[s]\nk = caf\u00e9 \u20ac \uD83D\uDE00\n");
        assertEquals("caf\u00e9 \u20ac \uD83D\uDE00", IniReader.read(file).section("s").orElseThrow()
                .first("k").orElseThrow().value());
    }

    @Test
    void rejectsGarbage() throws IOException {
        byte[] bytes = new byte[4096];
        new Random(42).nextBytes(bytes);
        Path file = dir.resolve("garbage.ini");
        Files.write(file, bytes);
        IniFile ini = IniReader.read(file);
        assertTrue(ini.unreadable());
        assertEquals(1, ini.errors().size());
        String message = ini.errors().get(0).message();
        assertTrue(message.equals("not valid UTF-8 text") || message.equals("contains a NUL byte"), message);
    }

    @Test
    void rejectsByteOrderMark() throws IOException {
        Path file = write("bom.ini", "\uFEFF[vassal]\nexec = x\n");
        assertOnlyError(file, file + ":1: starts with a byte order mark (BOM); save the file as UTF-8 without BOM");
    }

    @Test
    void rejectsFilesOverOneMebibyte() throws IOException {
        Path file = dir.resolve("big.ini");
        byte[] bytes = new byte[IniReader.MAX_BYTES + 1];
        Arrays.fill(bytes, (byte) ';');
        Files.write(file, bytes);
        assertOnlyError(file, file + ": file is larger than 1 MiB");
    }

    @Test
    void acceptsExactlyOneMebibyte() throws IOException {
        Path file = dir.resolve("max.ini");
        byte[] bytes = new byte[IniReader.MAX_BYTES];
        Arrays.fill(bytes, (byte) ';');
        Files.write(file, bytes);
        assertEquals(List.of(), IniReader.read(file).errors());
    }

    @Test
    void missingFileIsAProblemNotAnException() {
        Path file = dir.resolve("gone.ini");
        assertOnlyError(file, file + ": cannot read: No such file or directory");
    }

    @Test
    void directoryIsAProblemNotAnException() {
        IniFile ini = IniReader.read(dir);
        assertTrue(ini.unreadable());
        assertTrue(ini.errors().get(0).message().startsWith("cannot read: "), ini.errors().toString());
    }

    @Test
    void unreadableFileIsAProblemNotAnException() throws IOException {
        Path file = write("secret.ini", "[s]\nk=v\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
        assumeFalse(Files.isReadable(file), "running as root, which reads anything");
        assertOnlyError(file, file + ": cannot read: Permission denied");
    }

    private void assertOnlyError(Path file, String expected) {
        IniFile ini = IniReader.read(file);
        assertEquals(List.of(expected), lines(ini.errors()));
        assertTrue(ini.unreadable());
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void aLineLongerThan64KiBIsAnErrorButALongCommentIsNot() {
        String longValue = "x".repeat(IniReader.MAX_LINE);
        IniFile ini = IniReader.parse(FILE, "[s]\nk = " + longValue + "\n; " + longValue + "\nj = 1\n");
        assertEquals(List.of(FILE + ":2: line is longer than 65536 characters"),
                ini.errors().stream().map(Problem::toString).toList());
        assertEquals("1", ini.section("s").orElseThrow().first("j").orElseThrow().value());
    }

    @Test
    void afterTwentyErrorsTheRestIsNotRead() {
        IniFile ini = IniReader.parse(FILE, "[s]\n" + "= x\n".repeat(100_000));
        assertEquals(21, ini.errors().size());
        assertEquals(FILE + ":22: more than 20 errors; the rest of the file is not read", ini.errors().get(20).toString());
    }
}
