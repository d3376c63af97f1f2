package io.emperor.config;

import static io.emperor.config.ProblemLines.lines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The log keys: {@code log-format} in {@code [emperor]}, {@code log-tag} in {@code [vassal]}. */
class LogKeysTest {
    @TempDir
    Path dir;

    private final EmperorConfigParser emperor = new EmperorConfigParser("host1", Map.of());
    private final VassalParser vassal = new VassalParser(FakeUserDb.standard(), "host1", Map.of());

    @Test
    void logFormatDefaultsToJournalOnlyUnderJournald() {
        assertEquals(LogFormat.PLAIN, LogFormat.defaultFor(Map.of()));
        assertEquals(LogFormat.PLAIN, LogFormat.defaultFor(Map.of("JOURNAL_STREAM", "")));
        assertEquals(LogFormat.JOURNAL, LogFormat.defaultFor(Map.of("JOURNAL_STREAM", "8:12345")));
        LogSettings unset = emperor(List.of()).logging();
        assertEquals(Optional.empty(), unset.format());
        assertEquals(LogFormat.JOURNAL, unset.formatFor(Map.of("JOURNAL_STREAM", "8:1")));
        assertEquals(LogFormat.PLAIN, unset.formatFor(Map.of()));
    }

    @Test
    void anExplicitLogFormatWinsOverTheEnvironment() {
        assertEquals(LogFormat.PLAIN, emperor(List.of("log-format = plain")).logging().formatFor(Map.of("JOURNAL_STREAM", "8:1")));
        assertEquals(LogFormat.JOURNAL, emperor(List.of("log-format = journal")).logging().formatFor(Map.of()));
    }

    @Test
    void anInvalidLogFormatIsAnError() throws IOException {
        Path file = Files.writeString(dir.resolve("emperor.ini"), "[emperor]\nlog-format = json\n");
        assertEquals(List.of(file + ":2: log-format: must be plain or journal: \"json\""),
                lines(emperor.parse(file).errors()));
    }

    @ParameterizedTest(name = "log-tag = {0}")
    @CsvSource({"false, false", "0, false", "no, false", "off, false", "true, true", "1, true", "yes, true"})
    void logTagIsABoolean(String value, boolean expected) throws IOException {
        assertEquals(expected, vassal("log-tag = " + value).logTag());
    }

    @Test
    void logTagDefaultsToTrueAndNeedsNoRestart() throws IOException {
        VassalSpec tagged = vassal();
        assertTrue(tagged.logTag());
        VassalSpec untagged = vassal("log-tag = false");
        assertFalse(untagged.logTag());
        assertFalse(tagged.needsRestartFor(untagged), "log-tag is read at each spawn; no restart for it");
    }

    @Test
    void vassalLogsKeys() {
        LogSettings d = emperor(List.of()).logging();
        assertEquals(Optional.empty(), d.vassalLogs());
        assertEquals(0, d.vassalLogMaxSize());
        assertEquals(5, d.vassalLogBackups());
        LogSettings s = emperor(List.of("vassal-logs = logs", "vassal-log-maxsize = 10M", "vassal-log-backups = 0"))
                .logging();
        assertEquals(Optional.of(dir.resolve("logs")), s.vassalLogs());
        assertEquals(10L << 20, s.vassalLogMaxSize());
        assertEquals(0, s.vassalLogBackups());
        assertEquals(Optional.empty(), emperor(List.of("vassal-logs =")).logging().vassalLogs(), "empty: none");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"0, 0", "1000, 1000", "1k, 1024", "1K, 1024", "3m, 3145728", "2G, 2147483648", "1024G, 1099511627776"})
    void sizes(String value, long bytes) {
        assertEquals(bytes, Values.size(value).value());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "vassal-log-maxsize = 10MB|vassal-log-maxsize: expected bytes, or a number with k, M or G: \"10MB\"",
        "vassal-log-maxsize = -1|vassal-log-maxsize: expected bytes, or a number with k, M or G: \"-1\"",
        "vassal-log-maxsize = 2T|vassal-log-maxsize: expected bytes, or a number with k, M or G: \"2T\"",
        "vassal-log-maxsize = 1025G|vassal-log-maxsize: at most 1 TiB: \"1025G\"",
        "vassal-log-backups = many|vassal-log-backups: expected a whole number from 0 to 1000: \"many\"",
        "vassal-log-backups = 1001|vassal-log-backups: expected a whole number from 0 to 1000: \"1001\""})
    void rejects(String line, String message) throws IOException {
        Path file = Files.writeString(dir.resolve("emperor.ini"), "[emperor]\n" + line + "\n");
        assertEquals(List.of(file + ":2: " + message),
                lines(emperor.parse(file).errors()));
    }

    private EmperorConfig emperor(List<String> lines) {
        try {
            Path file = Files.writeString(dir.resolve("emperor.ini"), "[emperor]\n" + String.join("\n", lines) + "\n");
            Parsed<EmperorConfig> p = emperor.parse(file);
            assertEquals(List.of(), p.errors());
            return p.value();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private VassalSpec vassal(String... lines) throws IOException {
        Path file = Files.writeString(dir.resolve("app.ini"),
                "[vassal]\nexec = /bin/true\n" + String.join("\n", lines) + "\n");
        Parsed<VassalSpec> p = VassalFiles.parse(vassal, file);
        assertEquals(List.of(), p.errors());
        return p.value();
    }
}
