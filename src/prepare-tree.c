/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The app trees of a pod: prepare-tree.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "layer-merge.h"
#include "log.h"
#include "macro.h"
#include "path-util.h"
#include "prepare-tree.h"
#include "store-oci.h"
#include "store-shift.h"
#include "store.h"
#include "xattr-util.h"

/* ---- the app trees ---------------------------------------------------------------------- */

struct copy_state {
        bool link; /* hard links allowed (overlay lower dir); cleared at the first EXDEV */
};

static int copy_dir(int from, int to, struct copy_state *cs, unsigned depth);

static int copy_entry(int from_dir, int to_dir, const char *name, struct copy_state *cs,
                      unsigned depth) {
        struct stat st;

        if (fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int f = -EBADF, t = -EBADF;
                int r;

                if (mkdirat(to_dir, name, 0700) < 0)
                        return -errno;
                f = openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                t = openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (f < 0 || t < 0)
                        return -errno;
                r = copy_dir(f, t, cs, depth + 1);
                if (r >= 0) /* after its entries: keeps the mtime */
                        r = fd_copy_metadata(f, t, &st, FD_COPY_KEEP_CAPS | FD_COPY_KEEP_SETID);
                return r;
        }
        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int f = -EBADF, t = -EBADF;
                int r;

                /* A tree imported before xattr_name_allowed() may still carry trusted.*:
                 * a link would hand that inode to overlayfs, a copy filters. */
                r = cs->link ? xattr_has_refused_at(from_dir, name, XATTR_KEEP_CAPS) : 1;
                if (r < 0)
                        return r;
                if (r == 0) {
                        if (linkat(from_dir, name, to_dir, name, 0) >= 0)
                                return 0;
                        if (errno != EXDEV && errno != EPERM && errno != EMLINK)
                                return -errno;
                        cs->link = errno == EMLINK; /* EXDEV, EPERM: never again */
                }
                f = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (f < 0)
                        return -errno;
                t = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           0600);
                if (t < 0)
                        return -errno;
                r = fd_copy_data(f, t);
                if (r >= 0)
                        r = fd_copy_metadata(f, t, &st, FD_COPY_KEEP_CAPS | FD_COPY_KEEP_SETID);
                return r;
        }
        /* Symlinks; device nodes (only in images imported with devices allowed), FIFOs,
         * sockets. */
        return fd_copy_special_at(from_dir, to_dir, name, &st);
}

