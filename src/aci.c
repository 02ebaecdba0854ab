/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "aci.h"
#include "dlopen-archive.h"
#include "fd-util.h"
#include "idunshift.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive_entry *, archive_entry_free)

struct build_ctx {
        struct archive *a;
        struct archive_entry_linkresolver *lr;
        const struct pod_aci_build_options *o;
        const struct pod_idmap *unshift; /* o->unshift while rootfs/ is added */
        struct pod_error *reterr;
};

static int archive_fail(struct build_ctx *c, const char *path) {
        int e = archive_errno(c->a);

        return pod_error_set(c->reterr, e > 0 ? -e : -EIO,
                             "Failed to write '%s' to the archive: %s", path,
                             strna(archive_error_string(c->a)));
}

/* xattrs sorted by name, so the archive does not depend on the file system's order. */
static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int add_xattrs(struct build_ctx *c, struct archive_entry *e, int fd, const char *path) {
        _cleanup_free_ char *names = NULL;
        _cleanup_free_ const char **sorted = NULL;
        ssize_t len;
        size_t n = 0;

        len = flistxattr(fd, NULL, 0);
        if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
                return 0;
        if (len < 0)
                return pod_error_set(c->reterr, -errno, "Failed to list xattrs of '%s': %m", path);
        if (len == 0)
                return 0;
        names = malloc((size_t)len);
        if (!names)
                return -ENOMEM;
        len = flistxattr(fd, names, (size_t)len);
        if (len < 0)
                return pod_error_set(c->reterr, -errno, "Failed to list xattrs of '%s': %m", path);
        for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1)
                n++;
        sorted = calloc(n, sizeof(char *));
        if (!sorted)
                return -ENOMEM;
        n = 0;
        for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1)
                sorted[n++] = names + i;
        qsort(sorted, n, sizeof(char *), cmp_str);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *v = NULL;
                ssize_t vl = fgetxattr(fd, sorted[i], NULL, 0);

                if (vl < 0)
                        return pod_error_set(c->reterr, -errno,
                                             "Failed to read xattr '%s' of '%s': %m", sorted[i],
                                             path);
                v = malloc((size_t)vl + 1);
                if (!v)
                        return -ENOMEM;
                vl = fgetxattr(fd, sorted[i], v, (size_t)vl);
                if (vl < 0)
                        return pod_error_set(c->reterr, -errno,
                                             "Failed to read xattr '%s' of '%s': %m", sorted[i],
                                             path);
                if (c->unshift) {
                        _cleanup_free_ void *shifted = NULL;
                        size_t sl = 0;
                        int r;

                        r = pod_idunshift_xattr(c->unshift, sorted[i], v, (size_t)vl, &shifted,
                                                &sl);
                        if (r == -ERANGE)
                                return pod_error_set(c->reterr, r,
                                                     "'%s': xattr '%s' names a host ID outside "
                                                     "the pod's range, cannot export it",
                                                     path, sorted[i]);
                        if (r < 0)
                                return pod_error_set(c->reterr, r,
                                                     "'%s': cannot shift the IDs of xattr '%s': "
                                                     "%s",
                                                     path, sorted[i], strerror(-r));
                        if (r > 0) {
                                archive_entry_xattr_add_entry(e, sorted[i], shifted, sl);
                                continue;
                        }
                }
                archive_entry_xattr_add_entry(e, sorted[i], v, (size_t)vl);
        }
        return 0;
}

/* The data ranges of a regular file with holes (SEEK_DATA/SEEK_HOLE), recorded as the
 * entry's sparse map (pax GNU.sparse 1.0): holes are neither read nor stored, and the import
 * writes them back as holes.  `truncate -s 8G` in an app made `pod export` read, compress and
 * re-check 8 GiB of zeros.  A file without holes gets no map: its entry, and a reproducible
 * build of the tree, stay as they were. */
struct data_range {
        off_t off, len;
};

