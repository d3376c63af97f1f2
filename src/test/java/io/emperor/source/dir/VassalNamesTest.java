package io.emperor.source.dir;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VassalNamesTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(nullValues = "IGNORED", value = {
        "app.ini,           app",
        "a.b.ini,           a.b",
        "my-app_2.ini,      my-app_2",
        ".app.ini,          IGNORED",
        "app.ini~,          IGNORED",
        "app.ini.swp,       IGNORED",
        "app.swp,           IGNORED",
        "app.tmp,           IGNORED",
        "app.ini.tmp,       IGNORED",
        "app.ini.dpkg-new,  IGNORED",
        "app.dpkg-old.ini,  IGNORED",
        "app.ini.dpkg-dist, IGNORED",
        "app.ini.rpmnew,    IGNORED",
        "app.ini.rpmsave,   IGNORED",
        "app.rpmorig.ini,   IGNORED",
        "app.conf,          IGNORED",
        "app,               IGNORED",
        "app.INI,           IGNORED",
        ".ini,              IGNORED",
        "app.yaml,          app",
        "app.yml,           app",
        "app.json,          app",
        "app.js,            app",
        "app.xml,           app",
        "app.ini.yaml,      app.ini",
        ".yaml,             IGNORED",
        ".app.yaml,         IGNORED",
        "app.yaml~,         IGNORED",
        "app.yaml.swp,      IGNORED",
        "app.json.dpkg-new, IGNORED",
        "app.YAML,          IGNORED",
        "app.jsonx,         IGNORED",
        "app.toml,          IGNORED",
    })
    void table(String fileName, String expected) {
        assertEquals(Optional.ofNullable(expected), VassalNames.vassalName(fileName));
    }

    @org.junit.jupiter.api.Test
    void namesWithControlCharactersAreIgnored() {
        assertEquals(Optional.empty(), VassalNames.vassalName("evil\n2026-11-29T00:00:00.000Z [emperor] x.ini"));
        assertEquals(Optional.empty(), VassalNames.vassalName("bell\u0007.ini"));
        assertEquals(Optional.of("café"), VassalNames.vassalName("café.ini"));
    }
}
