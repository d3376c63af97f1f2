package io.emperor.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Follows a log file that another process appends to: reads what was added since the last call
 * and keeps every complete line (an unfinished last line waits for its newline). Test thread only.
 */
final class LogTail {
    private final Path file;
    private final List<String> lines = new ArrayList<>();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private final ByteBuffer buffer = ByteBuffer.allocate(256 * 1024);
    private long offset;

    LogTail(Path file) {
        this.file = file;
    }

    /** Every complete line so far (reads what is new first). */
    List<String> lines() {
        refresh();
        return lines;
    }

    private void refresh() {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (true) {
                buffer.clear();
                int n = ch.read(buffer, offset);
                if (n <= 0) {
                    return;
                }
                offset += n;
                byte[] b = buffer.array();
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (b[i] == '\n') {
                        partial.write(b, start, i - start);
                        lines.add(partial.toString(StandardCharsets.UTF_8));
                        partial.reset();
                        start = i + 1;
                    }
                }
                partial.write(b, start, n - start);
            }
        } catch (NoSuchFileException e) {
            // not created yet
        } catch (IOException e) {
            throw new AssertionError("cannot read " + file, e);
        }
    }
}
