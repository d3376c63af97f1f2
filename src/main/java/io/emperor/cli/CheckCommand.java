package io.emperor.cli;

import io.emperor.config.Account;
import io.emperor.config.EmperorConfig;
import io.emperor.config.EmperorConfigParser;
import io.emperor.config.Parsed;
import io.emperor.config.Problem;
import io.emperor.config.UserDb;
import io.emperor.config.UwsgiCommand;
import io.emperor.config.VassalParser;
import io.emperor.config.VassalSpec;
import io.emperor.os.Environment;
import io.emperor.os.OpenedFile;
import io.emperor.os.PosixUserDb;
import io.emperor.source.dir.TyrantRules;
import io.emperor.source.dir.VassalReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code emperor check [--config FILE] [--tyrant] [FILE...]}: reads vassal files the way the
 * emperor would (opened once, a FIFO or a device refused unread: {@link VassalReader}), and says
 * what is wrong, including what only a spawn would find ({@link Preflight}: the program, the
 * {@code chdir}, the {@code logto} directory, for the uid the vassal runs as). With
 * {@code --config}, the emperor.ini is checked too, and its {@code tyrant} and {@code uwsgi-binary}
 * apply to the vassal files.
 */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Check an emperor.ini (--config) and vassal files: one 'file:line: message' per problem "
                + "on stderr; exit 0 when every file is valid, 1 otherwise.")
final class CheckCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE",
            description = "an emperor.ini to check; its tyrant and uwsgi-binary apply to the vassal files")
    Path config;

    @Option(names = "--tyrant",
            description = "check the vassal files as tyrant mode runs them: refused owners, and as the file's owner")
    boolean tyrant;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "vassal files (NAME.ini; NAME.yaml, .yml, .json, .js, .xml: uWSGI vassals)")
    List<Path> files = List.of();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (config == null && files.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "give vassal files to check, or --config FILE for an emperor.ini");
        }
        boolean ok = true;
        boolean tyrantMode = tyrant;
        UwsgiCommand uwsgi = UwsgiCommand.DEFAULT;
        io.emperor.config.TenantListen tenantListen = io.emperor.config.TenantListen.ANY;
        if (config != null) {
            Parsed<EmperorConfig> c = new EmperorConfigParser(HostName.name(), System.getenv())
                    .parse(config.toAbsolutePath().normalize());
            print(c);
            ok = c.isOk();
            if (c.isOk()) {
                tyrantMode |= c.value().tyrant();
                uwsgi = c.value().uwsgi();
                tenantListen = c.value().tenantBudget().listen();
            }
        }
        PosixUserDb users = new PosixUserDb();
        int euid = io.emperor.os.Native.libc().geteuid();
        Environment environment = new Environment(System.getenv(), uwsgi.binary());
        VassalParser parser = new VassalParser(users, HostName.name(), System.getenv(), tyrantMode,
                owner -> environment.forTenant(owner < 0 ? null : users.userById(owner).orElse(null)))
                .withTenantListen(tenantListen);
        String path = tyrantMode ? Environment.TENANT_PATH : System.getenv("PATH");
        for (Path f : files) {
            Path file = f.toAbsolutePath().normalize();
            VassalReader.Judge judge = tyrantMode ? tyrantJudge(users, file) : VassalReader.Judge.NONE;
            UwsgiCommand startUwsgi = uwsgi;
            // uWSGI's on-demand socket, read beside the file as the emperor reads it (issue 15)
            Parsed<VassalSpec> p = VassalReader.read(file, false, judge, new io.emperor.source.dir.OnDemandSockets(
                    parser, () -> startUwsgi, tyrantMode, parser::tenantListen));
            if (p.isOk()) {
                List<Problem> spawn = Preflight.check(p.value(), who(p.value(), euid, users), path, uwsgi);
                if (!spawn.isEmpty()) {
                    p = Parsed.failed(spawn, p.warnings());
                }
            }
            print(p);
            ok &= p.isOk();
        }
        return ok ? 0 : 1;
    }

    private static void print(Parsed<?> p) {
        for (Problem e : p.errors()) {
            System.err.println(e);
        }
        for (Problem w : p.warnings()) {
            System.err.println(w.file() + (w.line() > 0 ? ":" + w.line() : "") + ": warning: " + w.message());
        }
    }

    /** Tyrant mode's owner and mode rules, on the file as opened; the spec then runs as its owner. */
    private static VassalReader.Judge tyrantJudge(UserDb users, Path file) {
        return new VassalReader.Judge() {
            @Override
            public List<Problem> refusals(OpenedFile.Status status) {
                return TyrantRules.refusals(subject(status), users, TyrantRules.EmperorGroup.NONE);
            }

            @Override
            public int owner(OpenedFile.Status status) {
                return status.uid();
            }

            @Override
            public Parsed<VassalSpec> verdict(OpenedFile.Status status, Parsed<VassalSpec> parsed) {
                return TyrantRules.judge(parsed, subject(status), users, TyrantRules.EmperorGroup.NONE);
            }

            private TyrantRules.Subject subject(OpenedFile.Status status) {
                return new TyrantRules.Subject(file, null, VassalReader.fingerprint(status), true, status.nlink());
            }
        };
    }

    /** Whom the vassal runs as: its {@code uid} (tyrant mode: the file's owner), else whoever runs the emperor. */
    static Preflight.Who who(VassalSpec spec, int euid, UserDb users) {
        if (spec.uid() < 0 || spec.uid() == euid) {
            return Preflight.Who.SELF;
        }
        Set<Integer> groups = new LinkedHashSet<>();
        Optional<Account> account = spec.user() != null ? users.userByName(spec.user()) : users.userById(spec.uid());
        groups.add(spec.gid() >= 0 ? spec.gid() : account.map(Account::gid).orElse(spec.uid()));
        String name = spec.user();
        if (name != null) {
            groups.addAll(groupsOf(name));
        }
        return new Preflight.Who(spec.uid(), Set.copyOf(groups),
                "uid " + spec.uid() + (name != null ? " (" + name + ")" : ""));
    }

    /** The groups initgroups would give {@code user} ({@code id -G}); empty when it cannot say. */
    private static Set<Integer> groupsOf(String user) {
        try {
            Process p = new ProcessBuilder("id", "-G", "--", user).redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor() != 0 || out.isEmpty()) {
                return Set.of();
            }
            Set<Integer> gids = new LinkedHashSet<>();
            for (String g : out.split("\\s+")) {
                gids.add(Integer.parseInt(g));
            }
            return gids;
        } catch (IOException | NumberFormatException e) {
            return Set.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Set.of();
        }
    }
}
