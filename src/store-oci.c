/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "fd-util.h"
#include "json-util.h"
#include "layer-merge.h"
#include "macro.h"
#include "manifest.h"
#include "oci.h"
#include "path-util.h"
#include "podlimits.h"
#include "sha256.h"
#include "sha512.h"
#include "store-internal.h"
#include "store-oci.h"
#include "store.h"
#include "unpack.h"

/* Registry and repository are '' (not NULL) for images without a name, so the primary keys
 * hold. */
static const char oci_schema[] =
        "CREATE TABLE IF NOT EXISTS oci_blobs ("
        " digest TEXT PRIMARY KEY NOT NULL,"
        " diff_id TEXT NOT NULL,"
        " size INTEGER NOT NULL,"
        " media_type TEXT);"
        "CREATE TABLE IF NOT EXISTS oci_layers ("
        " diff_id TEXT PRIMARY KEY NOT NULL,"
        " size INTEGER NOT NULL," /* uncompressed tar bytes */
        " import_time INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS oci_images ("
        " id TEXT PRIMARY KEY NOT NULL,"
        " config BLOB NOT NULL,"
        " config_digest TEXT NOT NULL,"
        " manifest BLOB,"
        " manifest_digest TEXT);"
        "CREATE TABLE IF NOT EXISTS oci_image_layers ("
        " id TEXT NOT NULL,"
        " position INTEGER NOT NULL," /* 0: bottom */
        " diff_id TEXT NOT NULL,"
        " blob_digest TEXT NOT NULL,"
        " PRIMARY KEY (id, position));"
        "CREATE INDEX IF NOT EXISTS oci_image_layers_diff ON oci_image_layers(diff_id);"
        "CREATE INDEX IF NOT EXISTS oci_image_layers_blob ON oci_image_layers(blob_digest);"
        "CREATE TABLE IF NOT EXISTS oci_tags ("
        " registry TEXT NOT NULL,"
        " repository TEXT NOT NULL,"
        " tag TEXT NOT NULL,"
        " id TEXT NOT NULL,"
        " PRIMARY KEY (registry, repository, tag));"
        "CREATE INDEX IF NOT EXISTS oci_tags_id ON oci_tags(id);"
        "CREATE TABLE IF NOT EXISTS oci_digests ("
        " registry TEXT NOT NULL,"
        " repository TEXT NOT NULL,"
        " digest TEXT NOT NULL,"
        " id TEXT NOT NULL,"
        " PRIMARY KEY (registry, repository, digest));"
        "CREATE INDEX IF NOT EXISTS oci_digests_id ON oci_digests(id);";

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize)

/* A blob file without an index row younger than this may be an import's, just renamed into
 * place: gc leaves it. */
#define ORPHAN_AGE_USEC (UINT64_C(600) * 1000000u)

/* ---- SQL (store.c keeps its helpers static; these are the few this file needs) ---- */

static int q_fail(struct pod_store *s, int rc, struct pod_error *reterr, const char *what) {
        int r;

        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                r = -EBUSY;
                break;
        case SQLITE_NOMEM:
                r = -ENOMEM;
                break;
        case SQLITE_FULL:
                r = -ENOSPC;
                break;
        case SQLITE_READONLY:
        case SQLITE_PERM:
                r = -EACCES;
                break;
        default:
                r = -EIO;
        }
        return pod_error_set(reterr, r, "Store index '%s/cas/db/index.sqlite': failed to %s: %s",
                             s->dir, what, sqlite3_errmsg(s->db));
}

/* Prepares sql and binds the text arguments up to the first NULL (which ends the list: bind
 * possibly-NULL values by hand). */
static int q_prepare(struct pod_store *s, sqlite3_stmt **ret, struct pod_error *reterr,
                     const char *sql, ...) __attribute__((sentinel));
static int q_prepare(struct pod_store *s, sqlite3_stmt **ret, struct pod_error *reterr,
                     const char *sql, ...) {
        sqlite3_stmt *st = NULL;
        va_list ap;
        int rc, i = 1;

        rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return q_fail(s, rc, reterr, "prepare a query");
        va_start(ap, sql);
        for (const char *a; (a = va_arg(ap, const char *));)
                (void)sqlite3_bind_text(st, i++, a, -1, SQLITE_TRANSIENT);
        va_end(ap);
        *ret = st;
        return 0;
}

static int q_exec(struct pod_store *s, const char *sql, struct pod_error *reterr) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : q_fail(s, rc, reterr, "run a statement");
}

/* Steps a statement that returns no rows. */
static int q_done(struct pod_store *s, sqlite3_stmt *st, struct pod_error *reterr,
                  const char *what) {
        int rc = sqlite3_step(st);

        return rc == SQLITE_DONE ? 0 : q_fail(s, rc, reterr, what);
}

struct otxn {
        struct pod_store *s;
        bool open;
};
static void otxn_rollback(struct otxn *t) {
        if (t->open)
                (void)sqlite3_exec(t->s->db, "ROLLBACK", NULL, NULL, NULL);
        t->open = false;
}
static int otxn_begin(struct pod_store *s, struct otxn *t, struct pod_error *reterr) {
        int r = q_exec(s, "BEGIN IMMEDIATE", reterr);

        if (r < 0)
                return r;
        *t = (struct otxn){ .s = s, .open = true };
        return 0;
}
static int otxn_commit(struct otxn *t, struct pod_error *reterr) {
        int r = q_exec(t->s, "COMMIT", reterr);

        if (r >= 0)
                t->open = false;
        return r;
}

int store_oci_init(struct pod_store *s, struct pod_error *reterr) {
        if (store_schema_present(s, oci_schema))
                return 0;
        return q_exec(s, oci_schema, reterr);
}

/* ---- paths ---- */

static const char *hex_of(const char *digest) {
        return digest + strlen(POD_SHA256_PREFIX);
}

