package io.emperor.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The vassal file formats, by the file name's extension, as the uWSGI Emperor accepts them
 * ({@code uwsgi_emperor_is_valid} and {@code vassal_new_argv} in uWSGI's core/emperor.c): the
 * extension decides both how the emperor reads the file and the option uWSGI gets it with.
 * Extensions are case-sensitive, as in uWSGI ({@code app.INI} is not a vassal).
 */
public enum VassalFormat {
    /** {@code [vassal]} or {@code [uwsgi]} ini sections ({@link IniReader}). */
    INI(".ini", "--ini"),
    /** A {@code uwsgi:} block in uWSGI's YAML subset ({@link UwsgiYaml}). */
    YAML(".yaml", "--yaml"),
    YML(".yml", "--yaml"),
    /** A {@code "uwsgi"} object ({@link UwsgiJson}). */
    JSON(".json", "--json"),
    /** {@code .js} is JSON to uWSGI too. */
    JS(".js", "--json"),
    /** A {@code <uwsgi>} element ({@link UwsgiXml}). */
    XML(".xml", "--xml");

    private static final List<VassalFormat> ALL = List.of(values());

    private final String extension;
    private final String uwsgiOption;

    VassalFormat(String extension, String uwsgiOption) {
        this.extension = extension;
        this.uwsgiOption = uwsgiOption;
    }

    /** The extension with its dot, {@code .yaml}. */
    public String extension() {
        return extension;
    }

    /** The uWSGI option that reads a file of this format: {@code --ini}, {@code --yaml}, {@code --json} or {@code --xml}. */
    public String uwsgiOption() {
        return uwsgiOption;
    }

    /** The format of a file name (not a path) by its extension; empty for any other name. */
    public static Optional<VassalFormat> of(String fileName) {
        for (VassalFormat f : ALL) {
            if (fileName.endsWith(f.extension)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /** The format of a file by its name; {@link #INI} for any other name (what {@code emperor check x.conf} reads). */
    public static VassalFormat ofFile(Path file) {
        Path name = file.getFileName();
        return name == null ? INI : of(name.toString()).orElse(INI);
    }

    /** The file name without its format's extension ({@code app.yaml} → {@code app}); other names unchanged. */
    public static String stem(String fileName) {
        return of(fileName).map(f -> fileName.substring(0, fileName.length() - f.extension.length())).orElse(fileName);
    }
}
