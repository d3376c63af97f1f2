/*
 * emperor-exec: apply a vassal's credentials and process state, then exec it (DESIGN §5).
 *
 *   emperor-exec [OPTIONS] -- PROGRAM [ARG...]
 *     -R FD        report fd for a failure (default stderr); FD_CLOEXEC is set on it just before
 *                  exec, so a successful exec shows the emperor EOF with no data (an FD of 0-2
 *                  is the vassal's stdio and stays open)
 *     -P PID       expected parent pid, checked after the parent-death signal is set
 *     -s SIG       parent-death signal (default 9 = SIGKILL; 0 = none)
 *     -r RES=SOFT[:HARD]  rlimit (nofile, nproc, core; number or "unlimited"), repeatable
 *     -u UID -g GID       target uid and gid (numeric; -u needs -g)
 *     -U NAME      passwd name of UID: supplementary groups = initgroups(NAME, GID)
 *     -C           drop every capability     -N   PR_SET_NO_NEW_PRIVS
 *     -m OCTAL     umask     -d DIR   chdir (as the vassal)
 *     -l FILE      open FILE as the vassal (append, create 0640, no symlink), dup2 onto 1 and 2
 *     -K FD        keep FD open and inheritable across exec (the uWSGI emperor channel, which
 *                  the emperor put there with a spawn file action); repeatable, FD >= 3
 *     -E FD        the vassal's environment: FD holds NUL-terminated KEY=VALUE strings (the
 *                  emperor writes a memfd and puts it there with a spawn file action); read from
 *                  offset 0, at most 1 MiB and 16384 entries, then closed. It is used only by
 *                  the final execve and for the PATH search of a bare PROGRAM; the helper's own
 *                  environment (which the emperor keeps empty) is never passed on. Without -E
 *                  the program gets the helper's own environment (the command-line tool case).
 *     -W           add WATCHDOG_PID=<the helper's pid> to the vassal's environment: exec keeps the
 *                  pid, so it is the vassal's own, as systemd sets it (sd_watchdog_enabled(3))
 *     -L N         socket activation (docs/sockets.md): the N listening sockets the emperor holds
 *                  for the vassal are on fds 3 .. 3+N-1 (1 <= N <= MAX_LISTEN_FDS); each must be
 *                  there and a socket. They are kept through the fd sweep with FD_CLOEXEC
 *                  cleared, and LISTEN_PID=<the helper's pid> (exec keeps it: the vassal's own)
 *                  and LISTEN_FDS=N are added to the vassal's environment, after any LISTEN_PID
 *                  or LISTEN_FDS it had is taken out (sd_listen_fds(3) reads the first of two,
 *                  Python's os.environ the last). -R, -E and -K fds must be above them.
 *     -A           apply the -r limits after the drop (step 9b), as the vassal: a hard limit
 *                  can then only go down; one above the inherited hard limit is refused with
 *                  both numbers (tyrant mode)
 *     -G FILE      join a cgroup: write the helper's pid to FILE (a cgroup.procs the emperor
 *                  created and owns) at step 3b, before anything can fork and while still
 *                  privileged; repeatable (one per hierarchy). A failure is a spawn failure:
 *                  a vassal that cannot be contained does not start.
 *     -B           bind mode (issue 15, docs/vassal.ini.5.md "Sockets"): the words after -- are
 *                  PATH MODE BACKLOG, not a program. After every step up to 13, as the vassal, bind
 *                  a unix stream socket at PATH (a file already there is replaced only if lstat
 *                  says it is a socket, atomically: bound as PATH~ and renamed over it; a symlink
 *                  is never followed), with the permission bits
 *                  MODE (octal, through the umask: no window with other bits), listen(BACKLOG),
 *                  send its fd with SCM_RIGHTS over the report fd (a unix socket) and exit 0.
 *                  So the file is the vassal's and each path component is resolved with its rights.
 *   Options are separate words ("-u 1000", not "-u1000"). -R takes effect where it appears, so
 *   the emperor passes it first: usage errors before it go to stderr.
 *
 *   emperor-exec --serve FD PPID
 *     The spawn server (see serve_main at the end): the emperor's loop thread starts it once with
 *     its end of a SOCK_SEQPACKET socketpair on FD. Per request (that argv and the fds to place,
 *     SCM_RIGHTS) one of its threads clones with CLONE_VM|CLONE_VFORK|CLONE_PARENT, so the vassal
 *     is the emperor's child as with posix_spawn, and the child runs exactly the steps below on
 *     that argv, without an exec of the helper and without malloc or NSS (struct prepared): one
 *     exec per vassal (the program's) instead of two, no clone of the JVM's ~2000-fd process and
 *     no page-table copy per spawn (docs/performance.md, "1000 vassals"). The emperor spawns
 *     through posix_spawn of the helper, as above, whenever the server is not there.
 *
 * Environment and linking. The helper runs privileged (root, or ambient CAP_SETUID) until step
 * 8, and the dynamic loader of a privileged but not set-uid process does not set AT_SECURE: it
 * would honour LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, GLIBC_TUNABLES... So the emperor starts the
 * helper with an empty environment and hands the vassal's over on the -E fd, which only the
 * final execve uses. Built as a PIE with -z relro -z now (every symbol bound at start, the GOT
 * read-only) and without RPATH/RUNPATH, dynamically linked: initgroups needs the NSS modules of
 * the system's glibc, which a static glibc can only dlopen from the exact same version (and
 * warns so at link time); with no LD_* variable in its environment the loader has nothing a
 * tenant chose to honour. docs/tyrant.md says the same.
 *
 * Order, and why each step is where it is:
 *  1. close every fd >= 3 except the report fd and the -K fds: the JVM leaks fds without
 *     CLOEXEC, and nothing of the emperor's may reach a vassal but what it hands over on purpose.
 *  2. every signal disposition to SIG_DFL, empty signal mask: SIG_IGN and the mask survive exec,
 *     and a JDK 17 child starts with SIGQUIT blocked.
 *  3. setsid(): the vassal leads its own session and process group, so kill(-pid) reaches it all.
 *  3b. -G: into the vassal's cgroup, so everything it will ever start is found there (a double-
 *     forked setsid daemon leaves the process group, not the cgroup); before the drop, as the
 *     cgroup's owner, and the vassal cannot move out after it (docs/lifecycle.md).
 *  0. -E: read the vassal's environment and close its fd, before anything else can fail late.
 *  4. rlimits, while still privileged: raising a hard limit needs CAP_SYS_RESOURCE (an admin's
 *     vassal may get more than the emperor has); with -A they wait for step 9b instead.
 *  5. supplementary groups (-U: initgroups; in a server child setgroups of the list its worker
 *     looked up with getgrouplist), 6. setresgid: both need CAP_SETGID, so before the uid change.
 *  7. -C: bounding set; PR_CAPBSET_DROP needs CAP_SETPCAP, which a root emperor loses at step 8.
 *  8. setresuid.
 *  9. -C: ambient and capset(all zero): a non-root emperor holding CAP_SETUID keeps its
 *     capabilities across a change between two non-zero uids, so they are cleared explicitly;
 *     then capget checks that nothing is left. Without -u too: an emperor holding ambient
 *     capabilities would pass them on to a vassal that keeps its uid.
 *  9b. -A: the rlimits, now without any capability: a tenant's hard limit can only go down.
 * 10. -N: no_new_privs.
 * 11. verify: getres[ug]id are the target, and regaining root fails (meaningful only after 9).
 * 12. parent-death signal (a uid change clears it, so after 8), then the -P check closes the race
 *     where the parent died before the signal was armed.
 * 13. umask, chdir, 14. logto: paths the vassal chooses are used with the vassal's identity only.
 * 15. FD_CLOEXEC on the report fd, FD_CLOEXEC cleared on the -K and -L fds, then execve, searching the vassal's PATH for a bare name.
 *     Not execvp: glibc's execvp runs a file without a #! line through /bin/sh (ENOEXEC), and no
 *     shell belongs on the spawn path.
 * Any failure: one line "STEP DETAIL: strerror" on the report fd, then _exit(127).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <stddef.h>
#include <sched.h>
#include <stdint.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#define FAIL_STATUS 127
#define MAX_RLIMITS 16
#define MAX_KEEP 8
#define MAX_LISTEN_FDS 32 /* HelperLauncher.MAX_LISTEN */
#define MAX_CGROUPS 4
#define MAX_ENV_BYTES (1024 * 1024)
#define MAX_ENV_ENTRIES 16384

