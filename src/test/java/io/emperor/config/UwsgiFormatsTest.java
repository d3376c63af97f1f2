package io.emperor.config;

import static io.emperor.config.ProblemLines.errors;
import static io.emperor.config.ProblemLines.warnings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * uWSGI vassals in YAML, JSON and XML (issue 12 item 2): read as uWSGI reads them, what the emperor
 * needs taken as uWSGI takes it, what uWSGI builds read differently reported with FILE:LINE, and
 * bounded against a tenant's file (depth bombs, entities). Pure: no process.
 */
class UwsgiFormatsTest {
    @TempDir
    Path dir;

    private final VassalParser parser = new VassalParser(FakeUserDb.standard(), "host1", Map.of());

    private Parsed<VassalSpec> parse(String fileName, String text) {
        Path file = dir.resolve(fileName);
        return parser.parse(file, text.getBytes(StandardCharsets.UTF_8));
    }

    private VassalSpec ok(String fileName, String text) {
        Parsed<VassalSpec> p = parse(fileName, text);
        assertTrue(p.isOk(), () -> String.join("\n", errors(p)));
        return p.value();
    }

    private String f(String fileName) {
        return dir.resolve(fileName).toString();
    }

    // --- the three formats, as the Plone training would write them ---

    @Test
    void aYamlVassalIsAUwsgiVassalNamedByItsStem() {
        VassalSpec spec = ok("plone.yaml", String.join("\n",
                "# the Plone site",
                "uwsgi:",
                "  http-socket: 127.0.0.1:8080",
                "  plugins: python3",
                "  master: true",
                "  graceful-shutdown: 1",
                "  env: A=1",
                "  env: B=2",
                "other:",
                "  master: false",
                ""));
        assertEquals("plone", spec.name());
        assertEquals(VassalSpec.Kind.UWSGI, spec.kind());
        assertEquals(new VassalSpec.Uwsgi(true, true), spec.uwsgi());
        assertEquals(dir, spec.chdir());
        assertEquals("plone", ok("plone.yml", "uwsgi:\n  master: false\n").name());
    }

    @Test
    void aJsonVassalIsAUwsgiVassal() {
        VassalSpec spec = ok("plone.json", """
                {"comment": {"master": false},
                 "uwsgi": {
                   "http-socket": "127.0.0.1:8080",
                   "master": true,
                   "graceful-shutdown": "on",
                   "env": ["A=1", "B=2"],
                   "processes": 2
                 }}
                """);
        assertEquals("plone", spec.name());
        assertEquals(new VassalSpec.Uwsgi(true, true), spec.uwsgi());
        assertEquals("plone", ok("plone.js", "{\"uwsgi\": {\"master\": 1}}").name(), ".js is JSON to uWSGI");
    }

    @Test
    void anXmlVassalIsAUwsgiVassal() {
        VassalSpec spec = ok("plone.xml", """
                <?xml version="1.0"?>
                <uwsgi>
                  <!-- the Plone site -->
                  <http-socket>127.0.0.1:8080</http-socket>
                  <master/>
                  <graceful-shutdown>true</graceful-shutdown>
                  <app mountpoint="/"><script>app</script></app>
                </uwsgi>
                """);
        assertEquals("plone", spec.name());
        assertEquals(new VassalSpec.Uwsgi(true, true), spec.uwsgi());
        VassalSpec nested = ok("n.xml", "<config><other/><uwsgi><master>false</master></uwsgi></config>");
        assertEquals(VassalSpec.Uwsgi.DEFAULTS, nested.uwsgi(), "the first <uwsgi> inside the root");
    }

    // --- values as uWSGI takes them ---