/* cas/layer (created) */
static int open_layer_root(struct pod_store *s, int *ret_fd) {
        int r, fd;

        r = mkdir_p_at(s->cas_fd, "layer", 0700);
        if (r < 0)
                return r;
        fd = openat(s->cas_fd, "layer", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* cas/blob/sha256 (created) */
static int open_blob_root(struct pod_store *s, int *ret_fd) {
        int r, fd;

        r = mkdir_p_at(s->cas_fd, "blob/sha256", 0700);
        if (r < 0)
                return r;
        fd = openat(s->cas_fd, "blob/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

static void layer_name(const char *diff_id, char ret[80]) {
        (void)snprintf(ret, 80, "sha256-%s", hex_of(diff_id));
}

static void blob_path(const char *digest, char ret[80]) {
        const char *h = hex_of(digest);

        (void)snprintf(ret, 80, "%c%c/%s", h[0], h[1], h);
}

/* Per-layer locks in cas/locks: "layer-<hex>.lock" serialises import and gc of one layer,
 * "layer-<hex>.use" (shared) keeps a layer an importer has not committed yet from gc. */
static int lock_layer(struct pod_store *s, const char *diff_id, const char *suffix, int op,
                      int *ret_fd) {
        char name[96];

        (void)snprintf(name, sizeof(name), "layer-%s.%s", hex_of(diff_id), suffix);
        return store_lock_at(s->locks_fd, name, op, ret_fd);
}

/* Holds a shared "use" lock on the layer until the handle's pins go (pod_store_unpin_all()). */
static int pin_layer(struct pod_store *s, const char *diff_id) {
        _cleanup_close_ int fd = -EBADF;
        char key[96];
        char **ids;
        int *fds, r;

        (void)snprintf(key, sizeof(key), "layer:%s", diff_id);
        for (size_t i = 0; i < s->n_pins; i++)
                if (streq(s->pin_ids[i], key))
                        return 0;
        r = lock_layer(s, diff_id, "use", LOCK_SH, &fd);
        if (r < 0)
                return r;
        fds = reallocarray(s->pin_fds, s->n_pins + 1, sizeof(int));
        if (!fds)
                return -ENOMEM;
        s->pin_fds = fds;
        ids = reallocarray(s->pin_ids, s->n_pins + 1, sizeof(char *));
        if (!ids)
                return -ENOMEM;
        s->pin_ids = ids;
        s->pin_ids[s->n_pins] = strdup(key);
        if (!s->pin_ids[s->n_pins])
                return -ENOMEM;
        s->pin_fds[s->n_pins++] = TAKE_FD(fd);
        return 0;
}

/* 1 when the layer's tree is complete on disk (its marker names it). */
static int layer_tree_present(int layer_root, const char *diff_id) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *marker = NULL;
        char name[80];
        struct stat st;

        layer_name(diff_id, name);
        fd = openat(layer_root, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (read_full_file_at(fd, "rendered", 256, &marker, NULL) < 0 || !streq(marker, diff_id))
                return 0;
        if (fstatat(fd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        return 1;
}

static int row_exists(struct pod_store *s, const char *sql, const char *arg,
                      struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r, rc;

        r = q_prepare(s, &st, reterr, sql, arg, NULL);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return q_fail(s, rc, reterr, "look up a row");
}

int pod_store_oci_have_layer(struct pod_store *s, const char *diff_id, struct pod_error *reterr) {
        _cleanup_close_ int root = -EBADF;
        int r;

        if (!pod_oci_digest_valid(diff_id))
                return pod_error_set(reterr, -EINVAL, "Invalid diff_id '%s'", diff_id);
        r = row_exists(s, "SELECT 1 FROM oci_layers WHERE diff_id = ?", diff_id, reterr);
        if (r <= 0)
                return r;
        r = open_layer_root(s, &root);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to open the layer directory: %s",
                                     strerror(-r));
        return layer_tree_present(root, diff_id);
}

/* ---- layer import ---- */

static int check_compression(const struct pod_store_oci_layer *l, enum pod_compression c,
                             struct pod_error *reterr) {
        const char *mt = l->media_type;
        enum pod_compression want;

        if (!mt)
                return 0;
        if (streq(mt, POD_OCI_MEDIA_DOCKER_LAYER) || streq(mt, POD_OCI_MEDIA_LAYER_GZIP))
                want = POD_COMPRESSION_GZIP;
        else if (streq(mt, POD_OCI_MEDIA_LAYER_ZSTD))
                want = POD_COMPRESSION_ZSTD;
        else if (streq(mt, POD_OCI_MEDIA_LAYER) ||
                 streq(mt, "application/vnd.docker.image.rootfs.diff.tar"))
                want = POD_COMPRESSION_NONE;
        else
                return 0;
        if (want == c)
                return 0;
        return pod_error_set(reterr, -EBADMSG,
                             "Layer %s: its media type '%s' says %s, the data is %s", l->digest, mt,
                             pod_compression_to_string(want), pod_compression_to_string(c));
}

/* After a failed unpack: the temp blob holds every byte read so far (copy_fd); the rest of
 * the input is read too, up to the size the manifest gave (a pipe's writer would otherwise
 * block), and all of it hashed.  0: the digest differs (*actual set), 1: it matches (the
 * failure is the content's own), -errno: cannot tell. */
static int digest_after_failure(int tmp_fd, int in_fd, const struct pod_store_oci_layer *l,
                                char actual[POD_SHA256_STRING_SIZE]) {
        _cleanup_(pod_sha256_freep) struct pod_sha256 *h = NULL;
        _cleanup_close_ int blob = -EBADF;
        uint64_t total = 0;
        char buf[65536];
        ssize_t n;
        int r;

        r = pod_sha256_new(&h);
        if (r < 0)
                return r;
        blob = openat(tmp_fd, "blob", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (blob < 0)
                return -errno;
        while ((n = read(blob, buf, sizeof(buf))) > 0) {
                total += (uint64_t)n;
                r = pod_sha256_update(h, buf, (size_t)n);
                if (r < 0)
                        return r;
        }
        if (n < 0)
                return -errno;
        while (l->size == 0 || total < l->size) {
                size_t want = sizeof(buf);

                if (l->size > 0 && l->size - total < want)
                        want = (size_t)(l->size - total);
                n = read(in_fd, buf, want);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                total += (uint64_t)n;
                r = pod_sha256_update(h, buf, (size_t)n);
                if (r < 0)
                        return r;
        }
        r = pod_sha256_final_string(h, actual);
        if (r < 0)
                return r;
        return streq(actual, l->digest) ? 1 : 0;
}

static int check_layer_result(const struct pod_store_oci_layer *l, const char *blob_digest,
                              uint64_t input_size, const char *diff_id, struct pod_error *reterr) {
        if (l->size > 0 && input_size != l->size)
                return pod_error_set(
                        reterr, -EBADMSG, "Layer %s: expected %" PRIu64 " bytes, got %" PRIu64 "%s",
                        l->digest, l->size, input_size, input_size > l->size ? " or more" : "");
        if (!streq(blob_digest, l->digest))
                return pod_error_set(reterr, -EBADMSG,
                                     "Layer blob digest mismatch: expected %s, the data hashes "
                                     "to %s",
                                     l->digest, blob_digest);
        if (diff_id && !streq(diff_id, l->diff_id))
                return pod_error_set(reterr, -EBADMSG,
                                     "Layer %s: diff_id mismatch: the config says %s, the "
                                     "uncompressed layer hashes to %s",
                                     l->digest, l->diff_id, diff_id);
        return 0;
}

/* SHA-256 of fd to EOF, but at most max + 1 bytes when max > 0 (enough to see it is too
 * long). */
static int hash_bounded(int fd, uint64_t max, char ret[POD_SHA256_STRING_SIZE],
                        uint64_t *ret_size) {
        _cleanup_(pod_sha256_freep) struct pod_sha256 *h = NULL;
        _cleanup_free_ char *buf = NULL;
        const size_t bufsize = 1 << 20;
        uint64_t total = 0;
        int r;

        r = pod_sha256_new(&h);
        if (r < 0)
                return r;
        buf = malloc(bufsize);
        if (!buf)
                return -ENOMEM;
        while (max == 0 || total <= max) {
                ssize_t k = read(fd, buf, bufsize);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                total += (uint64_t)k;
                r = pod_sha256_update(h, buf, (size_t)k);
                if (r < 0)
                        return r;
        }
        r = pod_sha256_final_string(h, ret);
        if (r < 0)
                return r;
        *ret_size = total;
        return 0;
}

/* The layer's blob is stored under this digest for this diff_id: only the input's hash and
 * size need checking. */
static int import_known_blob(struct pod_store *s, int fd, const struct pod_store_oci_layer *l,
                             struct pod_error *reterr) {
        char got[POD_SHA256_STRING_SIZE];
        uint64_t n = 0;
        int r;

        /* Pinned first, so gc cannot take it between the look and the caller's commit. */
        r = pin_layer(s, l->diff_id);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to pin layer %s: %s", l->diff_id,
                                     strerror(-r));
        r = hash_bounded(fd, l->size, got, &n);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read layer %s: %s", l->digest,
                                     strerror(-r));
        return check_layer_result(l, got, n, NULL, reterr);
}

static int blob_row_matches(struct pod_store *s, const struct pod_store_oci_layer *l,
                            struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_close_ int broot = -EBADF;
        char bp[80];
        int r, rc;

        r = q_prepare(s, &st, reterr, "SELECT diff_id FROM oci_blobs WHERE digest = ?", l->digest,
                      NULL);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return q_fail(s, rc, reterr, "look up a blob");
        if (!streq((const char *)sqlite3_column_text(st, 0), l->diff_id))
                return 0; /* the lie is caught by the full import */
        if (open_blob_root(s, &broot) < 0)
                return 0;
        blob_path(l->digest, bp);
        return faccessat(broot, bp, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

static int import_commit_layer(struct pod_store *s, struct tmp_dir *t,
                               const struct pod_store_oci_layer *l,
                               const struct pod_unpack_result *res, bool unpacked,
                               struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_(otxn_rollback) struct otxn txn = {};
        _cleanup_close_ int lock = -EBADF, lroot = -EBADF, broot = -EBADF;
        char lname[80], bp[80], sub[3];
        char size[32];
        int r, present;

        r = lock_layer(s, l->diff_id, "lock", LOCK_EX, &lock);
        if (r >= 0)
                r = open_layer_root(s, &lroot);
        if (r >= 0)
                r = open_blob_root(s, &broot);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to lock layer %s: %s", l->diff_id,
                                     strerror(-r));
        r = row_exists(s, "SELECT 1 FROM oci_layers WHERE diff_id = ?", l->diff_id, reterr);
        if (r < 0)
                return r;
        present = r > 0 ? layer_tree_present(lroot, l->diff_id) : 0;
        if (present < 0)
                return pod_error_set(reterr, present, "Failed to look at layer %s: %s", l->diff_id,
                                     strerror(-present));
        if (!present && !unpacked)
                return pod_error_set(reterr, -EAGAIN, "Layer %s vanished meanwhile", l->diff_id);

        layer_name(l->diff_id, lname);
        if (!present) {
                /* An orphan (interrupted import, half-done gc) is replaced. */
                r = rm_rf_at(lroot, lname);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to remove the old layer %s: %s",
                                             l->diff_id, strerror(-r));
                if (renameat(t->fd, "layer", lroot, lname) < 0)
                        return pod_error_set(reterr, -errno, "Failed to store layer %s: %m",
                                             l->diff_id);
        }
        blob_path(l->digest, bp);
        memcpy(sub, hex_of(l->digest), 2);
        sub[2] = 0;
        r = mkdir_p_at(broot, sub, 0700);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create the blob directory: %s",
                                     strerror(-r));
        if (renameat(t->fd, "blob", broot, bp) < 0)
                return pod_error_set(reterr, -errno, "Failed to store blob %s: %m", l->digest);

        r = otxn_begin(s, &txn, reterr);
        if (r < 0)
                return r;
        (void)snprintf(size, sizeof(size), "%" PRIu64, res->tar_size);
        r = q_prepare(s, &st, reterr,
                      "INSERT OR IGNORE INTO oci_layers (diff_id, size, import_time) "
                      "VALUES (?, CAST(? AS INTEGER), CAST(? AS INTEGER))",
                      l->diff_id, size, NULL);
        if (r < 0)
                return r;
        (void)sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now_usec());
        r = q_done(s, st, reterr, "record the layer");
        if (r < 0)
                return r;
        st = (sqlite3_finalize(st), NULL);
        (void)snprintf(size, sizeof(size), "%" PRIu64, res->input_size);
        r = q_prepare(s, &st, reterr,
                      "INSERT OR REPLACE INTO oci_blobs (digest, diff_id, size, media_type) "
                      "VALUES (?, ?, CAST(? AS INTEGER), ?)",
                      l->digest, l->diff_id, size, NULL);
        if (r < 0)
                return r;
        if (l->media_type)
                (void)sqlite3_bind_text(st, 4, l->media_type, -1, SQLITE_TRANSIENT);
        else
                (void)sqlite3_bind_null(st, 4);
        r = q_done(s, st, reterr, "record the blob");
        if (r < 0)
                return r;
        r = otxn_commit(&txn, reterr);
        if (r < 0)
                return r;
        /* Kept from gc until this handle commits an image listing it (or ends). */
        r = pin_layer(s, l->diff_id);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to pin layer %s: %s", l->diff_id,
                                     strerror(-r));
        return 0;
}

int pod_store_oci_import_layer_fd(struct pod_store *s, int fd, const struct pod_store_oci_layer *l,
                                  const struct pod_limits *limits, unsigned unpack_flags,
                                  struct pod_error *reterr) {
        _cleanup_(tmp_dir_done) struct tmp_dir t = { .fd = -EBADF };
        _cleanup_(pod_unpack_result_done) struct pod_unpack_result res = {};
        struct pod_unpack_options uo = POD_UNPACK_OPTIONS_INIT;
        _cleanup_close_ int blob = -EBADF, rootfs = -EBADF;
        bool unpack;
        int r;

        if (!l || !pod_oci_digest_valid(l->digest) || !pod_oci_digest_valid(l->diff_id))
                return pod_error_set(reterr, -EINVAL, "Invalid layer digest or diff_id");

        r = blob_row_matches(s, l, reterr);
        if (r < 0)
                return r;
        if (r > 0 && pod_store_oci_have_layer(s, l->diff_id, NULL) > 0)
                return import_known_blob(s, fd, l, reterr);
        /* A new blob of a stored layer (another compression of it) is checked in full but not
         * unpacked again. */
        unpack = pod_store_oci_have_layer(s, l->diff_id, NULL) <= 0;

        r = tmp_dir_make(s, &t);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create a temp dir in the store: %s",
                                     strerror(-r));
        blob = openat(t.fd, "blob", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
        if (blob < 0)
                return pod_error_set(reterr, -errno, "Failed to create a temp blob: %m");
        if (unpack) {
                if (mkdirat(t.fd, "layer", 0755) < 0 || mkdirat(t.fd, "layer/rootfs", 0755) < 0)
                        return pod_error_set(reterr, -errno, "Failed to create a temp layer: %m");
                rootfs = openat(t.fd, "layer/rootfs",
                                O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (rootfs < 0)
                        return pod_error_set(reterr, -errno, "Failed to open the temp layer: %m");
        }

        uo.copy_fd = blob;
        uo.max_input_size = l->size; /* a lying server stops here, not at a limit */
        uo.flags = POD_UNPACK_LAYER | (unpack_flags & POD_UNPACK_ALLOW_DEVICES);
        uo.limits = limits ?: &pod_limits_default;
        r = pod_unpack(fd, rootfs, &uo, &res, reterr);
        if (r < 0) {
                /* Bytes that are not what the manifest promised are the story, not what they
                 * made the decompressor or the tar reader say. */
                char actual[POD_SHA256_STRING_SIZE];

                if (digest_after_failure(t.fd, fd, l, actual) == 0) {
                        char first[sizeof(reterr->msg)];

                        (void)snprintf(first, sizeof(first), "%s", reterr ? reterr->msg : "");
                        if (reterr)
                                *reterr = (struct pod_error){};
                        return pod_error_set(reterr, -EBADMSG,
                                             "Layer blob digest mismatch: expected %s, the data "
                                             "hashes to %s (it also failed to unpack: %s)",
                                             l->digest, actual, first);
                }
                return pod_error_prefix(reterr, r, "Layer %s", l->digest);
        }
        r = check_layer_result(l, res.blob_digest, res.input_size, res.diff_id, reterr);
        if (r < 0)
                return r;
        r = check_compression(l, res.compression, reterr);
        if (r < 0)
                return r;
        if (unpack) {
                r = write_file_atomic_at(t.fd, "layer/rendered", l->diff_id, strlen(l->diff_id),
                                         0444);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write the layer marker: %s",
                                             strerror(-r));
        }
        r = import_commit_layer(s, &t, l, &res, unpack, reterr);
        if (r == -EAGAIN) /* removed by gc between our look and the commit: once more */
                return pod_error_set(reterr, -EAGAIN,
                                     "Layer %s was removed by gc during its import; fetch again",
                                     l->diff_id);
        return r;
}

/* ---- commit ---- */

static int labels_json(const struct pod_kv *l, size_t n, char **ret) {
        _cleanup_json_ struct json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = pod_json_add_string(o, l[i].name, l[i].value);

                if (r < 0)
                        return r;
        }
        return pod_json_to_string(o, false, ret);
}

