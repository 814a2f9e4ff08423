/* Preloaded into sluice under callgrind (bench/cases/benchlib.py, `instructions`).
 *
 * libdispatch parks the main thread of an async Swift program with
 * sigsuspend() on a mask that lives in read-only memory. valgrind 3.19 rewrites
 * that mask in place before passing the call on, and dies with SIGSEGV. This
 * passes a copy on the stack instead; the program's behaviour is unchanged. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
