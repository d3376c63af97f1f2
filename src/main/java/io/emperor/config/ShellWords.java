package io.emperor.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Splits {@code exec} into argv the way a POSIX shell splits a simple command into words, without
 * running a shell: no variables, no globbing, no redirection, no command substitution.
 *
 * <ul>
 *   <li>Spaces and tabs separate words.</li>
 *   <li>{@code '...'} is literal, backslashes included.</li>
 *   <li>In {@code "..."} a backslash escapes only {@code "}, {@code \}, {@code $} and {@code `};
 *       before anything else it stays a backslash.</li>
 *   <li>Outside quotes a backslash makes the next character literal.</li>
 *   <li>{@code ''} and {@code ""} are an empty word.</li>
 * </ul>
 */
public final class ShellWords {
    /** Shell operators: written unquoted in {@code exec} they are only plain arguments, which is rarely meant. */
    private static final Set<String> OPERATORS = Set.of(
            "|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "<<", "2>", "2>>", "2>&1", ">&2", "1>&2", "&>");

    private ShellWords() {}

    /**
     * The words, or what is wrong (unterminated quote, trailing backslash, nothing at all).
     *
     * @param words     the argv
     * @param error     what is wrong, or null
     * @param operators unquoted words that a shell would take as operators ({@code |}, {@code >} ...), in order
     */
    public record Split(List<String> words, String error, List<String> operators) {
        public Split {
            words = List.copyOf(words);
            operators = List.copyOf(operators);
        }

        public boolean isOk() {
            return error == null;
        }
    }

    public static Split split(String text) {
        List<String> words = new ArrayList<>();
        List<String> operators = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        boolean quoted = false;
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                if (inWord) {
                    finish(word, quoted, words, operators);
                    inWord = false;
                    quoted = false;
                }
                i++;
                continue;
            }
            inWord = true;
            if (c == '\'') {
                int close = text.indexOf('\'', i + 1);
                if (close < 0) {
                    return failed("the single quote at character " + (i + 1) + " is never closed");
                }
                word.append(text, i + 1, close);
                quoted = true;
                i = close + 1;
            } else if (c == '"') {
                int close = doubleQuoted(text, i + 1, word);
                if (close < 0) {
                    return failed("the double quote at character " + (i + 1) + " is never closed");
                }
                quoted = true;
                i = close + 1;
            } else if (c == '\\') {
                if (i + 1 >= text.length()) {
                    return failed("ends with a backslash that escapes nothing");
                }
                word.append(text.charAt(i + 1));
                quoted = true;
                i += 2;
            } else {
                word.append(c);
                i++;
            }
        }
        if (inWord) {
            finish(word, quoted, words, operators);
        }
        if (words.isEmpty()) {
            return failed("no program given");
        }
        return new Split(words, null, operators);
    }

    /** Appends the inside of a double-quoted string starting at {@code from}; returns the closing quote's index or -1. */
    private static int doubleQuoted(String text, int from, StringBuilder word) {
        int i = from;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '"') {
                return i;
            }
            if (c == '\\' && i + 1 < text.length() && "\"\\$`".indexOf(text.charAt(i + 1)) >= 0) {
                word.append(text.charAt(i + 1));
                i += 2;
            } else {
                word.append(c);
                i++;
            }
        }
        return -1;
    }

    private static void finish(StringBuilder word, boolean quoted, List<String> words, List<String> operators) {
        String w = word.toString();
        if (!quoted && OPERATORS.contains(w)) {
            operators.add(w);
        }
        words.add(w);
        word.setLength(0);
    }

    private static Split failed(String error) {
        return new Split(List.of(), error, List.of());
    }
}