/* Per thread: a server child (a CLONE_VM|CLONE_VFORK clone, below) writes its worker thread's
 * copy, and that thread is suspended until the child has exec'd or exited. */
static __thread int report_fd = 2;
static void exec_path(char **prog, char **env) __attribute__((noreturn));
static void bind_unix(char **args) __attribute__((noreturn));

/* What a child of the spawn server uses instead of malloc and NSS: it shares the server's memory
 * (CLONE_VM), so it must not take a lock of libc's (malloc's, NSS's) that the server's other
 * threads use, nor leave memory behind. Its worker thread owns this, reuses it for each of its
 * children, and fills in the groups (getgrouplist, in the worker) before the clone. NULL in a
 * helper that was exec'd: that one has its own memory, mallocs and calls initgroups itself. */
struct prepared {
    char *env_buf;      /* MAX_ENV_BYTES + 1 */
    char **env_ptrs;    /* MAX_ENV_ENTRIES + 4: the entries, WATCHDOG_PID, LISTEN_PID, LISTEN_FDS, NULL */
    char watchdog[32];
    char listen_pid[32];
    char listen_fds[32];
    gid_t *groups;      /* NGROUPS_MAX */
    int ngroups;        /* -1: no -U in the request */
};

/* write(2) in a loop: no stdio buffer to lose at _exit, and partial writes are finished. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report to */
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void append(char *buf, size_t *len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n > cap - *len)
        n = cap - *len;
    memcpy(buf + *len, s, n);
    *len += n;
}

/* "STEP DETAIL: strerror(err)" (no ": strerror" when err == 0), as one line, then exit 127. */
__attribute__((noreturn, format(printf, 2, 3)))
static void fail(int err, const char *fmt, ...)
{
    char msg[8192];
    const size_t cap = sizeof msg - 1; /* room for the newline */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, cap, fmt, ap); /* truncates a huge path; the line stays whole */
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
    if (err != 0) {
        append(msg, &len, cap, ": ");
        /* Not strerror: it may translate (a lock of gettext's) or format an unknown error
         * into a buffer it mallocs; a server child must do neither. Same text in the C locale. */
        const char *text = strerrordesc_np(err);
        char unknown[32];
        if (text == NULL) {
            snprintf(unknown, sizeof unknown, "Unknown error %d", err);
            text = unknown;
        }
        append(msg, &len, cap, text);
    }
    for (size_t i = 0; i < len; i++) /* a path with a newline must not split the line */
        if (iscntrl((unsigned char)msg[i]))
            msg[i] = '?';
    msg[len++] = '\n';
    write_all(report_fd, msg, len);
    _exit(FAIL_STATUS);
}