static int config_id(const char *config, size_t size, char ret[POD_IMAGE_ID_SIZE]) {
        _cleanup_(pod_sha512_freep) struct pod_sha512 *h = NULL;
        int r;

        r = pod_sha512_new(&h);
        if (r >= 0)
                r = pod_sha512_update(h, config, size);
        if (r >= 0)
                r = pod_sha512_final_id(h, ret);
        return r;
}

static int bind_exec(struct pod_store *s, sqlite3_stmt **st, struct pod_error *reterr,
                     const char *what) {
        int r = q_done(s, *st, reterr, what);

        *st = (sqlite3_finalize(*st), NULL);
        return r;
}

static int insert_image_row(struct pod_store *s, const char *id, const struct pod_image_manifest *m,
                            const char *manifest_json, uint64_t size, uint64_t blob_size,
                            struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *labels = NULL;
        uint64_t now = store_now_usec();
        int r;

        r = labels_json(m->labels, m->n_labels, &labels);
        if (r < 0)
                return r;
        r = q_prepare(s, &st, reterr,
                      "INSERT OR IGNORE INTO images (id, name, labels, manifest, size, blob_size, "
                      "import_time, last_used, latest, blob_sha512) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)",
                      id, m->name, labels, NULL);
        if (r < 0)
                return r;
        (void)sqlite3_bind_blob(st, 4, manifest_json, (int)strlen(manifest_json), SQLITE_TRANSIENT);
        (void)sqlite3_bind_int64(st, 5, (sqlite3_int64)size);
        (void)sqlite3_bind_int64(st, 6, (sqlite3_int64)blob_size);
        (void)sqlite3_bind_int64(st, 7, (sqlite3_int64)now);
        (void)sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
        return bind_exec(s, &st, reterr, "record the image");
}

