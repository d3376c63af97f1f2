package io.emperor.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON of the control socket and the stats (jackson-jr with our strings and numbers): escaping, numbers, errors, bounds. */
class JsonTest {

    @Test
    void stringsAreAlwaysEscaped() {
        assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f\"", Json.write("a\"b\\c\n\r\t\u0001\u007f"));
        assertEquals("\"\\u2028\"", Json.write("\u2028"), "a JavaScript line terminator");
        assertEquals("\"\\ud800x\"", Json.write("\ud800x"), "a lone surrogate");
        assertEquals("\"\uD83D\uDE00\"", Json.write("\uD83D\uDE00"), "a pair stays");
    }

    @Test
    void valuesAndOrder() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("z", 1);
        m.put("a", List.of(true, false));
        m.put("n", null);
        m.put("d", 1795969800.51);
        m.put("lag", 0.00012075);
        m.put("whole", 2.0);
        m.put("nan", Double.NaN);
        assertEquals("{\"z\":1,\"a\":[true,false],\"n\":null,\"d\":1795969800.51,\"lag\":0.00012075,\"whole\":2,\"nan\":null}",
                Json.write(m));
    }

    @Test
    void parsesWhatItWrites() throws Json.ParseException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cmd", "status");
        m.put("names", List.of("a\"b", "\u00e9t\u00e9"));
        m.put("lines", 5L);
        m.put("x", -1.5);
        m.put("follow", false);
        m.put("none", null);
        assertEquals(m, Json.parseObject(Json.write(m)));
        assertEquals(Map.of("s", "\u00e9\n/"), Json.parseObject(" {\"s\" : \"\\u00e9\\n\\/\"} \n"));
    }

    @Test
    void badTextSaysWhere() {
        assertEquals("at character 15: Unrecognized token 'status': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
                assertThrows(Json.ParseException.class, () -> Json.parseObject("{\"cmd\": status}")).getMessage());
        assertEquals("at character 8: Unexpected character ('\"' (code 34)): was expecting a colon to separate field name and value",
                assertThrows(Json.ParseException.class, () -> Json.parseObject("{\"cmd\" \"x\"}")).getMessage());
        assertEquals("expected a JSON object",
                assertThrows(Json.ParseException.class, () -> Json.parseObject("[1]")).getMessage());
        assertEquals("at character 4: unexpected text after the value",
                assertThrows(Json.ParseException.class, () -> Json.parseObject("{} {}")).getMessage());
        assertEquals("at character 11: Duplicate field 'a'",
                assertThrows(Json.ParseException.class, () -> Json.parseObject("{\"a\":1,\"a\":2}")).getMessage());
        assertThrows(Json.ParseException.class, () -> Json.parseObject("{\"a\":\"x"));
        assertThrows(Json.ParseException.class, () -> Json.parseObject("{\"a\":tru}"));
        assertThrows(Json.ParseException.class, () -> Json.parseObject("{\"a\":1e999999999999999999999999999999999999999}"));
        assertEquals("at character 6: bad number 1e999",
                assertThrows(Json.ParseException.class, () -> Json.parseObject("{\"a\":1e999}")).getMessage());
    }

    @Test
    void nestingIsBounded() {
        char[] open = new char[10_000];
        Arrays.fill(open, '[');
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(new String(open)));
        assertEquals("at character 33: nested deeper than 32", e.getMessage());
    }

    @Test
    void integersComeAsLongsAndRecordsAsSnakeCaseInOrder() throws Json.ParseException {
        assertEquals(Map.of("n", 5L, "big", 1.8446744073709552E19, "x", 0.5),
                Json.parseObject("{\"n\":5,\"big\":18446744073709551616,\"x\":0.5}"));
        record Sample(String zeta, Double startedAt, long alpha, List<String> names) {}
        assertEquals("{\"zeta\":null,\"started_at\":1.5,\"alpha\":2,\"names\":[\"a\\u2028\"]}",
                Json.write(new Sample(null, 1.5, 2, List.of("a\u2028"))));
    }

    @Test
    void theClientsRequestsNeedNoRecordWriter() throws Json.ParseException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cmd", "logs");
        m.put("names", List.of("a\"b"));
        m.put("lines", 5L);
        m.put("wait", false);
        m.put("timeout", 1.5);
        assertEquals("{\"cmd\":\"logs\",\"names\":[\"a\\\"b\"],\"lines\":5,\"wait\":false,\"timeout\":1.5}",
                ClientJson.write(m));
        assertEquals(m, Json.parseObject(ClientJson.write(m)));
        assertEquals(m, ClientJson.parseObject(ClientJson.write(m)));
        assertEquals(Json.write(m), ClientJson.write(m), "the same bytes as the server's encoder");
    }
}
