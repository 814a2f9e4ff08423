#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "cprocess.h"

int sluice_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int sluice_pidfd_open(int pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

// MARK: Landlock (https://docs.kernel.org/userspace-api/landlock.html)

int sluice_landlock_abi(void) {
#ifdef SYS_landlock_create_ruleset
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? -errno : (int)abi;
#else
    return -ENOSYS;
#endif
}

// Rights per ABI version; the kernel refuses a ruleset naming rights it does not know.
static uint64_t fs_rights(int abi) {
    uint64_t r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
                 LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                 LANDLOCK_ACCESS_FS_MAKE_SYM;
    if (abi >= 2) r |= 1ULL << 13;  // LANDLOCK_ACCESS_FS_REFER
    if (abi >= 3) r |= 1ULL << 14;  // LANDLOCK_ACCESS_FS_TRUNCATE
    if (abi >= 5) r |= 1ULL << 15;  // LANDLOCK_ACCESS_FS_IOCTL_DEV
    return r;
}

// Rights that apply to a file (a rule on a file may name only these).
static const uint64_t file_rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                    LANDLOCK_ACCESS_FS_READ_FILE | (1ULL << 14) | (1ULL << 15);

struct ruleset_attr_v6 { uint64_t handled_access_fs, handled_access_net, scoped; };

int sluice_landlock_ruleset(int abi) {
#ifdef SYS_landlock_create_ruleset
    struct ruleset_attr_v6 attr = { .handled_access_fs = fs_rights(abi) };
    size_t size = sizeof(uint64_t);
    if (abi >= 6) {
        attr.scoped = 1 /* LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET */ | 2 /* LANDLOCK_SCOPE_SIGNAL */;
        size = sizeof attr;
    }
    long fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    return fd < 0 ? -errno : (int)fd;
#else
    (void)abi;
    return -ENOSYS;
#endif
}

int sluice_landlock_allow(int ruleset, int abi, const char *path, int access) {
#ifdef SYS_landlock_add_rule
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = errno; close(fd); return -e; }
    uint64_t read = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    uint64_t rights;
    switch (access) {
    case SLUICE_WRITE: rights = fs_rights(abi); break;
    // Devices: read and write the existing ones (/dev/null, /dev/tty), create nothing.
    case SLUICE_DEVICE: rights = read | LANDLOCK_ACCESS_FS_WRITE_FILE | (1ULL << 14) | (1ULL << 15); break;
    default: rights = read; break;
    }
    rights &= fs_rights(abi);
    if (!S_ISDIR(st.st_mode)) rights &= file_rights;
    struct landlock_path_beneath_attr rule = { .allowed_access = rights, .parent_fd = fd };
    long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    int e = errno;
    close(fd);
    return rc < 0 ? -e : 0;
#else
    (void)ruleset; (void)abi; (void)path; (void)access;
    return -ENOSYS;
#endif
}

// MARK: spawning

struct failure { int err; int step; };
static const char *steps[] = { "fork", "chdir", "landlock", "exec", "descriptors" };

// The child of vfork: it shares the parent's memory until exec, so it only makes system calls
// (no allocation, no locks) and never returns. Every signal is blocked on entry (see
// sluice_spawn); the parent's handlers are reset to the default before any is unblocked, so none
// of them can run in this borrowed address space.
static void child(const char *path, char *const argv[], char *const envp[], const char *cwd,
                  int out, int err, int ruleset, int report) {
    struct failure f = { 0, 0 };
    setpgid(0, 0);
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction current;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &current) != 0) continue;
        if (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) signal(sig, SIG_DFL);
    }
    int defaults[] = { SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD };
    for (unsigned i = 0; i < sizeof defaults / sizeof *defaults; i++) signal(defaults[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) { f.err = errno; f.step = 4; goto fail; }
    if (chdir(cwd) != 0) { f.err = errno; f.step = 1; goto fail; }
    if (ruleset >= 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) { f.err = errno; f.step = 2; goto fail; }
    }
    // A descriptor the controller holds open (the run store, a log) would let the stage
    // around the sandbox: nothing but 0-2 (and the close-on-exec report pipe) survives.
    if (syscall(SYS_close_range, 3, report - 1, 0) != 0 || syscall(SYS_close_range, report + 1, ~0U, 0) != 0) {
        for (int fd = 3; fd < 65536; fd++) if (fd != report) close(fd);
    }
    execve(path, argv, envp);
    f.err = errno;
    f.step = 3;
fail:
    (void)!write(report, &f, sizeof f);
    _exit(127);
}

pid_t sluice_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                   int stdout_fd, int stderr_fd, int ruleset, int *failed_errno, const char **failed_step) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) { *failed_errno = errno; *failed_step = steps[0]; return -1; }
    // vfork, as posix_spawn does: no copy of the controller's page tables per stage. Signals stay
    // blocked until the child has reset the handlers it inherited.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = vfork();
    if (pid == 0) child(path, argv, envp, cwd, stdout_fd, stderr_fd, ruleset, report[1]);
    int spawn_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (pid < 0) {
        *failed_errno = spawn_errno;
        *failed_step = steps[0];
        close(report[0]); close(report[1]);
        return -1;
    }
    setpgid(pid, pid);  // also here, so killing the group cannot race the child's own setpgid
    close(report[1]);
    // The pipe closes at exec (nothing read) or carries why the child gave up.
    struct failure f;
    ssize_t n;
    do { n = read(report[0], &f, sizeof f); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof f) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *failed_errno = f.err;
        *failed_step = steps[f.step];
        return -1;
    }
    return pid;
}