static int layer_sizes(struct pod_store *s, const struct pod_store_oci_image *img,
                       uint64_t *ret_size, uint64_t *ret_blob_size, struct pod_error *reterr) {
        uint64_t size = 0, bsize = 0;
        int r, rc;

        for (size_t i = 0; i < img->n_layers; i++) {
                _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;

                r = q_prepare(s, &st, reterr,
                              "SELECT l.size, b.size FROM oci_layers l, oci_blobs b WHERE "
                              "l.diff_id = ? AND b.digest = ? AND b.diff_id = l.diff_id",
                              img->layers[i].diff_id, img->layers[i].digest, NULL);
                if (r < 0)
                        return r;
                rc = sqlite3_step(st);
                if (rc == SQLITE_DONE)
                        return pod_error_set(reterr, -ENOENT,
                                             "Layer %s (blob %s) is not stored: import it first",
                                             img->layers[i].diff_id, img->layers[i].digest);
                if (rc != SQLITE_ROW)
                        return q_fail(s, rc, reterr, "look up a layer");
                size += (uint64_t)sqlite3_column_int64(st, 0);
                bsize += (uint64_t)sqlite3_column_int64(st, 1);
        }
        *ret_size = size;
        *ret_blob_size = bsize;
        return 0;
}

int pod_store_oci_commit(struct pod_store *s, const struct pod_store_oci_image *img, char **ret_id,
                         struct pod_error *reterr) {
        _cleanup_(pod_oci_config_done) struct pod_oci_config cfg = {};
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_(otxn_rollback) struct otxn txn = {};
        _cleanup_free_ char *mjson = NULL, *id_copy = NULL;
        _cleanup_close_ int lock = -EBADF, lroot = -EBADF;
        char id[POD_IMAGE_ID_SIZE], cdigest[POD_SHA256_STRING_SIZE],
                lockname[POD_IMAGE_ID_SIZE + 8];
        const char *registry = img->registry ?: "", *repository = img->repository ?: "";
        uint64_t size = 0, bsize = 0;
        int r;

        r = pod_oci_config_parse(img->config, img->config_size, &cfg, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r == -ENOMEM ? r : -EBADMSG, "Invalid image");
        if (cfg.n_diff_ids != img->n_layers)
                return pod_error_set(reterr, -EBADMSG,
                                     "The image config lists %zu layers (rootfs.diff_ids), the "
                                     "manifest %zu",
                                     cfg.n_diff_ids, img->n_layers);
        for (size_t i = 0; i < img->n_layers; i++)
                if (!img->layers[i].diff_id || !streq(cfg.diff_ids[i], img->layers[i].diff_id) ||
                    !pod_oci_digest_valid(img->layers[i].digest))
                        return pod_error_set(reterr, -EBADMSG,
                                             "Layer %zu: the config's diff_id %s differs from "
                                             "the layer's %s",
                                             i, cfg.diff_ids[i], strna(img->layers[i].diff_id));
        if (img->manifest_digest && !pod_oci_digest_valid(img->manifest_digest))
                return pod_error_set(reterr, -EINVAL, "Invalid manifest digest '%s'",
                                     img->manifest_digest);

        r = config_id(img->config, img->config_size, id);
        if (r >= 0)
                r = pod_sha256_buffer(img->config, img->config_size, cdigest);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to hash the image config: %s",
                                     strerror(-r));
        r = pod_oci_config_to_appc(&cfg,
                                   &(const struct pod_oci_origin){
                                           .registry = img->registry,
                                           .repository = img->repository,
                                           .tag = img->tag,
                                           .manifest_digest = img->manifest_digest,
                                           .config_digest = cdigest,
                                   },
                                   &m, reterr);
        if (r < 0)
                return r;
        r = pod_image_manifest_to_json(m, &mjson);
        if (r < 0)
                return r;

        (void)snprintf(lockname, sizeof(lockname), "%s.lock", id);
        r = store_lock_at(s->locks_fd, lockname, LOCK_EX, &lock);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to lock image '%s': %s", id, strerror(-r));
        r = open_layer_root(s, &lroot);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to open the layer directory: %s",
                                     strerror(-r));

        r = otxn_begin(s, &txn, reterr);
        if (r < 0)
                return r;
        /* Inside the transaction: gc deletes layer rows in its own, so either it saw this
         * image's rows or this sees the layer gone. */
        r = layer_sizes(s, img, &size, &bsize, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < img->n_layers; i++)
                if (layer_tree_present(lroot, img->layers[i].diff_id) <= 0)
                        return pod_error_set(reterr, -ENOENT, "Layer %s is not stored on disk",
                                             img->layers[i].diff_id);
        r = insert_image_row(s, id, m, mjson, size, bsize, reterr);
        if (r < 0)
                return r;

        r = q_prepare(s, &st, reterr,
                      "INSERT OR IGNORE INTO oci_images (id, config, config_digest) "
                      "VALUES (?, ?, ?)",
                      id, "", cdigest, NULL);
        if (r < 0)
                return r;
        (void)sqlite3_bind_blob(st, 2, img->config, (int)img->config_size, SQLITE_TRANSIENT);
        r = bind_exec(s, &st, reterr, "record the image config");
        if (r < 0)
                return r;
        if (img->manifest) {
                r = q_prepare(s, &st, reterr,
                              /* a commit without a digest keeps what a registry said */
                              "UPDATE oci_images SET manifest = CASE WHEN ?3 IS NOT NULL OR "
                              "manifest IS NULL THEN ?2 ELSE manifest END, manifest_digest = "
                              "COALESCE(?3, manifest_digest) WHERE id = ?1",
                              id, NULL);
                if (r < 0)
                        return r;
                (void)sqlite3_bind_blob(st, 2, img->manifest, (int)img->manifest_size,
                                        SQLITE_TRANSIENT);
                if (img->manifest_digest)
                        (void)sqlite3_bind_text(st, 3, img->manifest_digest, -1, SQLITE_TRANSIENT);
                else
                        (void)sqlite3_bind_null(st, 3);
                r = bind_exec(s, &st, reterr, "record the image manifest");
                if (r < 0)
                        return r;
        }

        r = q_prepare(s, &st, reterr, "DELETE FROM oci_image_layers WHERE id = ?", id, NULL);
        if (r >= 0)
                r = bind_exec(s, &st, reterr, "replace the image's layers");
        if (r < 0)
                return r;
        for (size_t i = 0; i < img->n_layers; i++) {
                r = q_prepare(s, &st, reterr,
                              "INSERT INTO oci_image_layers (id, position, diff_id, blob_digest) "
                              "VALUES (?, ?, ?, ?)",
                              id, "", img->layers[i].diff_id, img->layers[i].digest, NULL);
                if (r < 0)
                        return r;
                (void)sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
                r = bind_exec(s, &st, reterr, "record the image's layers");
                if (r < 0)
                        return r;
        }
        if (img->tag && img->repository) {
                /* A tag names one image: it moves, as docker's do. */
                r = q_prepare(s, &st, reterr,
                              "INSERT OR REPLACE INTO oci_tags (registry, repository, tag, id) "
                              "VALUES (?, ?, ?, ?)",
                              registry, repository, img->tag, id, NULL);
                if (r >= 0)
                        r = bind_exec(s, &st, reterr, "record the tag");
                if (r < 0)
                        return r;
        }
        if (img->manifest_digest) {
                r = q_prepare(s, &st, reterr,
                              "INSERT OR REPLACE INTO oci_digests (registry, repository, digest, "
                              "id) VALUES (?, ?, ?, ?)",
                              registry, repository, img->manifest_digest, id, NULL);
                if (r >= 0)
                        r = bind_exec(s, &st, reterr, "record the registry digest");
                if (r < 0)
                        return r;
        }
        r = store_provenance_put(s, id, img->provenance, reterr);
        if (r < 0)
                return r;
        r = otxn_commit(&txn, reterr);
        if (r < 0)
                return r;
        r = pod_store_pin(s, id, reterr);
        if (r < 0)
                return r;
        id_copy = strdup(id);
        if (!id_copy)
                return -ENOMEM;
        *ret_id = TAKE_PTR(id_copy);
        return 0;
}