/* Decimal/octal number with nothing around it: strtoull alone accepts " -1" and "12x". */
static int parse_num(const char *s, int base, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static unsigned long long num_arg(const char *opt, const char *s, int base, unsigned long long max)
{
    unsigned long long v;
    if (parse_num(s, base, max, &v) != 0)
        fail(0, "usage: bad value for %s: %s", opt, s);
    return v;
}

struct rlim_spec { int resource; struct rlimit lim; const char *text; };

/* SOFT or HARD of -r: a number or "unlimited". */
static rlim_t rlim_value(const char *s, const char *text)
{
    unsigned long long v;
    if (strcmp(s, "unlimited") == 0)
        return RLIM_INFINITY;
    if (parse_num(s, 10, (unsigned long long)(rlim_t)(RLIM_INFINITY - 1), &v) != 0)
        fail(0, "usage: bad rlimit: %s", text);
    return (rlim_t)v;
}

/* RES=SOFT[:HARD]; HARD defaults to SOFT. */
static void parse_rlimit(const char *text, struct rlim_spec *r)
{
    char buf[80], *val, *hard;
    if (strlen(text) >= sizeof buf || (val = strchr(strcpy(buf, text), '=')) == NULL)
        fail(0, "usage: bad rlimit: %s", text);
    *val++ = '\0';
    if ((hard = strchr(val, ':')) != NULL)
        *hard++ = '\0';
    r->resource = strcmp(buf, "nofile") == 0 ? RLIMIT_NOFILE
                : strcmp(buf, "nproc") == 0 ? RLIMIT_NPROC
                : strcmp(buf, "core") == 0 ? RLIMIT_CORE : -1;
    if (r->resource < 0)
        fail(0, "usage: bad rlimit: %s", text);
    r->lim.rlim_cur = rlim_value(val, text);
    r->lim.rlim_max = hard != NULL ? rlim_value(hard, text) : r->lim.rlim_cur;
    r->text = text;
}

/* Step 0: the vassal's environment from fd, NUL-terminated KEY=VALUE strings (a memfd the
 * emperor wrote; read from offset 0 with pread, so its file offset does not matter). Bounded:
 * more than MAX_ENV_BYTES or MAX_ENV_ENTRIES, an entry without '=' or with an empty name, or
 * a last entry without its NUL is refused. The fd is closed: nothing of it reaches the vassal. */
static char **read_env(int fd, const struct prepared *pre)
{
    char *buf = pre != NULL ? pre->env_buf : malloc(MAX_ENV_BYTES + 1);
    if (buf == NULL)
        fail(errno, "env fd %d", fd);
    size_t len = 0;
    for (;;) {
        ssize_t n = pread(fd, buf + len, MAX_ENV_BYTES + 1 - len, (off_t)len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail(errno, "env fd %d", fd);
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > MAX_ENV_BYTES)
            fail(0, "env: more than %d bytes", MAX_ENV_BYTES);
    }
    close(fd);
    if (len > 0 && buf[len - 1] != '\0')
        fail(0, "env: the last entry is not terminated by a NUL byte");
    /* Counted first, so that the array is as long as the entries: a calloc of MAX_ENV_ENTRIES
     * pointers (128 KiB, zeroed page by page) was a sixth of the helper's CPU per spawn. */
    size_t count = 0;
    for (size_t at = 0; at < len; at += strlen(buf + at) + 1) {
        char *entry = buf + at;
        char *eq = strchr(entry, '=');
        if (eq == NULL || eq == entry)
            fail(0, "env: entry %zu is not KEY=VALUE: %.64s", count + 1, entry);
        if (count == MAX_ENV_ENTRIES)
            fail(0, "env: more than %d entries", MAX_ENV_ENTRIES);
        count++;
    }
    char **env = pre != NULL ? pre->env_ptrs : malloc((count + 1) * sizeof *env);
    if (env == NULL)
        fail(errno, "env fd %d", fd);
    size_t i = 0;
    for (size_t at = 0; at < len; at += strlen(buf + at) + 1)
        env[i++] = buf + at;
    env[count] = NULL;
    return env;
}

/* Whether entry is NAME=... */
static int is_var(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* env with WATCHDOG_PID=<our pid> (-W) and LISTEN_PID=<our pid>, LISTEN_FDS=N (-L N, N > 0)
 * added: the pid exec keeps, the vassal's. With -L any LISTEN_PID or LISTEN_FDS already there is
 * left out (a tenant's env must not name fds of its own choosing, nor come first for getenv). */
static char **with_own_pid(char **env, struct prepared *pre, int watchdog, int listen_fds)
{
    static char own_watchdog[32], own_listen_pid[32], own_listen_fds[32];
    size_t count = 0;
    while (env[count] != NULL)
        count++;
    if (pre != NULL && count > MAX_ENV_ENTRIES)
        fail(0, "env: more than %d entries", MAX_ENV_ENTRIES);
    /* In a server child env is pre->env_ptrs (with room for three more) or the server's own
     * environment (empty; copied into env_ptrs). */
    char **out = pre != NULL ? pre->env_ptrs : malloc((count + 4) * sizeof *out);
    if (out == NULL)
        fail(errno, "env: WATCHDOG_PID");
    size_t n = 0;
    for (size_t k = 0; k < count; k++) /* in place is fine: n <= k */
        if (listen_fds == 0 || !(is_var(env[k], "LISTEN_PID") || is_var(env[k], "LISTEN_FDS")))
            out[n++] = env[k];
    if (watchdog) {
        char *entry = pre != NULL ? pre->watchdog : own_watchdog;
        snprintf(entry, 32, "WATCHDOG_PID=%ld", (long)getpid());
        out[n++] = entry;
    }
    if (listen_fds > 0) {
        char *pid_entry = pre != NULL ? pre->listen_pid : own_listen_pid;
        char *fds_entry = pre != NULL ? pre->listen_fds : own_listen_fds;
        snprintf(pid_entry, 32, "LISTEN_PID=%ld", (long)getpid());
        snprintf(fds_entry, 32, "LISTEN_FDS=%d", listen_fds);
        out[n++] = pid_entry;
        out[n++] = fds_entry;
    }
    out[n] = NULL;
    return out;
}

/* The value of NAME in env, or NULL. */
static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);
    for (; *env != NULL; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

static void text_limit(rlim_t v, char *buf, size_t cap)
{
    if (v == RLIM_INFINITY)
        snprintf(buf, cap, "unlimited");
    else
        snprintf(buf, cap, "%llu", (unsigned long long)v);
}

/* Step 4 (privileged) or 9b (-A, as the vassal, no capability left): there a hard limit above
 * the inherited one would fail with EPERM; say which limit and both numbers instead. */
static void apply_rlimits(const struct rlim_spec *rlims, int nrlim, int after_drop)
{
    for (int r = 0; r < nrlim; r++) {
        struct rlimit now;
        if (after_drop && getrlimit(rlims[r].resource, &now) == 0 && now.rlim_max != RLIM_INFINITY
                && (rlims[r].lim.rlim_max == RLIM_INFINITY || rlims[r].lim.rlim_max > now.rlim_max)) {
            char want[32], have[32];
            text_limit(rlims[r].lim.rlim_max, want, sizeof want);
            text_limit(now.rlim_max, have, sizeof have);
            fail(0, "rlimit %s: hard limit %s is above the emperor's hard limit %s"
                 " (tyrant mode: a vassal's limits can only go down)", rlims[r].text, want, have);
        }
        if (setrlimit(rlims[r].resource, &rlims[r].lim) != 0)
            fail(errno, "rlimit %s", rlims[r].text);
    }
}

/* Step 1 fallback for kernels without close_range (< 5.9): close what /proc/self/fd lists. */
static void close_fds_from(unsigned int first, unsigned int last)
{
    if (first > last)
        return;
    if (close_range(first, last, 0) == 0)
        return;
    /* getdents64 into a buffer on the stack: no opendir (malloc) in a server child. */
    int d = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0)
        fail(errno, "close fds /proc/self/fd");
    char buf[4096] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, d, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail(errno, "close fds /proc/self/fd");
        if (n == 0)
            break;
        for (long at = 0; at < n;) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *e =
                (void *)(buf + at);
            unsigned long long fd;
            if (parse_num(e->name, 10, ~0U, &fd) == 0 && fd >= first && fd <= last && (int)fd != d)
                close((int)fd);
            at += e->reclen;
        }
    }
    close(d);
}

