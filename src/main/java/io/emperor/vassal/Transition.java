package io.emperor.vassal;

import java.util.List;

/**
 * The result of one lifecycle step.
 *
 * @param vassal  the vassal afterwards, or null when the emperor forgets it (file gone, process gone)
 * @param effects what the loop must do, in order
 */
public record Transition(Vassal vassal, List<Effect> effects) {
    public Transition {
        effects = List.copyOf(effects);
    }
}