/* ---- lookups ---- */

static int one_id(struct pod_store *s, sqlite3_stmt *st, char **ret_id, struct pod_error *reterr) {
        int rc = sqlite3_step(st);
        char *id;

        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return q_fail(s, rc, reterr, "look up an image");
        id = strdup((const char *)sqlite3_column_text(st, 0));
        if (!id)
                return -ENOMEM;
        *ret_id = id;
        return 0;
}

int pod_store_oci_resolve(struct pod_store *s, const char *registry, const char *repository,
                          const char *tag, const char *digest, char **ret_id,
                          struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        if (!repository || (!tag == !digest))
                return pod_error_set(reterr, -EINVAL,
                                     "Resolving needs a repository and one of tag and digest");
        if (tag)
                r = q_prepare(s, &st, reterr,
                              "SELECT t.id FROM oci_tags t JOIN images i ON i.id = t.id WHERE "
                              "t.registry = ? AND t.repository = ? AND t.tag = ?",
                              strempty(registry), repository, tag, NULL);
        else
                r = q_prepare(s, &st, reterr,
                              "SELECT d.id FROM oci_digests d JOIN images i ON i.id = d.id WHERE "
                              "d.registry = ? AND d.repository = ? AND d.digest = ?",
                              strempty(registry), repository, digest, NULL);
        if (r < 0)
                return r;
        r = one_id(s, st, ret_id, reterr);
        if (r == -ENOENT)
                return pod_error_set(reterr, -ENOENT, "No image %s%s%s%s%s in the store",
                                     strempty(registry), registry ? "/" : "", repository,
                                     tag ? ":" : "@", tag ?: digest);
        return r;
}

