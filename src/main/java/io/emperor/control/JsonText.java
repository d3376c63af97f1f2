package io.emperor.control;

/**
 * How the emperor writes a JSON string and a JSON number (docs/control.md, docs/stats.md), in
 * one place for the server's encoder ({@link Json}) and the CLI's ({@link ClientJson}); loads no
 * JSON library.
 */
public final class JsonText {
    private JsonText() {}

    /**
     * A JSON string literal: quotes, backslashes, control characters, DEL, the JavaScript line
     * terminators U+2028/U+2029 and lone surrogates escaped ({@code \ud800}, lower-case hex), so
     * that any Java string gives valid JSON in valid UTF-8.
     */
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
                        sb.append("\\u").append(Character.forDigit(c >> 12 & 0xf, 16))
                                .append(Character.forDigit(c >> 8 & 0xf, 16)).append(Character.forDigit(c >> 4 & 0xf, 16))
                                .append(Character.forDigit(c & 0xf, 16));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /**
     * A double as people and shell tools read it: a whole one as an integer ({@code 2}), others in
     * plain digits ({@code 1795969800.51}, not {@code 1.79596980051E9}); NaN and infinities
     * {@code null}.
     */
    public static String number(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return "null";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return java.math.BigDecimal.valueOf(d).toPlainString();
    }
}
