package io.emperor.control;

/** The way back to the client of one request. Every method is thread-safe and never blocks. */
public interface Reply {
    /**
     * Queues one answer line ({@link Json#write} of a record of {@link Answers}, + '\n'). False when the connection is closed, or was
     * closed now because its unsent output passed the bound (a client that does not read).
     */
    boolean send(Object answer);

    /** This request is answered: the connection's next request line (if any) is handled next. */
    void done();

    /**
     * Runs {@code r} once when the connection closes for whatever reason (immediately, on the calling
     * thread, if already closed): a follower unregisters here.
     */
    void onClose(Runnable r);

    boolean isOpen();
}
