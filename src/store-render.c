/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rendered trees of images with dependencies (spec sections 3 and 8), part of the store
 * module (store.h), kept apart to keep store.c below the size cap.
 *
 * Order: the dependencies depth-first in listed order, then the image (A -> [B, C],
 * C -> [D] applies B, D, C, A); a later layer overrides an earlier one.  Every path
 * operation is relative to a directory fd opened with O_NOFOLLOW, and an entry in the way
 * of a later layer is removed first (a symlink is replaced, never followed; a directory
 * replaced by a file goes with its contents).  pathWhitelist: a file of an image is kept
 * only if it is listed in the non-empty whitelist of that image and of every image above
 * it; a directory is kept when listed or when it leads to a listed path.
 *
 * The result lives in cas/tree/deps-<hex>/{manifest,rootfs/,images,rendered}, where <hex>
 * is the SHA-512 of the comma-joined image IDs in application order (the images are
 * content-addressed, so the IDs determine the result); `images` holds that list (gc
 * removes the tree when one of them is gone) and `rendered`, written last, the tree name.
 * The tree is built in a private temp dir from hard links to the image trees (they are
 * read-only) and appears by one rename, under cas/locks/deps-<hex>.lock. */
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
#include <unistd.h>

#include "fd-util.h"
#include "imageref.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"
#include "sha512.h"
#include "store-internal.h"
#include "store.h"
#include "xattr-util.h"

/* Deeper chains are refused like cycles; more layers (diamonds repeat images) likewise. */
#define RENDER_DEPTH_MAX  32
#define RENDER_LAYERS_MAX 256
#define TREE_NAME_SIZE    (sizeof("deps-") + POD_SHA512_HEX_SIZE)

struct layer {
        char *id;
        char **whitelists[RENDER_DEPTH_MAX]; /* non-empty ones of the image and those above */
        size_t n_whitelists;
};

struct render {
        struct pod_store *s;
        struct pod_image_manifest *stack[RENDER_DEPTH_MAX]; /* the path from the top image */
        const char *stack_ids[RENDER_DEPTH_MAX];
        size_t depth;
        struct pod_image_manifest **manifests; /* every one loaded, owned */
        size_t n_manifests;
        struct layer layers[RENDER_LAYERS_MAX];
        size_t n_layers;
};

static void render_done(struct render *r) {
        for (size_t i = 0; i < r->n_manifests; i++)
                pod_image_manifest_free(r->manifests[i]);
        free(r->manifests);
        for (size_t i = 0; i < r->n_layers; i++)
                free(r->layers[i].id);
}

