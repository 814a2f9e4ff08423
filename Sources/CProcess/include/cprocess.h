// The process adapter's C side: glibc functions Swift's Glibc module does not show, and the
// fork-and-exec of a stage (Landlock must be applied in the child, between fork and exec,
// which posix_spawn cannot do).
#ifndef SLUICE_CPROCESS_H
#define SLUICE_CPROCESS_H
#include <stdint.h>
#include <sys/types.h>

int sluice_pipe_cloexec(int fds[2]);
/// A file descriptor that becomes readable when the process exits (Linux 5.3+), or -1.
int sluice_pidfd_open(int pid);

/// The Landlock ABI version the kernel offers (1 or more), or -errno when it has none
/// (ENOSYS: not built in; EOPNOTSUPP: built in but disabled at boot).
int sluice_landlock_abi(void);

/// What a path rule grants.
enum sluice_access { SLUICE_READ = 1, SLUICE_WRITE = 2, SLUICE_DEVICE = 3 };

/// A Landlock ruleset handling every file-system right of `abi` (all denied unless granted),
/// and, from ABI 6, scoping signals and abstract Unix sockets to the sandbox. Returns its fd,
/// or -errno. `sluice_landlock_allow` grants `access` beneath `path` (-ENOENT: no such path).
int sluice_landlock_ruleset(int abi);
int sluice_landlock_allow(int ruleset, int abi, const char *path, int access);

/// Starts `path` with `argv` and `envp` in `cwd`, in a process group of its own, stdin from
/// /dev/null, stdout and stderr to the given descriptors, no other descriptor inherited, default
/// signal handling; confined by `ruleset` first unless it is -1. Returns the pid, or -1 with
/// `*failed_errno` set and `*failed_step` naming what failed: "chdir", "landlock", "exec", "fork".
pid_t sluice_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                   int stdout_fd, int stderr_fd, int ruleset, int *failed_errno, const char **failed_step);
#endif