static int map_data(int fd, off_t size, struct data_range **ret, size_t *ret_n) {
        _cleanup_free_ struct data_range *l = NULL;
        size_t n = 0, alloc = 0;
        off_t pos = 0, hole;

        *ret = NULL;
        *ret_n = 0;
        hole = lseek(fd, 0, SEEK_HOLE);
        if (hole < 0 && (errno == EINVAL || errno == EOPNOTSUPP))
                return 0; /* no hole support: all data */
        if (hole < 0)
                return -errno;
        if (hole >= size)
                return 0;
        while (pos < size) {
                off_t data = lseek(fd, pos, SEEK_DATA);

                if (data < 0 && errno == ENXIO)
                        break;
                if (data < 0 || (hole = lseek(fd, data, SEEK_HOLE)) < 0)
                        return -errno;
                if (data >= size)
                        break;
                if (hole > size)
                        hole = size;
                if (n == alloc) {
                        struct data_range *t;

                        alloc = alloc ? alloc * 2 : 16;
                        t = reallocarray(l, alloc, sizeof(*l));
                        if (!t)
                                return -ENOMEM;
                        l = t;
                }
                l[n++] = (struct data_range){ data, hole - data };
                pos = hole;
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 1;
}

/* Feeds the writer the file's bytes: the data ranges l (sorted, in the file) read with
 * pread(), the rest up to size as zeros that the pax writer skips when the entry has a
 * sparse map (it stores only the ranges). */
static int write_data(struct build_ctx *c, int fd, const struct data_range *l, size_t n, off_t size,
                      const char *path) {
        static char zeros[1 << 20];
        char buf[1 << 16];
        off_t pos = 0;

        for (size_t i = 0; i <= n; i++) {
                off_t start = i < n ? l[i].off : size, end = i < n ? l[i].off + l[i].len : size;

                while (pos < start) {
                        off_t k = start - pos < (off_t)sizeof(zeros) ? start - pos
                                                                     : (off_t)sizeof(zeros);

                        if (archive_write_data(c->a, zeros, (size_t)k) != (la_ssize_t)k)
                                return archive_fail(c, path);
                        pos += k;
                }
                while (pos < end) {
                        size_t want =
                                end - pos < (off_t)sizeof(buf) ? (size_t)(end - pos) : sizeof(buf);
                        ssize_t k = pread(fd, buf, want, pos);

                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return pod_error_set(c->reterr, -errno, "Failed to read '%s': %m",
                                                     path);
                        if (k == 0)
                                return pod_error_set(c->reterr, -EIO,
                                                     "'%s' shrank while it was archived", path);
                        if (archive_write_data(c->a, buf, (size_t)k) != k)
                                return archive_fail(c, path);
                        pos += k;
                }
        }
        return 0;
}

static int add_path(struct build_ctx *c, int parent_fd, const char *name, const char *apath);

static int cmp_dirent(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int add_children(struct build_ctx *c, int dir_fd, const char *apath) {
        struct dirent **list = NULL;
        int n, r = 0;

        n = scandirat(dir_fd, ".", &list, NULL, cmp_dirent);
        if (n < 0)
                return pod_error_set(c->reterr, -errno, "Failed to list '%s': %m", apath);
        for (int i = 0; i < n; i++) {
                const char *d = list[i]->d_name;

                if (r >= 0 && !streq(d, ".") && !streq(d, "..")) {
                        _cleanup_free_ char *child = path_join(apath, d);

                        r = child ? add_path(c, dir_fd, d, child) : -ENOMEM;
                }
                free(list[i]);
        }
        free(list);
        return r;
}

/* Adds parent_fd/name as archive path apath, recursing into directories. */
static int add_path(struct build_ctx *c, int parent_fd, const char *name, const char *apath) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;
        struct archive_entry *spare = NULL, *w;
        _cleanup_free_ struct data_range *ranges = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n_ranges = 0;
        bool sparse = false;
        struct stat st;
        int r;

        if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return pod_error_set(c->reterr, -errno, "Failed to stat '%s': %m", apath);
        if (S_ISSOCK(st.st_mode))
                return pod_error_set(c->reterr, -EPERM, "Cannot archive socket '%s'", apath);
        if (c->unshift) {
                uint32_t uid, gid;

                if (pod_idunshift_id(c->unshift, st.st_uid, &uid) < 0 ||
                    pod_idunshift_id(c->unshift, st.st_gid, &gid) < 0)
                        return pod_error_set(c->reterr, -ERANGE,
                                             "'%s' is owned by host UID %u GID %u, outside the "
                                             "pod's range %u:%u: cannot export it",
                                             apath, (unsigned)st.st_uid, (unsigned)st.st_gid,
                                             (unsigned)c->unshift->base,
                                             (unsigned)c->unshift->count);
                st.st_uid = uid;
                st.st_gid = gid;
        }

        e = archive_entry_new();
        if (!e)
                return -ENOMEM;
        archive_entry_copy_stat(e, &st);
        archive_entry_copy_pathname(e, apath);
        /* Only what the image means: no access/change/birth times, numeric owners. */
        archive_entry_unset_atime(e);
        archive_entry_unset_ctime(e);
        archive_entry_unset_birthtime(e);
        archive_entry_copy_uname(e, NULL);
        archive_entry_copy_gname(e, NULL);
        if (c->o->reproducible)
                archive_entry_set_mtime(e, (time_t)c->o->mtime, 0);

        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t k = readlinkat(parent_fd, name, target, sizeof(target) - 1);

                if (k < 0)
                        return pod_error_set(c->reterr, -errno, "Failed to read symlink '%s': %m",
                                             apath);
                target[k] = 0;
                archive_entry_copy_symlink(e, target);
        } else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
                fd = openat(parent_fd, name,
                            O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
                                    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                if (fd < 0)
                        return pod_error_set(c->reterr, -errno, "Failed to open '%s': %m", apath);
                r = add_xattrs(c, e, fd, apath);
                if (r < 0)
                        return r;
        }

        /* Hard links: the first name carries the data, later ones point at it. */
        w = e;
        if (S_ISREG(st.st_mode) && st.st_nlink > 1)
                archive_entry_linkify(c->lr, &w, &spare);
        if (spare)
                archive_entry_free(spare);
        if (S_ISREG(st.st_mode) && archive_entry_size(w) > 0) {
                r = map_data(fd, st.st_size, &ranges, &n_ranges);
                if (r < 0)
                        return pod_error_set(c->reterr, r, "Failed to map the holes of '%s': %m",
                                             apath);
                sparse = r > 0;
                for (size_t i = 0; i < n_ranges; i++)
                        archive_entry_sparse_add_entry(w, ranges[i].off, ranges[i].len);
                /* Ending in a hole: a last empty range at the end records the size. */
                if (sparse && (n_ranges == 0 ||
                               ranges[n_ranges - 1].off + ranges[n_ranges - 1].len < st.st_size))
                        archive_entry_sparse_add_entry(w, st.st_size, 0);
        }
        if (archive_write_header(c->a, w) < ARCHIVE_WARN)
                return archive_fail(c, apath);
        if (S_ISREG(st.st_mode) && archive_entry_size(w) > 0) {
                struct data_range all = { 0, st.st_size };

                /* No map: one range, all of it. */
                r = sparse ? write_data(c, fd, ranges, n_ranges, st.st_size, apath)
                           : write_data(c, fd, &all, 1, st.st_size, apath);
                if (r < 0)
                        return r;
        }
        if (S_ISDIR(st.st_mode))
                return add_children(c, fd, apath);
        return 0;
}

