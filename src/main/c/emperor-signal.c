/*
 * libemperor-signal.so: lets the emperor take over SIGQUIT, which the JVM keeps for itself
 * (thread dumps) and will not hand to sun.misc.Signal. Loaded into the emperor's JVM through
 * jnr-ffi.
 *
 * The handler does the one async-signal-safe thing a handler should: it writes the signal
 * number as one byte to a non-blocking pipe, which the emperor's I/O thread watches with epoll
 * and turns into a loop event. It runs on whatever thread the kernel picks and touches nothing
 * of the JVM.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile int notify_fd = -1;

static void on_signal(int sig)
{
    int saved = errno; /* the interrupted code may be about to read errno */
    unsigned char b = (unsigned char)sig;
    if (notify_fd >= 0 && write(notify_fd, &b, 1) < 0) {
        /* pipe full: signals are already pending there, one more changes nothing */
    }
    errno = saved;
}

/* Routes signal `sig` to a byte on `fd` (the write end of a non-blocking pipe). 0 or -1/errno. */
int emperor_signal_to_fd(int sig, int fd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sig == SIGCHLD)
        sa.sa_flags |= SA_NOCLDSTOP; /* only exits: a stopped or continued child is nothing to reap */
    notify_fd = fd;
    return sigaction(sig, &sa, NULL);
}

/*
 * Capabilities for every thread (emperor.ini's uid/gid/cap, PrivilegeDrop.java).
 *
 * glibc applies setresuid/setresgid/setgroups to every thread of the process (its setxid
 * broadcast), but capabilities, PR_SET_KEEPCAPS and the ambient set are a thread's own, and no
 * libc call changes them for all threads. emperor_caps_all_threads does it the way glibc does
 * for set*id: a signal to each thread, whose handler applies the change to its own thread with
 * raw prctl/capset calls (async-signal-safe), then waits until every thread has answered. The
 * thread list is read again until it holds no thread not yet done, so a thread started during
 * the broadcast is not missed. The JVM's threads do not block real-time signals.
 */
#include <dirent.h>
#include <linux/capability.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <time.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

#define CAPS_MAX_THREADS 4096

static uint64_t caps_mask;     /* the capabilities kept */
static int caps_last;          /* /proc/sys/kernel/cap_last_cap */
static volatile int caps_phase; /* 1: keepcaps and bounding set, before setresuid; 2: capset and ambient, after; 0: done */
static atomic_int caps_acked;
static atomic_int caps_slot;
static pid_t caps_acked_tids[CAPS_MAX_THREADS];
static atomic_int caps_errno;  /* the first failure of a handler, 0 if none */

