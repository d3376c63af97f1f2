package io.emperor.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.InputSource;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.ext.DefaultHandler2;

/**
 * Reads a {@code NAME.xml} uWSGI vassal as uWSGI does with libxml2 (core/xmlconf.c): the root
 * element {@code <uwsgi>}, or else the first {@code <uwsgi>} child of the root; each of its child
 * elements is an option named like the element, whose value is its text ({@code <master/>} and
 * {@code <master></master>}: {@code 1}). Text is taken as written, spaces included (uWSGI does not
 * trim: {@code <master> false </master>} is true to uWSGI, and a warning says so for the keys the
 * emperor reads); for those keys a comment, a CDATA section or an element inside is an error.
 *
 * <p>Parsed with the JDK's SAX parser with no DOCTYPE allowed at all (so no external entity, no
 * external DTD, no entity expansion: a tenant's file cannot make the emperor read another file),
 * secure processing on, nesting at most {@value #MAX_DEPTH} deep, the ini reader's size and text
 * rules (UTF-8), at most {@value IniReader#MAX_ERRORS} warnings. Errors are {@code FILE:LINE:
 * what}. The result is an {@link IniFile} with one section, {@code uwsgi}, or the errors.
 */
public final class UwsgiXml {
    /** Deeper nesting than this is an error: a vassal's options are flat. */
    public static final int MAX_DEPTH = 32;

    private UwsgiXml() {}

    /** A parser that reads no DOCTYPE, no external anything. */
    static SAXParser parser() throws ParserConfigurationException, SAXException {
        SAXParserFactory f = SAXParserFactory.newInstance();
        f.setNamespaceAware(false);
        f.setValidating(false);
        f.setXIncludeAware(false);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setFeature("http://xml.org/sax/features/external-general-entities", false);
        f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        SAXParser p = f.newSAXParser();
        p.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        p.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        return p;
    }

    /**
     * @param read the option names whose value the emperor reads ({@code master} …)
     */
    public static IniFile parse(Path file, byte[] bytes, Set<String> read) {
        return parse(file, bytes, read, VassalParser.UWSGI, true);
    }