static int load_manifest(struct pod_store *s, const char *id, struct pod_image_manifest **ret,
                         struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = pod_store_read_manifest(s, id, &text, &size, reterr);
        if (r < 0)
                return r;
        r = pod_image_manifest_parse(text, size, ret, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Stored manifest of %s", id);
        return 0;
}

/* The stored image a dependency names: by imageID, else by name and labels, os/arch
 * defaulting to the depending image's (then the host's), as `pod fetch` resolved it. */
static int resolve_dep(struct pod_store *s, const struct pod_image_manifest *m,
                       const struct pod_dependency *dep, char **ret_id, struct pod_error *reterr) {
        _cleanup_(pod_store_image_freep) struct pod_store_image *img = NULL;
        _cleanup_free_ char *id = NULL;
        struct pod_kv *labels = NULL;
        const char *os = NULL, *arch = NULL;
        size_t n = 0;
        int r = 0;

        if (dep->image_id)
                r = pod_store_resolve(s, dep->image_id, &id, NULL);
        else {
                (void)pod_host_os_arch(&os, &arch);
                if (pod_kv_get(m->labels, m->n_labels, "os"))
                        os = pod_kv_get(m->labels, m->n_labels, "os");
                if (pod_kv_get(m->labels, m->n_labels, "arch"))
                        arch = pod_kv_get(m->labels, m->n_labels, "arch");
                for (size_t k = 0; r >= 0 && k < dep->n_labels; k++)
                        r = pod_kv_add(&labels, &n, dep->labels[k].name, dep->labels[k].value);
                if (r >= 0 && os && !pod_kv_get(labels, n, "os"))
                        r = pod_kv_add(&labels, &n, "os", os);
                if (r >= 0 && arch && !pod_kv_get(labels, n, "arch"))
                        r = pod_kv_add(&labels, &n, "arch", arch);
                if (r >= 0)
                        r = pod_store_find_by_name(s, dep->image_name, labels, n, &id, NULL);
                pod_kv_free(labels, n);
                if (r == -ENOMEM)
                        return r;
        }
        if (r < 0)
                return pod_error_set(reterr, -ENOENT,
                                     "Dependency '%s'%s%s of '%s' is not in the store (fetch "
                                     "'%s' to get its dependencies)",
                                     dep->image_name, dep->image_id ? " " : "",
                                     strempty(dep->image_id), m->name, m->name);

        r = pod_store_get_image(s, id, &img, reterr);
        if (r < 0)
                return r;
        if (!streq(img->name, dep->image_name))
                return pod_error_set(reterr, -EMEDIUMTYPE,
                                     "Dependency %s of '%s' is named '%s', but the manifest "
                                     "says '%s'",
                                     id, m->name, img->name, dep->image_name);
        if (dep->size > 0 && img->size != dep->size)
                return pod_error_set(reterr, -EMEDIUMTYPE,
                                     "Dependency '%s' of '%s' (%s) is %" PRIu64 " bytes, but the "
                                     "manifest says %" PRIu64,
                                     dep->image_name, m->name, id, img->size, dep->size);
        *ret_id = TAKE_PTR(id);
        return 0;
}

/* Post-order walk: the layers of id's dependencies, then id. */
static int walk(struct render *rd, const char *id, struct pod_error *reterr) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *owned = NULL;
        struct pod_image_manifest *m, **t;
        struct layer *l;
        int r;

        for (size_t i = 0; i < rd->depth; i++)
                if (streq(rd->stack_ids[i], id))
                        return pod_error_set(reterr, -ELOOP,
                                             "Dependency cycle: '%s' (%s) depends on itself "
                                             "through '%s'",
                                             rd->stack[i]->name, id,
                                             rd->stack[rd->depth - 1]->name);
        if (rd->depth >= RENDER_DEPTH_MAX)
                return pod_error_set(reterr, -ELOOP,
                                     "Dependency chain of '%s' is deeper than %d images",
                                     rd->stack[0]->name, RENDER_DEPTH_MAX);

        if (rd->s->pin_renders) {
                r = pod_store_pin(rd->s, id, reterr);
                if (r < 0)
                        return r;
        }
        r = load_manifest(rd->s, id, &owned, reterr);
        if (r < 0)
                return r;
        t = realloc(rd->manifests, (rd->n_manifests + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        rd->manifests = t;
        m = rd->manifests[rd->n_manifests++] = TAKE_PTR(owned);

        rd->stack[rd->depth] = m;
        rd->stack_ids[rd->depth] = id;
        rd->depth++;
        for (size_t i = 0; i < m->n_dependencies; i++) {
                _cleanup_free_ char *dep_id = NULL;

                r = resolve_dep(rd->s, m, &m->dependencies[i], &dep_id, reterr);
                if (r >= 0)
                        r = walk(rd, dep_id, reterr);
                if (r < 0) {
                        rd->depth--;
                        return r;
                }
        }

        if (rd->n_layers >= RENDER_LAYERS_MAX) {
                rd->depth--;
                return pod_error_set(reterr, -E2BIG,
                                     "Image '%s' has more than %d layers with its dependencies",
                                     rd->stack[0]->name, RENDER_LAYERS_MAX);
        }
        l = &rd->layers[rd->n_layers];
        *l = (struct layer){ .id = strdup(id) };
        if (!l->id) {
                rd->depth--;
                return -ENOMEM;
        }
        rd->n_layers++;
        for (size_t i = 0; i < rd->depth; i++)
                if (rd->stack[i]->path_whitelist && rd->stack[i]->path_whitelist[0])
                        l->whitelists[l->n_whitelists++] = rd->stack[i]->path_whitelist;
        rd->depth--;
        return 0;
}

/* ---- copying one layer over the tree ---- */

struct overlay {
        char ***whitelists;
        size_t n_whitelists;
        bool link;           /* hard links from the image tree (cleared on EXDEV/EPERM) */
        unsigned copy_flags; /* FD_COPY_KEEP_*: what fd_copy_metadata() keeps */
        char path[PATH_MAX]; /* "/usr/bin": the entry being copied, inside rootfs */
};

static bool listed(char **wl, const char *p, bool dir) {
        size_t pl = strlen(p);

        STRV_FOREACH (w, wl) {
                size_t n = strlen(*w);

                while (n > 1 && (*w)[n - 1] == '/')
                        n--;
                if (n == pl && strncmp(*w, p, pl) == 0)
                        return true;
                /* A directory leading to a listed path stays, so that the path can exist. */
                if (dir && n > pl && strncmp(*w, p, pl) == 0 && (*w)[pl] == '/')
                        return true;
        }
        return false;
}

static bool keep(const struct overlay *o, bool dir) {
        for (size_t i = 0; i < o->n_whitelists; i++)
                if (!listed(o->whitelists[i], o->path, dir))
                        return false;
        return true;
}

static int copy_file(struct overlay *o, int from, int to, const char *name, const struct stat *st) {
        _cleanup_close_ int f = -EBADF, t = -EBADF;
        int r;

        /* A tree imported before xattr_name_allowed() may still carry trusted.*: copied,
         * not linked, it loses them. */
        r = o->link ? xattr_has_refused_at(from, name, XATTR_KEEP_CAPS) : 1;
        if (r < 0)
                return r;
        if (r == 0) {
                if (linkat(from, name, to, name, 0) >= 0)
                        return 0;
                if (errno != EXDEV && errno != EPERM && errno != EMLINK)
                        return -errno;
                o->link = errno == EMLINK; /* EXDEV, EPERM: never again */
        }
        f = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (f < 0)
                return -errno;
        t = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (t < 0)
                return -errno;
        r = fd_copy_data(f, t);
        if (r >= 0)
                r = fd_copy_metadata(f, t, st, o->copy_flags);
        return r;
}

static int overlay_dir(struct overlay *o, int from, int to, size_t plen, unsigned depth);

static int overlay_entry(struct overlay *o, int from, int to, const char *name, size_t plen,
                         unsigned depth) {
        size_t nlen = strlen(name);
        struct stat st, old;
        bool have;
        int r;

        if (plen + 1 + nlen >= sizeof(o->path))
                return -ENAMETOOLONG;
        o->path[plen] = '/';
        memcpy(o->path + plen + 1, name, nlen + 1);

        if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!keep(o, S_ISDIR(st.st_mode)))
                return 0;
        have = fstatat(to, name, &old, AT_SYMLINK_NOFOLLOW) >= 0;
        if (!have && errno != ENOENT)
                return -errno;
        /* Whatever is in the way goes, unless both are directories (then they merge): a
         * symlink is never followed, only replaced. */
        if (have && !(S_ISDIR(st.st_mode) && S_ISDIR(old.st_mode))) {
                r = S_ISDIR(old.st_mode) ? rm_rf_at(to, name)
                                         : (unlinkat(to, name, 0) < 0 ? -errno : 0);
                if (r < 0)
                        return r;
                have = false;
        }

        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int f = -EBADF, t = -EBADF;

                if (!have && mkdirat(to, name, 0700) < 0)
                        return -errno;
                f = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (f < 0)
                        return -errno;
                t = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (t < 0)
                        return -errno;
                /* An earlier layer may have left it read-only; its final mode is this
                 * layer's, set below. */
                if (have && fchmod(t, 0700) < 0)
                        return -errno;
                r = overlay_dir(o, f, t, plen + 1 + nlen, depth + 1);
                if (r >= 0) /* after its entries: keeps the mtime */
                        r = fd_copy_metadata(f, t, &st, o->copy_flags);
                return r;
        }
        if (S_ISREG(st.st_mode))
                return copy_file(o, from, to, name, &st);
        /* Symlinks; devices (only in images imported with devices allowed) and FIFOs. */
        return fd_copy_special_at(from, to, name, &st);
}

