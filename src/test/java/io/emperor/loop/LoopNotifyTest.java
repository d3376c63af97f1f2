package io.emperor.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.source.dir.Snapshot;
import io.emperor.systemd.Messages;
import io.emperor.systemd.Notifier;
import io.emperor.systemd.NotifyListener;
import io.emperor.systemd.NotifyingHost;
import io.emperor.vassal.Lifecycle;
import io.emperor.vassal.Policy;
import io.emperor.vassal.Specs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The loop and systemd: a real loop thread (system clock, fake launcher) whose NotifyingHost
 * sends to a real datagram socket. The watchdog is a loop deadline, so a loop held in one event
 * (a status query whose answer waits on a latch, as any event the loop is slow on) stops the pings.
 */
class LoopNotifyTest {
    static final Duration WAIT = io.emperor.testing.Poll.WAIT;

    final LoopTest.FakeLauncher launcher = new LoopTest.FakeLauncher();
    final List<String> calls = new ArrayList<>();

    EmperorLoop loop(Notifier notifier, OptionalLong watchdog) {
        EmperorLoop.Host inner = new EmperorLoop.Host() {
            @Override
            public Optional<Policy> reloadConfig() {
                calls.add("reload");
                return Optional.empty();
            }

            @Override
            public void stopWatching() {
                calls.add("stopWatching");
            }
        };
        return new EmperorLoop(new Lifecycle(new Policy(Duration.ofSeconds(10), Duration.ofSeconds(60))), launcher,
                Clock.system(), new NotifyingHost(inner, notifier, Clock.system(), watchdog));
    }

    static Thread start(EmperorLoop loop) {
        return io.emperor.testing.LoopThread.start(loop, "test-emperor-loop");
    }

    @Test
    void watchdogPingsKeepComingWhileTheLoopTurnsAndStopWhileItIsStuck() throws Exception {
        try (NotifyListener l = NotifyListener.abstractName(); Notifier n = Notifier.to(l.notifySocket())) {
            EmperorLoop loop = loop(n, OptionalLong.of(Duration.ofMillis(50).toNanos()));
            Thread t = start(loop);
            for (int i = 0; i < 5; i++) {
                assertEquals(Messages.WATCHDOG, l.await(Messages.WATCHDOG::equals, WAIT));
            }
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            loop.ask(new LoopQuery.Snapshot(new LoopQuery.Asker<>() {
                @Override
                public void answer(LoopSnapshot answer) {
                    // On the loop thread: held here, as a slow answer would hold it.
                    entered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }

                @Override
                public void failed(RuntimeException e) {
                    entered.countDown();
                }
            }));
            entered.await();
            while (l.next(Duration.ofMillis(20)).isPresent()) {
                // drain what was sent just before the loop got stuck
            }
            assertEquals(Optional.empty(), l.next(Duration.ofMillis(400)), "no WATCHDOG=1 while the loop is stuck");
            release.countDown();
            assertEquals(Messages.WATCHDOG, l.await(Messages.WATCHDOG::equals, WAIT));
            loop.post(new LoopEvent.SignalReceived("TERM"));
            t.join(WAIT.toMillis());
            assertTrue(!t.isAlive(), "the loop ended after TERM with no vassals");
        }
    }

    @Test
    void readyStatusReloadAndStoppingInTheLoopsOrder() throws Exception {
        try (NotifyListener l = NotifyListener.atPath(java.nio.file.Files.createTempDirectory("notify").resolve("s"));
                Notifier n = Notifier.to(l.notifySocket())) {
            EmperorLoop loop = loop(n, OptionalLong.empty());
            Thread t = start(loop);
            LoopTest files = new LoopTest();
            loop.post(new LoopEvent.Scanned(new Snapshot(Map.of("a", files.file(Specs.program("a", "/bin/a")),
                    "b", files.broken("b")), Set.of())));
            assertEquals(Optional.of(Messages.READY), l.next(WAIT));
            assertEquals(Optional.of("STATUS=0 running, 0 backing off, 1 failed"), l.next(WAIT));
            loop.post(new LoopEvent.ForVassal("a", new io.emperor.vassal.Event.ExecDone(1)));
            assertEquals(Optional.of("STATUS=1 running, 0 backing off, 1 failed"), l.next(WAIT));

            long before = System.nanoTime() / 1000;
            loop.post(new LoopEvent.SignalReceived("HUP"));
            String reloading = l.next(WAIT).orElseThrow();
            long after = System.nanoTime() / 1000;
            assertTrue(reloading.startsWith("RELOADING=1\nMONOTONIC_USEC="), reloading);
            long usec = Long.parseLong(reloading.substring(reloading.indexOf('=', 12) + 1));
            assertTrue(before <= usec && usec <= after, before + " <= " + usec + " <= " + after);
            assertEquals(Optional.of(Messages.READY), l.next(WAIT));

            loop.post(new LoopEvent.SignalReceived("TERM"));
            assertEquals(Optional.of(Messages.STOPPING), l.next(WAIT));
            loop.post(new LoopEvent.Ended("a", 1));
            t.join(WAIT.toMillis());
            assertTrue(!t.isAlive(), "the loop ended once a had exited");
            assertEquals(List.of("reload", "stopWatching"), calls);
        }
    }
}