/* Applies the phase to the calling thread: 0, or -1 with errno. */
static int caps_apply_self(void)
{
    if (caps_phase == 0) {
        return 0; /* a stray signal after the broadcast: nothing to do */
    }
    if (caps_phase == 1) {
        if (syscall(SYS_prctl, PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
            return -1;
        }
        for (int cap = 0; cap <= caps_last; cap++) {
            if (!(caps_mask & (1ULL << cap)) && syscall(SYS_prctl, PR_CAPBSET_DROP, (long)cap, 0L, 0L, 0L) != 0) {
                return -1;
            }
        }
        return 0;
    }
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    uint32_t lo = (uint32_t)caps_mask;
    uint32_t hi = (uint32_t)(caps_mask >> 32);
    data[0].effective = data[0].permitted = data[0].inheritable = lo;
    data[1].effective = data[1].permitted = data[1].inheritable = hi;
    if (syscall(SYS_capset, &hdr, data) != 0) {
        return -1;
    }
    for (int cap = 0; cap <= caps_last; cap++) {
        if ((caps_mask & (1ULL << cap))
                && syscall(SYS_prctl, PR_CAP_AMBIENT, (long)PR_CAP_AMBIENT_RAISE, (long)cap, 0L, 0L) != 0) {
            return -1;
        }
    }
    return syscall(SYS_prctl, PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) == 0 ? 0 : -1;
}

static void on_caps(int sig)
{
    (void)sig;
    int saved = errno;
    if (caps_apply_self() != 0) {
        int expected = 0;
        atomic_compare_exchange_strong(&caps_errno, &expected, errno);
    }
    /* The tid is stored before the answer is counted: an answer always has its tid. */
    int i = atomic_fetch_add(&caps_slot, 1);
    if (i < CAPS_MAX_THREADS) {
        caps_acked_tids[i] = (pid_t)syscall(SYS_gettid);
    }
    atomic_fetch_add(&caps_acked, 1);
    errno = saved;
}

static int caps_done_contains(const pid_t *done, int n, pid_t tid)
{
    for (int i = 0; i < n; i++) {
        if (done[i] == tid) {
            return 1;
        }
    }
    return 0;
}

/* The signalled threads that neither answered nor still exist (ended before their handler ran). */
static int caps_vanished(const pid_t *sent, int nsent)
{
    int n = 0;
    int slots = atomic_load(&caps_slot);
    for (int i = 0; i < nsent; i++) {
        /* every answer counted has its tid stored; a slot not yet written holds 0 */
        if (caps_done_contains(caps_acked_tids, slots < CAPS_MAX_THREADS ? slots : CAPS_MAX_THREADS, sent[i])) {
            continue;
        }
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d", (int)sent[i]);
        if (access(path, F_OK) != 0) {
            n++;
        }
    }
    return n;
}

/*
 * Phase 1 (before setresuid) or 2 (after) for every thread of the process, the caller's first.
 * args: {phase, mask_lo, mask_hi, last_cap, sig, timeout_ms} (an array: jnr passes six scalar
 * arguments wrongly): the capabilities kept; /proc/sys/kernel/cap_last_cap; a real-time signal
 * nobody else uses; how long to wait for all threads. Returns the number of threads done, or -1
 * with errno (ETIMEDOUT when a thread did not answer).
 */
int emperor_caps_all_threads(const int32_t *args)
{
    int phase = args[0];
    uint32_t mask_lo = (uint32_t)args[1];
    uint32_t mask_hi = (uint32_t)args[2];
    int last_cap = args[3];
    int sig = args[4];
    int timeout_ms = args[5];
    static pid_t done[CAPS_MAX_THREADS];
    static pid_t signalled[CAPS_MAX_THREADS];
    int ndone = 0;
    caps_mask = ((uint64_t)mask_hi << 32) | mask_lo;
    caps_last = last_cap;
    caps_phase = phase;
    atomic_store(&caps_errno, 0);
    atomic_store(&caps_acked, 0);
    atomic_store(&caps_slot, 0);
    memset(caps_acked_tids, 0, sizeof caps_acked_tids);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_caps;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(sig, &sa, NULL) != 0) {
        return -1;
    }
    pid_t self = (pid_t)syscall(SYS_gettid);
    pid_t pid = getpid();
    if (caps_apply_self() != 0) {
        return -1;
    }
    done[ndone++] = self;
    int sent = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        DIR *d = opendir("/proc/self/task");
        if (d == NULL) {
            return -1;
        }
        int fresh = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid <= 0 || caps_done_contains(done, ndone, tid)) {
                continue;
            }
            if (ndone == CAPS_MAX_THREADS) {
                closedir(d);
                errno = E2BIG;
                return -1;
            }
            done[ndone++] = tid;
            if (syscall(SYS_tgkill, pid, tid, sig) == 0) {
                signalled[sent++] = tid;
                fresh++;
            } /* else ESRCH: the thread has ended */
        }
        closedir(d);
        /* Wait for every answer, then look again for threads started meanwhile. */
        while (atomic_load(&caps_acked) + caps_vanished(signalled, sent) < sent) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long ms = (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
            if (ms > timeout_ms) {
                errno = ETIMEDOUT;
                return -1;
            }
            struct timespec pause = {0, 1000000};
            nanosleep(&pause, NULL);
        }
        if (atomic_load(&caps_errno) != 0) {
            errno = atomic_load(&caps_errno);
            return -1;
        }
        if (fresh == 0) {
            caps_phase = 0;
            return ndone;
        }
    }
}
