package io.emperor.control;

import io.emperor.config.JsonReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON of the control socket and the stats server, written by hand and read with
 * {@link JsonReader} (no dependency for ~300 lines). Values are {@code null}, {@link Boolean}, {@link Number} ({@link Long} or
 * {@link Double} when parsed), {@link String}, {@link List} and {@link Map} with String keys
 * (insertion order kept). Strings are always escaped: a vassal named {@code a"b} gives valid JSON,
 * unlike uWSGI's stats.
 */
public final class Json {
    /** Deeper nesting than this is refused: a request is a flat object, and recursion stays bounded. */
    public static final int MAX_DEPTH = 32;

    private Json() {}

    /** A text that is not the JSON this reader takes; {@link #getMessage()} says where and why. */
    public static final class ParseException extends Exception {
        public ParseException(String message) {
            super(message);
        }
    }

    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    public static void write(StringBuilder sb, Object value) {
        if (value == null) {
            sb.append("null");
        } else if (value instanceof String s) {
            string(sb, s);
        } else if (value instanceof Boolean b) {
            sb.append(b.booleanValue());
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                sb.append("null");
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                sb.append((long) d);
            } else {
                // Plain digits (1795969800.51, 0.00012), not Java's 1.79596980051E9: valid JSON
                // either way, but people and shell tools read these.
                sb.append(java.math.BigDecimal.valueOf(d).toPlainString());
            }
        } else if (value instanceof Number n) {
            sb.append(n.longValue());
        } else if (value instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                string(sb, String.valueOf(e.getKey()));
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (value instanceof Iterable<?> it) {
            sb.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else {
            string(sb, value.toString());
        }
    }

    /** A JSON string literal: quotes, backslashes, control characters and lone surrogates escaped. */
    public static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    boolean lone = Character.isHighSurrogate(c)
                            ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
                            : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
                    if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029 || lone) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Parses one JSON text (surrounding whitespace allowed, nothing else after it; no member twice). */
    public static Object parse(String text) throws ParseException {
        Builder b = new Builder();
        try {
            JsonReader.read(text, MAX_DEPTH, b);
        } catch (JsonReader.ParseException e) {
            throw new ParseException("at character " + (e.offset() + 1) + ": " + e.getMessage());
        }
        return b.result;
    }

    /** Parses one JSON object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) throws ParseException {
        Object v = parse(text);
        if (!(v instanceof Map)) {
            throw new ParseException("expected a JSON object");
        }
        return (Map<String, Object>) v;
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
