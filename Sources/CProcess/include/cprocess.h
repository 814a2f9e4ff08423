// glibc functions behind _GNU_SOURCE that Swift's Glibc module does not show.
#ifndef SLUICE_CPROCESS_H
#define SLUICE_CPROCESS_H
#include <spawn.h>

int sluice_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
int sluice_pipe_cloexec(int fds[2]);
/// A file descriptor that becomes readable when the process exits (Linux 5.3+), or -1.
int sluice_pidfd_open(int pid);
#endif
