package io.emperor.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A test's own directory: the fixture programs (copied from src/test/resources/fixtures), a
 * vassal directory, and a unique marker that every vassal's command line carries, so that any
 * process a test started can be found (and must be gone) at the end.
 */
final class Workspace {
    static final List<String> FIXTURES = List.of(
            "sleeps.sh", "trap-hup.sh", "ignores-term.sh", "exits-at-once.sh", "exits-after.sh", "spews-output.sh", "counts.sh",
            "spawns-daemon.sh", "bursts.sh", "listens-after.sh", "notifies.py",
            "serves-fd.py", "idles-fd.py", "hung-fuse.py");

    final Path root;
    final Path vassals;
    final Path fixtures;
    /** In every vassal's argv: unique to this workspace. */
    final String marker;

    Workspace(Path root) {
        this.root = root.toAbsolutePath().normalize();
        this.vassals = this.root.resolve("vassals");
        this.fixtures = this.root.resolve("fixtures");
        this.marker = "emperor-it-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            Files.createDirectories(vassals);
            Files.createDirectories(fixtures);
            for (String name : FIXTURES) {
                try (InputStream in = Workspace.class.getResourceAsStream("/fixtures/" + name)) {
                    if (in == null) {
                        throw new AssertionError("fixture " + name + " is not on the class path");
                    }
                    Files.copy(in, fixtures.resolve(name));
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot set up " + root, e);
        }
    }

    Path fixture(String name) {
        return fixtures.resolve(name);
    }

    /** {@code exec = } value that runs a fixture with /bin/sh: {@code /bin/sh FIXTURE ARGS... MARKER}. */
    String exec(String fixture, String... args) {
        List<String> words = new ArrayList<>(List.of("/bin/sh", fixture(fixture).toString()));
        words.addAll(List.of(args));
        words.add(marker);
        return String.join(" ", words);
    }

    /** The argv that {@link #exec} describes. */
    List<String> argv(String fixture, String... args) {
        List<String> words = new ArrayList<>(List.of("/bin/sh", fixture(fixture).toString()));
        words.addAll(List.of(args));
        words.add(marker);
        return words;
    }

    /** Writes {@code vassals/NAME.ini} with a {@code [vassal]} section of these lines. */
    Path vassal(String name, String... lines) {
        return vassalIn(vassals, name, lines);
    }

    /** Writes {@code dir/NAME.ini} with a {@code [vassal]} section, atomically (a rename). */
    Path vassalIn(Path dir, String name, String... lines) {
        StringBuilder text = new StringBuilder("[vassal]\n");
        for (String line : lines) {
            text.append(line).append('\n');
        }
        Path file = dir.resolve(name + ".ini");
        write(file, text.toString());
        return file;
    }

    /**
     * Writes a file atomically: the content goes to a dotfile, which the emperor ignores, that is
     * then renamed into place, so no scan ever sees it half written.
     */
    static void write(Path file, String text) {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    static void write(Path file, byte[] bytes) {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.createDirectories(file.getParent());
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new AssertionError("cannot write " + file, e);
        }
    }

    /** {@code emperor.ini} in the workspace, with an {@code [emperor]} section of these lines. */
    Path emperorIni(String... lines) {
        Path file = root.resolve("emperor.ini");
        write(file, "[emperor]\n" + String.join("\n", lines) + "\n");
        return file;
    }

    /** touch(1): a new mtime (and so a new ctime); content and inode stay. */
    static void touch(Path file) {
        try {
            FileTime before = Files.getLastModifiedTime(file);
            Instant now = Instant.now();
            // Never the same mtime as before, even on a file system with a coarse clock.
            Instant next = now.isAfter(before.toInstant()) ? now : before.toInstant().plusMillis(10);
            Files.setLastModifiedTime(file, FileTime.from(next));
        } catch (IOException e) {
            throw new AssertionError("cannot touch " + file, e);
        }
    }

    static void delete(Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new AssertionError("cannot delete " + file, e);
        }
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new AssertionError("cannot read " + file, e);
        }
    }
}