int pod_store_oci_is_oci(struct pod_store *s, const char *id, struct pod_error *reterr) {
        int r;

        r = row_exists(s, "SELECT 1 FROM oci_images WHERE id = ?", id, reterr);
        if (r != 0)
                return r;
        r = row_exists(s, "SELECT 1 FROM images WHERE id = ?", id, reterr);
        if (r < 0)
                return r;
        return r > 0 ? 0 : pod_error_set(reterr, -ENOENT, "Image '%s' is not in the store", id);
}

/* The image's layers, bottom first: diff_ids and blob digests. */
static int image_layers(struct pod_store *s, const char *id, char ***ret_diff_ids,
                        char ***ret_blobs, struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_strv_free_ char **d = NULL, **b = NULL;
        size_t n = 0;
        int r, rc;

        r = q_prepare(s, &st, reterr,
                      "SELECT diff_id, blob_digest FROM oci_image_layers WHERE id = ? "
                      "ORDER BY position",
                      id, NULL);
        if (r < 0)
                return r;
        d = calloc(1, sizeof(char *));
        b = calloc(1, sizeof(char *));
        if (!d || !b)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                char **t;

                t = reallocarray(d, n + 2, sizeof(char *));
                if (!t)
                        return -ENOMEM;
                d = t;
                d[n] = strdup((const char *)sqlite3_column_text(st, 0));
                d[n + 1] = NULL;
                t = reallocarray(b, n + 2, sizeof(char *));
                if (!t)
                        return -ENOMEM;
                b = t;
                b[n] = strdup((const char *)sqlite3_column_text(st, 1));
                b[n + 1] = NULL;
                n++;
                if (!d[n - 1] || !b[n - 1])
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE)
                return q_fail(s, rc, reterr, "list the image's layers");
        *ret_diff_ids = TAKE_PTR(d);
        if (ret_blobs)
                *ret_blobs = TAKE_PTR(b);
        return (int)n;
}

int pod_store_oci_lowers(struct pod_store *s, const char *id, char ***ret_paths,
                         struct pod_error *reterr) {
        _cleanup_strv_free_ char **ids = NULL, **paths = NULL;
        _cleanup_close_ int lroot = -EBADF;
        int n, r;

        r = pod_store_oci_is_oci(s, id, reterr);
        if (r == 0)
                return pod_error_set(reterr, -EMEDIUMTYPE, "Image '%s' is not an OCI image", id);
        if (r < 0)
                return r;
        n = image_layers(s, id, &ids, NULL, reterr);
        if (n < 0)
                return n;
        r = open_layer_root(s, &lroot);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to open the layer directory: %s",
                                     strerror(-r));
        paths = calloc((size_t)n + 1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                char name[80];

                if (layer_tree_present(lroot, ids[i]) <= 0)
                        return pod_error_set(reterr, -ENOENT,
                                             "Layer %s of image '%s' is missing from the store "
                                             "(pod image verify)",
                                             ids[i], id);
                layer_name(ids[i], name);
                /* top first: overlayfs's lowerdir order */
                if (asprintf(&paths[n - 1 - i], "%s/cas/layer/%s/rootfs", s->dir, name) < 0) {
                        paths[n - 1 - i] = NULL;
                        return -ENOMEM;
                }
        }
        (void)pod_store_touch(s, id, NULL);
        *ret_paths = TAKE_PTR(paths);
        return 0;
}

int pod_store_oci_names(struct pod_store *s, const char *id, char ***ret_names,
                        char **ret_manifest_digest, struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *digest = NULL;
        size_t n = 0;
        int r, rc;

        r = q_prepare(s, &st, reterr,
                      "SELECT registry, repository, tag FROM oci_tags WHERE id = ? "
                      "ORDER BY registry, repository, tag",
                      id, NULL);
        if (r < 0)
                return r;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *reg = (const char *)sqlite3_column_text(st, 0);
                char **t = reallocarray(l, n + 2, sizeof(char *));

                if (!t)
                        return -ENOMEM;
                l = t;
                l[n + 1] = NULL;
                if (asprintf(&l[n], "docker://%s%s%s:%s", reg, *reg ? "/" : "",
                             (const char *)sqlite3_column_text(st, 1),
                             (const char *)sqlite3_column_text(st, 2)) < 0) {
                        l[n] = NULL;
                        return -ENOMEM;
                }
                n++;
        }
        if (rc != SQLITE_DONE)
                return q_fail(s, rc, reterr, "list tags");
        st = (sqlite3_finalize(st), NULL);
        r = q_prepare(s, &st, reterr, "SELECT manifest_digest FROM oci_images WHERE id = ?", id,
                      NULL);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
                digest = strdup((const char *)sqlite3_column_text(st, 0));
                if (!digest)
                        return -ENOMEM;
        } else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return q_fail(s, rc, reterr, "look up the registry digest");
        *ret_names = TAKE_PTR(l);
        if (ret_manifest_digest)
                *ret_manifest_digest = TAKE_PTR(digest);
        return 0;
}

/* ---- what is stored, for export ---- */

int pod_store_oci_open_blob(struct pod_store *s, const char *digest, int *ret_fd,
                            struct pod_error *reterr) {
        _cleanup_close_ int broot = -EBADF;
        char bp[80];
        int r, fd;

        if (!pod_oci_digest_valid(digest))
                return pod_error_set(reterr, -EINVAL, "Invalid digest '%s'", digest);
        r = open_blob_root(s, &broot);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to open the blob directory: %s",
                                     strerror(-r));
        blob_path(digest, bp);
        fd = openat(broot, bp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open blob %s: %m", digest);
        *ret_fd = fd;
        return 0;
}

/* ---- hooks for store.c: remove, verify, extract, gc ---- */

