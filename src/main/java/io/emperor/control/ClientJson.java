package io.emperor.control;

import io.emperor.config.JsonReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CLI's side of the JSON: its requests out, the answers in, with no JSON library loaded.
 * {@code emperor status} is held to twice a bare JVM's start (issue 13 §5), and jackson-core's
 * factory alone loads some 80 classes (+50 ms of CPU without a class-data archive:
 * bench/status_json.py); the answers are read with {@link JsonReader}, which the emperor has
 * anyway for vassal files in JSON, and the requests (small maps of strings, numbers, booleans and
 * lists) are written with {@link JsonText}. The server side is {@link Json}.
 */
public final class ClientJson {
    private ClientJson() {}

    /** A request as one line of JSON (without the newline): maps, lists, strings, numbers, booleans, null. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object value) {
        if (value == null) {
            sb.append("null");
        } else if (value instanceof String s) {
            JsonText.string(sb, s);
        } else if (value instanceof Boolean b) {
            sb.append(b.booleanValue());
        } else if (value instanceof Double || value instanceof Float) {
            sb.append(JsonText.number(((Number) value).doubleValue()));
        } else if (value instanceof Number n) {
            sb.append(n.longValue());
        } else if (value instanceof Map<?, ?> m) {
            sb.append('{');
            String sep = "";
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(sep);
                sep = ",";
                JsonText.string(sb, String.valueOf(e.getKey()));
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (value instanceof Iterable<?> it) {
            sb.append('[');
            String sep = "";
            for (Object o : it) {
                sb.append(sep);
                sep = ",";
                write(sb, o);
            }
            sb.append(']');
        } else {
            JsonText.string(sb, value.toString());
        }
    }

    /** One answer: a JSON object; integers as {@link Long}, other numbers as {@link Double}. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) throws Json.ParseException {
        Builder b = new Builder();
        try {
            JsonReader.read(text, Json.MAX_DEPTH, b);
        } catch (JsonReader.ParseException e) {
            throw new Json.ParseException("at character " + (e.offset() + 1) + ": " + e.getMessage());
        }
        if (!(b.result instanceof Map)) {
            throw new Json.ParseException("expected a JSON object");
        }
        return (Map<String, Object>) b.result;
    }

    /** Builds maps and lists from what {@link JsonReader} reads. */
    private static final class Builder implements JsonReader.Handler {
        /** The open containers, innermost last; a map's pending key beside it. */
        private final ArrayDeque<Object> open = new ArrayDeque<>();
        private final ArrayDeque<String> keys = new ArrayDeque<>();
        Object result;

        @Override
        public void startObject(int offset) {
            open.push(new LinkedHashMap<String, Object>());
        }

        @Override
        public void key(String key, int offset) throws JsonReader.ParseException {
            if (((Map<?, ?>) open.peek()).containsKey(key)) {
                throw new JsonReader.ParseException(offset, "duplicate member \"" + key + "\"");
            }
            keys.push(key);
        }

        @Override
        public void endObject() {
            add(open.pop());
        }

        @Override
        public void startArray(int offset) {
            open.push(new ArrayList<Object>());
        }

        @Override
        public void endArray() {
            add(open.pop());
        }

        @Override
        public void scalar(Object value, String text, int offset) {
            add(value);
        }

        @SuppressWarnings("unchecked")
        private void add(Object value) {
            Object into = open.peek();
            if (into == null) {
                result = value;
            } else if (into instanceof Map<?, ?> m) {
                ((Map<String, Object>) m).put(keys.pop(), value);
            } else {
                ((List<Object>) into).add(value);
            }
        }
    }
}
