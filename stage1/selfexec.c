/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sealed binaries (ABI.md "Sealed binaries", runc CVE-2019-5736).  A process of the pod
 * that gets hold of /proc/PID/exe of a stage1 process (the pod init is PID 1 of the pod's
 * PID namespace; every app-starting child is visible there too) must not find the host's
 * pod-stage1 or pod-stage1-supervise behind it: it could keep the file open and rewrite it
 * once nothing executes it, and the next "pod run" would run its payload as root.  So
 * pod-stage1 re-executes itself from a sealed memfd copy before it forks anything, and
 * copies pod-stage1-supervise into another one for the later hand-overs (main.c, init.c).
 * stage0 executes the built-in pod-stage1 sealed already (src/sealed-exec.h): then the
 * re-execution is skipped.  Owns: the re-execution and the supervisor's copy.  Does not
 * own: making copies (src/sealed-exec.c), or when they happen (main.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "path-util.h"
#include "sealed-exec.h"
#include "stage1.h"
#include "syscall.h"

extern char **environ;

static char *self_path;            /* the installed pod-stage1, when running sealed */
static int supervisor_fd = -EBADF; /* sealed copy of pod-stage1-supervise */

int stage1_reexec_sealed(char **argv) {
        _cleanup_close_ int self = -EBADF, copy = -EBADF;
        _cleanup_free_ char *path = NULL;
        const char *p;

        self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        if (pod_fd_sealed(self)) {
                /* The second time: we are the copy.  execveat() named us after the fd
                 * ("3"); ps and /proc/PID/comm should say what we are. */
                (void)prctl(PR_SET_NAME, "pod-stage1", 0, 0, 0);
                p = getenv(POD_STAGE1_SELF_ENV);
                if (p && !self_path) {
                        self_path = strdup(p);
                        if (!self_path)
                                return -ENOMEM;
                }
                (void)unsetenv(POD_STAGE1_SELF_ENV);
                return 0;
        }
        path = realpath("/proc/self/exe", NULL);
        if (!path)
                return -errno;
        copy = pod_sealed_copy(self, "pod-stage1");
        if (copy < 0)
                return copy;
        if (setenv(POD_STAGE1_SELF_ENV, path, 1) < 0)
                return -errno;
        /* Same argv, same environment, same fds (the lock, socket activation): only the
         * file behind /proc/self/exe changes. */
        (void)sys_execveat(copy, "", argv, environ, AT_EMPTY_PATH);
        {
                int r = -errno;
                (void)unsetenv(POD_STAGE1_SELF_ENV);
                return r;
        }
}

int stage1_self_path(char **ret) {
        char *p = self_path ? strdup(self_path) : realpath("/proc/self/exe", NULL);

        if (!p)
                return -errno ?: -ENOMEM;
        *ret = p;
        return 0;
}

int stage1_supervisor_seal(void) {
        _cleanup_free_ char *self = NULL, *path = NULL;
        char *slash;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (supervisor_fd >= 0)
                return 0;
        r = stage1_self_path(&self);
        if (r < 0)
                return r;
        slash = strrchr(self, '/');
        if (!slash)
                return -EINVAL;
        *slash = 0;
        path = path_join(self, "pod-stage1-supervise");
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = pod_sealed_copy(fd, "pod-stage1-supervise");
        if (r < 0)
                return r;
        supervisor_fd = r;
        return 0;
}

int stage1_supervisor_exec(char **argv) {
        if (supervisor_fd < 0)
                return -ENOENT;
        (void)sys_execveat(supervisor_fd, "", argv, environ, AT_EMPTY_PATH);
        return -errno;
}

int stage1_supervisor_fd(void) {
        return supervisor_fd;
}
