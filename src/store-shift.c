/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Chown-shifted copies of image trees: store-shift.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fd-util.h"
#include "hmac-sha512.h"
#include "idunshift.h"
#include "macro.h"
#include "path-util.h"
#include "sha512.h"
#include "store-internal.h"
#include "store-shift.h"
#include "xattr-util.h"

#define KEY_HEX     32
#define DEPTH_MAX   4096
#define SOURCE_FILE "source"
#define DONE_FILE   "shifted"

/* Hard links inside the source stay hard links in the copy: inode -> the copy's path. */
struct link_entry {
        dev_t dev;
        ino_t ino;
        char *path; /* relative to the copy's root; NULL: free slot */
};

struct shift {
        const struct pod_idmap *m;
        int root_fd; /* the copy's root */
        struct link_entry *links;
        size_t n_links, cap_links;
        char path[PATH_MAX]; /* of the entry being copied, relative to the roots */
        struct pod_error *reterr;
};

static void shift_done(struct shift *sh) {
        for (size_t i = 0; i < sh->cap_links; i++)
                free(sh->links[i].path);
        free(sh->links);
}

static size_t link_slot(const struct shift *sh, dev_t dev, ino_t ino) {
        size_t i = (size_t)((uint64_t)ino * UINT64_C(0x9E3779B97F4A7C15) >> 20) % sh->cap_links;

        while (sh->links[i].path && (sh->links[i].ino != ino || sh->links[i].dev != dev))
                i = (i + 1) % sh->cap_links;
        return i;
}

static const char *link_find(const struct shift *sh, const struct stat *st) {
        if (sh->cap_links == 0)
                return NULL;
        return sh->links[link_slot(sh, st->st_dev, st->st_ino)].path;
}

static int link_add(struct shift *sh, const struct stat *st) {
        size_t i;

        if ((sh->n_links + 1) * 2 > sh->cap_links) {
                struct shift grown = { .cap_links = sh->cap_links ? sh->cap_links * 2 : 256 };

                grown.links = calloc(grown.cap_links, sizeof(struct link_entry));
                if (!grown.links)
                        return -ENOMEM;
                for (size_t k = 0; k < sh->cap_links; k++)
                        if (sh->links[k].path)
                                grown.links[link_slot(&grown, sh->links[k].dev, sh->links[k].ino)] =
                                        sh->links[k];
                free(sh->links);
                sh->links = grown.links;
                sh->cap_links = grown.cap_links;
        }
        i = link_slot(sh, st->st_dev, st->st_ino);
        sh->links[i] = (struct link_entry){ .dev = st->st_dev, .ino = st->st_ino };
        sh->links[i].path = strdup(sh->path);
        if (!sh->links[i].path)
                return -ENOMEM;
        sh->n_links++;
        return 0;
}

static int shift_owner(struct shift *sh, const struct stat *st, uint32_t *uid, uint32_t *gid) {
        if (pod_idshift_id(sh->m, st->st_uid, uid) < 0 ||
            pod_idshift_id(sh->m, st->st_gid, gid) < 0)
                return pod_error_set(
                        sh->reterr, -ERANGE,
                        "'/%s' is owned by %u:%u, outside the %" PRIu32 " IDs of the pod's range",
                        sh->path, (unsigned)st->st_uid, (unsigned)st->st_gid, sh->m->count);
        return 0;
}

/* The attributes xattr_name_allowed() keeps (with file capabilities), IDs in them shifted.
 * (Rootless stores never get copies: --private-users is for pods started by root.) */
static int shift_xattrs(struct shift *sh, int from, int to, bool dir) {
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
                _cleanup_free_ void *shifted = NULL;
                size_t size = 0;
                ssize_t k;
                int r;

                /* The store's own marker of an OCI layer's opaque directory (store-oci.h) stays:
                 * without it the copy would show what the layer deleted. */
                if (!xattr_name_allowed(p, XATTR_KEEP_CAPS) &&
                    !(dir && streq(p, "trusted.overlay.opaque")))
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
                r = pod_idshift_xattr(sh->m, p, val, (size_t)k, &shifted, &size);
                if (r == -ERANGE || r == -EBADMSG)
                        return pod_error_set(sh->reterr, r, "'/%s': attribute %s %s", sh->path, p,
                                             r == -ERANGE ? "names an ID outside the pod's range"
                                                          : "is malformed");
                if (r < 0)
                        return r;
                if (fsetxattr(to, p, r > 0 ? shifted : val, r > 0 ? size : (size_t)k, 0) < 0)
                        return -errno;
        }
        return 0;
}