static int copy_dir(int from, int to, struct copy_state *cs, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        int dfd;

        if (depth > 4096)
                return -ELOOP;
        dfd = fcntl(from, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        for (;;) {
                struct dirent *de;
                int r;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return errno ? -errno : 0;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = copy_entry(from, to, de->d_name, cs, depth);
                if (r < 0)
                        return r;
        }
}

/* Today's per-pod copy of the rendered tree into dst: hard links (a real copy where links
 * cannot cross file systems or would share refused attributes), or a private copy. */
static int copy_app(int tree, int dst, const char *app, const char *id, bool private_copy,
                    struct pod_error *reterr) {
        _cleanup_close_ int src = -EBADF;
        struct copy_state cs = { .link = !private_copy };
        struct stat st;
        int r;

        src = openat(tree, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (src < 0 || fstat(src, &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to open the rootfs of '%s': %m", id);
        r = copy_dir(src, dst, &cs, 0);
        if (r >= 0)
                r = fd_copy_metadata(src, dst, &st, FD_COPY_KEEP_CAPS | FD_COPY_KEEP_SETID);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to %s the image tree of app '%s': %m",
                                     private_copy ? "copy" : "link", app);
        return 0;
}

/* The real absolute path of the directory dir_fd/name, with no symlink followed in name:
 * what stage1 opens again with RESOLVE_NO_SYMLINKS. */
static int real_dir_path(int dir_fd, const char *name, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        char link[64], target[PATH_MAX];
        ssize_t n;

        fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        /* One path a line; " (deleted)" or an unreachable path is not a directory we can name. */
        if (target[0] != '/' || strchr(target, '\n'))
                return -EINVAL;
        *ret = strdup(target);
        return *ret ? 0 : -ENOMEM;
}

static int write_lowers(int parent, char **paths, bool sync, const char *app,
                        struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, n = 0;
        int r;

        STRV_FOREACH (p, paths) {
                len += strlen(*p) + 1;
                n++;
        }
        if (n == 0 || n > POD_PREPARE_LOWERS_MAX)
                return pod_error_set(reterr, -E2BIG, "App '%s': %zu lower dirs (1 to %d)", app, n,
                                     POD_PREPARE_LOWERS_MAX);
        text = malloc(len + 1);
        if (!text)
                return -ENOMEM;
        text[0] = 0;
        len = 0;
        STRV_FOREACH (p, paths) {
                len += (size_t)sprintf(text + len, "%s\n", *p);
        }
        r = write_file_at(parent, POD_PREPARE_LOWERS, text, len, 0644, sync);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write the lower dirs of app '%s': %m",
                                     app);
        return 0;
}

/* --private-users: AUTO decided on the first lower dir; with CHOWN each of paths replaced by
 * the path of its shifted copy. */
static int apply_shift(struct pod_store *s, struct pod_prepare_shift *shift, char **paths,
                       const char *app, struct pod_error *reterr) {
        int r;

        if (!shift || !paths || !paths[0])
                return 0;
        if (shift->ownership == POD_USERNS_OWNERSHIP_AUTO) {
                _cleanup_close_ int fd = -EBADF;
                _cleanup_free_ char *why = NULL;

                fd = open(paths[0], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return pod_error_set(reterr, -errno, "Failed to open '%s': %m", paths[0]);
                r = pod_idmap_supported(fd, &shift->map, &why, reterr);
                if (r < 0)
                        return r;
                shift->ownership = r > 0 ? POD_USERNS_OWNERSHIP_MAP : POD_USERNS_OWNERSHIP_CHOWN;
                if (r == 0)
                        log_info("%s. Using chown-shifted copies of the image kept in the store "
                                 "instead (made once per ID range; "
                                 "--private-users-ownership=chown says so, =map refuses)",
                                 why ? why : "No idmapped mounts");
        }
        if (shift->ownership != POD_USERNS_OWNERSHIP_CHOWN)
                return 0;
        STRV_FOREACH (p, paths) {
                char *shifted = NULL;

                r = pod_store_shifted(s, *p, &shift->map, &shifted, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "App '%s'", app);
                free(*p);
                *p = shifted;
        }
        return 0;
}

/* An OCI image: its layers (top first) as the lower dirs, or flattened bottom first into
 * the private copy. */
static int oci_app(struct pod_store *s, int parent, int dst, const char *app, const char *id,
                   bool private_copy, struct pod_prepare_shift *shift, bool sync,
                   struct pod_error *reterr) {
        _cleanup_strv_free_ char **layers = NULL, **real = NULL;
        _cleanup_free_ int *fds = NULL;
        size_t n = 0;
        int r;

        r = pod_store_oci_lowers(s, id, &layers, reterr);
        if (r < 0)
                return r;
        STRV_FOREACH (l, layers)
                n++;
        if (n == 0 || n > POD_PREPARE_LOWERS_MAX)
                return pod_error_set(reterr, -E2BIG, "Image '%s' has %zu layers (1 to %d)", id, n,
                                     POD_PREPARE_LOWERS_MAX);
        if (!private_copy) {
                real = calloc(n + 1, sizeof(char *));
                if (!real)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        r = real_dir_path(AT_FDCWD, layers[i], &real[i]);
                        if (r < 0)
                                return pod_error_set(reterr, r,
                                                     "Failed to open layer '%s' of image '%s': %m",
                                                     layers[i], id);
                }
                r = apply_shift(s, shift, real, app, reterr);
                if (r < 0)
                        return r;
                return write_lowers(parent, real, sync, app, reterr);
        }

        fds = calloc(n, sizeof(int));
        if (!fds)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                fds[i] = -EBADF;
        for (size_t i = 0; i < n && r >= 0; i++) { /* bottom first for the merge */
                fds[i] = open(layers[n - 1 - i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fds[i] < 0)
                        r = pod_error_set(reterr, -errno, "Failed to open layer '%s': %m",
                                          layers[n - 1 - i]);
        }
        if (r >= 0) {
                r = pod_layer_merge(fds, n, dst, POD_LAYER_MERGE_KEEP_PRIVILEGES, reterr);
                if (r < 0)
                        r = pod_error_prefix(reterr, r, "App '%s'", app);
        }
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
        return r;
}

int pod_prepare_app_tree(struct pod_store *s, int pod_fd, const char *app, const char *id,
                         bool private_copy, struct pod_prepare_shift *shift, bool sync,
                         struct pod_error *reterr) {
        _cleanup_close_ int tree = -EBADF, dst = -EBADF, parent = -EBADF;
        _cleanup_free_ char *dir = NULL;
        int r, oci;

        dir = path_join("stage1/rootfs/opt/stage2", app);
        if (!dir)
                return -ENOMEM;
        r = mkdir_p_at(pod_fd, dir, 0755);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create '%s' in the pod dir: %m", dir);
        /* rootfs/: the overlay's mount point, or the copy. */
        parent = openat(pod_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (parent < 0 || mkdirat(parent, "rootfs", 0700) < 0)
                return pod_error_set(reterr, -errno, "Failed to create the rootfs of app '%s': %m",
                                     app);
        dst = openat(parent, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return pod_error_set(reterr, -errno, "Failed to open the rootfs of app '%s': %m",
                                     app);

        oci = pod_store_oci_is_oci(s, id, reterr);
        if (oci < 0)
                return oci;
        if (oci > 0)
                return oci_app(s, parent, dst, app, id, private_copy, shift, sync, reterr);

        r = pod_store_render_tree(s, id, &tree, NULL, reterr); /* with its dependencies */
        if (r < 0)
                return r;
        /* A shifted copy filters attributes itself: fine for a tree without lower-ok. */
        if (!private_copy &&
            (faccessat(tree, POD_STORE_TREE_LOWER_OK, F_OK, AT_SYMLINK_NOFOLLOW) >= 0 || shift)) {
                char *lowers[2] = {};

                r = real_dir_path(tree, "rootfs", &lowers[0]);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to open the rootfs of '%s': %m",
                                             id);
                r = apply_shift(s, shift, lowers, app, reterr);
                if (r >= 0 && shift && shift->ownership != POD_USERNS_OWNERSHIP_CHOWN &&
                    faccessat(tree, POD_STORE_TREE_LOWER_OK, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                        r = 1; /* idmapped by stage1: the filtered per-pod links below */
                if (r == 0)
                        r = write_lowers(parent, lowers, sync, app, reterr);
                free(lowers[0]);
                if (r <= 0)
                        return r;
        }
        return copy_app(tree, dst, app, id, private_copy, reterr);
}
