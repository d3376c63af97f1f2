package io.emperor.cli;

import io.emperor.log.EmperorLog;
import java.util.function.IntConsumer;

/**
 * The emperor's default uncaught-exception handler (installed by {@code run}): a throwable that
 * escapes a thread ends the emperor with one line and exit status {@value #EXIT} (EX_SOFTWARE), so
 * that the service manager starts it again. Never a silent thread death: a watcher or loop that
 * died would leave the vassals unsupervised while the process looked healthy.
 *
 * <p>The long-lived threads catch what one unit of work (one file, one event) throws and go on;
 * what reaches this handler is what they let through on purpose: an {@link Error} after which the
 * state is unknown ({@link OutOfMemoryError}, a linkage error), or a bug outside any unit. The
 * process is halted, not exited: shutdown hooks and the other threads' {@code finally} blocks
 * could block or fail for the same reason. Vassals get their parent-death signal.
 *
 * <p>Under the packaged launcher {@code -XX:+ExitOnOutOfMemoryError} ends the JVM first on an
 * {@link OutOfMemoryError} (exit status 3, with the JVM's own line), wherever it is thrown, even in
 * a thread that catches it.
 */
final class FatalErrors implements Thread.UncaughtExceptionHandler {
    static final int EXIT = 70;

    private final IntConsumer halt;

    /** @param halt ends the process with a status ({@code Runtime.getRuntime()::halt}) */
    FatalErrors(IntConsumer halt) {
        this.halt = halt;
    }

    /** Installs it as the default handler of every thread that has none of its own. */
    static void install() {
        Thread.setDefaultUncaughtExceptionHandler(new FatalErrors(status -> Runtime.getRuntime().halt(status)));
    }

    @Override
    public void uncaughtException(Thread thread, Throwable e) {
        String line = "fatal: " + e + " in thread " + thread.getName() + "; exiting with status " + EXIT;
        try {
            EmperorLog.error(line, e);
        } catch (Throwable logFailed) {
            try {
                System.err.println("emperor: " + line);
            } catch (Throwable ignored) {
                // Nothing is left to say it with; the exit status still says it.
            }
        } finally {
            halt.accept(EXIT);
        }
    }
}