static int check_output_outside(const char *dir, const char *out, struct pod_error *reterr) {
        _cleanup_free_ char *rdir = NULL, *copy = strdup(out), *rout = NULL;
        char *slash;
        size_t n;

        if (!copy)
                return -ENOMEM;
        slash = strrchr(copy, '/');
        if (slash)
                *(slash == copy ? slash + 1 : slash) = 0;
        rdir = realpath(dir, NULL);
        rout = realpath(slash ? copy : ".", NULL);
        if (!rdir)
                return pod_error_set(reterr, -errno, "Failed to resolve '%s': %m", dir);
        if (!rout)
                return pod_error_set(reterr, -errno, "Failed to resolve the directory of '%s': %m",
                                     out);
        n = strlen(rdir);
        if (strneq(rout, rdir, n) && (rout[n] == 0 || rout[n] == '/'))
                return pod_error_set(reterr, -EINVAL,
                                     "Output '%s' must not be inside the image directory '%s'", out,
                                     dir);
        return 0;
}

static int build_to_fd(const char *dir, int dfd, int out_fd, const struct pod_aci_build_options *o,
                       struct pod_error *reterr) {
        struct build_ctx c = { .o = o, .reterr = reterr };
        _cleanup_close_ int rootfs = -EBADF;
        int r;

        c.a = archive_write_new();
        c.lr = archive_entry_linkresolver_new();
        if (!c.a || !c.lr) {
                archive_entry_linkresolver_free(c.lr);
                (void)archive_write_free(c.a);
                return -ENOMEM;
        }
        archive_entry_linkresolver_set_strategy(c.lr, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
        r = archive_write_set_format_pax_restricted(c.a);
        switch (o->compression) {
        case POD_COMPRESSION_GZIP:
                if (r == ARCHIVE_OK)
                        r = archive_write_add_filter_gzip(c.a);
                /* gzip headers carry a timestamp: none when reproducible. */
                if (r == ARCHIVE_OK && o->reproducible)
                        r = archive_write_set_filter_option(c.a, "gzip", "timestamp", NULL);
                break;
        case POD_COMPRESSION_ZSTD:
                if (r == ARCHIVE_OK)
                        r = archive_write_add_filter_zstd(c.a);
                break;
        case POD_COMPRESSION_XZ:
                if (r == ARCHIVE_OK)
                        r = archive_write_add_filter_xz(c.a);
                break;
        case POD_COMPRESSION_BZIP2:
                if (r == ARCHIVE_OK)
                        r = archive_write_add_filter_bzip2(c.a);
                break;
        default:
                break;
        }
        if (r == ARCHIVE_OK)
                r = archive_write_open_fd(c.a, out_fd);
        if (r != ARCHIVE_OK)
                r = pod_error_set(reterr, -EIO, "Failed to set up the archive writer: %s",
                                  strna(archive_error_string(c.a)));

        if (r >= 0)
                r = add_path(&c, dfd, "manifest", "manifest");
        c.unshift = o->unshift; /* the image's files, not the manifest we wrote */
        if (r >= 0)
                r = add_path(&c, dfd, "rootfs", "rootfs");
        if (r >= 0 && archive_write_close(c.a) != ARCHIVE_OK)
                r = pod_error_set(reterr, -EIO, "Failed to finish the archive: %s",
                                  strna(archive_error_string(c.a)));
        archive_entry_linkresolver_free(c.lr);
        (void)archive_write_free(c.a);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Failed to build an ACI from '%s'", dir);
        return 0;
}

int pod_aci_build(const char *dir, const char *out, const struct pod_aci_build_options *o,
                  char **ret_id, struct pod_error *reterr) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *text = NULL, *tmp = NULL;
        char id[POD_IMAGE_ID_SIZE];
        size_t size = 0;
        struct stat st;
        int r;

        r = pod_dlopen_archive(reterr);
        if (r < 0)
                return r;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", dir);
        r = read_full_file_at(dfd, "manifest", POD_UNPACK_MANIFEST_MAX, &text, &size);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s/manifest': %s", dir,
                                     r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        r = pod_image_manifest_parse(text, size, &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Invalid '%s/manifest'", dir);
        if (fstatat(dfd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return pod_error_set(reterr, -ENOTDIR, "'%s/rootfs' is not a directory", dir);
        r = check_output_outside(dir, out, reterr);
        if (r < 0)
                return r;
        /* Fail early (the rename below decides atomically); a dangling symlink counts too. */
        if (!o->overwrite && faccessat(AT_FDCWD, out, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return pod_error_set(reterr, -EEXIST, "'%s' exists (use --overwrite)", out);

        if (asprintf(&tmp, "%s.tmp-%d", out, (int)getpid()) < 0)
                return -ENOMEM;
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to create '%s': %m", tmp);
        r = build_to_fd(dir, dfd, fd, o, reterr);
        /* Read back through the import checks: what we write must be importable. */
        if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = -errno;
        if (r >= 0) {
                _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m2 = NULL;

                r = pod_aci_validate(fd, id, &m2, reterr);
                if (r < 0)
                        (void)pod_error_prefix(reterr, r, "The built archive does not validate");
        }
        if (r >= 0 && fsync(fd) < 0)
                r = pod_error_set(reterr, -errno, "Failed to sync '%s': %m", tmp);
        if (r >= 0 && o->overwrite && rename(tmp, out) < 0)
                r = pod_error_set(reterr, -errno, "Failed to rename '%s' to '%s': %m", tmp, out);
        /* No clobbering unless asked (as pod_store_export): renameat2() refuses an existing
         * out atomically; where the file system cannot, link() does (it never replaces). */
        if (r >= 0 && !o->overwrite &&
            renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) < 0) {
                r = -errno;
                if (r == -EINVAL || r == -ENOSYS)
                        r = link(tmp, out) < 0 ? -errno : 0;
                if (r == -EEXIST)
                        r = pod_error_set(reterr, r, "'%s' exists (use --overwrite)", out);
                else if (r < 0)
                        r = pod_error_set(reterr, r, "Failed to rename '%s' to '%s': %s", tmp, out,
                                          strerror(-r));
                else
                        (void)unlink(tmp); /* linked: the temp name goes */
        }
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }
        if (ret_id) {
                *ret_id = strdup(id);
                if (!*ret_id)
                        return -ENOMEM;
        }
        return 0;
}

int pod_aci_validate(int fd, char ret_id[POD_IMAGE_ID_SIZE], struct pod_image_manifest **ret,
                     struct pod_error *reterr) {
        _cleanup_(pod_unpack_result_done) struct pod_unpack_result res = {};
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        int r;

        r = pod_unpack(fd, -EBADF, NULL, &res, reterr);
        if (r < 0)
                return r;
        r = pod_image_manifest_parse(res.manifest, res.manifest_size, &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Invalid image manifest");
        memcpy(ret_id, res.id, POD_IMAGE_ID_SIZE);
        *ret = TAKE_PTR(m);
        return 0;
}