/* Step 2 (and the spawn server's start): every disposition SIG_DFL, nothing blocked. */
static void reset_signals(void)
{
    unsigned long zero_action[16];
    memset(zero_action, 0, sizeof zero_action);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            syscall(SYS_rt_sigaction, sig, zero_action, NULL, (size_t)(NSIG - 1) / 8);
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
        fail(errno, "sigprocmask");
}

/* Step 7: the highest capability this kernel knows, read once (the spawn server reads it at its
 * start, and its clones find it there). Without /proc: 63, every bit is tried; caps the kernel
 * lacks give EINVAL. */
static int last_cap_known = -1;
static int last_cap(void)
{
    if (last_cap_known < 0) {
        int last = 63;
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        if (f != NULL) {
            if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
                last = 63;
            fclose(f);
        }
        last_cap_known = last;
    }
    return last_cap_known;
}

/* Step 3b: write our pid to a cgroup.procs file (O_NOFOLLOW: it is the emperor's own file). */
static void join_cgroup(const char *procs)
{
    int fd = open(procs, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        fail(errno, "cgroup %s", procs);
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    ssize_t w;
    do
        w = write(fd, pid, (size_t)n);
    while (w < 0 && errno == EINTR);
    if (w != n)
        fail(w < 0 ? errno : EIO, "cgroup %s", procs);
    close(fd);
}

static int helper_main(int argc, char **argv, struct prepared *pre)
{
    long ppid_expected = -1, pdeathsig = SIGKILL;
    long long uid = -1, gid = -1, umask_value = -1;
    const char *user = NULL, *dir = NULL, *logto = NULL;
    int drop_caps = 0, no_new_privs = 0, limits_after_drop = 0, nrlim = 0, i;
    long long env_fd = -1;
    int watchdog_pid = 0, bind_mode = 0;
    int listen_fds = 0;
    struct rlim_spec rlims[MAX_RLIMITS];
    int keep[MAX_KEEP], nkeep = 0;
    const char *cgroups[MAX_CGROUPS];
    int ncgroups = 0;

    /* Options: one word each, value in the next word; "--" is required before PROGRAM. */
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0' || a[2] != '\0')
            fail(0, "usage: expected an option or --, got %s", a);
        if (a[1] == 'C') { drop_caps = 1; continue; }
        if (a[1] == 'N') { no_new_privs = 1; continue; }
        if (a[1] == 'A') { limits_after_drop = 1; continue; }
        if (a[1] == 'W') { watchdog_pid = 1; continue; }
        if (a[1] == 'B') { bind_mode = 1; continue; }
        if (strchr("RPsrugUmdlKEGL", a[1]) == NULL)
            fail(0, "usage: unknown option %s", a);
        if (i + 1 >= argc)
            fail(0, "usage: option %s needs a value", a);
        const char *v = argv[++i];
        switch (a[1]) {
        case 'R': report_fd = (int)num_arg(a, v, 10, 0x7fffffff); break;
        case 'P': ppid_expected = (long)num_arg(a, v, 10, 0x7fffffff); break;
        case 's': pdeathsig = (long)num_arg(a, v, 10, NSIG - 1); break;
        case 'u': uid = (long long)num_arg(a, v, 10, (uid_t)-2); break; /* -1 = "unchanged" */
        case 'g': gid = (long long)num_arg(a, v, 10, (gid_t)-2); break;
        case 'm': umask_value = (long long)num_arg(a, v, 8, 0777); break;
        case 'U': user = v; break;
        case 'E':
            env_fd = (long long)num_arg(a, v, 10, 0x7fffffff);
            if (env_fd < 3)
                fail(0, "usage: -E needs an fd >= 3: %s", v);
            break;
        case 'd': dir = v; break;
        case 'G':
            if (ncgroups == MAX_CGROUPS)
                fail(0, "usage: too many -G");
            cgroups[ncgroups++] = v;
            break;
        case 'l': logto = v; break;
        case 'L':
            listen_fds = (int)num_arg(a, v, 10, MAX_LISTEN_FDS);
            if (listen_fds < 1)
                fail(0, "usage: -L needs 1 to %d fds: %s", MAX_LISTEN_FDS, v);
            break;
        case 'K':
            if (nkeep == MAX_KEEP)
                fail(0, "usage: too many -K");
            keep[nkeep++] = (int)num_arg(a, v, 10, 0x7fffffff);
            if (keep[nkeep - 1] < 3)
                fail(0, "usage: -K needs an fd >= 3: %s", v);
            break;
        case 'r':
            if (nrlim == MAX_RLIMITS)
                fail(0, "usage: too many -r");
            parse_rlimit(v, &rlims[nrlim++]);
            break;
        }
    }
    if (i >= argc)
        fail(0, "usage: missing -- before PROGRAM");
    if (i + 1 >= argc)
        fail(0, "usage: missing PROGRAM after --");
    if (uid >= 0 && gid < 0)
        fail(0, "usage: -u needs -g");
    if (user != NULL && gid < 0)
        fail(0, "usage: -U needs -g");
    char **prog = &argv[i + 1];
    /* The listening fds are 3 .. 3+N-1: nothing else the helper uses may be among them. */
    if (listen_fds > 0) {
        if (report_fd > 2 && report_fd < 3 + listen_fds)
            fail(0, "usage: -R %d is among the -L fds", report_fd);
        if (env_fd >= 0 && env_fd < 3 + listen_fds)
            fail(0, "usage: -E %lld is among the -L fds", env_fd);
        for (int k = 0; k < nkeep; k++)
            if (keep[k] < 3 + listen_fds)
                fail(0, "usage: -K %d is among the -L fds", keep[k]);
    }

    /* 0. The vassal's environment, read and its fd closed before the fd sweep. */
    extern char **environ;
    char **env = env_fd >= 0 ? read_env((int)env_fd, pre) : environ;
    if (watchdog_pid || listen_fds > 0)
        env = with_own_pid(env, pre, watchdog_pid, listen_fds);

    /* 0b. -L: every listening fd is there and a socket (what sd_listen_fds promises the program). */
    for (int fd = 3; fd < 3 + listen_fds; fd++) {
        struct stat st;
        if (fstat(fd, &st) != 0)
            fail(errno, "listen fd %d", fd);
        if (!S_ISSOCK(st.st_mode))
            fail(0, "listen fd %d: not a socket", fd);
    }

    /* 1. Nothing of the emperor's beyond 0-2, the -L fds, the report channel and the -K fds
     * reaches the vassal: close the gaps between the kept fds, in ascending order. */
    int kept[MAX_KEEP + 1], nkept = 0;
    if (report_fd > 2)
        kept[nkept++] = report_fd;
    for (int k = 0; k < nkeep; k++)
        kept[nkept++] = keep[k];
    for (int x = 1; x < nkept; x++) /* insertion sort: at most 9 entries */
        for (int y = x; y > 0 && kept[y - 1] > kept[y]; y--) {
            int t = kept[y]; kept[y] = kept[y - 1]; kept[y - 1] = t;
        }
    unsigned int next_fd = 3 + (unsigned int)listen_fds;
    for (int k = 0; k < nkept; k++) {
        if ((unsigned int)kept[k] > next_fd)
            close_fds_from(next_fd, (unsigned int)kept[k] - 1);
        if ((unsigned int)kept[k] + 1 > next_fd)
            next_fd = (unsigned int)kept[k] + 1;
    }
    close_fds_from(next_fd, ~0U);

    /* 2. Default dispositions (exec resets handlers, not SIG_IGN), then unblock. The raw
     * rt_sigaction because glibc's sigaction refuses the signals it reserves (32, 33), and a JDK 17
     * child has those ignored too. An all-zero kernel sigaction is SIG_DFL, no flags, empty mask
     * whatever the arch's field order; the sigset size is the kernel's (_NSIG - 1 bits). */
    reset_signals();

    /* 3. Own session. A spawner may already have made us a session leader (POSIX_SPAWN_SETSID):
     * then setsid() would fail with EPERM although the goal is met. */
    if (getsid(0) != getpid() && setsid() < 0)
        fail(errno, "setsid");

    /* 3b. Into the vassal's cgroup(s): nothing has forked yet, and the files are the emperor's. */
    for (int k = 0; k < ncgroups; k++)
        join_cgroup(cgroups[k]);

    /* 4. Resource limits, while CAP_SYS_RESOURCE may still be held (unless -A). */
    if (!limits_after_drop)
        apply_rlimits(rlims, nrlim, 0);

    /* 5, 6. Groups before the uid change: both need CAP_SETGID. */
    if (gid >= 0) {
        gid_t g = (gid_t)gid;
        if (user != NULL && pre != NULL) {
            /* getgrouplist(user, g), looked up by the worker for this spawn: what initgroups sets. */
            if (pre->ngroups < 0)
                fail(0, "initgroups %s: the groups were not looked up", user);
            if (setgroups((size_t)pre->ngroups, pre->groups) != 0)
                fail(errno, "initgroups %s", user);
        } else if (user != NULL) {
            if (initgroups(user, g) != 0)
                fail(errno, "initgroups %s", user);
        } else if (setgroups(1, &g) != 0) {
            fail(errno, "setgroups %lld", gid);
        }
        if (setresgid(g, g, g) != 0)
            fail(errno, "setresgid %lld", gid);
    }

    /* 7. Bounding set while CAP_SETPCAP may still be held. An emperor without CAP_SETPCAP
     * (only SETUID/SETGID/KILL) cannot shrink it: EPERM, and EINVAL for caps this kernel lacks,
     * are tolerated here only; the vassal still ends with no capability at all (step 9). */
    if (drop_caps) {
        int last = last_cap();
        for (int cap = 0; cap <= last; cap++)
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EPERM && errno != EINVAL)
                fail(errno, "capbset %d", cap);
    }

    /* 8. The uid change (clears the parent-death signal, hence step 12 comes later). */
    if (uid >= 0 && setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0)
        fail(errno, "setresuid %lld", uid);

    /* 9. Ambient, then effective/permitted/inheritable all zero (raw capset v3: no libcap). */
    if (drop_caps) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
            fail(errno, "capambient clear");
        struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
        memset(data, 0, sizeof data);
        if (syscall(SYS_capset, &hdr, data) != 0)
            fail(errno, "capset 0");
        if (syscall(SYS_capget, &hdr, data) != 0)
            fail(errno, "verify capget");
        for (int w = 0; w < _LINUX_CAPABILITY_U32S_3; w++)
            if (data[w].effective != 0 || data[w].permitted != 0 || data[w].inheritable != 0)
                fail(0, "verify: capabilities left after the drop");
    }

    /* 9b. -A: the limits as the vassal, without CAP_SYS_RESOURCE: they can only go down. */
    if (limits_after_drop)
        apply_rlimits(rlims, nrlim, 1);

    /* 10. */
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail(errno, "no_new_privs");

    /* 11. Verify the drop. Going back to root must fail; if it works we are root again, and
     * exiting here is the only safe outcome. */
    if (uid > 0) {
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
            fail(errno, "verify getresuid");
        if (ru != (uid_t)uid || eu != (uid_t)uid || su != (uid_t)uid)
            fail(0, "verify: uid is %u/%u/%u, want %lld", ru, eu, su, uid);
        if (rg != (gid_t)gid || eg != (gid_t)gid || sg != (gid_t)gid)
            fail(0, "verify: gid is %u/%u/%u, want %lld", rg, eg, sg, gid);
        if (setresuid(0, 0, 0) == 0 || setuid(0) == 0)
            fail(0, "verify: could regain root");
    }

    /* 12. Parent-death signal, then make sure the parent did not die before it was armed. */
    if (pdeathsig != 0 && prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0) != 0)
        fail(errno, "pdeathsig %ld", pdeathsig);
    if (ppid_expected >= 0 && getppid() != (pid_t)ppid_expected)
        fail(0, "pdeathsig: parent exited");

    /* 13. As the vassal: its umask, and a directory it may enter. */
    if (umask_value >= 0)
        umask((mode_t)umask_value);
    if (dir != NULL && chdir(dir) != 0)
        fail(errno, "chdir %s", dir);

    /* -B: a socket bound as the vassal instead of a program run (13 gave its identity and directory). */
    if (bind_mode)
        bind_unix(prog);

    /* 14. The log, opened and permission-checked as the vassal; never through a symlink. After
     * this a failure without -R lands in the log, which is where the vassal's output goes. */
    if (logto != NULL) {
        int fd = open(logto, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                      0640);
        if (fd < 0)
            fail(errno, "logto %s", logto);
        for (int target = 1; target <= 2; target++) {
            /* dup2(fd, fd) would keep O_CLOEXEC: clear it when open reused a free 1 or 2. */
            if (fd == target ? fcntl(fd, F_SETFD, 0) != 0 : dup2(fd, target) < 0)
                fail(errno, "logto %s", logto);
        }
        if (fd > 2)
            close(fd);
    }

    /* 15. A successful exec closes the report fd (EOF, no data); fds 0-2 are the vassal's. */
    if (report_fd > 2) {
        int flags = fcntl(report_fd, F_GETFD);
        if (flags >= 0 && fcntl(report_fd, F_SETFD, flags | FD_CLOEXEC) != 0)
            fail(errno, "report fd %d", report_fd);
    }
    for (int k = 0; k < nkeep; k++) {
        int flags = fcntl(keep[k], F_GETFD);
        if (flags < 0 || fcntl(keep[k], F_SETFD, flags & ~FD_CLOEXEC) != 0)
            fail(errno, "keep fd %d", keep[k]);
    }
    for (int fd = 3; fd < 3 + listen_fds; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0)
            fail(errno, "listen fd %d", fd);
    }
    exec_path(prog, env);
}

