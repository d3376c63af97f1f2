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