static int overlay_dir(struct overlay *o, int from, int to, size_t plen, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        int dfd;

        if (depth > 4096)
                return -ELOOP;
        dfd = fcntl(from, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                (void)close(dfd);
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
                r = overlay_entry(o, from, to, de->d_name, plen, depth);
                if (r < 0)
                        return r;
        }
}

/* The contents and attributes of directory from over directory to. */
static int overlay_root(struct overlay *o, int from, int to) {
        struct stat st;
        int r;

        if (fstat(from, &st) < 0 || fchmod(to, 0700) < 0)
                return -errno;
        o->path[0] = 0;
        r = overlay_dir(o, from, to, 0, 0);
        if (r >= 0)
                r = fd_copy_metadata(from, to, &st, o->copy_flags);
        return r;
}

int store_tree_copy(int from_dir, int to_dir, bool keep_privileges) {
        struct overlay o = {
                .copy_flags = keep_privileges ? FD_COPY_KEEP_CAPS | FD_COPY_KEEP_SETID : 0,
        };

        return overlay_root(&o, from_dir, to_dir);
}

/* ---- the rendered tree ---- */

static int open_rendered(struct pod_store *s, const char *name, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(s->tree_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (faccessat(fd, "rendered", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return -ENOENT;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int build(struct pod_store *s, const struct render *rd, const char *top, const char *name,
                 const char *joined, struct pod_error *reterr) {
        _cleanup_(tmp_dir_done) struct tmp_dir t = { .fd = -EBADF };
        _cleanup_close_ int tree = -EBADF, rootfs = -EBADF;
        _cleanup_free_ char *manifest = NULL;
        size_t size = 0;
        int r;

        r = tmp_dir_make(s, &t);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create a temp dir in the store: %s",
                                     strerror(-r));
        if (mkdirat(t.fd, "tree", 0755) < 0 ||
            (tree = openat(t.fd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
            mkdirat(tree, "rootfs", 0755) < 0 ||
            (rootfs = openat(tree, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
                return pod_error_set(reterr, -errno, "Failed to create a temp tree: %m");

        for (size_t i = 0; i < rd->n_layers; i++) {
                const struct layer *l = &rd->layers[i];
                _cleanup_close_ int src = -EBADF, src_rootfs = -EBADF;
                struct overlay o = {
                        .whitelists = (char ***)l->whitelists,
                        .n_whitelists = l->n_whitelists,
                        .link = true,
                        .copy_flags = FD_COPY_KEEP_CAPS | FD_COPY_KEEP_SETID,
                };

                r = pod_store_open_tree(s, l->id, &src, reterr);
                if (r < 0)
                        return r;
                src_rootfs = openat(src, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (src_rootfs < 0)
                        return pod_error_set(reterr, -errno,
                                             "Failed to open the rootfs of '%s': %m", l->id);
                r = overlay_root(&o, src_rootfs, rootfs);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Failed to render layer %s of '%s' at '%s': %s", l->id,
                                             top, o.path[0] ? o.path : "/", strerror(-r));
        }

        r = pod_store_read_manifest(s, top, &manifest, &size, reterr);
        if (r < 0)
                return r;
        r = write_file_atomic_at(tree, "manifest", manifest, size, 0444);
        if (r >= 0)
                r = write_file_atomic_at(tree, "images", joined, strlen(joined), 0444);
        if (r >= 0) /* copy_file() filtered every file of an older tree */
                r = write_file_at(tree, POD_STORE_TREE_LOWER_OK, "", 0, 0444, false);
        if (r >= 0)
                r = write_file_atomic_at(tree, "rendered", name, strlen(name), 0444);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write the rendered tree: %s",
                                     strerror(-r));

        /* An incomplete one (no `rendered`) from a crash is replaced. */
        r = rm_rf_at(s->tree_fd, name);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to remove the old tree '%s': %s", name,
                                     strerror(-r));
        if (renameat(t.fd, "tree", s->tree_fd, name) < 0)
                return pod_error_set(reterr, -errno, "Failed to store tree '%s': %m", name);
        return 0;
}

int pod_store_render_tree(struct pod_store *s, const char *id, int *ret_fd, char **ret_name,
                          struct pod_error *reterr) {
        _cleanup_(render_done) struct render rd = { .s = s };
        _cleanup_(pod_sha512_freep) struct pod_sha512 *h = NULL;
        _cleanup_free_ char *joined = NULL;
        _cleanup_close_ int lock = -EBADF, fd = -EBADF;
        unsigned char digest[POD_SHA512_DIGEST_SIZE];
        char name[TREE_NAME_SIZE], lname[TREE_NAME_SIZE + 8];
        size_t len = 0;
        int r;

        r = walk(&rd, id, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rd.n_layers; i++) {
                r = pod_store_touch(s, rd.layers[i].id, reterr);
                if (r < 0)
                        return r;
        }

        if (rd.n_layers == 1 && rd.layers[0].n_whitelists == 0) {
                /* Nothing to layer or filter: the image's own tree. */
                r = pod_store_open_tree(s, id, ret_fd, reterr);
                if (r < 0)
                        return r;
                if (ret_name) {
                        *ret_name = strdup(id);
                        if (!*ret_name) {
                                *ret_fd = safe_close(*ret_fd);
                                return -ENOMEM;
                        }
                }
                return 0;
        }

        joined = malloc(rd.n_layers * POD_IMAGE_ID_SIZE);
        if (!joined)
                return -ENOMEM;
        for (size_t i = 0; i < rd.n_layers; i++)
                len += (size_t)sprintf(joined + len, "%s%s", i ? "," : "", rd.layers[i].id);
        r = pod_sha512_new(&h);
        if (r >= 0)
                r = pod_sha512_update(h, joined, len);
        if (r >= 0)
                r = pod_sha512_final(h, digest);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to hash the layers of '%s'", id);
        memcpy(name, "deps-", 5);
        pod_hex_encode(digest, sizeof(digest), name + 5);
        name[TREE_NAME_SIZE - 1] = 0;

        r = open_rendered(s, name, &fd);
        if (r == -ENOENT) {
                (void)snprintf(lname, sizeof(lname), "%s.lock", name);
                r = store_lock_at(s->locks_fd, lname, LOCK_EX, &lock);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to lock tree '%s': %s", name,
                                             strerror(-r));
                r = open_rendered(s, name, &fd); /* rendered meanwhile by another process? */
                if (r == -ENOENT) {
                        r = build(s, &rd, id, name, joined, reterr);
                        if (r < 0)
                                return r;
                        r = open_rendered(s, name, &fd);
                }
        }
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to open tree '%s' of '%s': %s", name, id,
                                     strerror(-r));
        if (ret_name) {
                *ret_name = strdup(name);
                if (!*ret_name)
                        return -ENOMEM;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Removes rendered trees one of whose images is gone, and their lock files. */
void store_gc_render_trees(struct pod_store *s,
                           void (*removed)(const char *what, const char *name, void *userdata),
                           void *userdata) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        fd = openat(s->tree_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return;
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *images = NULL;
                _cleanup_close_ int lock = -EBADF, tree = -EBADF;
                char lname[NAME_MAX + 8], trash[64];
                bool stale = false;
                uint64_t rnd = 0;

                if (!string_has_prefix(de->d_name, "deps-") || strlen(de->d_name) > NAME_MAX)
                        continue;
                (void)snprintf(lname, sizeof(lname), "%s.lock", de->d_name);
                if (store_lock_at(s->locks_fd, lname, LOCK_EX | LOCK_NB, &lock) < 0)
                        continue; /* being rendered */
                tree = openat(s->tree_fd, de->d_name,
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (tree < 0 || read_full_file_at(tree, "images", 1 << 20, &images, NULL) < 0)
                        stale = true;
                for (char *p = images, *e; !stale && p && *p; p = e ? e + 1 : NULL) {
                        e = strchr(p, ',');
                        if (e)
                                *e = 0;
                        stale = store_image_in_index(s, p) != 1;
                }
                if (!stale)
                        continue;
                (void)getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
                (void)snprintf(trash, sizeof(trash), "rm-%d-%016" PRIx64, (int)getpid(), rnd);
                if (renameat(s->tree_fd, de->d_name, s->tmp_fd, trash) < 0)
                        continue;
                (void)rm_rf_at(s->tmp_fd, trash);
                (void)unlinkat(s->locks_fd, lname, 0);
                if (removed)
                        removed("tree", de->d_name, userdata);
        }
}
