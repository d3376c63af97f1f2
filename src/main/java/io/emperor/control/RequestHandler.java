package io.emperor.control;

import java.util.Map;

/** What the control socket does with a request; the transport ({@link ControlServer}) knows nothing of commands. */
public interface RequestHandler {
    /**
     * Called on the control thread, once per request line that parsed as a JSON object; must not block.
     * Answer through {@code reply}, at once or later, from any thread.
     */
    void handle(Peer peer, Map<String, Object> request, Reply reply);
}
