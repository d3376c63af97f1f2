package io.emperor.it;

import io.emperor.it.TyrantSupport.Accounts;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the tests with real users share: root and useradd (else every test is skipped, saying why),
 * the class's own accounts (made in the subclass's {@code @BeforeAll}, which runs after this one;
 * removed after the class), and a workspace other users may enter.
 */
abstract class UsersItSupport extends ItSupport {
    static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    static Accounts accounts;

    @BeforeAll
    static void createAccounts() {
        TyrantSupport.assumeRootWithUseradd();
        accounts = new Accounts();
    }

    @AfterAll
    static void removeAccounts() {
        if (accounts != null) {
            accounts.close();
            accounts = null;
        }
    }

    /** For the classes that run processes as other users through util-linux setpriv. */
    static void assumeSetpriv() {
        Assumptions.assumeTrue(Files.isExecutable(SETPRIV), "needs util-linux setpriv");
    }

    @BeforeEach
    void letOtherUsersIn() {
        TyrantSupport.openUp(tmp, ws);
    }
}