/* Owner first (it clears set-id bits and capabilities), attributes while to is still
 * writable, then mode, then times. */
static int shift_metadata(struct shift *sh, int from, int to, const struct stat *st) {
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        uint32_t uid, gid;
        int r;

        r = shift_owner(sh, st, &uid, &gid);
        if (r < 0)
                return r;
        if (fchown(to, uid, gid) < 0)
                return -errno;
        r = shift_xattrs(sh, from, to, S_ISDIR(st->st_mode));
        if (r < 0)
                return r;
        if (fchmod(to, st->st_mode & 07777) < 0 || futimens(to, ts) < 0)
                return -errno;
        return 0;
}

static int shift_dir(struct shift *sh, int from, int to, unsigned depth);

static int shift_entry(struct shift *sh, int from_dir, int to_dir, const char *name,
                       unsigned depth) {
        struct stat st;
        uint32_t uid, gid;
        int r;

        if (fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int f = -EBADF, t = -EBADF;

                if (mkdirat(to_dir, name, 0700) < 0)
                        return -errno;
                f = openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                t = openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (f < 0 || t < 0)
                        return -errno;
                r = shift_dir(sh, f, t, depth + 1);
                if (r >= 0)
                        r = shift_metadata(sh, f, t, &st);
                return r;
        }
        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int f = -EBADF, t = -EBADF;
                const char *first = st.st_nlink > 1 ? link_find(sh, &st) : NULL;

                if (first)
                        return linkat(sh->root_fd, first, to_dir, name, 0) < 0 ? -errno : 0;
                f = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (f < 0)
                        return -errno;
                t = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           0600);
                if (t < 0)
                        return -errno;
                r = fd_copy_data(f, t);
                if (r >= 0)
                        r = shift_metadata(sh, f, t, &st);
                if (r >= 0 && st.st_nlink > 1)
                        r = link_add(sh, &st);
                return r;
        }
        r = shift_owner(sh, &st, &uid, &gid);
        if (r < 0)
                return r;
        st.st_uid = uid;
        st.st_gid = gid;
        /* Symlinks, and device nodes, FIFOs, sockets (device nodes only in images imported
         * with devices allowed; the pod's overlay is nodev). */
        return fd_copy_special_at(from_dir, to_dir, name, &st);
}

static int shift_dir(struct shift *sh, int from, int to, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        size_t len = strlen(sh->path);
        int dfd;

        if (depth > DEPTH_MAX)
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
                if (len + 1 + strlen(de->d_name) >= sizeof(sh->path))
                        return -ENAMETOOLONG;
                (void)sprintf(sh->path + len, "%s%s", len ? "/" : "", de->d_name);
                r = shift_entry(sh, from, to, de->d_name, depth);
                if (r < 0)
                        return r;
                sh->path[len] = 0;
        }
}

static void range_name(const struct pod_idmap *m, char ret[32]) {
        (void)snprintf(ret, 32, "%" PRIu32 "-%" PRIu32, m->base, m->count);
}

