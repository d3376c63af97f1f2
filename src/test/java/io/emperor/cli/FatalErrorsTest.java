package io.emperor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class FatalErrorsTest {
    /** A thread that dies of an Error ends the emperor with status 70, never silently. */
    @Test
    void anUncaughtErrorHaltsWithSeventy() throws InterruptedException {
        List<Integer> halts = new CopyOnWriteArrayList<>();
        Thread t = new Thread(() -> {
            throw new OutOfMemoryError("Java heap space");
        }, "emperor-watcher");
        t.setUncaughtExceptionHandler(new FatalErrors(halts::add));
        t.start();
        t.join(30_000);
        assertEquals(List.of(70), halts);
    }

    @Test
    void anyThrowableThatReachesItHalts() {
        List<Integer> halts = new CopyOnWriteArrayList<>();
        FatalErrors handler = new FatalErrors(halts::add);
        handler.uncaughtException(new Thread("x"), new StackOverflowError());
        assertEquals(List.of(70), halts);
        assertTrue(FatalErrors.EXIT == 70);
    }
}