int store_oci_forget(struct pod_store *s, const char *id, struct pod_error *reterr) {
        static const char *const sql[] = {
                "DELETE FROM oci_images WHERE id = ?",
                "DELETE FROM oci_image_layers WHERE id = ?",
                "DELETE FROM oci_tags WHERE id = ?",
                "DELETE FROM oci_digests WHERE id = ?",
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(sql); i++) {
                _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;

                r = q_prepare(s, &st, reterr, sql[i], id, NULL);
                if (r >= 0)
                        r = q_done(s, st, reterr, "remove the image's OCI rows");
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_oci_verify(struct pod_store *s, const char *id, struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_strv_free_ char **ids = NULL, **blobs = NULL;
        _cleanup_close_ int lroot = -EBADF, broot = -EBADF;
        char cid[POD_IMAGE_ID_SIZE];
        int n, r, rc;

        r = q_prepare(s, &st, reterr, "SELECT config FROM oci_images WHERE id = ?", id, NULL);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return rc == SQLITE_DONE ? pod_error_set(reterr, -ENOENT,
                                                         "Image '%s' is not in the store", id)
                                         : q_fail(s, rc, reterr, "read the config");
        r = config_id(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), cid);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to hash the config: %s", strerror(-r));
        if (!streq(cid, id))
                return pod_error_set(reterr, -EBADMSG,
                                     "Image '%s' is damaged: its config hashes to '%s'", id, cid);
        st = (sqlite3_finalize(st), NULL);

        n = image_layers(s, id, &ids, &blobs, reterr);
        if (n < 0)
                return n;
        r = open_layer_root(s, &lroot);
        if (r >= 0)
                r = open_blob_root(s, &broot);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to open the layer store: %s", strerror(-r));
        for (int i = 0; i < n; i++) {
                _cleanup_close_ int fd = -EBADF;
                char bp[80], got[POD_SHA256_STRING_SIZE];
                size_t size = 0;

                if (layer_tree_present(lroot, ids[i]) <= 0)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Image '%s' is damaged: layer %s is missing", id,
                                             ids[i]);
                blob_path(blobs[i], bp);
                fd = openat(broot, bp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                if (fd < 0)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Image '%s' is damaged: blob %s is missing: %m", id,
                                             blobs[i]);
                r = pod_sha256_fd(fd, got, &size);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to read blob %s: %s", blobs[i],
                                             strerror(-r));
                if (!streq(got, blobs[i]))
                        return pod_error_set(reterr, -EBADMSG,
                                             "Image '%s' is damaged: blob %s hashes to %s", id,
                                             blobs[i], got);
        }
        return 0;
}