    /**
     * The element {@code <NAME>} read by the same rules. {@code <emperor>}, which uWSGI does not
     * read, is only taken as a child of a root that is not {@code <uwsgi>} (inside {@code <uwsgi>}
     * it would be uWSGI's own {@code emperor} option).
     *
     * @param required false: a file without it is no error (an {@link IniFile} without sections)
     */
    static IniFile parse(Path file, byte[] bytes, Set<String> read, String name, boolean required) {
        IniFile notText = IniReader.notText(file, bytes);
        if (notText != null) {
            return notText;
        }
        Handler h = new Handler(file, read, name);
        try {
            SAXParser p = parser();
            p.setProperty("http://xml.org/sax/properties/lexical-handler", h);
            InputSource in = new InputSource(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
            p.parse(in, h);
        } catch (SAXParseException e) {
            String message = e.getMessage() == null ? "not well-formed" : e.getMessage();
            if (message.contains("DOCTYPE")) {
                message = "a DOCTYPE is not allowed (entities and DTDs could read other files); remove it";
            }
            return failed(file, Math.max(e.getLineNumber(), 0), "not valid XML: " + message, h.warnings);
        } catch (TooDeep e) {
            return failed(file, h.line(), "not valid XML: nested deeper than " + MAX_DEPTH, h.warnings);
        } catch (SAXException | ParserConfigurationException | IOException | RuntimeException e) {
            return failed(file, h.line(), "not valid XML: " + e.getMessage(), h.warnings);
        }
        if (!h.errors.isEmpty()) {
            return new IniFile(file, List.of(), h.errors, h.warnings);
        }
        if (h.uwsgiLine == 0 && !required) {
            return new IniFile(file, List.of(), List.of(), h.warnings);
        }
        if (h.uwsgiLine == 0) {
            return failed(file, 0, "no <uwsgi> element (uWSGI reads the root element <uwsgi>, or the first <uwsgi>"
                    + " inside the root)", h.warnings);
        }
        return new IniFile(file, List.of(new IniSection(h.name, h.uwsgiLine, h.entries)), List.of(),
                h.warnings);
    }

    private static IniFile failed(Path file, int line, String message, List<Problem> warnings) {
        return new IniFile(file, List.of(), List.of(new Problem(file, line, message)), warnings);
    }

    private static final class TooDeep extends SAXException {
        TooDeep() {
            super("too deep");
        }
    }

    private static final class Handler extends DefaultHandler2 {
        final Path file;
        final Set<String> read;
        final List<IniEntry> entries = new ArrayList<>();
        final List<Problem> errors = new ArrayList<>();
        final List<Problem> warnings = new ArrayList<>();
        Locator locator;
        int depth;
        /** The depth of the {@code <uwsgi>} element read (1 the root, 2 its child), 0 before it is found. */
        int uwsgiDepth;
        int uwsgiLine;
        boolean uwsgiDone;
        /** The option being read (a child of {@code <uwsgi>}), its line, and what it holds so far. */
        String option;
        int optionLine;
        StringBuilder text;
        /** What is in the option other than text: a comment, CDATA, an element; null when only text. */
        String other;
        boolean inCdata;

        /** The element read: {@code uwsgi}, or {@code emperor}. */
        final String name;
        String rootName;

        Handler(Path file, Set<String> read, String name) {
            this.file = file;
            this.name = name;
            this.read = read;
        }

        int line() {
            return locator == null ? 0 : Math.max(locator.getLineNumber(), 0);
        }

        @Override
        public void setDocumentLocator(Locator locator) {
            this.locator = locator;
        }

        @Override
        public void startElement(String uri, String localName, String qName, Attributes attributes)
                throws SAXException {
            depth++;
            if (depth > MAX_DEPTH) {
                throw new TooDeep();
            }
            if (depth == 1) {
                rootName = qName;
            }
            boolean ours = name.equals(VassalParser.UWSGI) ? depth <= 2
                    : depth == 2 && !rootName.equals(VassalParser.UWSGI);
            if (uwsgiDepth == 0 && !uwsgiDone && qName.equals(name) && ours) {
                uwsgiDepth = depth;
                uwsgiLine = line();
                return;
            }
            if (uwsgiDepth == 0 && qName.equals(name) && depth == 2 && uwsgiDone) {
                warn("a second <" + name + "> element is ignored (only the first is read, line " + uwsgiLine + ")");
                return;
            }
            if (uwsgiDepth > 0 && depth == uwsgiDepth + 1) {
                option = qName;
                optionLine = line();
                text = new StringBuilder();
                other = null;
                return;
            }
            if (option != null && depth == uwsgiDepth + 2 && other == null) {
                other = "an element <" + qName + ">";
            }
        }

        @Override
        public void endElement(String uri, String localName, String qName) {
            if (uwsgiDepth > 0 && depth == uwsgiDepth + 1 && option != null) {
                endOption();
            } else if (uwsgiDepth > 0 && depth == uwsgiDepth) {
                uwsgiDepth = 0;
                uwsgiDone = true;
            }
            depth--;
        }

        private void endOption() {
            String value = text.length() == 0 && other == null ? "1" : text.toString();
            if (read.contains(option)) {
                if (other != null) {
                    errors.add(new Problem(file, optionLine, option + ": " + other + " inside: uWSGI takes the"
                            + " first thing inside as the value; write <" + option + ">true</" + option + "> or <"
                            + option + ">false</" + option + ">"));
                    option = null;
                    return;
                }
                if (!value.strip().equals(value) && Values.bool(value) != Values.bool(value.strip())) {
                    warn(optionLine, option + ": uWSGI takes the value with its spaces and line ends, which makes"
                            + " it " + Values.bool(value) + " (only exactly false, off, no or 0 is false); write <"
                            + option + ">" + value.strip() + "</" + option + ">");
                }
            }
            entries.add(new IniEntry(option, value, optionLine));
            option = null;
        }

        @Override
        public void characters(char[] ch, int start, int length) {
            if (option != null && depth == uwsgiDepth + 1) {
                if (inCdata) {
                    if (other == null) {
                        other = "a CDATA section";
                    }
                    return;
                }
                if (text.length() + length <= IniReader.MAX_BYTES) {
                    text.append(ch, start, length);
                }
            }
        }

        @Override
        public void startCDATA() {
            inCdata = true;
        }

        @Override
        public void endCDATA() {
            inCdata = false;
        }

        @Override
        public void comment(char[] ch, int start, int length) {
            if (option != null && depth == uwsgiDepth + 1 && other == null) {
                other = "a comment";
            }
        }

        @Override
        public void processingInstruction(String target, String data) {
            if (option != null && depth == uwsgiDepth + 1 && other == null) {
                other = "a processing instruction";
            }
        }

        @Override
        public void warning(SAXParseException e) {
            warn(Math.max(e.getLineNumber(), 0), "XML: " + e.getMessage());
        }

        @Override
        public void error(SAXParseException e) throws SAXException {
            throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXException {
            throw e;
        }

        private void warn(String message) {
            warn(line(), message);
        }

        private void warn(int line, String message) {
            if (warnings.size() < IniReader.MAX_ERRORS) {
                warnings.add(new Problem(file, line, message));
            }
        }
    }
}
