package io.emperor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The log lines and error texts the docs promise are the ones the code writes (issue 16 §7), both
 * ways:
 * <ul>
 *   <li>every {@code EmperorLog.info/warn/error("TEXT…")} of the code has its fixed beginning
 *       somewhere in docs/ (the LOG LINES tables of emperor.8.md, mostly), or is in
 *       {@link #UNDOCUMENTED} with the reason;</li>
 *   <li>every row of {@link #PROMISED} (a text a doc shows, and the literal of the code that
 *       writes it) is found on both sides.</li>
 * </ul>
 * A failure names the text, the file and the side that lost it. Changing a line's wording means
 * changing its doc row (and its {@link #PROMISED} row if it has one) in the same commit.
 */
class DocumentedLinesTest {
    static final Path ROOT = Path.of(System.getProperty("user.dir"));

    /** Log calls whose text is deliberately not in docs/, with why. */
    static final Map<String, String> UNDOCUMENTED = Map.of();

    /** A text a doc promises ({@code doc} contains {@code docText}) and the code literal that writes it. */
    record Promise(String doc, String docText, String source, String codeText) {}

    static final List<Promise> PROMISED = List.of(
            new Promise("docs/emperor.8.md", "`(fatal error)`", "src/main/java/io/emperor/loop/EmperorLoop.java",
                    "beginShutdown(\"fatal error\")"),
            new Promise("docs/emperor.8.md", "`stopping N vassal(s) (SIGTERM)`", "src/main/java/io/emperor/loop/EmperorLoop.java",
                    "\"stopping \" + vassals.size() + \" vassal(s) (\" + why + \")\""),
            new Promise("docs/emperor.8.md", "`NAME: restarting: reload = restart ", "src/main/java/io/emperor/vassal/Lifecycle.java",
                    "\"reload = restart\""),
            new Promise("docs/emperor.8.md", "`NAME: restarting: spawn settings changed ", "src/main/java/io/emperor/vassal/Lifecycle.java",
                    "\"spawn settings changed\""),
            new Promise("docs/emperor.8.md", "`socketpair: …`", "src/main/java/io/emperor/os/HelperLauncher.java",
                    "failed(\"socketpair\")"),
            new Promise("docs/emperor.8.md", "`emperor: stats = ADDR: REASON`", "src/main/java/io/emperor/cli/Daemon.java",
                    "\"stats = \" + address + \": \" + why"),
            new Promise("docs/emperor.8.md", "`control socket: cannot read the peer credentials of a client: REASON`",
                    "src/main/java/io/emperor/control/ControlServer.java",
                    "\"control socket: cannot read the peer credentials of a client: \""),
            new Promise("docs/emperor.8.md", "`stats: no snapshot to serve: REASON`",
                    "src/main/java/io/emperor/control/StatsServer.java", "\"stats: no snapshot to serve: \""),
            new Promise("docs/emperor.8.md", "`min-uptime`/`max-backoff`/`required-heartbeat` apply",
                    "src/main/java/io/emperor/cli/Daemon.java",
                    "new Policy(next.minUptime(), next.maxBackoff(), next.requiredHeartbeat())"),
            new Promise("docs/migrating-from-uwsgi.md", "`uwsgi-binary: needs a program name or path`",
                    "src/main/java/io/emperor/config/EmperorConfigParser.java", "\"needs a program name or path\""),
            new Promise("docs/migrating-from-uwsgi.md", "`vassal-set: expected KEY=VALUE: \"VALUE\"`",
                    "src/main/java/io/emperor/config/EmperorConfigParser.java", "\"expected KEY=VALUE: \" + Values.quote"),
            new Promise("docs/migrating-from-uwsgi.md", "`required-heartbeat: must be greater than 0 and at most 86400 seconds",
                    "src/main/java/io/emperor/config/Values.java", "\"must be \" + range + \" seconds: \""),
            new Promise("docs/vassal.ini.5.md", "`no [vassal] or [uwsgi] section`",
                    "src/main/java/io/emperor/config/VassalParser.java", "\"no [vassal] or [uwsgi] section\""),
            new Promise("docs/control.md", "`\"timeout\" must be a number of seconds between 0 and 86400`",
                    "src/main/java/io/emperor/control/Requests.java",
                    "\"\\\"timeout\\\" must be a number of seconds between 0 and 86400\""),
            new Promise("docs/control.md", "`too-long` | a request line over 16 KiB",
                    "src/main/java/io/emperor/control/ControlServer.java", "failure(\"too-long\", \"request longer than \""),
            new Promise("docs/control.md", "`busy` | already 256 clients connected",
                    "src/main/java/io/emperor/control/ControlServer.java", "refuseBusy(fd, \"too many control clients (\""));

    private static final Pattern LOG_CALL = Pattern.compile("EmperorLog\\.(?:info|warn|error)\\(\"((?:[^\"\\\\]|\\\\.)*)\"");

    @Test
    void everyLogLineOfTheCodeIsInTheDocs() throws IOException {
        String docs = docs();
        List<String> missing = new ArrayList<>();
        try (Stream<Path> files = Files.walk(ROOT.resolve("src/main/java"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = LOG_CALL.matcher(lines.get(i));
                    while (m.find()) {
                        String text = m.group(1).replace("\\\"", "\"").replaceAll("[:; ]+$", "");
                        if (!text.isEmpty() && !docs.contains(text) && !UNDOCUMENTED.containsKey(text)) {
                            missing.add(ROOT.relativize(f) + ":" + (i + 1) + ": \"" + text + "\"");
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), missing, "log lines the code writes and no doc shows: add them to the LOG LINES tables"
                + " of docs/emperor.8.md (or to UNDOCUMENTED, with why)");
    }

    @Test
    void everyPromisedTextIsInItsDocAndInTheCode() throws IOException {
        List<String> lost = new ArrayList<>();
        for (Promise p : PROMISED) {
            if (!Files.readString(ROOT.resolve(p.doc())).contains(p.docText())) {
                lost.add(p.doc() + " no longer shows " + p.docText());
            }
            if (!Files.readString(ROOT.resolve(p.source())).contains(p.codeText())) {
                lost.add(p.source() + " no longer writes " + p.codeText() + " (promised by " + p.doc() + ": " + p.docText() + ")");
            }
        }
        assertEquals(List.of(), lost);
    }

    /** The example of emperor.8.md has the settings of etc/emperor.ini, no more, no fewer (comments may differ). */
    @Test
    void theExampleEmperorIniIsTheShippedOne() throws IOException {
        String page = Files.readString(ROOT.resolve("docs/emperor.8.md"));
        int at = page.indexOf("Example (`etc/emperor.ini`");
        String block = page.substring(page.indexOf("```ini\n", at) + 7, page.indexOf("```", page.indexOf("```ini\n", at) + 7));
        assertEquals(settings(List.of(block.split("\n"))), settings(Files.readAllLines(ROOT.resolve("etc/emperor.ini"))),
                "docs/emperor.8.md's example against etc/emperor.ini");
    }

    /** The lines of an ini text that are neither comments nor blank; commented-out keys count too. */
    private static List<String> settings(List<String> lines) {
        return lines.stream().map(String::strip)
                .filter(l -> !l.isEmpty() && (!l.startsWith(";") || l.matches(";\\s*[a-z-]+ = .*")))
                .toList();
    }

    private static String docs() throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".md")).sorted().toList()) {
                sb.append(Files.readString(f)).append('\n');
            }
        }
        return sb.toString();
    }
}
