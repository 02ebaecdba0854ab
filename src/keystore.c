/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "keystore.h"
#include "macro.h"
#include "path-util.h"

struct pod_trusted_keys *pod_trusted_keys_free(struct pod_trusted_keys *k) {
        if (!k)
                return NULL;
        for (size_t i = 0; i < k->n; i++) {
                free(k->items[i].fingerprint);
                free(k->items[i].prefix);
                free(k->items[i].path);
                free(k->items[i].data);
        }
        free(k->items);
        free(k);
        return NULL;
}

bool pod_fingerprint_valid(const char *s) {
        size_t n = 0;

        if (!s)
                return false;
        for (; *s; s++, n++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return n == 40;
}

/* Opens base/trustedkeys/sub (sub may be nested) without following symlinks below base.
 * Returns -ENOENT when any part is missing. */
static int open_keydir(const char *base, const char *sub) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *copy = NULL;
        char *saveptr = NULL;

        if (!base)
                return -ENOENT;
        fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        copy = path_join("trustedkeys", sub);
        if (!copy)
                return -ENOMEM;
        for (char *c = strtok_r(copy, "/", &saveptr); c; c = strtok_r(NULL, "/", &saveptr)) {
                int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (next < 0)
                        return errno == ENOTDIR || errno == ELOOP ? -ENOTDIR : -errno;
                safe_close(fd);
                fd = next;
        }
        return TAKE_FD(fd);
}

static int push_key(struct pod_trusted_keys *k, struct pod_trusted_key *key) {
        struct pod_trusted_key *t = reallocarray(k->items, k->n + 1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        k->items = t;
        t[k->n++] = *key;
        *key = (struct pod_trusted_key){};
        return 0;
}

static void key_done(struct pod_trusted_key *key) {
        free(key->fingerprint);
        free(key->prefix);
        free(key->path);
        free(key->data);
        *key = (struct pod_trusted_key){};
}

static void remove_fingerprint(struct pod_trusted_keys *k, const char *fpr) {
        for (size_t i = 0; i < k->n;) {
                if (streq(k->items[i].fingerprint, fpr)) {
                        key_done(&k->items[i]);
                        memmove(k->items + i, k->items + i + 1, (k->n - i - 1) * sizeof(*k->items));
                        k->n--;
                } else
                        i++;
        }
}

/* Where a key file is: read in this order, a later one replacing an earlier one. */
enum { ORIGIN_VENDOR, ORIGIN_ADMIN, ORIGIN_USER };

static int fingerprint_filter(const struct dirent *de) {
        return pod_fingerprint_valid(de->d_name);
}

static int read_entry(struct pod_trusted_keys *k, int fd, const char *dirpath, const char *name,
                      int origin, const char *prefix, bool apply, bool load,
                      struct pod_error *reterr) {
        struct pod_trusted_key key = {};
        struct stat st;
        int r;

        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return pod_error_set(reterr, -errno, "Failed to stat '%s/%s': %m", dirpath, name);
        }
        if (!S_ISREG(st.st_mode))
                return pod_error_set(reterr, -EBADF, "Trusted key '%s/%s' is not a regular file",
                                     dirpath, name);

        key.fingerprint = strdup(name);
        key.prefix = prefix ? strdup(prefix) : NULL;
        key.path = path_join(dirpath, name);
        key.admin = origin == ORIGIN_ADMIN;
        key.user = origin == ORIGIN_USER;
        key.mask = st.st_size == 0;
        if (!key.fingerprint || (prefix && !key.prefix) || !key.path) {
                key_done(&key);
                return -ENOMEM;
        }
        if (load && !key.mask) {
                r = read_full_file_at(fd, name, POD_KEY_FILE_MAX, &key.data, &key.size);
                if (r < 0) {
                        r = pod_error_set(reterr, r, "Failed to read trusted key '%s': %s",
                                          key.path, strerror(-r));
                        key_done(&key);
                        return r;
                }
                key.mask = key.size == 0;
        }
        if (apply) {
                /* Later sources override; an empty file only removes. */
                remove_fingerprint(k, key.fingerprint);
                if (key.mask) {
                        key_done(&key);
                        return 0;
                }
        }
        r = push_key(k, &key);
        key_done(&key);
        return r;
}

