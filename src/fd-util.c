/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "path-util.h"
#include "xattr-util.h"

int loop_write(int fd, const void *buf, size_t n) {
        const char *p = buf;

        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

ssize_t loop_read(int fd, void *buf, size_t n) {
        char *p = buf;
        size_t done = 0;

        while (done < n) {
                ssize_t k = read(fd, p + done, n - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                done += (size_t)k;
        }
        return (ssize_t)done;
}

int read_full_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;
        struct stat st;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && (size_t)st.st_size > max)
                return -EFBIG;

        for (;;) {
                ssize_t k;

                if (size + 1 >= alloc) {
                        size_t n = alloc ? alloc * 2 : 4096;
                        char *t;

                        if (alloc > max + 1)
                                return -EFBIG;
                        t = realloc(buf, n);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                        alloc = n;
                }
                k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t)k;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int fsync_directory_of(int dir_fd, const char *path) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *slash = strrchr(path, '/');

        if (slash) {
                dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
                if (!dir)
                        return -ENOMEM;
        }
        fd = openat(dir_fd, dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int write_file_atomic_at(int dir_fd, const char *path, const void *data, size_t size, mode_t mode) {
        return write_file_at(dir_fd, path, data, size, mode, true);
}

int write_file_at(int dir_fd, const char *path, const void *data, size_t size, mode_t mode,
                  bool sync) {
        _cleanup_close_ int fd = -EBADF;
        char tmp[PATH_MAX];
        int r;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid()) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;

        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, data, size);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && sync && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, path) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return sync ? fsync_directory_of(dir_fd, path) : 0;
}

int mkdir_p_at(int dir_fd, const char *path, mode_t mode) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int cur = -EBADF;
        char *saveptr = NULL;

        if (!copy)
                return -ENOMEM;

        cur = openat(dir_fd, path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;

        for (char *c = strtok_r(copy, "/", &saveptr); c; c = strtok_r(NULL, "/", &saveptr)) {
                int next;

                if (streq(c, "."))
                        continue;
                if (streq(c, ".."))
                        return -EINVAL;
                if (mkdirat(cur, c, mode) < 0 && errno != EEXIST)
                        return -errno;
                next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (next < 0)
                        return errno == ENOTDIR ? -ENOTDIR : -errno;
                cur = safe_close(cur);
                cur = next;
        }
        return 0;
}

static int rm_rf_children(int fd, dev_t dev) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r = 0;

        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                (void)close(fd);
                return r;
        }

        while ((de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && r == 0)
                                r = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        int q, sub;

                        /* Never cross into another file system (a leftover mount). */
                        if (st.st_dev != dev) {
                                if (r == 0)
                                        r = -EXDEV;
                                continue;
                        }
                        sub = openat(dirfd(d), de->d_name,
                                     O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (sub < 0) {
                                if (errno != ENOENT && r == 0)
                                        r = -errno;
                                continue;
                        }
                        q = rm_rf_children(sub, dev);
                        if (q < 0 && r == 0)
                                r = q;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
                            r == 0)
                                r = -errno;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        return r;
}

int rm_rf_at(int dir_fd, const char *name) {
        struct stat st;
        int fd, r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = rm_rf_children(fd, st.st_dev);
        if (r < 0)
                return r;
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int fd_cloexec(int fd, bool cloexec) {
        int flags = fcntl(fd, F_GETFD);

        if (flags < 0)
                return -errno;
        flags = cloexec ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
        if (fcntl(fd, F_SETFD, flags) < 0)
                return -errno;
        return 0;
}

int fd_copy_xattrs(int from, int to) {
        return fd_copy_xattrs_flags(from, to, XATTR_KEEP_CAPS);
}

int fd_copy_xattrs_flags(int from, int to, unsigned xattr_flags) {
        _cleanup_free_ char *names = NULL;
        ssize_t n;

        n = flistxattr(from, NULL, 0);
        if (n <= 0)
                return n < 0 && errno != ENOTSUP ? -errno : 0;
        names = malloc((size_t)n);
        if (!names)
                return -ENOMEM;
        n = flistxattr(from, names, (size_t)n);
        if (n < 0)
                return -errno;
        for (char *p = names; p < names + n; p += strlen(p) + 1) {
                _cleanup_free_ char *val = NULL;
                ssize_t k;

                if (!xattr_name_allowed(p, xattr_flags))
                        continue;
                k = fgetxattr(from, p, NULL, 0);
                if (k < 0)
                        return -errno;
                val = malloc((size_t)k + 1);
                if (!val)
                        return -ENOMEM;
                k = fgetxattr(from, p, val, (size_t)k);
                if (k < 0)
                        return -errno;
                if (fsetxattr(to, p, val, (size_t)k, 0) < 0)
                        return -errno;
        }
        return 0;
}

int fd_copy_attrs(int fd, const struct stat *st) {
        struct timespec ts[2] = { st->st_atim, st->st_mtim };

        if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0 ||
            futimens(fd, ts) < 0)
                return -errno;
        return 0;
}

