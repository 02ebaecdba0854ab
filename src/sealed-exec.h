/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Sealed memfd copies of executables (stage1/ABI.md "Sealed binaries", runc CVE-2019-5736):
 * a process of a pod that reaches /proc/PID/exe of a stage1 process finds a memfd that
 * nothing can write, not the host's binary.  stage1 copies itself and its supervisor
 * (stage1/selfexec.c); stage0 executes the built-in pod-stage1 from such a copy directly
 * (pod_stage1_exec()), which spares stage1 the re-execution.
 * Owns: making the copy, and executing a file from one.  Does not own: when (the callers). */

#include <stdbool.h>

/* The installed pod-stage1's path, from whoever executed it sealed to the sealed copy
 * (believed only when its /proc/self/exe is sealed; removed from the environment at once). */
#define POD_STAGE1_SELF_ENV "POD_STAGE1_SELF"

/* Everything sealed: nothing can be written, resized or unsealed. */
#define POD_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* A sealed, close-on-exec memfd called name with what execve() needs of src_fd; the fd, or
 * -errno. */
int pod_sealed_copy(int src_fd, const char *name);

/* Whether fd is a file sealed with all of POD_SEALS. */
bool pod_fd_sealed(int fd);

/* Executes the ELF file at path from a sealed copy, with argv and the environment plus
 * POD_STAGE1_SELF_ENV=<path, resolved>.  Returns only on failure: -ENOEXEC when path is no
 * ELF file (a script cannot run from an fd that the exec closes), else -errno; the
 * environment is as before then. */
int pod_exec_sealed(const char *path, const char *name, char *const argv[]);
