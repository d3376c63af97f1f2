package io.emperor.config;

/**
 * One JSON reader for the whole emperor (the control socket's requests through
 * {@code io.emperor.control.Json}, and {@code .json} vassal files through {@link UwsgiJson}),
 * written by hand: no dependency for ~200 lines. It builds nothing: it tells a {@link Handler} what
 * it reads, in order, with each thing's offset in the text, so a caller keeps only what it needs
 * (a 1 MiB array of zeros in a vassal file costs no million objects). Recursion is bounded by
 * the depth the caller gives; anything deeper is an error before it is read.
 */
public final class JsonReader {
    /** A text that is not JSON; {@link #getMessage()} says what, {@link #offset()} where. */
    public static final class ParseException extends Exception {
        private final int offset;

        public ParseException(int offset, String what) {
            super(what);
            this.offset = offset;
        }

        /** The offset, in chars, of the text where the problem is. */
        public int offset() {
            return offset;
        }
    }

    /** What the reader found, in text order. Any method may throw to stop the reading. */
    public interface Handler {
        void startObject(int offset) throws ParseException;

        /** A member name; its value follows. */
        void key(String key, int offset) throws ParseException;

        void endObject() throws ParseException;

        void startArray(int offset) throws ParseException;

        void endArray() throws ParseException;

        /**
         * @param value null, a {@link Boolean}, a {@link String}, or a number: {@link Long} when it
         *              has no fraction or exponent, else {@link Double}
         * @param text  for a number, its text as written; else null
         */
        void scalar(Object value, String text, int offset) throws ParseException;
    }

    private final String s;
    private final int maxDepth;
    private final Handler handler;
    private int pos;

    private JsonReader(String s, int maxDepth, Handler handler) {
        this.s = s;
        this.maxDepth = maxDepth;
        this.handler = handler;
    }

    /**
     * Reads one JSON text (surrounding whitespace allowed, nothing else after it).
     *
     * @param maxDepth values nested deeper than this are an error ({@code nested deeper than N})
     */
    public static void read(String text, int maxDepth, Handler handler) throws ParseException {
        JsonReader r = new JsonReader(text, maxDepth, handler);
        r.space();
        r.value(0);
        r.space();
        if (r.pos != text.length()) {
            throw r.error("unexpected text after the value");
        }
    }

    /** The 1-based line of an offset (lines end at {@code \n}). */
    public static int lineOf(String text, int offset) {
        int line = 1;
        for (int i = 0; i < offset && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }

    private ParseException error(String what) {
        return new ParseException(pos, what);
    }

    private void space() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private void value(int depth) throws ParseException {
        if (depth > maxDepth) {
            throw error("nested deeper than " + maxDepth);
        }
        if (pos >= s.length()) {
            throw error("unexpected end");
        }
        char c = s.charAt(pos);
        int at = pos;
        switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> handler.scalar(string(), null, at);
            case 't' -> handler.scalar(literal("true", Boolean.TRUE), null, at);
            case 'f' -> handler.scalar(literal("false", Boolean.FALSE), null, at);
            case 'n' -> handler.scalar(literal("null", null), null, at);
            default -> {
                if (c == '-' || c >= '0' && c <= '9') {
                    Object n = number();
                    handler.scalar(n, s.substring(at, pos), at);
                } else {
                    throw error("unexpected character '" + printable(c) + "'");
                }
            }
        }
    }

    private Object literal(String word, Object v) throws ParseException {
        if (!s.startsWith(word, pos)) {
            throw error("expected " + word);
        }
        pos += word.length();
        return v;
    }

    private void object(int depth) throws ParseException {
        handler.startObject(pos);
        pos++;
        space();
        if (pos < s.length() && s.charAt(pos) == '}') {
            pos++;
            handler.endObject();
            return;
        }
        while (true) {
            space();
            if (pos >= s.length() || s.charAt(pos) != '"') {
                throw error("expected a member name in quotes");
            }
            int keyAt = pos;
            handler.key(string(), keyAt);
            space();
            expect(':');
            space();
            value(depth + 1);
            space();
            if (pos < s.length() && s.charAt(pos) == ',') {
                pos++;
                continue;
            }
            expect('}');
            handler.endObject();
            return;
        }
    }

    private void array(int depth) throws ParseException {
        handler.startArray(pos);
        pos++;
        space();
        if (pos < s.length() && s.charAt(pos) == ']') {
            pos++;
            handler.endArray();
            return;
        }
        while (true) {
            space();
            value(depth + 1);
            space();
            if (pos < s.length() && s.charAt(pos) == ',') {
                pos++;
                continue;
            }
            expect(']');
            handler.endArray();
            return;
        }
    }

    private void expect(char c) throws ParseException {
        if (pos >= s.length() || s.charAt(pos) != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private String string() throws ParseException {
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                throw error("control character in a string");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (pos + 4 > s.length()) {
                        throw error("short \\u escape");
                    }
                    try {
                        sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException x) {
                        throw error("bad \\u escape");
                    }
                    pos += 4;
                }
                default -> throw error("bad escape \\" + printable(e));
            }
        }
    }

    private Object number() throws ParseException {
        int start = pos;
        if (s.charAt(pos) == '-') {
            pos++;
        }
        boolean fraction = false;
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c >= '0' && c <= '9') {
                pos++;
            } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                fraction = true;
                pos++;
            } else {
                break;
            }
        }
        String t = s.substring(start, pos);
        if (t.length() > 40) {
            throw error("number too long");
        }
        try {
            if (!fraction) {
                return Long.parseLong(t);
            }
            double d = Double.parseDouble(t);
            if (Double.isInfinite(d)) {
                throw new NumberFormatException("out of range");
            }
            return d;
        } catch (NumberFormatException x) {
            throw new ParseException(start, "bad number " + t);
        }
    }

    private static String printable(char c) {
        return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }
}