/* -B: bind and listen on the unix socket args[0] with mode args[1] and backlog args[2], as the
 * identity the steps above gave; the fd goes back on the report fd (SCM_RIGHTS). Never returns. */
__attribute__((noreturn))
static void bind_unix(char **args)
{
    if (args[0] == NULL || args[1] == NULL || args[2] == NULL || args[3] != NULL)
        fail(0, "usage: -B needs -- PATH MODE BACKLOG");
    const char *path = args[0];
    mode_t mode = (mode_t)num_arg("-B MODE", args[1], 8, 0777);
    int backlog = (int)num_arg("-B BACKLOG", args[2], 10, 65535);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (path[0] != '/' || len >= sizeof sa.sun_path)
        fail(0, "bind %s: not an absolute path of at most %zu bytes", path, sizeof sa.sun_path - 1);
    struct stat st;
    int replace = 0;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            fail(0, "bind %s: exists and is not a socket (only a stale socket is replaced)", path);
        replace = 1;
    } else if (errno != ENOENT) {
        fail(errno, "lstat %s", path);
    }
    /* A socket already there (the vassal's own, still held, or a stale one) is replaced atomically:
     * the new one is bound beside it as PATH~ and renamed over it, so a client never finds the path
     * missing and a failed bind leaves the old one in place. Without room for the ~ in sun_path, or
     * with something else than a socket at PATH~, the old one is unlinked first. */
    char beside[sizeof sa.sun_path];
    int renamed = 0;
    if (replace && len + 1 < sizeof sa.sun_path) {
        memcpy(beside, path, len);
        beside[len] = '~';
        beside[len + 1] = '\0';
        if (lstat(beside, &st) == 0)
            renamed = S_ISSOCK(st.st_mode) && unlink(beside) == 0;
        else
            renamed = errno == ENOENT;
    }
    if (replace && !renamed && unlink(path) != 0)
        fail(errno, "unlink stale socket %s", path);
    size_t at = renamed ? len + 1 : len;
    memcpy(sa.sun_path, renamed ? beside : path, at);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail(errno, "socket");
    umask(~mode & 0777); /* bind creates the file 0777 & ~umask: MODE from the first moment */
    if (bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + at + 1)) != 0)
        fail(errno, "bind %s", path);
    if (listen(fd, backlog) != 0)
        fail(errno, "listen %s", path);
    if (renamed && rename(beside, path) != 0) {
        int err = errno;
        unlink(beside);
        fail(err, "rename %s over %s", beside, path);
    }
    char byte = 'F';
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (sendmsg(report_fd, &msg, MSG_NOSIGNAL) != 1)
        fail(errno, "send the socket of %s", path);
    _exit(0);
}

