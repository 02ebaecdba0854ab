/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Flattening overlayfs-format layers (layer-merge.h).  Layers are applied bottom first onto
 * the target, each one as overlayfs would show it above the result so far:
 *   - a whiteout (character device 0/0) removes the name (a directory with its contents);
 *   - a directory with trusted.overlay.opaque="y" (or user.overlay.opaque="y": a rootless
 *     store's) first empties the directory of that name;
 *   - any other entry replaces what has its name, except a directory over a directory,
 *     which merges (the upper directory's owner, mode, times and xattrs win).
 * Every operation is relative to directory fds opened with O_NOFOLLOW: a symlink in the
 * target is replaced, never followed, and nothing leaves the target.  Attributes are
 * filtered as everywhere (xattr-util.h): trusted.* never reaches the result, so neither
 * whiteouts nor opaque markers do.  Hard links inside the layers stay hard links in the
 * result when files are copied (a map from source inode to the first copy, checked before
 * each use), and are the source inodes themselves with POD_LAYER_MERGE_LINK. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fd-util.h"
#include "layer-merge.h"
#include "macro.h"
#include "path-util.h"
#include "xattr-util.h"

#define MERGE_DEPTH_MAX     4096
#define OPAQUE_XATTR        "trusted.overlay.opaque"
#define OPAQUE_XATTR_USERNS "user.overlay.opaque"

struct copied {
        dev_t src_dev;
        ino_t src_ino;
        ino_t dst_ino;
        char *path; /* relative to the target root */
};

struct merge {
        unsigned flags;
        bool link; /* cleared at the first EXDEV/EPERM */
        int root_fd;
        struct copied *copies;
        size_t n_copies;
        char path[4096]; /* of the entry being merged, for messages */
};

static bool is_whiteout(const struct stat *st) {
        return S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 && minor(st->st_rdev) == 0;
}

/* 1 when dir_fd/name (a directory) carries trusted.overlay.opaque = "y", or
 * user.overlay.opaque = "y" (what a rootless store writes, rootless.h: trusted.* needs host
 * root).  Only the store writes either: xattr-util.h drops both from images. */
static int is_opaque_at(int dir_fd, const char *name) {
        static const char *const names[] = { OPAQUE_XATTR, OPAQUE_XATTR_USERNS };
        char p[sizeof("/proc/self/fd//") + 12 + NAME_MAX], v[2];
        ssize_t n;

        if (snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dir_fd, name) >= (int)sizeof(p))
                return -ENAMETOOLONG;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                n = lgetxattr(p, names[i], v, sizeof(v));
                if (n < 0) {
                        if (errno == ENODATA || errno == ENOTSUP || errno == ERANGE)
                                continue;
                        return -errno;
                }
                if (n == 1 && v[0] == 'y')
                        return 1;
        }
        return 0;
}

static unsigned copy_flags(const struct merge *m) {
        return m->flags & POD_LAYER_MERGE_KEEP_PRIVILEGES ? FD_COPY_KEEP_CAPS | FD_COPY_KEEP_SETID
                                                          : 0;
}

/* Removes whatever to_dir/name is (a directory with its contents); a missing name is fine. */
static int remove_entry(int to_dir, const char *name) {
        struct stat st;

        if (fstatat(to_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode))
                return rm_rf_at(to_dir, name);
        if (unlinkat(to_dir, name, 0) < 0)
                return -errno;
        return 0;
}

static int empty_dir(int dir_fd) {
        _cleanup_closedir_ DIR *d = NULL;
        int fd;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        for (struct dirent *de;;) {
                int r;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return errno ? -errno : 0;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = remove_entry(dir_fd, de->d_name);
                if (r < 0)
                        return r;
        }
}

static struct copied *find_copy(struct merge *m, const struct stat *st) {
        for (size_t i = 0; i < m->n_copies; i++)
                if (m->copies[i].src_dev == st->st_dev && m->copies[i].src_ino == st->st_ino)
                        return &m->copies[i];
        return NULL;
}

