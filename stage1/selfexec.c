/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running pod-stage1 from a sealed memfd copy of itself (STYLE.md section 8, runc
 * CVE-2019-5736): a stage1 process that enters a pod's namespaces must not have the host's
 * pod-stage1 as its /proc/PID/exe, which a process of the pod that got hold of it could
 * open and, once the binary is no longer busy, rewrite for the next pod.  The copy is
 * sealed against every change, so even a handle on it is worthless.
 *
 * Owns: the copy, the seals, the re-execution and the environment marker that stops it
 * from looping.  Does not own: what runs after it (each entry point calls it first). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fd-util.h"
#include "stage1.h"

#define SEALED_ENV   "POD_STAGE1_SEALED"
#define SEALS_WANTED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Whether fd is a memfd carrying every seal we put on the copy. */
static bool is_sealed(int fd) {
        int seals = fcntl(fd, F_GET_SEALS);

        return seals >= 0 && (seals & SEALS_WANTED) == SEALS_WANTED;
}

int stage1_reexec_sealed(char **argv) {
        extern char **environ;
        _cleanup_close_ int self = -EBADF, mfd = -EBADF;
        int r;

        self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        /* The marker only says that we already tried; the seals say whether it worked (an
         * inherited marker alone proves nothing). */
        if (is_sealed(self)) {
                (void)unsetenv(SEALED_ENV);
                return 0;
        }
        if (getenv(SEALED_ENV))
                return -ELOOP;

        mfd = memfd_create("pod-stage1", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return -errno;
        r = fd_copy_data(self, mfd);
        if (r < 0)
                return r;
        if (fcntl(mfd, F_ADD_SEALS, SEALS_WANTED) < 0)
                return -errno;
        self = safe_close(self);

        if (setenv(SEALED_ENV, "1", 1) < 0)
                return -errno;
        /* An ELF binary runs from a close-on-exec fd (only scripts would need it open). */
        (void)fexecve(mfd, argv, environ);
        r = -errno;
        (void)unsetenv(SEALED_ENV);
        return r;
}
