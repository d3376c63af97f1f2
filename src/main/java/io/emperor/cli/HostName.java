package io.emperor.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The host name for {@code %h}, read without a DNS lookup. */
final class HostName {
    private HostName() {}

    static String name() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            String env = System.getenv("HOSTNAME");
            return env == null ? "localhost" : env;
        }
    }
}