int store_oci_extract(struct pod_store *s, const char *id, const char *dir, unsigned flags,
                      struct pod_error *reterr) {
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_free_ char *tmp = NULL, *copy = NULL, *m = NULL;
        _cleanup_close_ int lroot = -EBADF, tfd = -EBADF, rootfs = -EBADF;
        _cleanup_free_ int *fds = NULL;
        size_t msize = 0;
        bool exists;
        struct stat st;
        int n, r;

        exists = lstat(dir, &st) >= 0;
        if (exists && !(flags & POD_STORE_EXTRACT_OVERWRITE))
                return pod_error_set(reterr, -EEXIST, "'%s' exists (use --overwrite)", dir);
        if (exists && !S_ISDIR(st.st_mode))
                return pod_error_set(reterr, -ENOTDIR, "'%s' exists and is not a directory", dir);
        n = image_layers(s, id, &ids, NULL, reterr);
        if (n < 0)
                return n;
        r = pod_store_read_manifest(s, id, &m, &msize, reterr);
        if (r < 0)
                return r;
        r = open_layer_root(s, &lroot);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to open the layer directory: %s",
                                     strerror(-r));
        fds = calloc((size_t)n + 1, sizeof(int));
        if (!fds)
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                fds[i] = -EBADF;
        for (int i = 0; i < n && r >= 0; i++) {
                char name[96];

                layer_name(ids[i], name);
                strcat(name, "/rootfs");
                fds[i] = openat(lroot, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fds[i] < 0)
                        r = pod_error_set(reterr, -errno, "Layer %s is missing: %m", ids[i]);
        }

        copy = strdup(dir);
        if (r >= 0 && !copy)
                r = -ENOMEM;
        while (r >= 0 && strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
                copy[strlen(copy) - 1] = 0;
        if (r >= 0 && asprintf(&tmp, "%s.pod-tmp-XXXXXX", copy) < 0) {
                tmp = NULL;
                r = -ENOMEM;
        }
        if (r >= 0 && !mkdtemp(tmp)) {
                r = pod_error_set(reterr, -errno, "Failed to create a directory next to '%s': %m",
                                  dir);
                free(tmp);
                tmp = NULL;
        }
        if (r >= 0) {
                tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (tfd < 0 || fchmod(tfd, 0755) < 0)
                        r = pod_error_set(reterr, -errno, "Failed to open '%s': %m", tmp);
        }
        if (r >= 0 && !(flags & POD_STORE_EXTRACT_ROOTFS_ONLY)) {
                r = write_file_atomic_at(tfd, "manifest", m, msize, 0644);
                if (r >= 0 && mkdirat(tfd, "rootfs", 0755) < 0)
                        r = -errno;
                if (r >= 0) {
                        rootfs = openat(tfd, "rootfs",
                                        O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (rootfs < 0)
                                r = -errno;
                }
                if (r < 0)
                        r = pod_error_set(reterr, r, "Failed to write to '%s': %s", tmp,
                                          strerror(-r));
        }
        if (r >= 0)
                r = pod_layer_merge(fds, (size_t)n, rootfs >= 0 ? rootfs : tfd,
                                    flags & POD_STORE_EXTRACT_KEEP_PRIVILEGES
                                            ? POD_LAYER_MERGE_KEEP_PRIVILEGES
                                            : 0,
                                    reterr);
        if (r >= 0 && exists) {
                if (renameat2(AT_FDCWD, tmp, AT_FDCWD, copy, RENAME_EXCHANGE) < 0)
                        r = pod_error_set(reterr, -errno, "Failed to replace '%s': %m", dir);
        } else if (r >= 0 && rename(tmp, copy) < 0)
                r = pod_error_set(reterr, -errno, "Failed to move the extraction to '%s': %m", dir);
        if (tmp)
                (void)rm_rf_at(AT_FDCWD, tmp);
        for (int i = 0; i < n; i++)
                safe_close(fds[i]);
        if (r < 0)
                return r;
        (void)pod_store_touch(s, id, NULL);
        return 0;
}

static int list_names(int dir_fd, const char *path, char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;
        size_t n = 0;
        int fd;

        fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                char **t;

                if (de->d_name[0] == '.')
                        continue;
                t = reallocarray(l, n + 2, sizeof(char *));
                if (!t)
                        return -ENOMEM;
                l = t;
                l[n] = strdup(de->d_name);
                l[n + 1] = NULL;
                if (!l[n++])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* "sha256:<hex>" from a 64-hex name, or false. */
static bool digest_from_hex(const char *hex, char ret[POD_SHA256_STRING_SIZE]) {
        (void)snprintf(ret, POD_SHA256_STRING_SIZE, "sha256:%s", hex);
        return strlen(hex) == 64 && pod_oci_digest_valid(ret);
}

/* Removes layer diff_id unless an image lists it, an importer pins it or it is locked. */
static int gc_layer(struct pod_store *s, int lroot, const char *diff_id,
                    void (*removed)(const char *, const char *, void *), void *userdata,
                    struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_(otxn_rollback) struct otxn txn = {};
        _cleanup_close_ int lock = -EBADF, use = -EBADF;
        char name[80], trash[96];
        uint64_t rnd = 0;
        int r;

        if (lock_layer(s, diff_id, "lock", LOCK_EX | LOCK_NB, &lock) < 0 ||
            lock_layer(s, diff_id, "use", LOCK_EX | LOCK_NB, &use) < 0)
                return 0; /* being imported or pinned */
        r = otxn_begin(s, &txn, reterr);
        if (r < 0)
                return r;
        r = row_exists(s, "SELECT 1 FROM oci_image_layers WHERE diff_id = ?", diff_id, reterr);
        if (r != 0)
                return r < 0 ? r : 0;
        r = q_prepare(s, &st, reterr, "DELETE FROM oci_layers WHERE diff_id = ?", diff_id, NULL);
        if (r >= 0)
                r = bind_exec(s, &st, reterr, "remove a layer");
        if (r >= 0)
                r = otxn_commit(&txn, reterr);
        if (r < 0)
                return r;
        /* Renamed aside first: a half-removed tree is never under its name. */
        layer_name(diff_id, name);
        (void)getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
        (void)snprintf(trash, sizeof(trash), "rm-layer-%d-%016" PRIx64, (int)getpid(), rnd);
        if (renameat(lroot, name, s->tmp_fd, trash) >= 0)
                (void)rm_rf_at(s->tmp_fd, trash);
        else if (errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to remove layer %s: %m", diff_id);
        if (removed)
                removed("layer", diff_id, userdata);
        return 0;
}

static int gc_blob(struct pod_store *s, int broot, const char *sub, const char *hex,
                   void (*removed)(const char *, const char *, void *), void *userdata,
                   struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_(otxn_rollback) struct otxn txn = {};
        _cleanup_close_ int lock = -EBADF, use = -EBADF;
        _cleanup_free_ char *diff_id = NULL;
        char digest[POD_SHA256_STRING_SIZE], path[80];
        struct stat fst;
        int r, rc;

        if (!digest_from_hex(hex, digest))
                return 0;
        r = q_prepare(s, &st, reterr, "SELECT diff_id FROM oci_blobs WHERE digest = ?", digest,
                      NULL);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                diff_id = strdup((const char *)sqlite3_column_text(st, 0));
                if (!diff_id)
                        return -ENOMEM;
        } else if (rc != SQLITE_DONE)
                return q_fail(s, rc, reterr, "look up a blob");
        st = (sqlite3_finalize(st), NULL);
        /* A blob of a layer being imported or pinned is the importer's. */
        if (diff_id && (lock_layer(s, diff_id, "lock", LOCK_EX | LOCK_NB, &lock) < 0 ||
                        lock_layer(s, diff_id, "use", LOCK_EX | LOCK_NB, &use) < 0))
                return 0;
        /* Without a row it may be an importer's between its rename and its commit (whose
         * layer gc cannot name): only one left alone for a while is an orphan.  The rename
         * into place set its ctime. */
        (void)snprintf(path, sizeof(path), "%s/%s", sub, hex);
        if (!diff_id && (fstatat(broot, path, &fst, AT_SYMLINK_NOFOLLOW) < 0 ||
                         (uint64_t)fst.st_ctime * 1000000u + ORPHAN_AGE_USEC > store_now_usec()))
                return 0;
        r = otxn_begin(s, &txn, reterr);
        if (r < 0)
                return r;
        r = row_exists(s, "SELECT 1 FROM oci_image_layers WHERE blob_digest = ?", digest, reterr);
        if (r != 0)
                return r < 0 ? r : 0;
        r = q_prepare(s, &st, reterr, "DELETE FROM oci_blobs WHERE digest = ?", digest, NULL);
        if (r >= 0)
                r = bind_exec(s, &st, reterr, "remove a blob");
        if (r >= 0)
                r = otxn_commit(&txn, reterr);
        if (r < 0)
                return r;
        if (unlinkat(broot, path, 0) < 0 && errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to remove blob %s: %m", digest);
        if (removed)
                removed("blob", digest, userdata);
        return 0;
}

int store_oci_gc(struct pod_store *s, void (*removed)(const char *, const char *, void *),
                 void *userdata, struct pod_error *reterr) {
        _cleanup_strv_free_ char **layers = NULL, **subs = NULL, **locks = NULL;
        _cleanup_close_ int lroot = -EBADF, broot = -EBADF;
        int r;

        r = open_layer_root(s, &lroot);
        if (r >= 0)
                r = open_blob_root(s, &broot);
        if (r >= 0)
                r = list_names(lroot, ".", &layers);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to list layers: %s", strerror(-r));
        STRV_FOREACH (l, layers) {
                char d[POD_SHA256_STRING_SIZE];

                if (!string_has_prefix(*l, "sha256-") || !digest_from_hex(*l + 7, d))
                        continue;
                r = gc_layer(s, lroot, d, removed, userdata, reterr);
                if (r < 0)
                        return r;
        }
        r = list_names(broot, ".", &subs);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to list blobs: %s", strerror(-r));
        STRV_FOREACH (sub, subs) {
                _cleanup_strv_free_ char **blobs = NULL;

                if (list_names(broot, *sub, &blobs) < 0)
                        continue;
                STRV_FOREACH (b, blobs) {
                        r = gc_blob(s, broot, *sub, *b, removed, userdata, reterr);
                        if (r < 0)
                                return r;
                }
                (void)unlinkat(broot, *sub, AT_REMOVEDIR); /* only if empty */
        }
        /* Lock files of layers no longer stored. */
        r = list_names(s->locks_fd, ".", &locks);
        if (r < 0)
                return 0;
        STRV_FOREACH (name, locks) {
                _cleanup_close_ int fd = -EBADF;
                char d[POD_SHA256_STRING_SIZE], hex[65];

                if (!string_has_prefix(*name, "layer-") || strlen(*name) < 6 + 64)
                        continue;
                memcpy(hex, *name + 6, 64);
                hex[64] = 0;
                if (!digest_from_hex(hex, d) ||
                    store_lock_at(s->locks_fd, *name, LOCK_EX | LOCK_NB, &fd) < 0)
                        continue;
                if (row_exists(s, "SELECT 1 FROM oci_layers WHERE diff_id = ?", d, NULL) == 0)
                        (void)unlinkat(s->locks_fd, *name, 0);
        }
        return 0;
}
