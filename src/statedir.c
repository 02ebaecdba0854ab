/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "statedir.h"

#define STATEDIR_MODE 0700

static int make_parents(int dir_fd, const char *path) {
        _cleanup_free_ char *parent = strdup(path);
        char *slash;

        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (!slash)
                return 0;
        if (slash == parent)
                return 0; /* "/x": the parent is the root */
        *slash = 0;
        return mkdir_p_at(dir_fd, parent, 0755);
}

int pod_statedir_open(int dir_fd, const char *path, bool create, int *ret_fd,
                      struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        /* Almost always there already: the parents' mkdirat() walk only when it is not. */
        fd = openat(dir_fd, path,
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC | (dir_fd == AT_FDCWD ? 0 : O_NOFOLLOW));
        if (fd < 0 && errno == ENOENT && create) {
                r = make_parents(dir_fd, path);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to create the parents of '%s': %s",
                                             path, strerror(-r));
                /* mkdirat() applies the umask: the mode is set below in any case. */
                if (mkdirat(dir_fd, path, STATEDIR_MODE) < 0 && errno != EEXIST)
                        return pod_error_set(reterr, -errno, "Failed to create '%s': %m", path);
                fd = openat(dir_fd, path,
                            O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                    (dir_fd == AT_FDCWD ? 0 : O_NOFOLLOW));
        }
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", path);
        if (fstat(fd, &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to look at '%s': %m", path);

        if (st.st_uid != geteuid()) {
                /* Root writes set-uid-root files below it: its owner could let anyone in. */
                if (geteuid() == 0)
                        return pod_error_set(reterr, -EPERM,
                                             "'%s' is owned by uid %u, not root: as root, pod only "
                                             "uses a state directory (--dir) that root owns",
                                             path, (unsigned)st.st_uid);
                /* Someone else's: their mode is theirs to choose; access decides. */
        } else if ((st.st_mode & 07777) != STATEDIR_MODE && fchmod(fd, STATEDIR_MODE) < 0)
                return pod_error_set(reterr, -errno, "Failed to make '%s' private (0700): %m",
                                     path);

        *ret_fd = TAKE_FD(fd);
        return 0;
}
