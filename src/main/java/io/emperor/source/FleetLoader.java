package io.emperor.source;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the fleet's source and the etcd client only when emperor.ini sets {@code etcd}
 * (docs/fleet.md, docs/performance.md). They are not in emperor.jar: the fleet's jars
 * ({@code emperor-fleet.jar}, jetcd, gRPC, Netty …) are in the directory {@code fleet} beside it
 * ({@code /usr/share/emperor/fleet} in the package, {@code target/fleet} in a build), or in
 * {@code -Demperor.fleet=DIR}; a class loader of their own, whose parent is the emperor's, reads them.
 * When the class path already holds the source (the tests), that is used.
 */
public final class FleetLoader {
    static final String SOURCE = "io.emperor.source.etcd.EtcdSource";

    private FleetLoader() {}

    /** The fleet, not started; an {@link IllegalStateException} with the reason when it cannot be loaded. */
    public static Fleet load(FleetContext context) {
        Class<?> source = fleetClass(SOURCE);
        try {
            return (Fleet) source.getConstructor(FleetContext.class).newInstance(context);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw new IllegalStateException(cause.getMessage() == null ? cause.toString() : cause.getMessage(), cause);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("the fleet's classes cannot be loaded: " + e, e);
        }
    }

    /** {@code -Demperor.fleet}, else {@code fleet} beside the jar (or the classes directory) the emperor runs from. */
    static Path directory() {
        String set = System.getProperty("emperor.fleet");
        if (set != null && !set.isEmpty()) {
            return Path.of(set);
        }
        try {
            Path code = Path.of(FleetLoader.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return code.getParent().resolve("fleet");
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return Path.of("/usr/share/emperor/fleet");
        }
    }

    /** A class of the fleet's jars (the class path's when it has it); an {@link IllegalStateException} when they are missing. */
    public static Class<?> fleetClass(String name) {
        ClassLoader own = FleetLoader.class.getClassLoader();
        try {
            return Class.forName(name, true, own);
        } catch (ClassNotFoundException | LinkageError e) {
            return fromDirectory(directory(), own, name);
        }
    }

    private static Class<?> fromDirectory(Path dir, ClassLoader parent, String name) {
        List<URL> jars = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.jar")) {
            for (Path jar : entries) {
                jars.add(jar.toUri().toURL());
            }
        } catch (MalformedURLException e) {
            throw new IllegalStateException("the fleet's jars in " + dir + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException("the fleet's jars are not in " + dir + " (" + e + "); etcd needs them"
                    + " (the package installs them; a build puts them in target/fleet)", e);
        }
        jars.sort(java.util.Comparator.comparing(URL::toString));
        URLClassLoader loader = new URLClassLoader("emperor-fleet", jars.toArray(URL[]::new), parent);
        try {
            return Class.forName(name, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException("the fleet's source is not in " + dir + " (" + e + ")", e);
        }
    }

    /** The etcd user's password: the first line of {@code etcd-password-file}, read at start (before privileges go). */
    public static String password(io.emperor.config.FleetSettings settings) throws IOException {
        if (settings.passwordFile() == null) {
            return null;
        }
        List<String> lines = Files.readAllLines(settings.passwordFile(), java.nio.charset.StandardCharsets.UTF_8);
        return lines.isEmpty() ? "" : lines.get(0);
    }
}