static int remember_copy(struct merge *m, const struct stat *src, int to_dir, const char *name) {
        struct copied *c;
        struct stat st;

        if (fstatat(to_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        c = reallocarray(m->copies, m->n_copies + 1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        m->copies = c;
        c = &m->copies[m->n_copies];
        *c = (struct copied){ .src_dev = src->st_dev,
                              .src_ino = src->st_ino,
                              .dst_ino = st.st_ino };
        c->path = strdup(m->path + 1); /* without the leading '/' */
        if (!c->path)
                return -ENOMEM;
        m->n_copies++;
        return 0;
}

static int merge_file(struct merge *m, int from_dir, int to_dir, const char *name,
                      const struct stat *st) {
        _cleanup_close_ int f = -EBADF, t = -EBADF;
        bool keep = m->flags & POD_LAYER_MERGE_KEEP_PRIVILEGES;
        struct copied *c;
        int r;

        if (m->link) {
                /* A link shares the inode, privileges and attributes included: only when
                 * nothing would be dropped by a copy. */
                r = xattr_has_refused_at(from_dir, name, keep ? XATTR_KEEP_CAPS : 0);
                if (r < 0)
                        return r;
                if (r == 0 && (keep || !(st->st_mode & (S_ISUID | S_ISGID)))) {
                        if (linkat(from_dir, name, to_dir, name, 0) >= 0)
                                return 0;
                        if (errno != EXDEV && errno != EPERM && errno != EMLINK)
                                return -errno;
                        m->link = errno == EMLINK;
                }
        }
        /* A second name of an inode copied before: a link to that copy, if it is still the
         * file we made (a later layer may have replaced it). */
        if (st->st_nlink > 1 && (c = find_copy(m, st))) {
                struct stat cst;

                if (fstatat(m->root_fd, c->path, &cst, AT_SYMLINK_NOFOLLOW) >= 0 &&
                    cst.st_ino == c->dst_ino && S_ISREG(cst.st_mode) &&
                    linkat(m->root_fd, c->path, to_dir, name, 0) >= 0)
                        return 0;
        }
        f = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (f < 0)
                return -errno;
        t = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (t < 0)
                return -errno;
        r = fd_copy_data(f, t);
        if (r >= 0)
                r = fd_copy_metadata(f, t, st, copy_flags(m));
        if (r >= 0 && st->st_nlink > 1 && !find_copy(m, st))
                r = remember_copy(m, st, to_dir, name);
        return r;
}

static int merge_dir(struct merge *m, int from, int to, unsigned depth);

static int merge_entry_at(struct merge *m, int from_dir, int to_dir, const char *name,
                          unsigned depth) {
        _cleanup_close_ int f = -EBADF, t = -EBADF;
        struct stat st, dst;
        bool exists;
        int r;

        if (fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (is_whiteout(&st))
                return remove_entry(to_dir, name);
        if (!S_ISDIR(st.st_mode)) {
                r = remove_entry(to_dir, name);
                if (r < 0)
                        return r;
                if (S_ISREG(st.st_mode))
                        return merge_file(m, from_dir, to_dir, name, &st);
                return fd_copy_special_at(from_dir, to_dir, name, &st);
        }

        exists = fstatat(to_dir, name, &dst, AT_SYMLINK_NOFOLLOW) >= 0;
        if (!exists && errno != ENOENT)
                return -errno;
        if (exists && !S_ISDIR(dst.st_mode)) { /* a file or symlink in the way: replaced */
                if (unlinkat(to_dir, name, 0) < 0)
                        return -errno;
                exists = false;
        }
        if (!exists && mkdirat(to_dir, name, 0700) < 0)
                return -errno;
        f = openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        t = openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (f < 0 || t < 0)
                return -errno;
        /* Writable while it is filled; its own mode comes after its entries. */
        (void)fchmod(t, 0700);
        if (exists) {
                r = is_opaque_at(from_dir, name);
                if (r > 0)
                        r = empty_dir(t);
                if (r < 0)
                        return r;
        }
        r = merge_dir(m, f, t, depth + 1);
        if (r < 0)
                return r;
        return fd_copy_metadata(f, t, &st, copy_flags(m)); /* after its entries: the mtime */
}

static int merge_entry(struct merge *m, int from_dir, int to_dir, const char *name,
                       unsigned depth) {
        size_t len = strlen(m->path);
        int r;

        if (len + 1 + strlen(name) >= sizeof(m->path))
                return -ENAMETOOLONG;
        m->path[len] = '/';
        strcpy(m->path + len + 1, name);
        r = merge_entry_at(m, from_dir, to_dir, name, depth);
        if (r >= 0) /* on failure the path names the entry for the message */
                m->path[len] = 0;
        return r;
}

static int merge_dir(struct merge *m, int from, int to, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        int dfd;

        if (depth > MERGE_DEPTH_MAX)
                return -ELOOP;
        dfd = fcntl(from, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        rewinddir(d); /* the duplicate shares the offset of a directory read before */
        for (struct dirent *de;;) {
                int r;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return errno ? -errno : 0;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = merge_entry(m, from, to, de->d_name, depth);
                if (r < 0)
                        return r;
        }
}

int pod_layer_merge(const int *lower_fds, size_t n, int to_fd, unsigned flags,
                    struct pod_error *reterr) {
        struct merge m = {
                .flags = flags,
                .link = flags & POD_LAYER_MERGE_LINK,
                .root_fd = to_fd,
        };
        int r = 0;

        for (size_t i = 0; i < n && r >= 0; i++) {
                struct stat st;

                m.path[0] = 0;
                if (fstat(lower_fds[i], &st) < 0) {
                        r = pod_error_set(reterr, -errno, "Failed to look at layer %zu: %m", i);
                        break;
                }
                (void)fchmod(to_fd, 0700);
                r = merge_dir(&m, lower_fds[i], to_fd, 0);
                /* The merged root has the top layer's attributes, as overlayfs shows it. */
                if (r >= 0)
                        r = fd_copy_metadata(lower_fds[i], to_fd, &st, copy_flags(&m));
                if (r < 0)
                        r = pod_error_set(reterr, r, "Failed to merge layer %zu at '%s': %s", i,
                                          m.path[0] ? m.path : "/", strerror(-r));
        }
        for (size_t i = 0; i < m.n_copies; i++)
                free(m.copies[i].path);
        free(m.copies);
        return r;
}