/* Reads one source directory (root.d or prefix.d/<p>) of one tree.  apply: merge into k
 * with masking (keyring); otherwise append everything, masks flagged (listing). */
static int read_source(struct pod_trusted_keys *k, const char *base, int origin, const char *prefix,
                       bool apply, bool load, struct pod_error *reterr) {
        _cleanup_free_ char *sub = NULL, *dirpath = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct dirent **list = NULL;
        char procpath[64];
        int n, r = 0;

        sub = prefix ? path_join("prefix.d", prefix) : strdup("root.d");
        if (!sub)
                return -ENOMEM;
        dirpath = base ? path_join(base, "trustedkeys", sub) : NULL;
        fd = open_keydir(base, sub);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return pod_error_set(reterr, fd, "Failed to open key directory '%s': %s",
                                     strna(dirpath), strerror(-fd));

        /* scandir() wants a path; /proc/self/fd keeps us on the directory opened safely. */
        (void)snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d", fd);
        n = scandir(procpath, &list, fingerprint_filter, alphasort);
        if (n < 0)
                return pod_error_set(reterr, -errno, "Failed to list '%s': %m", strna(dirpath));

        for (int i = 0; i < n; i++) {
                if (r >= 0)
                        r = read_entry(k, fd, dirpath, list[i]->d_name, origin, prefix, apply, load,
                                       reterr);
                free(list[i]);
        }
        free(list);
        return r;
}

int pod_keystore_keys_for_name(const struct pod_keystore *ks, const char *name,
                               struct pod_trusted_keys **ret, struct pod_error *reterr) {
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *k = NULL;
        _cleanup_free_ char *anc = NULL;
        int r;

        if (!ac_identifier_valid(name))
                return pod_error_set(reterr, -EINVAL, "Invalid image name '%s'", name);

        k = calloc(1, sizeof(*k));
        anc = strdup(name);
        if (!k || !anc)
                return -ENOMEM;

        r = read_source(k, ks->vendordir, ORIGIN_VENDOR, NULL, true, true, reterr);
        if (r >= 0)
                r = read_source(k, ks->sysconfdir, ORIGIN_ADMIN, NULL, true, true, reterr);
        if (r >= 0)
                r = read_source(k, ks->userdir, ORIGIN_USER, NULL, true, true, reterr);
        if (r < 0)
                return r;

        /* Ancestors by path component, shortest first: "a.org/web" is not an ancestor of
         * "a.org/webshop" (rkt compared raw strings; we do not). */
        for (char *slash = anc;; slash++) {
                char saved;

                slash = strchrnul(slash, '/');
                saved = *slash;
                *slash = 0;
                r = read_source(k, ks->vendordir, ORIGIN_VENDOR, anc, true, true, reterr);
                if (r >= 0)
                        r = read_source(k, ks->sysconfdir, ORIGIN_ADMIN, anc, true, true, reterr);
                if (r >= 0)
                        r = read_source(k, ks->userdir, ORIGIN_USER, anc, true, true, reterr);
                *slash = saved;
                if (r < 0)
                        return r;
                if (!saved)
                        break;
        }

        *ret = TAKE_PTR(k);
        return 0;
}

