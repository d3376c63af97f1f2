package io.emperor.config;

import static io.emperor.config.ProblemLines.lines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parser in tyrant mode: {@code uid}/{@code gid} are ignored with a warning naming file and line. */
class VassalParserTyrantTest {
    @TempDir
    Path dir;

    private final VassalParser tyrant = new VassalParser(FakeUserDb.standard(), "host1", Map.of(), true);
    private final VassalParser normal = new VassalParser(FakeUserDb.standard(), "host1", Map.of(), false);

    private Path write(String text) throws IOException {
        return Files.writeString(dir.resolve("app.ini"), text);
    }

    @Test
    void uidAndGidAreIgnoredWithAWarningPerLine() throws IOException {
        Path file = write("[vassal]\nexec = /bin/app\nuid = alice\ngid = users\nuid = 0\n");
        Parsed<VassalSpec> p = VassalFiles.parse(tyrant, file);
        assertTrue(p.isOk(), () -> p.errors().toString());
        assertNull(p.value().user());
        assertEquals(-1, p.value().uid());
        assertEquals(-1, p.value().gid());
        List<String> warnings = lines(p.warnings());
        String uid = "uid is ignored in tyrant mode: the vassal runs as the owner of its file";
        String gid = "gid is ignored in tyrant mode: the vassal runs with the group of its file";
        assertTrue(warnings.contains(file + ":3: " + uid), warnings::toString);
        assertTrue(warnings.contains(file + ":4: " + gid), warnings::toString);
        assertTrue(warnings.contains(file + ":5: " + uid), warnings::toString);
    }

    @Test
    void aUwsgiFileThatStillDropsPrivilegesItselfIsWarnedAboutInTyrantMode() throws IOException {
        Path file = write("[uwsgi]\nhttp-socket = :8080\nuid = www-data\ngid = www-data\n");
        List<String> warnings = lines(VassalFiles.parse(tyrant, file).warnings());
        assertEquals(List.of(file + ":3: uid: tyrant mode already runs the vassal as the owner of its file; uWSGI's own"
                + " uid change fails (\"cannot setuid() as non-root user\") unless it names that same user: remove it",
                file + ":4: gid: tyrant mode already runs the vassal as the owner of its file; uWSGI's own"
                + " gid change fails (\"cannot setgid() as non-root user\") unless it names that same group: remove it"),
                warnings);
        assertEquals(List.of(), VassalFiles.parse(normal, file).warnings(), "outside tyrant mode uWSGI drops privileges itself");
    }

    @Test
    void aTenantsFileReadsOnlyTheVariablesItsVassalGets() throws IOException {
        // The emperor's own environment holds a secret; tyrant mode never reads it.
        VassalParser parser = new VassalParser(FakeUserDb.standard(), "host1", Map.of("SECRET", "hunter2"), true,
                owner -> owner == 1000 ? Map.of("HOME", "/home/alice", "PATH", "/usr/bin") : Map.of("PATH", "/usr/bin"));
        Path file = write("[vassal]\nexec = /bin/app $(HOME)\nenv = P=$(PATH)\nenv = S=$(SECRET)\n");
        Parsed<VassalSpec> p = VassalFiles.parse(parser, file, 1000);
        assertEquals(List.of(file + ":4: env: $(SECRET): environment variable is not set"), lines(p.errors()));
        Path ok = write("[vassal]\nexec = /bin/app $(HOME)\nenv = P=$(PATH)\n");
        Parsed<VassalSpec> alice = VassalFiles.parse(parser, ok, 1000);
        assertEquals(List.of("/bin/app", "/home/alice"), alice.value().argv());
        assertEquals(List.of("P=/usr/bin"), alice.value().env());
        assertEquals(List.of(ok + ":2: exec: $(HOME): environment variable is not set"),
                lines(VassalFiles.parse(parser, ok, 4242).errors()), "an owner without passwd entry has no HOME of its own here");
        assertEquals("/bin/app /home/alice", String.join(" ", VassalFiles.parse(new VassalParser(FakeUserDb.standard(), "host1",
                Map.of("HOME", "/home/alice", "PATH", "/x"), false), ok).value().argv()), "outside tyrant mode: the emperor's");
    }

    @Test
    void unknownNamesAreNoErrorInTyrantMode() throws IOException {
        Path file = write("[vassal]\nexec = /bin/app\nuid = nosuchuser\ngid = nosuchgroup\n");
        assertTrue(VassalFiles.parse(tyrant, file).isOk());
        assertEquals(2, VassalFiles.parse(normal, file).errors().size(), "outside tyrant mode they are errors");
    }

    @Test
    void outsideTyrantModeUidIsHonoured() throws IOException {
        Path file = write("[vassal]\nexec = /bin/app\nuid = alice\n");
        VassalSpec spec = VassalFiles.parse(normal, file).value();
        assertEquals(1000, spec.uid());
        assertEquals("alice", spec.user());
        assertEquals(List.of(), VassalFiles.parse(normal, file).warnings());
        assertEquals(spec, VassalFiles.parse(new VassalParser(FakeUserDb.standard(), "host1", Map.of()), file).value(),
                "the three-argument constructor is outside tyrant mode");
    }

    @Test
    void logTagFalseIsRefusedInTyrantModeWithAReason() throws IOException {
        Path file = write("[vassal]\nexec = /bin/app\nlog-tag = off\n");
        Parsed<VassalSpec> p = VassalFiles.parse(tyrant, file);
        assertEquals(List.of(file + ":3: log-tag: false is refused in tyrant mode: untagged lines in the emperor's log"
                + " could pass for the emperor's own; remove it, or write the output to a file of your own with"
                + " logto = FILE"), lines(p.errors()));
        assertTrue(VassalFiles.parse(tyrant, write("[vassal]\nexec = /bin/app\nlog-tag = true\n")).isOk(), "true is fine");
        assertTrue(VassalFiles.parse(normal, write("[vassal]\nexec = /bin/app\nlog-tag = off\n")).isOk(),
                "outside tyrant mode the admin's files may log untagged");
    }
}