int fd_copy_metadata(int from, int to, const struct stat *st, unsigned flags) {
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        mode_t mode = st->st_mode & 07777;
        int r;

        if (!(flags & FD_COPY_KEEP_SETID) && !S_ISDIR(st->st_mode))
                mode &= ~(mode_t)(S_ISUID | S_ISGID);
        if (fchown(to, st->st_uid, st->st_gid) < 0)
                return -errno;
        r = fd_copy_xattrs_flags(from, to, flags & FD_COPY_KEEP_CAPS ? XATTR_KEEP_CAPS : 0);
        if (r < 0)
                return r;
        if (fchmod(to, mode) < 0 || futimens(to, ts) < 0)
                return -errno;
        return 0;
}

static off_t off_min(off_t a, off_t b) {
        return a < b ? a : b;
}

/* [off, off + len) of in to the same offsets of out. */
static int copy_range(int in, int out, off_t off, off_t len, bool *use_cfr) {
        while (len > 0 && *use_cfr) {
                loff_t i = off, o = off;
                ssize_t n =
                        copy_file_range(in, &i, out, &o, (size_t)off_min(len, (off_t)1 << 30), 0);

                if (n < 0 &&
                    (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
                        *use_cfr = false;
                else if (n < 0)
                        return -errno;
                else if (n == 0)
                        return -EIO; /* shrank under us */
                else {
                        off += n;
                        len -= n;
                }
        }
        while (len > 0) {
                char buf[1 << 16];
                ssize_t n = pread(in, buf, (size_t)off_min(len, (off_t)sizeof(buf)), off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                for (ssize_t done = 0; done < n;) {
                        ssize_t k = pwrite(out, buf + done, (size_t)(n - done), off + done);

                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                return k < 0 ? -errno : -EIO;
                        done += k;
                }
                off += n;
                len -= n;
        }
        return 0;
}

int fd_copy_data(int in, int out) {
        bool use_cfr = true;
        struct stat st;
        off_t pos = 0;
        int r;

        if (ioctl(out, FICLONE, in) >= 0)
                return 0;
        if (fstat(in, &st) < 0)
                return -errno;
        /* Only the data ranges: copy_file_range() and read() turn holes into zeros on disk
         * (a 2 GiB hole in a small image would become 2 GiB in every --no-overlay pod). */
        while (pos < st.st_size) {
                off_t data = lseek(in, pos, SEEK_DATA), hole;

                if (data < 0 && errno == ENXIO)
                        break; /* a hole up to the end */
                if (data < 0 && (errno == EINVAL || errno == EOPNOTSUPP))
                        data = pos, hole = st.st_size; /* no hole support: all data */
                else if (data < 0)
                        return -errno;
                else {
                        hole = lseek(in, data, SEEK_HOLE);
                        if (hole < 0)
                                return -errno;
                }
                hole = off_min(hole, st.st_size);
                r = copy_range(in, out, data, hole - data, &use_cfr);
                if (r < 0)
                        return r;
                pos = hole;
        }
        /* The size, trailing hole included. */
        if (ftruncate(out, st.st_size) < 0)
                return -errno;
        return 0;
}

int fd_copy_special_at(int from_dir, int to_dir, const char *name, const struct stat *st) {
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                struct timespec ts[2] = { st->st_atim, st->st_mtim };
                ssize_t n = readlinkat(from_dir, name, target, sizeof(target) - 1);

                if (n < 0)
                        return -errno;
                target[n] = 0;
                if (symlinkat(target, to_dir, name) < 0 ||
                    fchownat(to_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    utimensat(to_dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                return 0;
        }
        if (mknodat(to_dir, name, st->st_mode, st->st_rdev) < 0 ||
            fchownat(to_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(to_dir, name, st->st_mode & 07777, 0) < 0)
                return -errno;
        return 0;
}
