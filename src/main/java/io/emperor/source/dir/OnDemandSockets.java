package io.emperor.source.dir;

import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.TenantListen;
import io.emperor.config.UwsgiCommand;
import io.emperor.config.UwsgiOnDemand;
import io.emperor.config.VassalFileParser;
import io.emperor.config.VassalSpec;
import io.emperor.os.OpenedFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * uWSGI's on-demand vassals (issue 15, {@link UwsgiOnDemand}): the parser of vassal files, with the
 * socket of a {@code [uwsgi]} vassal that {@code on-demand-extension} or {@code on-demand-directory}
 * gives it. Runs where the vassal file is read (the watcher thread), whenever it is read: a change of
 * the socket-name file alone is seen at the next change or touch of the vassal file, as uWSGI reads it
 * only when the vassal appears.
 *
 * <p>The socket-name file {@code NAME.ini}+EXT is read the way a vassal file is: opened once without
 * following a symlink, judged on its {@code fstat} (a regular file on disk, at most
 * {@value UwsgiOnDemand#MAX_BYTES} bytes), then read from the same descriptor. None there: not on demand.
 * In tyrant mode its bytes are a tenant's: it must belong to the vassal file's owner and not be
 * writable by others, and the name it holds meets the rules of a tenant's {@code listen} (no port below
 * 1024, {@code tenant-listen}; a unix socket is bound as the vassal, docs/sockets.md). Every refusal
 * refuses the vassal, with the socket-name file named.
 */
public final class OnDemandSockets implements VassalFileParser {
    private final VassalFileParser files;
    private final Supplier<UwsgiCommand> uwsgi;
    private final boolean tyrant;
    private final Supplier<TenantListen> allowed;

    /**
     * @param uwsgi   the emperor's {@code on-demand-extension} and {@code -directory}, as they are now
     * @param allowed tyrant mode: the admin's {@code tenant-listen}
     */
    public OnDemandSockets(VassalFileParser files, Supplier<UwsgiCommand> uwsgi, boolean tyrant,
                           Supplier<TenantListen> allowed) {
        this.files = files;
        this.uwsgi = uwsgi;
        this.tyrant = tyrant;
        this.allowed = allowed;
    }

    @Override
    public Parsed<VassalSpec> parse(Path file, byte[] content) {
        return parse(file, content, -1);
    }

    @Override
    public Parsed<VassalSpec> parse(Path file, byte[] content, int owner) {
        Parsed<VassalSpec> parsed = files.parse(file, content, owner);
        UwsgiCommand u = uwsgi.get();
        if (!parsed.isOk() || parsed.value().kind() != VassalSpec.Kind.UWSGI || !u.onDemand()) {
            return parsed;
        }
        VassalSpec spec = parsed.value();
        if (u.onDemandExtension() != null) {
            Path nameFile = file.resolveSibling(file.getFileName() + u.onDemandExtension());
            Parsed<Optional<String>> name = read(nameFile, owner);
            if (!name.isOk()) {
                return Parsed.failed(name.errors(), parsed.warnings());
            }
            if (name.value().isPresent()) {
                return withWarnings(UwsgiOnDemand.withSocket(spec, nameFile, name.value().get(), tyrant,
                        allowed.get()), parsed.warnings());
            }
        }
        if (u.onDemandDirectory() != null) {
            return withWarnings(UwsgiOnDemand.withSocket(spec, file, UwsgiOnDemand.directorySocket(
                    u.onDemandDirectory(), spec.name()), tyrant, allowed.get()), parsed.warnings());
        }
        return parsed;
    }

    /** The socket name in the file, empty when there is no such file (or it names nothing), or why it is refused. */
    private Parsed<Optional<String>> read(Path nameFile, int owner) {
        try (OpenedFile opened = OpenedFile.open(nameFile, true)) {
            OpenedFile.Status status = opened.status();
            if (status.notAFile() != null) {
                return refused(nameFile, "is " + status.notAFile());
            }
            if (status.size() > UwsgiOnDemand.MAX_BYTES) {
                return refused(nameFile, "a socket-name file has at most " + UwsgiOnDemand.MAX_BYTES + " bytes");
            }
            if (tyrant && status.uid() != owner) {
                return refused(nameFile, "belongs to uid " + status.uid() + ", not to the vassal's owner (uid "
                        + owner + "): refused in tyrant mode (another user could choose the vassal's socket)");
            }
            if (tyrant && (status.mode() & 0002) != 0) {
                return refused(nameFile, "is writable by everyone: refused in tyrant mode (chmod o-w)");
            }
            byte[] bytes;
            try {
                bytes = opened.read(UwsgiOnDemand.MAX_BYTES);
            } catch (IOException e) {
                return refused(nameFile, "cannot read: " + e.getMessage());
            }
            return Parsed.ok(UwsgiOnDemand.socketName(bytes), List.of());
        } catch (IOException e) {
            if ("No such file or directory".equals(e.getMessage())) {
                return Parsed.ok(Optional.empty(), List.of());
            }
            return refused(nameFile, "cannot open: " + e.getMessage());
        }
    }

    private static <T> Parsed<T> refused(Path file, String message) {
        return Parsed.failed(List.of(new Problem(file, 0, message)), List.of());
    }

    private static Parsed<VassalSpec> withWarnings(Parsed<VassalSpec> p, List<Problem> warnings) {
        if (warnings.isEmpty()) {
            return p;
        }
        List<Problem> all = new java.util.ArrayList<>(warnings);
        all.addAll(p.warnings());
        return p.isOk() ? Parsed.ok(p.value(), all) : Parsed.failed(p.errors(), all);
    }
}