/* execve of prog[0] with env, looked up in env's PATH (the vassal's, not the helper's) when it has
 * no '/'; never through a shell. */
static void exec_path(char **prog, char **env)
{
    const char *name = prog[0];
    if (*name == '\0')
        fail(ENOENT, "exec \"\"");
    if (strchr(name, '/') != NULL) {
        execve(name, prog, env);
        fail(errno, "exec %s", name);
    }
    const char *path = env_get(env, "PATH");
    if (path == NULL || *path == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    int first_error = ENOENT;
    char full[4096];
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        /* An empty PATH element means the current directory, as in execvp. */
        int n = len == 0 ? snprintf(full, sizeof full, "%s", name)
                         : snprintf(full, sizeof full, "%.*s/%s", (int)len, p, name);
        if (n > 0 && (size_t)n < sizeof full) {
            execve(full, prog, env);
            if (errno == EACCES)
                first_error = EACCES; /* remembered: a later ENOENT must not hide it */
            else if (errno != ENOENT && errno != ENOTDIR)
                fail(errno, "exec %s", full);
        }
        if (end == NULL)
            break;
        p = end;
    }
    fail(first_error, "exec %s", name);
}

/* ------------------------------------------------------------------ the spawn server (--serve)
 *
 * One request per SOCK_SEQPACKET message from the emperor, native byte order:
 *   u32 magic SERVE_MAGIC, u32 nfds, u32 nactions, nactions x {i32 target, i32 source},
 *   u32 argc, then argc NUL-terminated strings filling the rest of the message exactly;
 *   nfds descriptors ride along as SCM_RIGHTS. A source >= 0 is the index of a received fd;
 *   SOURCE_NULL_IN / SOURCE_NULL_OUT open /dev/null for reading / writing there (what the
 *   posix_spawn file actions did). Targets are distinct, below FD_HIGH, and include 0, 1 and 2.
 * One reply of two i32: the child's pid and 0, sent by the child itself before any step, or 0
 * and an errno from the server (EINVAL: the request was refused; EAGAIN: the groups could not be
 * looked up; anything else: clone(2) failed). Before the first request the server sends {0, 0}
 * once: it is ready. Every received fd is closed in the server once the child has its copies. */
#define SERVE_MAGIC 0x53504d45u /* "EMPS" */
#define MAX_REQUEST (128 * 1024) /* below the default socket send buffer (208 KiB) */
#define MAX_FDS (8 + MAX_LISTEN_FDS)
#define MAX_ACTIONS (8 + MAX_LISTEN_FDS)
#define MAX_ARGS 4096
#define FD_HIGH 64
#define SOURCE_NULL_IN (-1)
#define SOURCE_NULL_OUT (-2)

struct action { int32_t target, source; };

static uint32_t get_u32(const unsigned char *buf, size_t *at)
{
    uint32_t v;
    memcpy(&v, buf + *at, sizeof v);
    *at += sizeof v;
    return v;
}

