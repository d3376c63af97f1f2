package io.emperor.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emperor.config.EmperorConfig;
import io.emperor.config.EmperorConfigParser;
import io.emperor.config.Parsed;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** packaging/emperor.ini, the /etc/emperor/emperor.ini the package ships, is what the service needs. */
class PackagedConfigTest {
    @Test
    void tyrantOnVassalsInEtcLogInVarLogAndNoWarning() {
        Parsed<EmperorConfig> p = new EmperorConfigParser("test-host", Map.of())
                .parse(Path.of("packaging", "emperor.ini").toAbsolutePath());
        assertTrue(p.isOk(), () -> "errors: " + p.errors());
        assertEquals(List.of(), p.warnings());
        EmperorConfig c = p.value();
        assertTrue(c.tyrant());
        assertEquals(List.of(Path.of("/etc/emperor/vassals")), c.vassalDirs());
        assertEquals(Path.of("/var/log/emperor/emperor.log"), c.log());
        assertEquals(EmperorConfig.defaults().rescan(), c.rescan());
    }
}
