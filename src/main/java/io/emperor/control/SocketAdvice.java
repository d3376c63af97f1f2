package io.emperor.control;

import io.emperor.config.IoReasons;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one line an emperor that cannot create its control socket says: the path, the system's
 * reason and how to fix it (docs/control.md), e.g. {@code cannot create the control socket
 * /run/emperor/control.sock: /run/emperor: Permission denied; fix: create /run/emperor owned by
 * alice (sudo install -d -o alice -g alice /run/emperor), or set control = PATH in emperor.ini
 * (empty: no socket)}.
 */
public final class SocketAdvice {
    private SocketAdvice() {}

    /**
     * @param socket the control socket path
     * @param e      what {@link ControlServer#start} threw
     * @param user   the emperor's user name (the owner the directory needs)
     */
    public static String explain(Path socket, IOException e, String user) {
        Path dir = socket.toAbsolutePath().getParent();
        IOException root = e;
        while (root.getCause() instanceof IOException cause) {
            root = cause;
        }
        String reason = root instanceof AccessDeniedException a && a.getFile() != null
                ? a.getFile() + ": " + IoReasons.of(root)
                : String.valueOf(e.getMessage()).replace("cannot listen on " + socket + ": ", "");
        String text = String.valueOf(e.getMessage());
        String fix;
        if (text.contains("another emperor is listening")) {
            fix = "stop that emperor (emperor status --socket " + socket + " shows its pid), or set control = "
                    + "another PATH in emperor.ini";
        } else if (text.contains("is not a socket")) {
            fix = "remove " + socket + " if it is not needed, or set control = another PATH in emperor.ini";
        } else if (text.contains("longer than")) {
            fix = "set control = a shorter PATH in emperor.ini";
        } else if (dir != null && !Files.isDirectory(dir)) {
            fix = "create " + dir + " owned by " + user + " (sudo install -d -o " + user + " -g " + user + " " + dir
                    + "; under systemd, RuntimeDirectory=emperor does it), or set control = PATH in emperor.ini";
        } else if (dir != null && !Files.isWritable(dir)) {
            fix = "make " + dir + " writable by " + user + " (sudo chown " + user + " " + dir
                    + "), or set control = PATH in emperor.ini";
        } else {
            fix = "set control = another PATH in emperor.ini";
        }
        return "cannot create the control socket " + socket + ": " + reason + "; fix: " + fix
                + " (control = empty: no socket)";
    }
}
