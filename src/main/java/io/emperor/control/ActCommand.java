package io.emperor.control;

import io.emperor.loop.EmperorLoop;
import io.emperor.loop.LoopQuery;
import io.emperor.vassal.Event;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code stop}, {@code start}, {@code restart}, {@code reload}: the loop steps each name it lets
 * the caller reach ({@link LoopQuery.Act}) and answers with each one's outcome (with {@code wait},
 * once every vassal set in motion has arrived or its wait ended); the answer is built here.
 */
final class ActCommand {
    private final EmperorLoop loop;

    ActCommand(EmperorLoop loop) {
        this.loop = loop;
    }

    void run(Caller peer, List<String> names, Event.Operator op, boolean wait, Duration timeout, Reply reply) {
        loop.ask(new LoopQuery.Act(names, op, wait, timeout, peer.reach(),
                ControlHandler.asker(reply, outcomes -> answer(outcomes, reply))));
    }

    private static void answer(List<LoopQuery.Acted> outcomes, Reply reply) {
        List<Object> answers = outcomes.stream().map(ActCommand::answer).toList();
        List<LoopQuery.Acted> failed = outcomes.stream().filter(r -> r.missing() || !r.ok()).toList();
        if (failed.isEmpty()) {
            reply.send(new Answers.Acted(true, answers));
        } else {
            boolean missing = outcomes.stream().anyMatch(LoopQuery.Acted::missing);
            reply.send(new Answers.ActFailed(false, missing ? "not-found" : "failed",
                    failed.stream().map(r -> r.name() + ": " + (r.missing() ? "no such vassal" : r.message()))
                            .collect(Collectors.joining("; ")), answers));
        }
        reply.done();
    }

    private static Object answer(LoopQuery.Acted r) {
        return r.missing() ? new Answers.Missing(r.name()) : new Answers.Result(r.name(), r.ok(), r.message(), r.state(), r.pid());
    }
}
