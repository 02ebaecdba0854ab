/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEMPORARY (dk-store branch): a minimal pod_layer_merge() so `pod image extract` of OCI
 * images works and is tested until dk-overlay's src/layer-merge.c lands; drop this file at
 * merge.  Per layer, bottom to top: whiteouts and opaque directories remove what they hide
 * from the result, store_tree_copy() copies the layer over it (never following symlinks),
 * then the copied whiteout nodes are removed again.  Hard links are not kept. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fd-util.h"
#include "layer-merge.h"
#include "macro.h"
#include "store-internal.h"

static bool is_whiteout(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int fd) {
        char v[2] = {};

        return fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

/* pre: whiteouts remove their path, opaque directories their whole directory; post: the
 * whiteout nodes the copy brought along go. */
static int walk(int layer, int to, bool pre) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        fd = openat(layer, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int sub = -EBADF, tsub = -EBADF;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(layer, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (is_whiteout(&st)) {
                        r = rm_rf_at(to, de->d_name);
                        if (r < 0 && r != -ENOENT)
                                return r;
                        continue;
                }
                if (!S_ISDIR(st.st_mode))
                        continue;
                sub = openat(layer, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (sub < 0)
                        return -errno;
                if (pre && is_opaque(sub)) {
                        r = rm_rf_at(to, de->d_name);
                        if (r < 0 && r != -ENOENT)
                                return r;
                        continue;
                }
                tsub = openat(to, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (tsub < 0)
                        continue; /* nothing below to hide, or not a directory (replaced) */
                r = walk(sub, tsub, pre);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pod_layer_merge(const int *lower_fds, size_t n, int to_fd, unsigned flags,
                    struct pod_error *reterr) {
        int r;

        for (size_t i = 0; i < n; i++) {
                r = walk(lower_fds[i], to_fd, true);
                if (r >= 0)
                        r = store_tree_copy(lower_fds[i], to_fd,
                                            flags & POD_LAYER_MERGE_KEEP_PRIVILEGES);
                if (r >= 0)
                        r = walk(lower_fds[i], to_fd, false);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to merge layer %zu: %s", i,
                                             strerror(-r));
        }
        return 0;
}
