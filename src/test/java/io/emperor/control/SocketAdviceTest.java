package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An emperor that cannot create its control socket says the path, the reason and the fix, in one line. */
class SocketAdviceTest {
    @TempDir
    Path dir;

    @Test
    void aMissingDirectoryItMayNotCreateIsToBeCreatedForTheUser() {
        Path runDir = dir.resolve("run-emperor");
        Path socket = runDir.resolve("control.sock");
        IOException e = new IOException("cannot create the directory of the control socket " + socket + ": x",
                new AccessDeniedException(runDir.toString()));
        assertEquals("cannot create the control socket " + socket + ": " + runDir + ": Permission denied; fix: create "
                + runDir + " owned by alice (sudo install -d -o alice -g alice " + runDir
                + "; under systemd, RuntimeDirectory=emperor does it), or set control = PATH in emperor.ini"
                + " (control = empty: no socket)", SocketAdvice.explain(socket, e, "alice"));
    }

    @Test
    void anotherEmperorListeningIsToBeStopped() {
        Path socket = dir.resolve("control.sock");
        String m = SocketAdvice.explain(socket, new IOException("another emperor is listening on " + socket), "bob");
        assertEquals("cannot create the control socket " + socket + ": another emperor is listening on " + socket
                + "; fix: stop that emperor (emperor status --socket " + socket + " shows its pid), or set control = "
                + "another PATH in emperor.ini (control = empty: no socket)", m);
    }
}
