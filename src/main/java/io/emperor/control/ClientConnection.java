package io.emperor.control;

import io.emperor.log.EmperorLog;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import jnr.ffi.Pointer;

/**
 * One client of the control socket.
 *
 * <p>Two kinds of state live here. The input side (buffered request bytes, whether a request is in
 * progress, the epoll interest) belongs to the control thread alone; its idle deadline is the
 * server core's ({@link ServerCore}). The output side
 * (pending answer bytes, closed, close callbacks) is shared with whatever thread answers, and is
 * guarded by {@code this}; other threads never touch the fd, they queue bytes and ask the control
 * thread for attention.
 */
final class ClientConnection {
    /** The input buffer a new connection starts with; it grows up to the request limit. */
    private static final int INITIAL_INPUT = 1024;

    final long id;
    final int fd;
    final Peer peer;
    /** What the peer may reach, resolved before its first request (control thread only). */
    Caller caller;
    private final ControlServer server;
    private final int maxInputBytes;
    private final int maxPendingOutputBytes;
    private final OutputBudget budget;
    private final boolean limited;

    // Control thread only.
    /**
     * The request bytes read and not yet handled are {@code input[inputStart, inputEnd)}: at most
     * {@code maxInputBytes}, one line and its newline. Lines are taken by moving {@code inputStart}
     * and the bytes are moved down only before a read, and {@code scannedTo} remembers where the
     * search for a newline stopped: a client sending a line byte by byte, or many small lines at
     * once, costs linear time, not quadratic.
     */
    private byte[] input;
    private int inputStart;
    private int inputEnd;
    private int scannedTo;
    boolean requestInProgress;
    /** The client shut its side down (read gave 0): no more requests will come. */
    boolean inputEnded;
    /** Close once the pending output is written (after a too-long request, or the last answer after EOF). */
    boolean closeWhenFlushed;
    /** The epoll events currently registered for the fd. */
    int interest;

    /** Set by any thread: asks the control thread to look at this connection again. */
    final AtomicBoolean queuedForAttention = new AtomicBoolean();
    /** Set by {@link Reply#done()} from any thread; consumed by the control thread. */
    private final AtomicBoolean doneRequested = new AtomicBoolean();

    // Guarded by this.
    private final ArrayDeque<byte[]> output = new ArrayDeque<>();
    /** How much of the first chunk of {@link #output} was already written. */
    private int outputHeadOffset;
    private long pendingOutputBytes;
    private boolean closed;
    /** Output passed the bound: the control thread closes the connection; answers are refused from now on. */
    private boolean overflowed;
    /** Which bound the output passed, for the log. */
    private String overflowReason;
    private List<Runnable> closeCallbacks = new ArrayList<>();

    ClientConnection(long id, int fd, Peer peer, ControlServer server, int maxInputBytes, int maxPendingOutputBytes) {
        this(id, fd, peer, server, maxInputBytes, maxPendingOutputBytes,
                new OutputBudget(Long.MAX_VALUE, Long.MAX_VALUE), false);
    }

    /**
     * @param budget  the unsent bytes of every connection, per uid and in all
     * @param limited whether the per-uid bound of the budget applies (not to root and the emperor's uid)
     */
    ClientConnection(long id, int fd, Peer peer, ControlServer server, int maxInputBytes, int maxPendingOutputBytes,
            OutputBudget budget, boolean limited) {
        this.budget = budget;
        this.limited = limited;
        this.id = id;
        this.fd = fd;
        this.peer = peer;
        this.server = server;
        this.maxInputBytes = maxInputBytes;
        this.maxPendingOutputBytes = maxPendingOutputBytes;
        this.input = new byte[Math.min(INITIAL_INPUT, maxInputBytes)];
    }

    /** The {@link Reply} of the request about to be handled: its {@code done()} counts once. */
    Reply newReply() {
        return new RequestReply();
    }

    /** How many more request bytes may be read now (control thread). */
    int inputRoom() {
        return maxInputBytes - (inputEnd - inputStart);
    }

    boolean hasInput() {
        return inputEnd > inputStart;
    }

    /**
     * Appends the {@code n} bytes at the start of {@code src}, at most {@link #inputRoom()} (control
     * thread): the buffer grows to {@code maxInputBytes} at most.
     */
    void appendInput(Pointer src, int n) {
        if (inputStart > 0) {
            System.arraycopy(input, inputStart, input, 0, inputEnd - inputStart);
            inputEnd -= inputStart;
            scannedTo -= inputStart;
            inputStart = 0;
        }
        if (inputEnd + n > input.length) {
            input = Arrays.copyOf(input, Math.min(maxInputBytes, Math.max(inputEnd + n, input.length * 2)));
        }
        src.get(0, input, inputEnd, n);
        inputEnd += n;
    }

