package io.emperor.os;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the native exec helper without any flag, from any working directory: the
 * {@code emperor.helper} system property (the packaged launcher sets it), else next to the jar
 * (or, for a build tree, next to {@code target/classes}), else {@code /usr/lib/emperor}.
 */
public final class HelperLocator {
    public static final String NAME = "emperor-exec";

    private HelperLocator() {}

    public static List<Path> candidates() {
        List<Path> c = new ArrayList<>();
        String prop = System.getProperty("emperor.helper");
        if (prop != null && !prop.isEmpty()) {
            c.add(Path.of(prop));
        }
        try {
            Path code = Path.of(HelperLocator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path dir = Files.isDirectory(code) ? code.getParent() : code.getParent();
            if (dir != null) {
                c.add(dir.resolve(NAME));
            }
        } catch (URISyntaxException | RuntimeException e) {
            // no code source (unusual class loader): fall through to the system location
        }
        c.add(Path.of("/usr/lib/emperor", NAME));
        return c;
    }

    public static Optional<Path> find() {
        for (Path p : candidates()) {
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p.toAbsolutePath().normalize());
            }
        }
        return Optional.empty();
    }
}
