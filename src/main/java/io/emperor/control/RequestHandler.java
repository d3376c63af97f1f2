package io.emperor.control;

import java.util.Map;

/** What the control socket does with a request; the transport ({@link ControlServer}) knows nothing of commands. */
public interface RequestHandler {
    /**
     * Called on the control thread, once per request line that parsed as a JSON object; must not block.
     * Answer through {@code reply}, at once or later, from any thread.
     */
    void handle(Caller caller, Map<String, Object> request, Reply reply);

    /**
     * Called on the control thread once per connection, before its first request is handled: what the
     * peer may reach, for the connection's lifetime. The only place where the user database may be
     * read for a request (a slow NSS then holds up the control thread, never the emperor loop). This
     * default reaches nothing; the real handler asks its {@link Rights}.
     */
    default Caller caller(Peer peer) {
        return new Caller(peer, Rights.Scope.NONE);
    }
}
