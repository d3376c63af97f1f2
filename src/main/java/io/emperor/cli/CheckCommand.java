package io.emperor.cli;

import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.VassalParser;
import io.emperor.config.VassalSpec;
import io.emperor.os.PosixUserDb;
import io.emperor.scan.VassalReader;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import jnr.posix.POSIXFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code emperor check FILE...}: reads vassal files the way the emperor would (opened once, a FIFO
 * or a device refused unread: {@link VassalReader}), and says what is wrong.
 */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Check vassal files: one 'file:line: message' per problem on stderr; "
                + "exit 0 when every file is valid, 1 otherwise.")
final class CheckCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", arity = "1..*", description = "vassal files (NAME.ini; NAME.yaml, .yml, .json, .js, .xml: uWSGI vassals)")
    List<Path> files;

    @Override
    public Integer call() {
        VassalParser parser = new VassalParser(new PosixUserDb(POSIXFactory.getNativePOSIX()),
                Host.name(), System.getenv());
        boolean ok = true;
        for (Path f : files) {
            Parsed<VassalSpec> p = VassalReader.read(f.toAbsolutePath().normalize(), false, VassalReader.Judge.NONE, parser);
            for (Problem e : p.errors()) {
                System.err.println(e);
            }
            for (Problem w : p.warnings()) {
                System.err.println(w.file() + (w.line() > 0 ? ":" + w.line() : "") + ": warning: " + w.message());
            }
            ok &= p.isOk();
        }
        return ok ? 0 : 1;
    }
}
