package io.emperor.source.dir;

import io.emperor.config.IniReader;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.VassalFileParser;
import io.emperor.config.VassalSpec;
import io.emperor.os.OpenedFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads one vassal file the one safe way (DESIGN §11): open it once ({@link OpenedFile}), judge
 * what that descriptor is, and only then read the same descriptor. In order, each refusal a
 * problem of the whole file ({@code FILE: message}):
 * <ol>
 *   <li>{@code cannot open: REASON} (it vanished, permission denied, a symlink loop);</li>
 *   <li>{@code is a FIFO, not a regular file} (a device, a socket …), or {@code is on a proc file
 *       system (a kernel interface), not a regular file on disk} ({@code /proc}, {@code /sys} …):
 *       such a file is never read, so it can neither block the scan nor be read as root;</li>
 *   <li>{@code file is larger than 1 MiB}, from the {@code fstat} size;</li>
 *   <li>the {@link Judge}'s refusals (tyrant mode: {@link TyrantRules}, on the owner and mode of that
 *       {@code fstat});</li>
 *   <li>then the content, at most 1 MiB, is read from the descriptor and parsed, and the judge
 *       has the last word on the result.</li>
 * </ol>
 */
public final class VassalReader {
    /** What decides, from the descriptor's {@code fstat}, whether a file may be read and run. */
    public interface Judge {
        /** Refusals before reading; empty to read on. */
        List<Problem> refusals(OpenedFile.Status status);

        /** The uid the file's vassal will run as, for the parser (tyrant mode's {@code $(VAR)}); -1 outside tyrant mode. */
        default int owner(OpenedFile.Status status) {
            return -1;
        }

        /** The final verdict on what was parsed. */
        Parsed<VassalSpec> verdict(OpenedFile.Status status, Parsed<VassalSpec> parsed);

        /** Outside tyrant mode: any regular file may be read, and runs as parsed. */
        Judge NONE = new Judge() {
            @Override
            public List<Problem> refusals(OpenedFile.Status status) {
                return List.of();
            }

            @Override
            public Parsed<VassalSpec> verdict(OpenedFile.Status status, Parsed<VassalSpec> parsed) {
                return parsed;
            }
        };
    }

    private VassalReader() {}

    /**
     * @param file     the vassal file (for a symlink, the link's own path)
     * @param noFollow true when {@code file} was seen as a file, not a symlink ({@code O_NOFOLLOW})
     */
    public static Parsed<VassalSpec> read(Path file, boolean noFollow, Judge judge, VassalFileParser parser) {
        try (OpenedFile opened = OpenedFile.open(file, noFollow)) {
            OpenedFile.Status status = opened.status();
            String notAFile = status.notAFile();
            if (notAFile != null) {
                return refused(file, "is " + notAFile);
            }
            if (status.size() > IniReader.MAX_BYTES) {
                return refused(file, "file is larger than 1 MiB");
            }
            List<Problem> refusals = judge.refusals(status);
            if (!refusals.isEmpty()) {
                return Parsed.failed(refusals, List.of());
            }
            byte[] content;
            try {
                content = opened.read(IniReader.MAX_BYTES);
            } catch (IOException e) {
                return refused(file, "cannot read: " + e.getMessage());
            }
            return judge.verdict(status, parser.parse(file, content, judge.owner(status)));
        } catch (IOException e) {
            return refused(file, "cannot open: " + e.getMessage());
        }
    }

    /** The fingerprint of what {@code fstat} said. */
    public static Fingerprint fingerprint(OpenedFile.Status s) {
        return new Fingerprint(s.size(), s.mtimeNanos(), s.ctimeNanos(), s.inode(), s.device(), s.uid(), s.gid(),
                s.mode());
    }

    private static Parsed<VassalSpec> refused(Path file, String message) {
        return Parsed.failed(List.of(new Problem(file, 0, message)), List.of());
    }
}
