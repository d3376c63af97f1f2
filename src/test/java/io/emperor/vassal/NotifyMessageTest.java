package io.emperor.vassal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The sd_notify protocol as the emperor reads it from its vassals (docs/vassal.ini.5.md, "ready = notify"). */
class NotifyMessageTest {

    @Test
    void readyStatusAndWatchdogInOneDatagram() {
        NotifyMessage m = NotifyMessage.parse("READY=1\nSTATUS=Serving 3 clients\nWATCHDOG=1");
        assertTrue(m.ready());
        assertTrue(m.pings());
        assertEquals("Serving 3 clients", m.status());
        assertFalse(m.reloading());
        assertFalse(m.stopping());
        assertEquals(0, m.ignored());
    }

    @Test
    void systemdNotifysOwnDatagramsParse() {
        // What systemd-notify --ready --status=hello sends, then its barrier (whose fd the socket closes).
        NotifyMessage m = NotifyMessage.parse("READY=1\nSTATUS=hello");
        assertTrue(m.ready());
        assertEquals("hello", m.status());
        NotifyMessage barrier = NotifyMessage.parse("BARRIER=1");
        assertTrue(barrier.isEmpty());
        assertEquals(1, barrier.ignored());
    }

    @Test
    void onlyTheValueOneCounts() {
        NotifyMessage m = NotifyMessage.parse("READY=0\nREADY=yes\nREADY\nRELOADING=2\nSTOPPING=\nWATCHDOG=trigger");
        assertTrue(m.isEmpty());
        assertEquals(6, m.ignored());
    }

    @Test
    void unknownKeysAndMainpidAreIgnored() {
        NotifyMessage m = NotifyMessage.parse("MAINPID=1\nERRNO=2\nEXTEND_TIMEOUT_USEC=5\nFDSTORE=1\nX-CUSTOM=1\n\n=1\nREADY=1");
        assertTrue(m.ready());
        assertEquals(6, m.ignored()); // the empty line is nothing at all
    }

    @Test
    void reloadingThenReadyIsAFinishedReloadAndReadyThenReloadingIsNot() {
        NotifyMessage finished = NotifyMessage.parse("RELOADING=1\nREADY=1");
        assertTrue(finished.ready());
        assertFalse(finished.reloading());
        NotifyMessage started = NotifyMessage.parse("READY=1\nRELOADING=1");
        assertTrue(started.ready());
        assertTrue(started.reloading());
    }

    @Test
    void coalescingKeepsWhatWasSaidAndTheLastStatus() {
        NotifyMessage a = NotifyMessage.parse("READY=1\nSTATUS=one");
        NotifyMessage b = NotifyMessage.parse("WATCHDOG=1");
        NotifyMessage c = NotifyMessage.parse("STATUS=two\nRELOADING=1");
        NotifyMessage all = a.then(b).then(c);
        assertTrue(all.ready());
        assertTrue(all.pings());
        assertTrue(all.reloading());
        assertEquals("two", all.status());
        NotifyMessage back = all.then(NotifyMessage.parse("READY=1"));
        assertFalse(back.reloading(), "READY=1 after RELOADING=1 ends the reload");
        assertTrue(NotifyMessage.NOTHING.then(NotifyMessage.parse("STOPPING=1")).stopping());
        assertEquals("two", all.then(NotifyMessage.parse("WATCHDOG=1")).status(), "a datagram without STATUS= keeps it");
    }

    @Test
    void statusIsEscapedAndBounded() {
        NotifyMessage m = NotifyMessage.parse("STATUS=red \u001b[31mALERT\u001b[0m\tback\\slash\u0085");
        assertEquals("red \\x1b[31mALERT\\x1b[0m\\x09back\\\\slash\\x85", m.status());
        String longText = "x".repeat(10_000);
        String kept = NotifyMessage.parse("STATUS=" + longText).status();
        assertEquals(NotifyMessage.MAX_STATUS, kept.length());
        assertTrue(kept.endsWith("…"));
        assertEquals("y".repeat(NotifyMessage.MAX_STATUS), NotifyMessage.parse("STATUS=" + "y".repeat(NotifyMessage.MAX_STATUS)).status(),
                "exactly the bound is kept whole");
        assertEquals("", NotifyMessage.parse("STATUS=").status(), "an empty STATUS= clears the text");
        assertNull(NotifyMessage.parse("READY=1").status());
    }

    @Test
    void invalidUtf8BecomesReplacementCharacters() {
        byte[] b = "STATUS=a\u00ffb".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("a\ufffdb", NotifyMessage.parse(b, b.length).status());
    }

    @Test
    void aStatusCannotSmuggleALineBreak() {
        NotifyMessage m = NotifyMessage.parse("STATUS=one\rtwo\u2028three");
        assertFalse(m.status().contains("\r"));
        assertFalse(m.status().contains("\u2028"));
    }
}
