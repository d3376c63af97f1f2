package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure part of {@code logs -f}: lines seen both in the stored copy and by the follower are sent once. */
class ControlHandlerTest {

    @Test
    void theLinesAFollowerSawBeforeTheCopyAreNotSentTwice() {
        assertEquals(0, ControlHandler.overlap(List.of("a", "b"), List.of()));
        assertEquals(0, ControlHandler.overlap(List.of(), List.of("a")));
        assertEquals(0, ControlHandler.overlap(List.of("a", "b"), List.of("c", "d")), "all new");
        assertEquals(1, ControlHandler.overlap(List.of("a", "b"), List.of("b", "c")), "b was in the copy");
        assertEquals(2, ControlHandler.overlap(List.of("a", "b", "c"), List.of("b", "c")), "both were");
        assertEquals(2, ControlHandler.overlap(List.of("x", "x"), List.of("x", "x", "x")), "the longest match");
    }
}
