package io.emperor.control;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.jr.ob.JSON;
import com.fasterxml.jackson.jr.ob.JacksonJrExtension;
import com.fasterxml.jackson.jr.ob.api.ExtensionContext;
import com.fasterxml.jackson.jr.ob.api.ReaderWriterModifier;
import com.fasterxml.jackson.jr.ob.api.ValueWriter;
import com.fasterxml.jackson.jr.ob.impl.JSONWriter;
import com.fasterxml.jackson.jr.ob.impl.POJODefinition;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JSON of the control socket and the stats server, on jackson-jr (the messages are records:
 * {@link Answers}, {@link UwsgiStats}). Three things are ours, because the wire format is pinned
 * (docs/control.md, docs/stats.md, {@code WireFormatTest}):
 * <ul>
 *   <li>a record is written with its components in declaration order, each named in snake_case
 *       ({@code startedAt} is {@code "started_at"}), nulls included;</li>
 *   <li>strings are always escaped as before: quotes, backslashes, control characters, DEL, the
 *       JavaScript line terminators U+2028/U+2029 and lone surrogates ({@code \ud800}), so that a
 *       vassal named {@code a"b} or a line of binary garbage gives valid JSON and valid UTF-8
 *       (jackson leaves DEL and U+2028 raw and cannot write a lone surrogate as UTF-8);</li>
 *   <li>a double is written as people and shell tools read it: a whole one as an integer
 *       ({@code 2}, not {@code 2.0}), others in plain digits ({@code 1795969800.51}, not
 *       {@code 1.79596980051E9}), NaN and infinities as {@code null}.</li>
 * </ul>
 * How a string and a double are written is {@link JsonText}'s (the CLI's {@link ClientJson} shares it).
 * Reading is jackson-core's streaming parser with a depth bound and duplicate members refused;
 * values come as {@code null}, {@link Boolean}, {@link Long} or {@link Double}, {@link String},
 * {@link List} and {@link Map} (insertion order kept).
 */
public final class Json {
    /** Deeper nesting than this is refused: a request is a flat object, and recursion stays bounded. */
    public static final int MAX_DEPTH = 32;

    /**
     * Reading requests needs only jackson-core's streaming parser; jackson-jr (the records) is
     * loaded on the first {@link #write}.
     */
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH + 1).build())
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** The writer of records, loaded on first use. */
    private static final class Writer {
        static final JSON JSON_WRITER = JSON.builder(FACTORY)
                .enable(JSON.Feature.WRITE_NULL_PROPERTIES)
                .register(new JacksonJrExtension() {
                    @Override
                    protected void register(ExtensionContext ctxt) {
                        ctxt.insertModifier(new Ours());
                    }
                })
                .build();
    }

    private Json() {}

    /** A text that is not the JSON this reader takes; {@link #getMessage()} says where and why. */
    public static final class ParseException extends Exception {
        public ParseException(String message) {
            super(message);
        }
    }

    /** A record, map, list or scalar as one line of JSON (without the newline). */
    public static String write(Object value) {
        try {
            return Writer.JSON_WRITER.asString(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON: " + e, e);
        }
    }

    /**
     * Parses one JSON text (surrounding whitespace allowed, nothing else after it; no member twice).
     * Integers come as {@link Long} (a larger one as {@link Double}), other numbers as {@link Double}.
     */
    public static Object parse(String text) throws ParseException {
        try (JsonParser p = FACTORY.createParser(text)) {
            if (p.nextToken() == null) {
                throw new ParseException("at character 1: no JSON value");
            }
            Object value = value(p, 0);
            if (p.nextToken() != null) {
                throw new ParseException("at character " + (p.currentTokenLocation().getCharOffset() + 1)
                        + ": unexpected text after the value");
            }
            return value;
        } catch (JsonProcessingException e) {
            long at = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
            throw new ParseException((at >= 0 ? "at character " + (at + 1) + ": " : "") + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ParseException(e.getMessage());
        }
    }

    /** The value at the parser's current token, and the tokens it spans. */
    private static Object value(JsonParser p, int depth) throws IOException, ParseException {
        JsonToken t = p.currentToken();
        if ((t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) && depth >= MAX_DEPTH) {
            throw new ParseException("at character " + (p.currentTokenLocation().getCharOffset() + 1)
                    + ": nested deeper than " + MAX_DEPTH);
        }
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    p.nextToken();
                    m.put(key, value(p, depth + 1));
                }
                return m;
            }
            case START_ARRAY -> {
                List<Object> list = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(value(p, depth + 1));
                }
                return list;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT -> {
                return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? (Object) p.getDoubleValue()
                        : (Object) p.getLongValue();
            }
            case VALUE_NUMBER_FLOAT -> {
                double d = p.getDoubleValue();
                if (Double.isInfinite(d)) {
                    throw new ParseException("at character " + (p.currentTokenLocation().getCharOffset() + 1)
                            + ": bad number " + p.getText());
                }
                return d;
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return null;
            }
            default -> throw new ParseException("at character " + (p.currentTokenLocation().getCharOffset() + 1)
                    + ": unexpected " + t);
        }
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

    static void string(StringBuilder sb, String s) {
        JsonText.string(sb, s);
    }

    static String number(double d) {
        return JsonText.number(d);
    }

    /** Our strings, doubles and record layout (see the class comment). */
    private static final class Ours extends ReaderWriterModifier {
        private final Map<Class<?>, POJODefinition> records = new ConcurrentHashMap<>();

        @Override
        public ValueWriter overrideStandardValueWriter(JSONWriter w, Class<?> type, int stdTypeId) {
            if (type == String.class) {
                return new TypedWriter(String.class) {
                    @Override
                    public void writeValue(JSONWriter context, JsonGenerator g, Object value) throws IOException {
                        StringBuilder sb = new StringBuilder(((String) value).length() + 2);
                        string(sb, (String) value);
                        g.writeRawValue(sb.toString());
                    }
                };
            }
            if (type == Double.class || type == double.class || type == Float.class || type == float.class) {
                return new TypedWriter(type) {
                    @Override
                    public void writeValue(JSONWriter context, JsonGenerator g, Object value) throws IOException {
                        g.writeRawValue(number(((Number) value).doubleValue()));
                    }
                };
            }
            return null;
        }

        @Override
        public POJODefinition pojoDefinitionForSerialization(JSONWriter w, Class<?> type) {
            if (!type.isRecord()) {
                return null;
            }
            return records.computeIfAbsent(type, t -> {
                RecordComponent[] components = t.getRecordComponents();
                POJODefinition.Prop[] props = new POJODefinition.Prop[components.length];
                for (int i = 0; i < components.length; i++) {
                    java.lang.reflect.Method getter = components[i].getAccessor();
                    getter.setAccessible(true);
                    props[i] = new POJODefinition.Prop(snakeCase(components[i].getName()), null, null, getter, null, null);
                }
                return new POJODefinition(t, props, null, null, null);
            });
        }
    }

    /** {@code startedAt} → {@code started_at}. */
    static String snakeCase(String name) {
        StringBuilder sb = new StringBuilder(name.length() + 4);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isUpperCase(c)) {
                sb.append('_').append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private abstract static class TypedWriter implements ValueWriter {
        private final Class<?> type;

        TypedWriter(Class<?> type) {
            this.type = type;
        }

        @Override
        public Class<?> valueType() {
            return type;
        }
    }
}
