package io.emperor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.emperor.testing.Poll;
import io.emperor.testing.VassalFuzz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The fuzzer of issue 11: at least 1,000 generated malformed vassal files ({@link VassalFuzz})
 * dropped, in batches, into one running emperor, and all passed to {@code emperor check}. No
 * stack trace, no thread death, every file either spawned or named with a reason (the emperor's
 * and check's verdicts agree), and a good file dropped afterwards still spawns and reloads.
 *
 * <p>Seeded: the seed is printed; {@code -Demperor.fuzz.seed=N} replays it,
 * {@code -Demperor.fuzz.files=N} sets how many files (default 1000).
 */
class FuzzIT extends ItSupport {
    private static final int BATCH = 100;
    private static final Pattern VERDICT = Pattern.compile(
            "^\\S+ \\[emperor\\] (f\\d+): (spawned pid=|spawn failed: |refused: )");
    /** What must never be in the emperor's log: a stack trace line, a dead or failing thread. */
    private static final Pattern NEVER = Pattern.compile(
            "^\\s|Exception|\\tat |\\[emperor\\] (bug:|fatal:|scan failed|directory watcher)|: reading .* failed: ");

    @Test
    void malformedFilesAreEachRefusedWithAReasonOrRunAndTheEmperorKeepsWorking() throws IOException {
        long seed = Long.getLong("emperor.fuzz.seed", System.nanoTime());
        int files = Integer.getInteger("emperor.fuzz.files", 1000);
        System.out.println("FuzzIT seed " + seed + " files " + files + " (replay: -Demperor.fuzz.seed=" + seed + ")");
        Path logs = Files.createDirectories(ws.root.resolve("logs"));
        Path copies = Files.createDirectories(ws.root.resolve("fuzzed"));
        Path fakeUwsgi = ws.root.resolve("fake-uwsgi");
        Files.writeString(fakeUwsgi, "#!/bin/sh\nexec sleep 3600\n");
        Files.setPosixFilePermissions(fakeUwsgi, PosixFilePermissions.fromString("rwxr-xr-x"));
        VassalFuzz fuzz = new VassalFuzz(seed, "/bin/sh -c 'exec sleep 3600' " + ws.marker, logs.toString());

        Map<String, String> how = new LinkedHashMap<>();
        Set<String> refused = new TreeSet<>();
        try (EmperorProcess emp = emperor("uwsgi-binary = " + fakeUwsgi)) {
            for (int start = 0; start < files; start += BATCH) {
                int from = emp.mark();
                List<Path> batch = new ArrayList<>();
                for (int i = start; i < Math.min(files, start + BATCH); i++) {
                    VassalFuzz.Case c = fuzz.next();
                    String name = String.format("f%04d", i);
                    how.put(name, c.how());
                    Workspace.write(copies.resolve(name + ".ini"), c.content());
                    Path file = ws.vassals.resolve(name + ".ini");
                    Workspace.write(file, c.content());
                    batch.add(file);
                }
                Set<String> names = new TreeSet<>(how.keySet()).subSet(String.format("f%04d", start),
                        String.format("f%04d", start + BATCH));
                Map<String, String> verdicts = Poll.until("a verdict for each of " + names.size() + " files",
                        Duration.ofSeconds(60), () -> {
                            Map<String, String> seen = verdicts(emp, from);
                            return seen.keySet().containsAll(names) ? Optional.of(seen) : Optional.empty();
                        }, () -> "missing: " + missing(names, verdicts(emp, from), how) + "\n" + emp.diagnostics());
                verdicts.forEach((name, verdict) -> {
                    if (verdict.equals("refused: ")) {
                        refused.add(name);
                    }
                });
                for (Path file : batch) {
                    Workspace.delete(file);
                }
            }
            System.out.println("FuzzIT: " + (files - refused.size()) + " of " + files + " files parsed (spawned or failed"
                    + " to spawn), " + refused.size() + " refused");
            assertTrue(emp.isAlive(), "the emperor is up");

            // The same files through emperor check, in one run: the same verdicts.
            List<String> args = new ArrayList<>(List.of("check"));
            for (String name : how.keySet()) {
                args.add(copies.resolve(name + ".ini").toString());
            }
            EmperorProcess.CliResult check = EmperorProcess.cli(ws.root, args.toArray(String[]::new));
            assertEquals(refused.isEmpty() ? 0 : 1, check.exitCode(), check.stderr());
            assertTrue(!NEVER.matcher(check.stdout() + check.stderr()).find()
                    && !check.stderr().contains("Exception"), "no stack trace from check:\n" + check.stderr());
            Set<String> named = new TreeSet<>();
            // check also says what a spawn would find (a missing program, chdir or logto directory:
            // FILE: exec|chdir|logto PATH: REASON, no line); the emperor finds those at spawn, not as refusals.
            Pattern spawnCheck = Pattern.compile("(uwsgi-binary: )?(exec|chdir|logto) .*: (No such file or directory|"
                    + "Permission denied|Not a directory).*");
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(copies.toString()) + "/(f\\d+)\\.ini(:\\d+)?: (?!warning: )(.*)$")
                    .matcher(check.stderr());
            while (m.find()) {
                if (m.group(2) != null || !spawnCheck.matcher(m.group(3)).matches()) {
                    named.add(m.group(1));
                }
            }
            if (!refused.equals(named)) {
                Set<String> differ = new TreeSet<>(refused);
                differ.addAll(named);
                differ.removeIf(f -> refused.contains(f) && named.contains(f));
                String said = check.stderr().lines().filter(l -> differ.stream().anyMatch(f -> l.contains("/" + f + ".ini")))
                        .collect(java.util.stream.Collectors.joining("\n"));
                List<String> emperorSaid = emp.lines().stream().filter(l -> differ.stream().anyMatch(f -> l.contains(" " + f + ": ")))
                        .limit(20).toList();
                fail("check and the emperor disagree on " + differ + " (seed " + seed + ")\ncheck:\n" + said
                        + "\nemperor:\n" + String.join("\n", emperorSaid));
            }

            // The emperor still acts on files: a good one spawns and reloads.
            int good = emp.mark();
            ws.vassal("good", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 2");
            Procs.Proc p = awaitRunning(emp, good, "good");
            HostileFilesIT.awaitRunningState(ws, "good");
            emp.mark();
            ws.vassal("good", "exec = " + ws.exec("sleeps.sh"), "stop-timeout = 3");
            emp.awaitLog(Lines.lifecycle("good", Lines.q("reloading signal=HUP pid=" + p.pid()) + "$"));

            List<String> bad = emp.lines().stream().filter(l -> NEVER.matcher(l).find()).limit(10).toList();
            assertEquals(List.of(), bad, "no stack trace, no failing thread in the log (seed " + seed + ")");
            String out = Workspace.read(ws.root.resolve("emperor.out"));
            assertTrue(!out.contains("Exception") && !out.contains("\tat "), "nothing on the emperor's stderr: " + out);

            // Stop it: a second SIGTERM kills whatever a hostile stop-signal left running.
            emp.descendants();
            emp.signal("TERM");
            emp.awaitLog(Lines.emperor("stopping \\d+ vassal\\(s\\)"));
            emp.signal("TERM");
            assertEquals(0, emp.awaitExit(Duration.ofSeconds(60)));
        }
    }

    /** name -> verdict of every file from log line {@code from} on (the first verdict of each). */
    private static Map<String, String> verdicts(EmperorProcess emp, int from) {
        Map<String, String> seen = new LinkedHashMap<>();
        for (LogLine line : emp.find(from, VERDICT)) {
            seen.putIfAbsent(line.group(1), line.group(2));
        }
        return seen;
    }

    private static String missing(Set<String> names, Map<String, String> seen, Map<String, String> how) {
        StringBuilder sb = new StringBuilder();
        for (String name : names) {
            if (!seen.containsKey(name)) {
                sb.append(name).append(" (").append(how.get(name)).append(") ");
            }
        }
        return sb.toString();
    }
}
