package io.emperor.source.dir;

import io.emperor.config.VassalFormat;
import java.util.Optional;

/**
 * Which file names in a vassal directory are vassals (DESIGN §2). Pure.
 *
 * <p>{@code NAME.ini} is the vassal {@code NAME}, and so are {@code NAME.yaml}, {@code NAME.yml},
 * {@code NAME.json}, {@code NAME.js} and {@code NAME.xml} (uWSGI vassals: {@link VassalFormat}).
 * Ignored, because editors and package managers
 * write them next to the real file: names starting with {@code .}, ending in {@code ~},
 * {@code .swp} or {@code .tmp}, containing {@code .dpkg-} or {@code .rpm} ({@code .rpmnew},
 * {@code .rpmsave}, {@code .rpmorig}), and anything not ending in one of those extensions
 * (case-sensitive, as in uWSGI), including an extension alone ({@code .ini}). Also ignored: names with a control character (a newline in a vassal name
 * could forge log lines).
 */
public final class VassalNames {
    private VassalNames() {}

    /** The vassal name of a file name (not a path), or empty when the file is not a vassal. */
    public static Optional<String> vassalName(String fileName) {
        if (fileName.startsWith(".")
                || fileName.endsWith("~")
                || fileName.endsWith(".swp")
                || fileName.endsWith(".tmp")
                || fileName.contains(".dpkg-")
                || fileName.contains(".rpm")
                || hasControlCharacter(fileName)) {
            return Optional.empty();
        }
        Optional<VassalFormat> format = VassalFormat.of(fileName);
        if (format.isEmpty() || fileName.length() == format.get().extension().length()) {
            return Optional.empty();
        }
        // VassalFormat.stem(fileName), without looking the format up again: every rescan asks this
        // of every file in the directory.
        return Optional.of(fileName.substring(0, fileName.length() - format.get().extension().length()));
    }

    private static boolean hasControlCharacter(String fileName) {
        for (int i = 0; i < fileName.length(); i++) {
            char c = fileName.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return true;
            }
        }
        return false;
    }
}