/* Checks a request; on success argv (malloc'd, NULL-terminated) points into buf. */
static int parse_request(unsigned char *buf, size_t len, int nfds, struct action *actions, int *nactions,
                         char ***argv_out, int *argc_out)
{
    size_t at = 0;
    if (len < 3 * sizeof(uint32_t) || get_u32(buf, &at) != SERVE_MAGIC)
        return -1;
    uint32_t declared_fds = get_u32(buf, &at), n = get_u32(buf, &at);
    if (declared_fds != (uint32_t)nfds || n > MAX_ACTIONS || len - at < n * sizeof(struct action) + sizeof(uint32_t))
        return -1;
    int have[3] = {0, 0, 0};
    unsigned long long seen = 0; /* targets are < FD_HIGH = 64 */
    for (uint32_t k = 0; k < n; k++) {
        memcpy(&actions[k], buf + at, sizeof actions[k]);
        at += sizeof actions[k];
        int32_t t = actions[k].target, src = actions[k].source;
        if (t < 0 || t >= FD_HIGH || (seen & (1ULL << t)) != 0)
            return -1;
        if (!(src == SOURCE_NULL_IN || src == SOURCE_NULL_OUT || (src >= 0 && src < nfds)))
            return -1;
        seen |= 1ULL << t;
        if (t <= 2)
            have[t] = 1;
    }
    if (!have[0] || !have[1] || !have[2])
        return -1;
    *nactions = (int)n;
    uint32_t argc = get_u32(buf, &at);
    if (argc < 1 || argc > MAX_ARGS)
        return -1;
    char **argv = malloc((argc + 1) * sizeof *argv);
    if (argv == NULL)
        return -1;
    for (uint32_t k = 0; k < argc; k++) {
        unsigned char *nul = at < len ? memchr(buf + at, '\0', len - at) : NULL;
        if (nul == NULL) {
            free(argv);
            return -1;
        }
        argv[k] = (char *)buf + at;
        at = (size_t)(nul - buf) + 1;
    }
    if (at != len) { /* nothing may follow the last string */
        free(argv);
        return -1;
    }
    argv[argc] = NULL;
    *argv_out = argv;
    *argc_out = (int)argc;
    return 0;
}

/* In the clone child: the received fds onto their targets (moved above every target first, so
 * that no placement overwrites a source still to be placed), the server's socket closed. Every
 * other fd (the high copies, the received originals) is CLOEXEC and closed by step 1 anyway. */
static void place_fds(int sock, const int *fds, int nfds, const struct action *actions, int nactions)
{
    int high[MAX_FDS];
    for (int k = 0; k < nfds; k++)
        if ((high[k] = fcntl(fds[k], F_DUPFD_CLOEXEC, FD_HIGH)) < 0)
            fail(errno, "spawn server: fd %d", fds[k]);
    close(sock);
    for (int k = 0; k < nactions; k++) {
        int t = actions[k].target, src = actions[k].source;
        if (src >= 0) {
            if (dup2(high[src], t) < 0) /* dup2 clears FD_CLOEXEC on t */
                fail(errno, "spawn server: fd %d", t);
            continue;
        }
        int fd = open("/dev/null", (src == SOURCE_NULL_IN ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
        if (fd < 0)
            fail(errno, "spawn server: /dev/null");
        if (fd == t ? fcntl(fd, F_SETFD, 0) != 0 : (dup2(fd, t) < 0 || close(fd) != 0))
            fail(errno, "spawn server: fd %d", t);
    }
}

static void reply(int sock, int32_t pid, int32_t err)
{
    int32_t r[2] = {pid, err};
    while (send(sock, r, sizeof r, MSG_NOSIGNAL) < 0)
        if (errno != EINTR)
            _exit(0); /* the emperor is gone */
}

/* The server's threads: each one waits in recvmsg on the socket (the kernel gives a message to
 * one of them), checks the request, looks up the groups, and clones. With CLONE_VM|CLONE_VFORK
 * (as glibc's posix_spawn) the clone copies no page table and takes no copy-on-write fault: a
 * thread is suspended until its child has exec'd or exited, so a child stuck before its exec (a
 * logto FIFO without a reader, a chdir on a hung mount) holds one thread, and the others serve.
 * When the last idle thread takes a request it starts another one first, up to MAX_WORKERS
 * (each holds what its children touched: a few pages, and the largest environment); beyond that
 * a request waits, and the emperor's reply deadline applies. A tenant can hold a thread only
 * with a vassal of its own stuck between its drop and its exec (the stop of that vassal frees it),
 * and no clone is ever readable by it: after the drop it is not dumpable, and at the exec it
 * leaves the server's memory. */
#define MAX_WORKERS 256
#define CHILD_STACK (256 * 1024)

struct worker {
    struct prepared pre;
    unsigned char *buf; /* MAX_REQUEST + 1 */
    char *stack;        /* CHILD_STACK, its lowest page a guard */
};

static int serve_sock = -1;
static atomic_int idle_workers, live_workers;

/* What the clone child gets (on its worker's stack: the worker is suspended meanwhile). */
struct child_args {
    int sock, nfds, nactions, argc;
    const int *fds;
    const struct action *actions;
    char **argv;
    struct prepared *pre;
};

/* The clone child, on its worker's child stack. It sends its own pid first, before any step:
 * its worker is suspended until it execs. It keeps the socket until that answer is sent, so the
 * emperor, reading until EOF after it killed a server that did not answer in time, sees the
 * answer of every child there is (SpawnServer.exchange). A child that cannot answer (the emperor
 * is gone) exits before any step. Signals are blocked (its worker's mask) until step 2. */
static int child_main(void *arg)
{
    struct child_args *a = arg;
    report_fd = 2;
    int32_t r[2] = {(int32_t)getpid(), 0};
    ssize_t sent;
    do
        sent = send(a->sock, r, sizeof r, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent != (ssize_t)sizeof r)
        _exit(FAIL_STATUS);
    place_fds(a->sock, a->fds, a->nfds, a->actions, a->nactions);
    _exit(helper_main(a->argc, a->argv, a->pre)); /* helper_main execs or fails */
}

/* -U NAME and -g GID of a request's argv (helper_main checks the whole argv again in the child). */
static void requested_user(int argc, char **argv, const char **user, long long *gid)
{
    *user = NULL;
    *gid = -1;
    for (int i = 1; i + 1 < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *o = argv[i];
        if (o[0] != '-' || o[1] == '\0' || o[2] != '\0')
            return;
        if (strchr("RPsrugUmdlKEGL", o[1]) == NULL)
            continue; /* a flag without a value */
        unsigned long long v;
        if (o[1] == 'U')
            *user = argv[i + 1];
        else if (o[1] == 'g' && parse_num(argv[i + 1], 10, (gid_t)-2, &v) == 0)
            *gid = (long long)v;
        i++;
    }
}

static void *worker_main(void *arg);

/* A new thread, with its buffers; false if there is no memory or no thread for it. */
static int start_worker(void)
{
    if (atomic_fetch_add(&live_workers, 1) >= MAX_WORKERS) {
        atomic_fetch_sub(&live_workers, 1);
        return 0;
    }
    struct worker *w = calloc(1, sizeof *w);
    if (w != NULL) {
        w->buf = malloc(MAX_REQUEST + 1);
        w->pre.env_buf = malloc(MAX_ENV_BYTES + 1);
        w->pre.env_ptrs = malloc((MAX_ENV_ENTRIES + 4) * sizeof(char *));
        w->pre.groups = malloc(NGROUPS_MAX * sizeof(gid_t));
        void *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        w->stack = stack == MAP_FAILED ? NULL : stack;
        if (w->stack != NULL)
            mprotect(w->stack, 4096, PROT_NONE);
    }
    pthread_attr_t attr;
    pthread_t t;
    if (w == NULL || w->buf == NULL || w->pre.env_buf == NULL || w->pre.env_ptrs == NULL || w->pre.groups == NULL
            || w->stack == NULL || pthread_attr_init(&attr) != 0) {
        atomic_fetch_sub(&live_workers, 1);
        return 0; /* leaked, once: the server is out of memory */
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 128 * 1024);
    int ok = pthread_create(&t, &attr, worker_main, w) == 0;
    pthread_attr_destroy(&attr);
    if (!ok)
        atomic_fetch_sub(&live_workers, 1);
    return ok;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int sock = serve_sock;
    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    } control;
    for (;;) {
        struct iovec iov = { w->buf, MAX_REQUEST + 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.space, .msg_controllen = sizeof control.space };
        atomic_fetch_add(&idle_workers, 1);
        ssize_t n;
        do
            n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        int idle_left = atomic_fetch_sub(&idle_workers, 1) - 1;
        if (n <= 0)
            _exit(0); /* EOF: the emperor closed its end (or is gone) */
        if (idle_left == 0)
            start_worker(); /* for the next request, while this one's child runs */
        int fds[MAX_FDS], nfds = 0, bad = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || n > MAX_REQUEST;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                bad = 1;
                continue;
            }
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t k = 0; k < count; k++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
                if (nfds < MAX_FDS)
                    fds[nfds++] = fd;
                else {
                    close(fd);
                    bad = 1;
                }
            }
        }
        struct action actions[MAX_ACTIONS];
        int nactions = 0, child_argc = 0;
        char **child_argv = NULL;
        if (bad || parse_request(w->buf, (size_t)n, nfds, actions, &nactions, &child_argv, &child_argc) != 0) {
            for (int k = 0; k < nfds; k++)
                close(fds[k]);
            reply(sock, 0, EINVAL);
            continue;
        }
        /* The groups of -U, here and now (not at the server's start: a user's groups change),
         * as initgroups(NAME, GID) would set them: the child makes no NSS call. */
        const char *user;
        long long gid;
        requested_user(child_argc, child_argv, &user, &gid);
        w->pre.ngroups = -1;
        if (user != NULL && gid >= 0) {
            int ng = NGROUPS_MAX;
            if (getgrouplist(user, (gid_t)gid, w->pre.groups, &ng) < 0) {
                for (int k = 0; k < nfds; k++)
                    close(fds[k]);
                free(child_argv);
                reply(sock, 0, EAGAIN); /* more than NGROUPS_MAX: posix_spawn's helper says so */
                continue;
            }
            w->pre.ngroups = ng;
        }
        struct child_args args = { sock, nfds, nactions, child_argc, fds, actions, child_argv, &w->pre };
        int pid = clone(child_main, w->stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | CLONE_PARENT | SIGCHLD, &args);
        int err = errno;
        for (int k = 0; k < nfds; k++)
            close(fds[k]);
        free(child_argv);
        if (pid < 0)
            reply(sock, 0, err);
        /* else the child answered, and has exec'd or exited by now */
    }
}

