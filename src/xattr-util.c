/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "macro.h"
#include "path-util.h"
#include "xattr-util.h"

bool xattr_name_allowed(const char *name, unsigned flags) {
        if (streq(name, XATTR_CAPABILITY))
                return flags & XATTR_KEEP_CAPS;
        if (streq(name, "system.posix_acl_access") || streq(name, "system.posix_acl_default"))
                return true;
        return string_has_prefix(name, "user.") && !string_has_prefix(name, "user.overlay.");
}

int xattr_has_refused_at(int dir_fd, const char *name, unsigned flags) {
        _cleanup_free_ char *names = NULL;
        char path[sizeof("/proc/self/fd//") + 12 + NAME_MAX];
        ssize_t n;

        /* The l* calls on /proc/self/fd/N/name: no open() of every file in a tree, and the
         * last component is not followed. */
        if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir_fd, name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        for (;;) {
                n = llistxattr(path, NULL, 0);
                if (n < 0)
                        return errno == ENOTSUP ? 0 : -errno;
                if (n == 0)
                        return 0;
                free(names);
                names = malloc((size_t)n);
                if (!names)
                        return -ENOMEM;
                n = llistxattr(path, names, (size_t)n);
                if (n >= 0)
                        break;
                if (errno != ERANGE) /* grew meanwhile: again */
                        return -errno;
        }
        for (char *p = names; p < names + n; p += strlen(p) + 1)
                if (!xattr_name_allowed(p, flags))
                        return 1;
        return 0;
}
