package io.emperor.vassal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** uWSGI's exit codes (uwsgi.h) named in a uWSGI vassal's exit line, and only there. */
class UwsgiExitCodesTest {

    @Test
    void namesEachCodeOfUwsgiH() {
        assertEquals("error", UwsgiExitCodes.name(1));
        assertEquals("monitored exception", UwsgiExitCodes.name(5));        // UWSGI_EXCEPTION_CODE
        assertEquals("going cheap", UwsgiExitCodes.name(15));               // UWSGI_GO_CHEAP_CODE
        assertEquals("reload requested", UwsgiExitCodes.name(17));          // UWSGI_RELOAD_CODE
        assertEquals("app failed to load", UwsgiExitCodes.name(22));        // UWSGI_FAILED_APP_CODE
        assertEquals("exiled, asks not to be respawned", UwsgiExitCodes.name(26)); // UWSGI_EXILE_CODE
        assertEquals("quiet exit", UwsgiExitCodes.name(29));                // UWSGI_QUIET_CODE
        assertEquals("end requested", UwsgiExitCodes.name(30));             // UWSGI_END_CODE
        assertEquals("brutal reload", UwsgiExitCodes.name(31));             // UWSGI_BRUTAL_RELOAD_CODE
        assertEquals("de-hijacked", UwsgiExitCodes.name(173));              // UWSGI_DE_HIJACKED_CODE
        assertNull(UwsgiExitCodes.name(0));
        assertNull(UwsgiExitCodes.name(2));
    }

    @Test
    void describesOnlyAUwsgiVassalsExitWithANamedCode() {
        assertEquals("status=30 (uWSGI: end requested)", UwsgiExitCodes.describe(ExitStatus.exited(30), true));
        assertEquals("status=1 (uWSGI: error)", UwsgiExitCodes.describe(ExitStatus.exited(1), true));
        assertEquals("status=30", UwsgiExitCodes.describe(ExitStatus.exited(30), false));
        assertEquals("status=0", UwsgiExitCodes.describe(ExitStatus.exited(0), true));
        assertEquals("status=2", UwsgiExitCodes.describe(ExitStatus.exited(2), true));
        assertEquals("signal=KILL", UwsgiExitCodes.describe(ExitStatus.killed(9, false), true));
    }
}