    @ParameterizedTest(name = "yaml master: {0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "true|true", "1|true", "yes|true", "on|true", "~|true", "anything|true",
        "false|false", "False|false", "0|false", "off|false", "no|false", "NO|false",
        "false # a comment|false",
    })
    void yamlMasterIsUwsgisBoolean(String value, boolean master) {
        assertEquals(master, ok("m.yaml", "uwsgi:\n  master: " + value + "\n").uwsgi().master());
    }

    @ParameterizedTest(name = "json master: {0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "true|true", "1|true", "2|true", "\"true\"|true", "\"\"|true", "[false, true]|true",
        "false|false", "null|false", "0|false", "\"off\"|false", "\"no\"|false", "[true, false]|false",
    })
    void jsonMasterIsUwsgisBoolean(String value, boolean master) {
        assertEquals(master, ok("m.json", "{\"uwsgi\": {\"master\": " + value + "}}").uwsgi().master());
    }

    @ParameterizedTest(name = "xml {0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "<master/>|true", "<master></master>|true", "<master>1</master>|true", "<master>true</master>|true",
        "<master>false</master>|false", "<master>0</master>|false", "<master>OFF</master>|false",
        "<master>fa&#108;se</master>|false", "<master> false </master>|true",
    })
    void xmlMasterIsUwsgisBoolean(String element, boolean master) {
        assertEquals(master, ok("m.xml", "<uwsgi>" + element + "</uwsgi>").uwsgi().master());
    }

    @Test
    void aRepeatedKeyIsTwoOptionsAndTheLastWins() {
        assertFalse(ok("r.yaml", "uwsgi:\n  master: true\n  master: false\n").uwsgi().master());
        assertFalse(ok("r.xml", "<uwsgi><master/><master>0</master></uwsgi>").uwsgi().master());
    }

    @Test
    void spacesAroundAnXmlValueAreKeptAsUwsgiKeepsThemWithAWarning() {
        Parsed<VassalSpec> p = parse("s.xml", "<uwsgi>\n<master>\n  false\n</master>\n</uwsgi>");
        assertTrue(p.value().uwsgi().master(), "uWSGI compares \"\\n  false\\n\" with false: not equal, so true");
        assertEquals(List.of(f("s.xml") + ":2: master: uWSGI takes the value with its spaces and line ends, which"
                + " makes it true (only exactly false, off, no or 0 is false); write <master>false</master>"),
                warnings(p));
    }

    // --- what uWSGI builds read differently ---

    @Test
    void aYamlValueTheBuildsReadDifferentlyIsAnErrorForMasterAndAWarningElsewhere() {
        // libyaml removes the quotes: false; uWSGI's own reader keeps them: "false" is true.
        assertEquals(List.of(f("q.yaml") + ":2: master: uWSGI builds read this value differently: \"false\" with"
                + " libyaml, \"'false'\" with uWSGI's own YAML reader; write it plain, as master: true or master: false"),
                errors(parse("q.yaml", "uwsgi:\n  master: 'false'\n")));
        // A CR line end: libyaml drops it, uWSGI's own reader keeps it ("false\r" is true).
        assertEquals(1, errors(parse("crlf.yaml", "uwsgi:\r\n  master: false\r\n")).size());
        assertTrue(ok("crlf2.yaml", "uwsgi:\r\n  master: true\r\n").uwsgi().master(), "true either way");
        Parsed<VassalSpec> p = parse("w.yaml", "uwsgi:\n  socket: \"/run/a.sock\"\n  cron: a#b\n");
        assertTrue(p.isOk());
        assertEquals(List.of(
                f("w.yaml") + ":2: socket: uWSGI builds read this value differently: \"/run/a.sock\" with libyaml,"
                        + " \"\"/run/a.sock\"\" with uWSGI's own YAML reader",
                f("w.yaml") + ":3: cron: uWSGI builds read this value differently: \"a#b\" with libyaml, \"a\" with"
                        + " uWSGI's own YAML reader"), warnings(p));
    }

    @Test
    void aJsonNumberTheBuildsReadDifferentlyIsAnErrorForMaster() {
        assertEquals(List.of(f("n.json") + ":1: master: 1.0: uWSGI with yajl reads the number as written, with"
                + " jansson not at all; write an integer or a string"),
                errors(parse("n.json", "{\"uwsgi\": {\"master\": 1.0}}")));
        assertEquals(1, errors(parse("n0.json", "{\"uwsgi\": {\"master\": -0}}")).size(), "\"-0\" or 0");
        Parsed<VassalSpec> p = parse("w.json", "{\"uwsgi\": {\"harakiri\": 1.5, \"x\": {\"a\": 1}}}");
        assertTrue(p.isOk());
        assertEquals(2, warnings(p).size(), () -> String.join("\n", warnings(p)));
    }

    @Test
    void aJsonMemberGivenTwiceIsAnError() {
        assertEquals(List.of(f("d.json") + ":3: master: given twice (uWSGI with jansson reads only the last, with"
                + " yajl every one); for several values write one array"),
                errors(parse("d.json", "{\"uwsgi\": {\n\"master\": true,\n\"master\": false}}")));
        assertEquals(List.of(f("d2.json") + ":2: not valid JSON: \"uwsgi\" is given twice (uWSGI builds disagree"
                + " on which one they read)"), errors(parse("d2.json", "{\"uwsgi\": {},\n\"uwsgi\": {}}")));
    }

    @Test
    void xmlMasterWithSomethingElseInsideIsAnError() {
        assertEquals(List.of(f("c.xml") + ":1: master: a comment inside: uWSGI takes the first thing inside as the"
                + " value; write <master>true</master> or <master>false</master>"),
                errors(parse("c.xml", "<uwsgi><master><!-- off -->false</master></uwsgi>")));
        assertEquals(1, errors(parse("e.xml", "<uwsgi><master><b>0</b></master></uwsgi>")).size());
        assertEquals(1, errors(parse("d.xml", "<uwsgi><master><![CDATA[false]]></master></uwsgi>")).size());
    }

    // --- malformed ---

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', quoteCharacter = '`', value = {
        "no block;socket: :3031\\n;no uwsgi: block",
        "value on the uwsgi line;uwsgi: yes\\n  master: true\\n;:1: uwsgi: its options go on the lines below it",
        "empty block;uwsgi:\\nother: 1\\n;:1: uwsgi: the block has no options",
        "list item;uwsgi:\\n  socket:\\n    - a\\n;:2: socket: no value",
        "list item below;uwsgi:\\n  socket: a\\n    - a\\n;:3: a list item",
        "list item 2;uwsgi:\\n  - a\\n;:2: a list item",
        "flow list;uwsgi:\\n  socket: [a, b]\\n;:2: socket: a value starting with [",
        "block scalar;uwsgi:\\n  eval: |\\n;:2: eval: a value starting with |",
        "anchor;uwsgi:\\n  master: &m true\\n;:2: master: a value starting with &",
        "tab;uwsgi:\\n\\tmaster: true\\n;:2: a tab in the indentation",
        "indent;uwsgi:\\n  master: true\\n    processes: 2\\n;:3: indented 4 spaces",
        "no colon;uwsgi:\\n  master true\\n;:2: expected KEY: VALUE",
        "colon in value;uwsgi:\\n  route: a: b\\n;:2: route: \": \"",
        "open quote;uwsgi:\\n  master: \"true\\n;:2: master: a quoted value that does not end on its line",
    })
    void malformedYaml(String what, String text, String error) {
        List<String> e = errors(parse("bad.yaml", text.replace("\\n", "\n").replace("\\t", "\t")));
        assertTrue(e.size() >= 1 && e.get(0).contains(error), () -> what + ": " + e);
        assertTrue(e.get(0).startsWith(f("bad.yaml") + ":") || e.get(0).startsWith(f("bad.yaml") + ": "), e::toString);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "not json|uwsgi: {}|:1: not valid JSON: unexpected character 'u'",
        "trailing comma|{\"uwsgi\": {\"master\": true,}\\n}|:1: not valid JSON: expected a member name in quotes",
        "unterminated|{\"uwsgi\": {\\n\"master\": \"tr|:2: not valid JSON: unterminated string",
        "no uwsgi|{\"app\": {}}|: no \"uwsgi\" object",
        "uwsgi not an object|{\"uwsgi\": [1]}|:1: not valid JSON: \"uwsgi\" is not an object",
        "uwsgi a string|{\"uwsgi\": \"x\"}|:1: not valid JSON: \"uwsgi\" is not an object",
        "array|[{\"uwsgi\": {}}]|:1: not valid JSON: the top level is an array",
        "comment|{\"uwsgi\": {} // x\\n}|:1: not valid JSON: expected '}'",
        "after|{\"uwsgi\": {}} {}|:1: not valid JSON: unexpected text after the value",
    })
    void malformedJson(String what, String text, String error) {
        List<String> e = errors(parse("bad.json", text.replace("\\n", "\n")));
        assertEquals(List.of(f("bad.json") + error), e.stream().map(s -> s.length() > (f("bad.json") + error).length()
                ? s.substring(0, (f("bad.json") + error).length()) : s).toList(), () -> what + ": " + e);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "not xml|uwsgi:\\n  master: true|:1: not valid XML: ",
        "unclosed|<uwsgi>\\n<master>\\n</uwsgi>|:3: not valid XML: ",
        "no uwsgi|<config><master/></config>|: no <uwsgi> element",
        "uwsgi too deep|<a><b><uwsgi><master/></uwsgi></b></a>|: no <uwsgi> element",
        "empty|''|:1: not valid XML: ",
    })
    void malformedXml(String what, String text, String error) {
        List<String> e = errors(parse("bad.xml", text.replace("\\n", "\n")));
        assertEquals(1, e.size(), () -> what + ": " + e);
        assertTrue(e.get(0).startsWith(f("bad.xml") + error), () -> what + ": " + e);
    }

    @Test
    void textRulesAreTheIniReadersInEveryFormat() {
        for (String name : List.of("b.yaml", "b.json", "b.xml")) {
            Path file = dir.resolve(name);
            assertEquals(List.of(file + ":1: contains a NUL byte"),
                    errors(parser.parse(file, "<uwsgi>\0</uwsgi>".getBytes(StandardCharsets.UTF_8))));
            assertEquals(List.of(file + ": file is larger than 1 MiB"),
                    errors(parser.parse(file, new byte[IniReader.MAX_BYTES + 1])));
            assertEquals(List.of(file + ":1: not valid UTF-8 text"),
                    errors(parser.parse(file, new byte[] {'<', (byte) 0xff, '>'})));
        }
    }

    // --- a tenant's file against the emperor ---

    @Test
    void depthBombsAreRefusedQuicklyWithoutAStackOverflow() {
        int n = IniReader.MAX_BYTES / 2 - 10;
        String json = "{\"uwsgi\": {\"a\": " + "[".repeat(n) + "]".repeat(n) + "}}";
        assertEquals(List.of(f("bomb.json") + ":1: not valid JSON: nested deeper than 32"),
                errors(parse("bomb.json", json)));
        String xml = "<uwsgi>" + "<a>".repeat(IniReader.MAX_BYTES / 8) + "</a>".repeat(IniReader.MAX_BYTES / 8) + "</uwsgi>";
        assertEquals(List.of(f("bomb.xml") + ":1: not valid XML: nested deeper than 32"),
                errors(parse("bomb.xml", xml)));
        String yaml = "uwsgi:\n" + " ".repeat(IniReader.MAX_LINE + 1) + "master: true\n";
        assertEquals(List.of(f("long.yaml") + ":2: line is longer than 65536 characters"), errors(parse("long.yaml", yaml)));
    }

    @Test
    void manyMembersAreReadInOnePass() {
        StringBuilder sb = new StringBuilder("{\"uwsgi\": {\n");
        for (int i = 0; i < 40_000; i++) {
            sb.append("\"k").append(i).append("\": \"v\",\n");
        }
        sb.append("\"master\": true}}");
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertTrue(ok("many.json", sb.toString()).uwsgi().master()));
    }

    /**
     * XXE: a tenant's .xml names another file in an entity or a DTD. The target is a FIFO that
     * nobody writes: a parser that tried to open it would block here forever. Every form is
     * refused at the DOCTYPE, quickly, and no problem carries the file's content.
     */
    @Test
    void externalEntitiesAndDtdsAreNeverOpened() throws IOException, InterruptedException {
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mkfifo.waitFor());
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "SECRET-CONTENT\n");
        List<String> attacks = List.of(
                "<!DOCTYPE uwsgi [<!ENTITY x SYSTEM \"file://" + fifo + "\">]>\n<uwsgi><master>&x;</master></uwsgi>",
                "<!DOCTYPE uwsgi [<!ENTITY x SYSTEM \"file://" + secret + "\">]>\n<uwsgi><socket>&x;</socket></uwsgi>",
                "<!DOCTYPE uwsgi [<!ENTITY x SYSTEM \"/etc/shadow\">]>\n<uwsgi><socket>&x;</socket></uwsgi>",
                "<!DOCTYPE uwsgi SYSTEM \"file://" + fifo + "\">\n<uwsgi><master/></uwsgi>",
                "<!DOCTYPE uwsgi [<!ENTITY % p SYSTEM \"file://" + fifo + "\"> %p;]>\n<uwsgi/>",
                "<?xml version=\"1.0\"?>\n<!DOCTYPE uwsgi [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;"
                        + "&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>\n<uwsgi><socket>&c;</socket></uwsgi>",
                "<uwsgi xmlns:xi=\"http://www.w3.org/2001/XInclude\"><socket><xi:include href=\"file://" + fifo
                        + "\" parse=\"text\"/></socket></uwsgi>");
        for (String xml : attacks) {
            Parsed<VassalSpec> p = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> parse("x.xml", xml),
                    "the parser opened the FIFO: " + xml);
            String all = String.join("\n", errors(p)) + String.join("\n", warnings(p));
            assertFalse(all.contains("SECRET"), all);
            if (xml.contains("DOCTYPE")) {
                assertEquals(List.of(f("x.xml") + ":" + (xml.startsWith("<?xml") ? 2 : 1)
                        + ": not valid XML: a DOCTYPE is not allowed (entities and DTDs could read other files);"
                        + " remove it"), errors(p), xml);
            } else {
                assertTrue(p.isOk(), "XInclude is not processed: the element is only an element");
            }
        }
    }

    /**
     * Seeded mutations of a good file of each format (bytes replaced, inserted, deleted; lines
     * duplicated): the parser never throws, and every problem names the file. The seed is
     * printed; -Demperor.fuzz.seed=N replays.
     */
    @Test
    void mutatedFilesNeverThrowAndEveryProblemNamesTheFile() {
        long seed = Long.getLong("emperor.fuzz.seed", System.nanoTime());
        System.out.println("UwsgiFormatsTest fuzz seed " + seed);
        java.util.Random random = new java.util.Random(seed);
        Map<String, String> good = Map.of(
                "f.yaml", "# c\nuwsgi:\n  master: true\n  env: 'A=1'\n  socket: \"/run/x\\t.sock\" # s\n  b: a#b\nx:\n  y: 1\n",
                "f.json", "{\"uwsgi\": {\"master\": true, \"env\": [\"A=1\", 2, null, [1], {}], \"n\": 1.5,"
                        + " \"s\": \"\\u00e9\\n\"}, \"x\": [1, {\"a\": false}]}\n",
                "f.xml", "<?xml version=\"1.0\"?>\n<r><uwsgi><master>1</master><env>A=1</env><!-- c --><x><![CDATA[y]]></x>"
                        + "<app mountpoint=\"/\"><s>a</s></app></uwsgi><uwsgi/></r>\n");
        String alphabet = "uwsgi:{}[]<>/\"'#-&*!|>\\ \t\r\n=0aé\u0000";
        for (Map.Entry<String, String> e : good.entrySet()) {
            Path file = dir.resolve(e.getKey());
            for (int i = 0; i < 600; i++) {
                StringBuilder sb = new StringBuilder(e.getValue());
                for (int m = 1 + random.nextInt(4); m > 0; m--) {
                    int at = random.nextInt(sb.length() + 1);
                    char c = alphabet.charAt(random.nextInt(alphabet.length()));
                    switch (random.nextInt(4)) {
                        case 0 -> sb.insert(at, c);
                        case 1 -> { if (at < sb.length()) sb.setCharAt(at, c); }
                        case 2 -> { if (at < sb.length()) sb.deleteCharAt(at); }
                        default -> sb.insert(at, sb.substring(at, Math.min(sb.length(), at + random.nextInt(20))));
                    }
                }
                String text = sb.toString();
                Parsed<VassalSpec> p = parser.parse(file, text.getBytes(StandardCharsets.UTF_8));
                for (Problem problem : p.errors()) {
                    assertEquals(file, problem.file(), () -> "seed " + seed + ": " + text);
                    assertTrue(problem.line() >= 0, () -> "seed " + seed + ": " + text);
                }
                for (Problem problem : p.warnings()) {
                    assertEquals(file, problem.file(), () -> "seed " + seed + ": " + text);
                }
            }
        }
    }

    // --- names and command lines ---

    @Test
    void theUwsgiOptionFollowsTheExtension() {
        UwsgiCommand c = UwsgiCommand.DEFAULT;
        assertEquals(List.of("uwsgi", "--yaml", "/v/a.yaml"), c.argv(Path.of("/v/a.yaml")));
        assertEquals(List.of("uwsgi", "--yaml", "/v/a.yml"), c.argv(Path.of("/v/a.yml")));
        assertEquals(List.of("uwsgi", "--json", "/v/a.json"), c.argv(Path.of("/v/a.json")));
        assertEquals(List.of("uwsgi", "--json", "/v/a.js"), c.argv(Path.of("/v/a.js")));
        assertEquals(List.of("uwsgi", "--xml", "/v/a.xml"), c.argv(Path.of("/v/a.xml")));
        assertEquals(List.of("uwsgi", "--ini", "/v/a.ini"), c.argv(Path.of("/v/a.ini")));
    }

    @Test
    void inTyrantModeUidAndGidInAYamlFileGetTheIniFilesWarning() {
        VassalParser tyrant = new VassalParser(FakeUserDb.standard(), "host1", Map.of(), true);
        Path file = dir.resolve("t.yaml");
        Parsed<VassalSpec> p = tyrant.parse(file, "uwsgi:\n  uid: www-data\n  master: true\n".getBytes(StandardCharsets.UTF_8));
        assertTrue(p.isOk());
        assertEquals(1, warnings(p).size());
        assertTrue(warnings(p).get(0).startsWith(file + ":2: uid: tyrant mode already runs the vassal as the owner"),
                warnings(p)::toString);
    }

    @Test
    void aFormatChangeOfAUwsgiVassalIsARestartNotAReload() {
        VassalSpec ini = ok("app.ini", "[uwsgi]\nmaster = true\n");
        VassalSpec yaml = ok("app.yaml", "uwsgi:\n  master: true\n");
        assertEquals(ini.name(), yaml.name());
        assertTrue(ini.needsRestartFor(yaml), "uWSGI re-execs its argv on a reload, which names app.ini");
    }
}