/* Recursively lists prefix.d/<prefix>/... of one tree. */
static int list_prefixes(struct pod_trusted_keys *k, const char *base, int origin,
                         const char *prefix, unsigned depth, struct pod_error *reterr) {
        _cleanup_free_ char *sub = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        if (depth > 64)
                return 0;
        if (prefix) {
                r = read_source(k, base, origin, prefix, false, false, reterr);
                if (r < 0)
                        return r;
        }

        sub = prefix ? path_join("prefix.d", prefix) : strdup("prefix.d");
        if (!sub)
                return -ENOMEM;
        fd = open_keydir(base, sub);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return pod_error_set(reterr, fd, "Failed to open '%s/trustedkeys/%s': %s", base,
                                     sub, strerror(-fd));
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);

        while ((de = readdir(d))) {
                _cleanup_free_ char *child = NULL;
                struct stat st;

                if (de->d_name[0] == '.' || strchr(de->d_name, '/'))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISDIR(st.st_mode))
                        continue;
                child = prefix ? path_join(prefix, de->d_name) : strdup(de->d_name);
                if (!child)
                        return -ENOMEM;
                if (!ac_identifier_valid(child))
                        continue;
                r = list_prefixes(k, base, origin, child, depth + 1, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int key_origin(const struct pod_trusted_key *k) {
        return k->user ? ORIGIN_USER : k->admin ? ORIGIN_ADMIN : ORIGIN_VENDOR;
}

static int key_cmp(const void *a, const void *b) {
        const struct pod_trusted_key *x = a, *y = b;
        int c;

        if (key_origin(x) != key_origin(y))
                return key_origin(x) - key_origin(y);
        if (!x->prefix != !y->prefix)
                return x->prefix ? 1 : -1;
        if (x->prefix && (c = strcmp(x->prefix, y->prefix)) != 0)
                return c;
        return strcmp(x->fingerprint, y->fingerprint);
}

int pod_keystore_list(const struct pod_keystore *ks, struct pod_trusted_keys **ret,
                      struct pod_error *reterr) {
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *k = NULL;
        int r;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        for (int origin = ORIGIN_VENDOR; origin <= ORIGIN_USER; origin++) {
                const char *base = origin == ORIGIN_USER    ? ks->userdir
                                   : origin == ORIGIN_ADMIN ? ks->sysconfdir
                                                            : ks->vendordir;

                r = read_source(k, base, origin, NULL, false, false, reterr);
                if (r < 0)
                        return r;
                r = list_prefixes(k, base, origin, NULL, 0, reterr);
                if (r < 0)
                        return r;
        }
        if (k->n > 1)
                qsort(k->items, k->n, sizeof(*k->items), key_cmp);
        *ret = TAKE_PTR(k);
        return 0;
}

int pod_keystore_add(const struct pod_keystore *ks, const char *prefix, const char *fingerprint,
                     const void *data, size_t size, char **ret_path, struct pod_error *reterr) {
        _cleanup_free_ char *sub = NULL, *path = NULL, *old = NULL;
        _cleanup_close_ int base = -EBADF, dir = -EBADF;
        const char *top = ks->writedir ?: ks->sysconfdir;
        size_t old_size = 0;
        int r;

        if (!top)
                return pod_error_set(reterr, -EINVAL, "No configuration directory for keys");
        if (prefix && !ac_identifier_valid(prefix))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid prefix '%s': must be an AC Identifier such as "
                                     "example.com/app",
                                     prefix);
        if (!pod_fingerprint_valid(fingerprint))
                return pod_error_set(reterr, -EINVAL, "Invalid key fingerprint '%s'", fingerprint);
        if (size == 0)
                return pod_error_set(reterr, -EINVAL, "Refusing to write an empty key (a mask)");

        sub = prefix ? path_join("trustedkeys/prefix.d", prefix) : strdup("trustedkeys/root.d");
        path = sub ? path_join(top, sub, fingerprint) : NULL;
        if (!path)
                return -ENOMEM;

        base = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (base < 0 && errno == ENOENT) {
                r = mkdir_p_at(AT_FDCWD, top, 0755);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to create '%s': %s", top,
                                             strerror(-r));
                base = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (base < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", top);

        /* Never through a symlink below the configuration directory. */
        r = mkdir_p_at(base, sub, 0755);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create key directory for '%s': %s", path,
                                     strerror(-r));
        dir = open_keydir(top, sub + strlen("trustedkeys/"));
        if (dir < 0)
                return pod_error_set(reterr, dir, "Failed to open key directory for '%s': %s", path,
                                     strerror(-dir));

        r = read_full_file_at(dir, fingerprint, POD_KEY_FILE_MAX, &old, &old_size);
        if (r >= 0 && old_size == size && memcmp(old, data, size) == 0) {
                if (ret_path)
                        *ret_path = TAKE_PTR(path);
                return 1;
        }

        r = write_file_atomic_at(dir, fingerprint, data, size, 0644);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write '%s': %s", path, strerror(-r));
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 0;
}