    /**
     * The next complete request line, without its newline and a '\r' before it; null if there is none
     * yet (control thread).
     */
    String nextLine() {
        for (int i = Math.max(scannedTo, inputStart); i < inputEnd; i++) {
            if (input[i] == '\n') {
                String line = decode(inputStart, i);
                inputStart = i + 1;
                scannedTo = inputStart;
                return line;
            }
        }
        scannedTo = inputEnd;
        return null;
    }

    /** The bytes after the last newline as a line (a last request at EOF); empties the buffer (control thread). */
    String takeRest() {
        String line = decode(inputStart, inputEnd);
        discardInput();
        return line;
    }

    void discardInput() {
        inputStart = 0;
        inputEnd = 0;
        scannedTo = 0;
    }

    private String decode(int from, int to) {
        int end = to > from && input[to - 1] == '\r' ? to - 1 : to;
        return new String(input, from, end - from, StandardCharsets.UTF_8);
    }

    /** Queues one answer line; false when it cannot be delivered any more. */
    boolean send(Object answer) {
        byte[] line = (Json.write(answer) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (this) {
            if (closed || overflowed) {
                return false;
            }
            OutputBudget.Refusal refusal = null;
            if (pendingOutputBytes + line.length > maxPendingOutputBytes
                    || (refusal = budget.take(peer.uid(), limited, line.length)) != null) {
                overflowed = true;
                overflowReason = refusal == null ? "more than " + maxPendingOutputBytes + " bytes pending"
                        : refusal == OutputBudget.Refusal.USER
                        ? "its uid has more than " + budget.perUser() + " bytes pending on all its connections"
                        : "the control socket has more than " + budget.totalBound() + " bytes pending in all";
                dropOutput();
            } else {
                output.add(line);
                pendingOutputBytes += line.length;
            }
        }
        server.needsAttention(this);
        return isOpen();
    }

    synchronized boolean isOpen() {
        return !closed && !overflowed;
    }

    synchronized boolean overflowed() {
        return overflowed;
    }

    synchronized String overflowReason() {
        return overflowReason;
    }

    /** Drops every unsent byte and gives it back to the budget (under this). */
    private void dropOutput() {
        budget.give(peer.uid(), pendingOutputBytes);
        output.clear();
        outputHeadOffset = 0;
        pendingOutputBytes = 0;
    }

    synchronized boolean hasPendingOutput() {
        return pendingOutputBytes > 0;
    }

    /** Copies up to {@code max} bytes of pending output into {@code dst}; how many (control thread). */
    synchronized int peekOutput(Pointer dst, int max) {
        int copied = 0;
        int offset = outputHeadOffset;
        for (byte[] chunk : output) {
            int n = Math.min(chunk.length - offset, max - copied);
            dst.put(copied, chunk, offset, n);
            copied += n;
            offset = 0;
            if (copied == max) {
                break;
            }
        }
        return copied;
    }

    /** Drops {@code n} written bytes from the head of the pending output (control thread). */
    synchronized void consumeOutput(int n) {
        pendingOutputBytes -= n;
        budget.give(peer.uid(), n);
        while (n > 0) {
            byte[] head = output.peek();
            int left = head.length - outputHeadOffset;
            if (n >= left) {
                output.poll();
                outputHeadOffset = 0;
                n -= left;
            } else {
                outputHeadOffset += n;
                n = 0;
            }
        }
    }

    /** True once after a {@link Reply#done()} (control thread). */
    boolean takeDone() {
        return doneRequested.getAndSet(false);
    }

    void onClose(Runnable r) {
        synchronized (this) {
            if (!closed) {
                closeCallbacks.add(r);
                return;
            }
        }
        runCallback(r);
    }

    /** Marks the connection closed and runs its close callbacks (control thread; the fd is the server's to close). */
    void markClosed() {
        List<Runnable> callbacks;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            dropOutput();
            callbacks = closeCallbacks;
            closeCallbacks = List.of();
        }
        callbacks.forEach(ClientConnection::runCallback);
    }

    private static void runCallback(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            EmperorLog.error("control socket: a close callback failed", e);
        }
    }

    private final class RequestReply implements Reply {
        private final AtomicBoolean answered = new AtomicBoolean();

        @Override
        public boolean send(Object answer) {
            return ClientConnection.this.send(answer);
        }

        @Override
        public void done() {
            if (answered.compareAndSet(false, true)) {
                doneRequested.set(true);
                server.needsAttention(ClientConnection.this);
            }
        }

        @Override
        public void onClose(Runnable r) {
            ClientConnection.this.onClose(r);
        }

        @Override
        public boolean isOpen() {
            return ClientConnection.this.isOpen();
        }
    }
}