/*
 * emperor-exec --serve FD PPID: the spawn server. Started once by the emperor's loop thread
 * with its end of a SOCK_SEQPACKET socketpair on FD; it exits at EOF there, and with SIGKILL
 * when the thread that started it exits (the parent-death signal; PPID closes the race). Per
 * request a worker thread clones with CLONE_VM|CLONE_VFORK|CLONE_PARENT, so the vassal is the
 * emperor's child, as from posix_spawn; the child answers its pid, places the fds and runs
 * helper_main on the received argv: the same steps, checks and reports as an exec'd helper, minus
 * that exec, and without malloc or NSS (struct prepared). Its threads block every signal (the
 * children unblock theirs at step 2); SIGKILL ends them all.
 */
static int serve_main(int argc, char **argv)
{
    if (argc != 4)
        fail(0, "usage: emperor-exec --serve FD PPID");
    int sock = (int)num_arg("--serve", argv[2], 10, 0x7fffffff);
    long ppid = (long)num_arg("--serve", argv[3], 10, 0x7fffffff);
    if (sock < 3)
        fail(0, "usage: --serve needs an fd >= 3: %s", argv[2]);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        fail(errno, "serve: pdeathsig");
    if (getppid() != (pid_t)ppid)
        fail(0, "serve: parent exited");
    /* Nothing of the emperor's but the socket (the JVM leaks fds without CLOEXEC). */
    close_fds_from(3, (unsigned int)sock - 1);
    close_fds_from((unsigned int)sock + 1, ~0U);
    if (fcntl(sock, F_SETFD, FD_CLOEXEC) != 0)
        fail(errno, "serve: fd %d", sock);
    reset_signals();
    /* A child's answer to an emperor that is gone must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    /* What every child would otherwise do again, once: the NSS set-up behind getgrouplist
     * (nsswitch.conf read, its modules loaded: with "group: files systemd" a dlopen of
     * libnss_systemd) and the read of cap_last_cap. The groups of a vassal are still looked up
     * at its spawn. */
    gid_t warm[16];
    int nwarm = 16;
    getgrouplist("root", 0, warm, &nwarm);
    last_cap();
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* every thread's, inherited by every child */
    serve_sock = sock;
    if (!start_worker())
        fail(ENOMEM, "serve: a thread");
    /* Ready: {0, 0}. Until the emperor has read it, it spawns through posix_spawn, so that a slow
     * NSS source (an LDAP server that does not answer) never makes it wait for this set-up. */
    reply(sock, 0, 0);
    for (;;)
        pause(); /* the workers serve; one of them _exits at EOF */
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--serve") == 0)
        return serve_main(argc, argv);
    return helper_main(argc, argv, NULL);
}