static int open_range_dir(struct pod_store *s, const struct pod_idmap *m, bool create,
                          int *ret_fd) {
        _cleanup_close_ int top = -EBADF;
        char name[32];

        if (create && mkdirat(s->cas_fd, POD_STORE_SHIFTED_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        top = openat(s->cas_fd, POD_STORE_SHIFTED_DIR,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                return -errno;
        range_name(m, name);
        if (create && mkdirat(top, name, 0700) < 0 && errno != EEXIST)
                return -errno;
        *ret_fd = openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return *ret_fd < 0 ? -errno : 0;
}

/* The source as the copy's `source` file records it. */
static int source_text(const char *src, const struct stat *st, char **ret) {
        return asprintf(ret, "%s\n%" PRIu64 "\n", src, (uint64_t)st->st_ino) < 0 ? -ENOMEM : 0;
}

static void make_trash_name(char ret[64]) {
        uint64_t rnd = 0;

        (void)getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
        (void)snprintf(ret, 64, "rm-%d-%016" PRIx64, (int)getpid(), rnd);
}

static int build(struct pod_store *s, int src_fd, const char *text, const struct pod_idmap *m,
                 int range_fd, const char *key, struct pod_error *reterr) {
        _cleanup_(tmp_dir_done) struct tmp_dir t = { .fd = -EBADF };
        _cleanup_(shift_done) struct shift sh = { .m = m, .reterr = reterr };
        _cleanup_close_ int copy = -EBADF, root = -EBADF;
        struct stat st;
        int r;

        r = tmp_dir_make(s, &t);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create a temp dir in the store: %s",
                                     strerror(-r));
        if (mkdirat(t.fd, "copy", 0700) < 0 ||
            (copy = openat(t.fd, "copy", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
            mkdirat(copy, "rootfs", 0700) < 0 ||
            (root = openat(copy, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
            fstat(src_fd, &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to create a shifted copy: %m");
        sh.root_fd = root;
        r = shift_dir(&sh, src_fd, root, 0);
        if (r >= 0) {
                sh.path[0] = 0;
                r = shift_metadata(&sh, src_fd, root, &st);
        }
        if (r < 0) {
                if (reterr && reterr->msg[0])
                        return pod_error_prefix(reterr, r, "Cannot shift the image's IDs");
                return pod_error_set(reterr, r, "Failed to copy '/%s' into a shifted copy: %s",
                                     sh.path, strerror(-r));
        }
        /* The data reaches the disk before the marker that says it is complete. */
        if (syncfs(copy) < 0)
                return pod_error_set(reterr, -errno, "Failed to sync the shifted copy: %m");
        r = write_file_at(copy, SOURCE_FILE, text, strlen(text), 0444, false);
        if (r >= 0)
                r = write_file_at(copy, DONE_FILE, "", 0, 0444, true);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write the shifted copy's records: %s",
                                     strerror(-r));
        /* An incomplete one from a crash goes first. */
        if (faccessat(range_fd, key, F_OK, AT_SYMLINK_NOFOLLOW) >= 0) {
                char trash[64];

                make_trash_name(trash);
                if (renameat(range_fd, key, s->tmp_fd, trash) >= 0)
                        (void)rm_rf_at(s->tmp_fd, trash);
        }
        if (renameat(t.fd, "copy", range_fd, key) < 0)
                return pod_error_set(reterr, -errno, "Failed to publish the shifted copy: %m");
        (void)fsync(range_fd);
        return 0;
}

int pod_store_shifted(struct pod_store *s, const char *src, const struct pod_idmap *m,
                      char **ret_path, struct pod_error *reterr) {
        _cleanup_close_ int src_fd = -EBADF, range_fd = -EBADF, lock = -EBADF;
        _cleanup_free_ char *text = NULL;
        uint8_t digest[POD_HMAC_SHA512_SIZE];
        char key[KEY_HEX + 1], range[32], lname[128];
        struct stat st;
        int r;

        src_fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (src_fd < 0 || fstat(src_fd, &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to open lower dir '%s': %m", src);
        r = source_text(src, &st, &text);
        if (r < 0)
                return r;
        pod_sha512_plain(text, strlen(text), digest);
        pod_hex_encode(digest, KEY_HEX / 2, key);
        key[KEY_HEX] = 0;
        range_name(m, range);

        r = open_range_dir(s, m, true, &range_fd);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create '%s/%s' in the store: %s",
                                     POD_STORE_SHIFTED_DIR, range, strerror(-r));
        (void)snprintf(lname, sizeof(lname), "shift-%s-%s.lock", range, key);
        r = store_lock_at(s->locks_fd, lname, LOCK_EX, &lock);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to lock '%s': %s", lname, strerror(-r));
        if (faccessat(range_fd, key, F_OK, AT_SYMLINK_NOFOLLOW) < 0 || ({
                    _cleanup_close_ int c =
                            openat(range_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                    c < 0 || faccessat(c, DONE_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0;
            })) {
                r = build(s, src_fd, text, m, range_fd, key, reterr);
                if (r < 0)
                        return r;
        }
        if (asprintf(ret_path, "%s/cas/%s/%s/%s/rootfs", s->dir, POD_STORE_SHIFTED_DIR, range,
                     key) < 0)
                return -ENOMEM;
        return 0;
}

/* Whether the copy's source is gone: 1 gone, 0 there, < 0 unknown (kept). */
static int source_gone(int copy_fd) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        uint64_t ino;
        char *nl;
        int r;

        r = read_full_file_at(copy_fd, SOURCE_FILE, PATH_MAX + 64, &text, NULL);
        if (r == -ENOENT)
                return faccessat(copy_fd, DONE_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0 ? 1 : -EBADMSG;
        if (r < 0)
                return r;
        nl = strchr(text, '\n');
        if (!nl || sscanf(nl + 1, "%" SCNu64, &ino) != 1)
                return -EBADMSG;
        *nl = 0;
        fd = open(text, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 1 : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        return (uint64_t)st.st_ino != ino;
}

/* The range is asked about under each copy's lock: a prepare allocates its range before it
 * takes that lock, so a copy is never removed between a pod's allocation and its use. */
static int gc_range(struct pod_store *s, int top, const char *range, uint32_t base, uint32_t count,
                    int (*range_held)(uint32_t, uint32_t, void *), void *userdata,
                    void (*removed)(const char *, const char *, void *), void *removed_userdata) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, n = 0;

        fd = openat(top, range, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0;
        d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return 0;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int lock = -EBADF, copy = -EBADF;
                char lname[NAME_MAX + 64], trash[64], what[NAME_MAX + 40];

                if (de->d_name[0] == '.' || strlen(de->d_name) != KEY_HEX)
                        continue;
                (void)snprintf(lname, sizeof(lname), "shift-%s-%s.lock", range, de->d_name);
                if (store_lock_at(s->locks_fd, lname, LOCK_EX | LOCK_NB, &lock) < 0)
                        continue; /* being made */
                copy = openat(dirfd(d), de->d_name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (copy < 0)
                        continue;
                if (!(range_held && range_held(base, count, userdata) == 0) &&
                    source_gone(copy) != 1)
                        continue;
                make_trash_name(trash);
                if (renameat(dirfd(d), de->d_name, s->tmp_fd, trash) < 0)
                        continue;
                (void)rm_rf_at(s->tmp_fd, trash);
                (void)unlinkat(s->locks_fd, lname, 0);
                (void)snprintf(what, sizeof(what), "%s/%s", range, de->d_name);
                if (removed)
                        removed("shifted", what, removed_userdata);
                n++;
        }
        (void)unlinkat(top, range, AT_REMOVEDIR); /* when empty */
        return n;
}

int pod_store_shift_gc(struct pod_store *s,
                       int (*range_held)(uint32_t base, uint32_t count, void *userdata),
                       void *userdata,
                       void (*removed)(const char *what, const char *name, void *userdata),
                       void *removed_userdata) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int top, n = 0;

        top = openat(s->cas_fd, POD_STORE_SHIFTED_DIR,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                return 0;
        d = fdopendir(top);
        if (!d) {
                (void)close(top);
                return 0;
        }
        while ((de = readdir(d))) {
                uint32_t base, count;
                int k = 0;

                if (sscanf(de->d_name, "%" SCNu32 "-%" SCNu32 "%n", &base, &count, &k) != 2 ||
                    de->d_name[k] != 0)
                        continue;
                n += gc_range(s, dirfd(d), de->d_name, base, count, range_held, userdata, removed,
                              removed_userdata);
        }
        return n;
}

int pod_store_shift_ranges(struct pod_store *s, uint32_t count, uint32_t **ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ uint32_t *bases = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int top;

        *ret = NULL;
        *ret_n = 0;
        top = openat(s->cas_fd, POD_STORE_SHIFTED_DIR,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(top);
        if (!d) {
                (void)close(top);
                return -errno;
        }
        while ((de = readdir(d))) {
                _cleanup_closedir_ DIR *r = NULL;
                struct dirent *c;
                uint32_t base, cnt;
                bool complete = false;
                int k = 0, fd;

                if (sscanf(de->d_name, "%" SCNu32 "-%" SCNu32 "%n", &base, &cnt, &k) != 2 ||
                    de->d_name[k] != 0 || cnt != count)
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                r = fdopendir(fd);
                if (!r) {
                        (void)close(fd);
                        continue;
                }
                while (!complete && (c = readdir(r))) {
                        char done[NAME_MAX + sizeof("/" DONE_FILE)];

                        if (strlen(c->d_name) != KEY_HEX)
                                continue;
                        (void)snprintf(done, sizeof(done), "%s/" DONE_FILE, c->d_name);
                        complete = faccessat(dirfd(r), done, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
                }
                if (!complete)
                        continue;
                if (n == cap) {
                        uint32_t *t = realloc(bases, (cap = cap ? cap * 2 : 8) * sizeof(*t));

                        if (!t)
                                return -ENOMEM;
                        bases = t;
                }
                bases[n++] = base;
        }
        *ret = TAKE_PTR(bases);
        *ret_n = n;
        return 0;
}

int pod_store_idmap_supported(struct pod_store *s, const struct pod_idmap *m, char **why,
                              struct pod_error *reterr) {
        return pod_idmap_supported(s->tree_fd, m, why, reterr);
}
