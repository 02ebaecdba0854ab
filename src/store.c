/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "fd-util.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"
#include "podlimits.h"
#include "provenance.h"
#include "sha512.h"
#include "statedir.h"
#include "store-internal.h"
#include "store-oci.h"
#include "store.h"
#include "unpack.h"

#define BUSY_TIMEOUT_MS 60000
/* The WAL's size at which a commit checkpoints it (store_init_db()). */
#define WAL_CHECKPOINT_PAGES "32"
#define SCHEMA_VERSION       2

static const char schema[] = "CREATE TABLE IF NOT EXISTS images ("
                             " id TEXT PRIMARY KEY NOT NULL,"
                             " name TEXT NOT NULL,"
                             " labels TEXT NOT NULL," /* JSON object */
                             " manifest BLOB NOT NULL,"
                             " size INTEGER NOT NULL,"
                             " blob_size INTEGER NOT NULL,"
                             " import_time INTEGER NOT NULL," /* usec */
                             " last_used INTEGER NOT NULL,"
                             " latest INTEGER NOT NULL DEFAULT 0,"
                             " blob_sha512 TEXT);" /* of the stored bytes; NULL before v2 */
                             "CREATE INDEX IF NOT EXISTS images_name ON images(name);"
                             "CREATE TABLE IF NOT EXISTS remotes ("
                             " aci_url TEXT PRIMARY KEY NOT NULL,"
                             " sig_url TEXT,"
                             " etag TEXT,"
                             " image_id TEXT NOT NULL,"
                             " max_age INTEGER NOT NULL DEFAULT 0,"
                             " download_time INTEGER NOT NULL);"
                             "PRAGMA user_version = 2;";

uint64_t store_now_usec(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize)
DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)

static int sql_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        default:
                return -EIO;
        }
}

/* One readable line: what failed, SQLite's words, and the kernel's cause when there is one
 * (a full disk is "database or disk is full" to SQLite: ENOSPC, EDQUOT, EIO, EROFS say more). */
static int sql_fail(struct pod_store *s, int rc, struct pod_error *reterr, const char *what) {
        int sys = sqlite3_system_errno(s->db), r = sql_errno(rc);

        if ((rc & 0xff) == SQLITE_FULL && sys <= 0)
                sys = ENOSPC;
        if (sys > 0 && ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR ||
                        (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY)) {
                r = -sys;
                return pod_error_set(reterr, r,
                                     "Store index '%s/cas/db/index.sqlite': failed to %s: %s (%s)",
                                     s->dir, what, strerror(sys), sqlite3_errmsg(s->db));
        }
        return pod_error_set(reterr, r, "Store index '%s/cas/db/index.sqlite': failed to %s: %s",
                             s->dir, what, sqlite3_errmsg(s->db));
}

static int sql_exec(struct pod_store *s, const char *sql, struct pod_error *reterr) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        char what[48];
        size_t n;

        if (rc == SQLITE_OK)
                return 0;
        /* The statement's start, on one line: a whole schema does not fit a message. */
        n = strcspn(sql, "(\n");
        if (n >= sizeof(what) - 4)
                n = sizeof(what) - 4;
        (void)snprintf(what, sizeof(what), "%.*s%s", (int)n, sql, sql[n] ? "..." : "");
        while (n > 0 && what[n - 1] == ' ')
                n--;
        return sql_fail(s, rc, reterr, what);
}

static int sql_prepare(struct pod_store *s, const char *sql, sqlite3_stmt **ret,
                       struct pod_error *reterr) {
        int rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);

        if (rc != SQLITE_OK)
                return sql_fail(s, rc, reterr, "prepare a query");
        return 0;
}

/* A transaction that rolls back unless committed. */
struct txn {
        struct pod_store *s;
        bool open;
};
static void txn_rollback(struct txn *t) {
        if (t->open)
                (void)sqlite3_exec(t->s->db, "ROLLBACK", NULL, NULL, NULL);
        t->open = false;
}
static int txn_begin(struct pod_store *s, struct txn *t, struct pod_error *reterr) {
        int r;

        /* IMMEDIATE takes the write lock up front, so the busy timeout applies here and not
         * as a deadlock-prone upgrade later. */
        r = sql_exec(s, "BEGIN IMMEDIATE", reterr);
        if (r < 0)
                return r;
        *t = (struct txn){ .s = s, .open = true };
        return 0;
}
static int txn_commit(struct txn *t, struct pod_error *reterr) {
        int r = sql_exec(t->s, "COMMIT", reterr);

        if (r < 0)
                return r;
        t->open = false;
        return 0;
}

/* Takes an flock on dir_fd/name, creating the file; re-checks after locking that the path
 * still names the locked inode (a remover may have unlinked it meanwhile). */
int store_lock_at(int dir_fd, const char *name, int op, int *ret_fd) {
        for (;;) {
                _cleanup_close_ int fd = -EBADF;
                struct stat a, b;

                fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                            0600);
                if (fd < 0)
                        return -errno;
                if (flock(fd, op) < 0)
                        return -errno;
                if (fstat(fd, &a) < 0)
                        return -errno;
                if (fstatat(dir_fd, name, &b, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                        continue;
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
}

static int lock_image(struct pod_store *s, const char *id, int op, int *ret_fd,
                      struct pod_error *reterr) {
        char name[POD_IMAGE_ID_SIZE + 8];
        int r;

        (void)snprintf(name, sizeof(name), "%s.lock", id);
        r = store_lock_at(s->locks_fd, name, op, ret_fd);
        if (r < 0 && r != -EWOULDBLOCK)
                return pod_error_set(reterr, r, "Failed to lock image '%s': %s", id, strerror(-r));
        return r;
}

/* blob path relative to cas/blob/sha512: "<2 hex>/<id>" */
static void blob_name(const char *id, char ret[POD_IMAGE_ID_SIZE + 4]) {
        const char *hex = id + strlen(POD_IMAGE_ID_PREFIX);

        (void)snprintf(ret, POD_IMAGE_ID_SIZE + 4, "%c%c/%s", hex[0], hex[1], id);
}

static int open_dir_at(int dir_fd, const char *path, mode_t mode, int *ret_fd) {
        int r, fd;

        /* Almost always there already: one openat() instead of a mkdirat() and an openat()
         * per component. */
        fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
                *ret_fd = fd;
                return 0;
        }
        if (errno != ENOENT)
                return -errno;
        r = mkdir_p_at(dir_fd, path, mode);
        if (r < 0)
                return r;
        fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* Removes temp dirs whose importer is gone (its flock released). */
static int clean_tmp(struct pod_store *s, void (*removed)(const char *, const char *, void *),
                     void *userdata) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        fd = openat(s->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int e = -EBADF;

                if (de->d_name[0] == '.')
                        continue;
                e = openat(s->tmp_fd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (e < 0)
                        continue;
                if (flock(e, LOCK_EX | LOCK_NB) < 0)
                        continue; /* in use */
                if (rm_rf_at(s->tmp_fd, de->d_name) >= 0 && removed)
                        removed("tmp", de->d_name, userdata);
        }
        return 0;
}

static int store_init_schemas(struct pod_store *s, struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        if (!store_schema_present(s, schema)) {
                r = sql_exec(s, schema, reterr);
                if (r < 0)
                        return r;
        }
        r = store_provenance_init(s, reterr); /* store-provenance.c */
        if (r < 0)
                return r;
        r = store_oci_init(s, reterr); /* store-oci.c */
        if (r < 0)
                return r;
        /* v1 stores: the blob's own hash is new in v2 (their images keep NULL: verify then
         * checks that decompression consumes the whole blob).  The column's metadata comes
         * from the schema SQLite has loaded already; no statement to parse. */
        if (sqlite3_table_column_metadata(s->db, "main", "images", "blob_sha512", NULL, NULL, NULL,
                                          NULL, NULL) == SQLITE_OK)
                return 0;
        if (sqlite3_prepare_v2(s->db, "SELECT blob_sha512 FROM images LIMIT 0", -1, &st, NULL) !=
            SQLITE_OK)
                return sql_exec(s, "ALTER TABLE images ADD COLUMN blob_sha512 TEXT", reterr);
        return 0;
}

bool store_schema_present(const struct pod_store *s, const char *sql) {
        static const char marker[] = "IF NOT EXISTS ";
        const char *p = sql;

        if (!s->schema_names)
                return false;
        while ((p = strstr(p, marker))) {
                size_t n;
                bool found = false;

                p += sizeof(marker) - 1;
                n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
                if (n == 0)
                        return false;
                STRV_FOREACH (name, s->schema_names)
                        if (strlen(*name) == n && memcmp(*name, p, n) == 0) {
                                found = true;
                                break;
                        }
                if (!found)
                        return false;
                p += n;
        }
        return true;
}

/* s->schema_names from sqlite_master: one query instead of parsing every CREATE statement of
 * every schema at every open (~0.3 M instructions a `pod run`).  A failure leaves it NULL:
 * the schemas then run as before. */
static void load_schema_names(struct pod_store *s) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;

        if (sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_master", -1, &st, NULL) != SQLITE_OK)
                return;
        for (;;) {
                const unsigned char *name;
                char **l;
                int rc = sqlite3_step(st);

                if (rc == SQLITE_DONE)
                        break;
                if (rc != SQLITE_ROW)
                        return;
                name = sqlite3_column_text(st, 0);
                if (!name)
                        continue;
                l = realloc(names, (n + 2) * sizeof(char *));
                if (!l)
                        return;
                names = l;
                names[n] = strdup((const char *)name);
                if (!names[n])
                        return;
                names[++n] = NULL;
        }
        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return;
        }
        s->schema_names = TAKE_PTR(names);
}

static int store_init_db(struct pod_store *s, struct pod_error *reterr) {
        _cleanup_close_ int lock = -EBADF;
        _cleanup_free_ char *path = NULL;
        int rc, r;

        path = path_join(s->dir, "cas/db/index.sqlite");
        if (!path)
                return -ENOMEM;
        rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
        if (rc != SQLITE_OK)
                return pod_error_set(reterr, sql_errno(rc),
                                     "Failed to open the store index '%s': %s", path,
                                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        (void)sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
        /* Every pod command is a short-lived process: the last connection's checkpoint at
         * close (and the WAL's reset by the next one) meant four fdatasync()s per `pod run`.
         * The WAL stays; SQLite checkpoints it when it reaches WAL_CHECKPOINT_PAGES, on a
         * commit (below).  synchronous=NORMAL below: a commit survives a crash of the
         * process, and the index stays consistent after a power loss. */
        (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);

        /* Switching to WAL and creating tables race between first users: serialise. */
        r = store_lock_at(s->locks_fd, "db.lock", LOCK_EX, &lock);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to lock the store index: %s", strerror(-r));
        r = sql_exec(s, "PRAGMA journal_mode=WAL", reterr);
        if (r < 0)
                return r;
        r = sql_exec(s, "PRAGMA synchronous=NORMAL", reterr);
        if (r < 0)
                return r;
        /* Each process is the first connection to the index, and the first connection
         * rebuilds the WAL's index from the whole WAL ("recovery"): with SQLite's default
         * of 1000 pages before a checkpoint, every `pod run` read and hashed up to 4 MiB of
         * WAL (5.5 M of its 9 M instructions with 3 MiB there; a `pod run` adds ~3 pages).
         * A checkpoint every WAL_CHECKPOINT_PAGES keeps that small, at two fdatasync()s
         * every ten runs or so. */
        r = sql_exec(s, "PRAGMA wal_autocheckpoint=" WAL_CHECKPOINT_PAGES, reterr);
        if (r < 0)
                return r;
        /* Each schema below runs only when one of the objects it creates is missing (each
         * CREATE commits on its own, so a crash between two leaves the later ones missing:
         * they run then).  Under db.lock: nobody creates anything meanwhile. */
        load_schema_names(s);
        r = store_init_schemas(s, reterr);
        strv_free(s->schema_names);
        s->schema_names = NULL;
        return r;
}

int pod_store_open(const char *dir, struct pod_store **ret, struct pod_error *reterr) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_close_ int dfd = -EBADF;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->cas_fd = s->blob_fd = s->tree_fd = s->tmp_fd = s->locks_fd = -EBADF;
        s->dir = strdup(dir);
        if (!s->dir)
                return -ENOMEM;

        /* dir and cas/ are private (statedir.h): the trees hold the images' set-uid and
         * file-capability binaries.  Below cas/ everything is 0700 from birth. */
        r = pod_statedir_open(AT_FDCWD, dir, true, &dfd, reterr);
        if (r >= 0)
                r = pod_statedir_open(dfd, "cas", true, &s->cas_fd, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Failed to open the image store in '%s'", dir);
        r = open_dir_at(s->cas_fd, "blob/sha512", 0700, &s->blob_fd);
        if (r >= 0)
                r = open_dir_at(s->cas_fd, "tree", 0700, &s->tree_fd);
        if (r >= 0)
                r = open_dir_at(s->cas_fd, "tmp", 0700, &s->tmp_fd);
        if (r >= 0)
                r = open_dir_at(s->cas_fd, "locks", 0700, &s->locks_fd);
        if (r >= 0 && mkdirat(s->cas_fd, "db", 0700) < 0 && errno != EEXIST)
                r = -errno;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to open the image store in '%s': %s", dir,
                                     strerror(-r));

        r = store_init_db(s, reterr);
        if (r < 0)
                return r;
        (void)clean_tmp(s, NULL, NULL);

        *ret = TAKE_PTR(s);
        return 0;
}

struct pod_store *pod_store_free(struct pod_store *s) {
        if (!s)
                return NULL;
        pod_store_unpin_all(s);
        if (s->db)
                (void)sqlite3_close_v2(s->db);
        (void)safe_close(s->cas_fd);
        (void)safe_close(s->blob_fd);
        (void)safe_close(s->tree_fd);
        (void)safe_close(s->tmp_fd);
        (void)safe_close(s->locks_fd);
        free(s->dir);
        free(s);
        return NULL;
}

struct pod_store_image *pod_store_image_free(struct pod_store_image *i) {
        if (!i)
                return NULL;
        free(i->id);
        free(i->name);
        (void)pod_kv_free(i->labels, i->n_labels);
        pod_provenance_done(i->provenance);
        free(i->provenance);
        strv_free(i->docker_names);
        free(i->registry_digest);
        free(i);
        return NULL;
}

void pod_store_image_list_free(struct pod_store_image **l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                (void)pod_store_image_free(l[i]);
        free(l);
}

static int labels_to_json(const struct pod_kv *labels, size_t n, char **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        const char *t;

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (json_object_object_add(o, labels[i].name,
                                           json_object_new_string(labels[i].value)) < 0)
                        return -ENOMEM;
        t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        *ret = t ? strdup(t) : NULL;
        return *ret ? 0 : -ENOMEM;
}

static int labels_from_json(const char *text, struct pod_kv **ret, size_t *ret_n) {
        _cleanup_(json_object_putp) json_object *o = json_tokener_parse(text);
        struct pod_kv *l = NULL;
        size_t n = 0;
        int r;

        if (!o || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        json_object_object_foreach (o, k, v) {
                r = pod_kv_add(&l, &n, k, json_object_get_string(v));
                if (r < 0) {
                        (void)pod_kv_free(l, n);
                        return r;
                }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static const char image_columns[] =
        "id, name, labels, size, blob_size, import_time, last_used, latest";

static int image_from_row(sqlite3_stmt *st, struct pod_store_image **ret) {
        _cleanup_(pod_store_image_freep) struct pod_store_image *i = NULL;
        int r;

        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        i->id = strdup((const char *)sqlite3_column_text(st, 0));
        i->name = strdup((const char *)sqlite3_column_text(st, 1));
        if (!i->id || !i->name)
                return -ENOMEM;
        r = labels_from_json((const char *)sqlite3_column_text(st, 2), &i->labels, &i->n_labels);
        if (r < 0)
                return r;
        i->size = (uint64_t)sqlite3_column_int64(st, 3);
        i->blob_size = (uint64_t)sqlite3_column_int64(st, 4);
        i->import_time = (uint64_t)sqlite3_column_int64(st, 5);
        i->last_used = (uint64_t)sqlite3_column_int64(st, 6);
        i->latest = sqlite3_column_int(st, 7) != 0;
        *ret = TAKE_PTR(i);
        return 0;
}

int pod_store_get_image(struct pod_store *s, const char *id, struct pod_store_image **ret,
                        struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        char sql[256];
        int rc, r;

        (void)snprintf(sql, sizeof(sql), "SELECT %s FROM images WHERE id = ?", image_columns);
        r = sql_prepare(s, sql, &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return pod_error_set(reterr, -ENOENT, "Image '%s' is not in the store", id);
        if (rc != SQLITE_ROW)
                return sql_fail(s, rc, reterr, "look up an image");
        r = image_from_row(st, ret);
        if (r < 0)
                return pod_error_set(reterr, r, "Store index: bad record for '%s'", id);
        return 0;
}

int pod_store_list(struct pod_store *s, struct pod_store_image ***ret, size_t *ret_n,
                   struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        struct pod_store_image **l = NULL;
        size_t n = 0;
        char sql[256];
        int rc, r;

        (void)snprintf(sql, sizeof(sql), "SELECT %s FROM images ORDER BY import_time, id",
                       image_columns);
        r = sql_prepare(s, sql, &st, reterr);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct pod_store_image **t = realloc(l, (n + 1) * sizeof(*l));

                if (!t) {
                        pod_store_image_list_free(l, n);
                        return -ENOMEM;
                }
                l = t;
                r = image_from_row(st, &l[n]);
                if (r < 0) {
                        pod_store_image_list_free(l, n);
                        return pod_error_set(reterr, r, "Store index: bad image record");
                }
                n++;
        }
        if (rc != SQLITE_DONE) {
                pod_store_image_list_free(l, n);
                return sql_fail(s, rc, reterr, "list images");
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

int pod_store_read_manifest(struct pod_store *s, const char *id, char **ret, size_t *ret_size,
                            struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        const void *b;
        char *m;
        int rc, r, n;

        r = sql_prepare(s, "SELECT manifest FROM images WHERE id = ?", &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return pod_error_set(reterr, -ENOENT, "Image '%s' is not in the store", id);
        if (rc != SQLITE_ROW)
                return sql_fail(s, rc, reterr, "read a manifest");
        b = sqlite3_column_blob(st, 0);
        n = sqlite3_column_bytes(st, 0);
        m = malloc((size_t)n + 1);
        if (!m)
                return -ENOMEM;
        if (n > 0)
                memcpy(m, b, (size_t)n);
        m[n] = 0;
        *ret = m;
        if (ret_size)
                *ret_size = (size_t)n;
        return 0;
}

/* ---- lookups ---- */

static int find_by_prefix(struct pod_store *s, const char *ref, char **ret_id,
                          struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *found = NULL;
        char lower[POD_IMAGE_ID_SIZE], list[384] = "";
        size_t len = strlen(ref), n = 0;
        int rc, r;

        if (len >= sizeof(lower))
                return pod_error_set(reterr, -EINVAL, "Invalid image ID '%s'", ref);
        for (size_t i = 0; i <= len; i++)
                lower[i] = (char)(ref[i] >= 'A' && ref[i] <= 'F' ? ref[i] - 'A' + 'a' : ref[i]);
        if (!image_id_valid(lower, false))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image ID '%s': expected sha512- and hex digits", ref);
        if (len < strlen(POD_IMAGE_ID_PREFIX) + 2)
                return pod_error_set(reterr, -EINVAL,
                                     "Image ID prefix '%s' is too short (at least 2 hex digits)",
                                     ref);

        /* Hex only, so no LIKE wildcards can appear; substr compare avoids LIKE anyway. */
        r = sql_prepare(s, "SELECT id FROM images WHERE substr(id, 1, ?) = ? ORDER BY id", &st,
                        reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_int(st, 1, (int)len);
        (void)sqlite3_bind_text(st, 2, lower, -1, SQLITE_TRANSIENT);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);

                if (n++ == 0) {
                        found = strdup(id);
                        if (!found)
                                return -ENOMEM;
                }
                if (strlen(list) + 40 < sizeof(list))
                        (void)snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%.32s…",
                                       n > 1 ? ", " : "", id);
        }
        if (rc != SQLITE_DONE)
                return sql_fail(s, rc, reterr, "look up an image ID");
        if (n == 0)
                return pod_error_set(reterr, -ENOENT, "No image with ID '%s' in the store", ref);
        if (n > 1)
                return pod_error_set(reterr, -ENOTUNIQ,
                                     "Image ID prefix '%s' is ambiguous, %zu images match: %s", ref,
                                     n, list);
        *ret_id = TAKE_PTR(found);
        return 0;
}

/* First match by name and labels, latest first, then newest import; with unique, a second
 * match is -ENOTUNIQ (message lists the candidates). */
static int find_by_name(struct pod_store *s, const char *name, const struct pod_kv *labels,
                        size_t n_labels, bool unique, char **ret_id, struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *found = NULL;
        char list[384] = "";
        size_t n = 0;
        int rc, r;

        r = sql_prepare(s,
                        "SELECT id, labels FROM images WHERE name = ? "
                        "ORDER BY latest DESC, import_time DESC, id",
                        &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                struct pod_kv *have = NULL;
                size_t n_have = 0;
                bool match = true;

                r = labels_from_json((const char *)sqlite3_column_text(st, 1), &have, &n_have);
                if (r < 0)
                        return pod_error_set(reterr, r, "Store index: bad labels record");
                for (size_t i = 0; match && i < n_labels; i++) {
                        const char *v = pod_kv_get(have, n_have, labels[i].name);
                        match = v && streq(v, labels[i].value);
                }
                (void)pod_kv_free(have, n_have);
                if (!match)
                        continue;
                if (n++ == 0) {
                        found = strdup(id);
                        if (!found)
                                return -ENOMEM;
                        if (!unique)
                                break;
                }
                if (strlen(list) + 40 < sizeof(list))
                        (void)snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%.32s…",
                                       n > 1 ? ", " : "", id);
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return sql_fail(s, rc, reterr, "look up an image name");
        if (n == 0)
                return pod_error_set(reterr, -ENOENT, "No image named '%s'%s in the store", name,
                                     n_labels > 0 ? " with the given labels" : "");
        if (n > 1)
                return pod_error_set(reterr, -ENOTUNIQ,
                                     "Image name '%s' is ambiguous, %zu images match: %s; give "
                                     "an ID or more labels",
                                     name, n, list);
        *ret_id = TAKE_PTR(found);
        return 0;
}

int pod_store_find_by_name(struct pod_store *s, const char *name, const struct pod_kv *labels,
                           size_t n_labels, char **ret_id, struct pod_error *reterr) {
        return find_by_name(s, name, labels, n_labels, false, ret_id, reterr);
}

static int resolve(struct pod_store *s, const char *ref, bool unique, char **ret_id,
                   struct pod_error *reterr) {
        _cleanup_free_ char *copy = NULL;
        struct pod_kv *labels = NULL;
        size_t n_labels = 0;
        char *name, *colon, *saveptr = NULL;
        int r;

        if (strneq(ref, POD_IMAGE_ID_PREFIX, strlen(POD_IMAGE_ID_PREFIX)))
                return find_by_prefix(s, ref, ret_id, reterr);

        /* NAME[:VERSION][,LABEL=VALUE...]: no host os/arch defaults here, a stored image is
         * matched on what the user gave. */
        copy = strdup(ref);
        if (!copy)
                return -ENOMEM;
        name = strtok_r(copy, ",", &saveptr);
        if (!name)
                return pod_error_set(reterr, -EINVAL, "Empty image name");
        colon = strchr(name, ':');
        if (colon) {
                *colon = 0;
                r = pod_kv_add(&labels, &n_labels, "version", colon + 1);
                if (r < 0)
                        return r;
        }
        for (char *kv = strtok_r(NULL, ",", &saveptr); kv; kv = strtok_r(NULL, ",", &saveptr)) {
                char *eq = strchr(kv, '=');

                if (!eq || eq == kv) {
                        (void)pod_kv_free(labels, n_labels);
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid label '%s' in image reference '%s'", kv, ref);
                }
                *eq = 0;
                r = pod_kv_add(&labels, &n_labels, kv, eq + 1);
                if (r < 0) {
                        (void)pod_kv_free(labels, n_labels);
                        return pod_error_set(reterr, r, "Label '%s' given twice in '%s'", kv, ref);
                }
        }
        if (!ac_identifier_valid(name)) {
                (void)pod_kv_free(labels, n_labels);
                return pod_error_set(reterr, -EINVAL,
                                     "'%s' is neither an image ID nor a valid image name", ref);
        }
        r = find_by_name(s, name, labels, n_labels, unique, ret_id, reterr);
        (void)pod_kv_free(labels, n_labels);
        return r;
}

int pod_store_resolve(struct pod_store *s, const char *ref, char **ret_id,
                      struct pod_error *reterr) {
        return resolve(s, ref, false, ret_id, reterr);
}

int pod_store_resolve_unique(struct pod_store *s, const char *ref, char **ret_id,
                             struct pod_error *reterr) {
        return resolve(s, ref, true, ret_id, reterr);
}

/* ---- import ---- */

void tmp_dir_done(struct tmp_dir *t) {
        if (t->fd >= 0) {
                (void)rm_rf_at(t->s->tmp_fd, t->name);
                t->fd = safe_close(t->fd);
        }
}

int tmp_dir_make(struct pod_store *s, struct tmp_dir *t) {
        for (;;) {
                _cleanup_close_ int fd = -EBADF;
                uint64_t rnd;
                struct stat st;

                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return -errno;
                (void)snprintf(t->name, sizeof(t->name), "%d-%016" PRIx64, (int)getpid(), rnd);
                if (mkdirat(s->tmp_fd, t->name, 0700) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return -errno;
                }
                fd = openat(s->tmp_fd, t->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0 && errno == ENOENT)
                        continue; /* a cleaner took it for stale before we locked it */
                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX) < 0)
                        return -errno;
                /* A cleaner may have taken it for stale between mkdir and flock. */
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (st.st_nlink == 0)
                        continue;
                t->s = s;
                t->fd = TAKE_FD(fd);
                return 0;
        }
}

static int import_commit(struct pod_store *s, struct tmp_dir *t, const char *id,
                         const struct pod_image_manifest *m, const struct pod_unpack_result *res,
                         const char *blob_hash, const struct pod_store_import_options *o,
                         struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_(txn_rollback) struct txn txn = {};
        _cleanup_free_ char *labels = NULL;
        _cleanup_close_ int lock = -EBADF;
        char bname[POD_IMAGE_ID_SIZE + 4], sub[3] = { id[7], id[8], 0 };
        struct stat bst, tst;
        bool exists = false;
        uint64_t now = store_now_usec();
        int r, rc;

        r = labels_to_json(m->labels, m->n_labels, &labels);
        if (r < 0)
                return r;

        r = lock_image(s, id, LOCK_EX, &lock, reterr);
        if (r < 0)
                return r;

        r = txn_begin(s, &txn, reterr);
        if (r < 0)
                return r;
        r = sql_prepare(s, "SELECT 1 FROM images WHERE id = ?", &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return sql_fail(s, rc, reterr, "look up an image");
        st = (sqlite3_finalize(st), NULL);

        blob_name(id, bname);
        if (rc == SQLITE_ROW && fstatat(s->blob_fd, bname, &bst, AT_SYMLINK_NOFOLLOW) >= 0 &&
            fstatat(s->tree_fd, id, &tst, AT_SYMLINK_NOFOLLOW) >= 0)
                exists = true; /* another import won the race, or a re-import */

        if (!exists) {
                /* Orphans from an interrupted import or remove are replaced. */
                r = mkdir_p_at(s->blob_fd, sub, 0700);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to create the blob directory: %s",
                                             strerror(-r));
                if (renameat(t->fd, "blob", s->blob_fd, bname) < 0)
                        return pod_error_set(reterr, -errno, "Failed to store blob '%s': %m", id);
                r = rm_rf_at(s->tree_fd, id);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to remove the old tree of '%s': %s",
                                             id, strerror(-r));
                if (renameat(t->fd, "tree", s->tree_fd, id) < 0)
                        return pod_error_set(reterr, -errno, "Failed to store tree '%s': %m", id);

                r = sql_prepare(s,
                                "INSERT OR REPLACE INTO images (id, name, labels, manifest, size, "
                                "blob_size, import_time, last_used, latest, blob_sha512) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                                &st, reterr);
                if (r < 0)
                        return r;
                (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
                (void)sqlite3_bind_text(st, 2, m->name, -1, SQLITE_TRANSIENT);
                (void)sqlite3_bind_text(st, 3, labels, -1, SQLITE_TRANSIENT);
                (void)sqlite3_bind_blob(st, 4, res->manifest, (int)res->manifest_size,
                                        SQLITE_TRANSIENT);
                (void)sqlite3_bind_int64(st, 5, (sqlite3_int64)res->tar_size);
                (void)sqlite3_bind_int64(st, 6, (sqlite3_int64)res->input_size);
                (void)sqlite3_bind_int64(st, 7, (sqlite3_int64)now);
                (void)sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
                (void)sqlite3_bind_text(st, 9, blob_hash, -1, SQLITE_TRANSIENT);
                rc = sqlite3_step(st);
                if (rc != SQLITE_DONE)
                        return sql_fail(s, rc, reterr, "record the image");
                st = (sqlite3_finalize(st), NULL);
        }

        r = store_provenance_put(s, id, o->provenance, reterr); /* store-provenance.c */
        if (r < 0)
                return r;

        if (o->latest) {
                r = sql_prepare(s, "UPDATE images SET latest = (id = ?) WHERE name = ?", &st,
                                reterr);
                if (r < 0)
                        return r;
                (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
                (void)sqlite3_bind_text(st, 2, m->name, -1, SQLITE_TRANSIENT);
                rc = sqlite3_step(st);
                if (rc != SQLITE_DONE)
                        return sql_fail(s, rc, reterr, "mark the image as latest");
        }
        r = txn_commit(&txn, reterr);
        if (r < 0)
                return r;
        /* The importer keeps what it imported: pinned before the image lock goes, so no
         * concurrent rm or gc takes it before the caller's next step (fetch reads its
         * manifest and dependencies, run prepares a pod from it). */
        return pod_store_pin(s, id, reterr);
}

/* Gives an unnamed temp file of the store (O_TMPFILE) the name dir_fd/name, read-only like
 * a blob made by copying: the bytes were downloaded or copied into it once already, and
 * nobody but this process can write it.  linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH;
 * the /proc/self/fd path works without it (rootless).  < 0: the caller copies instead. */
static int adopt_tmpfile(int fd, int dir_fd, const char *name) {
        char p[64];

        if (fchmod(fd, 0444) < 0)
                return -errno;
        if (linkat(fd, "", dir_fd, name, AT_EMPTY_PATH) >= 0)
                return 0;
        (void)snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        if (linkat(AT_FDCWD, p, dir_fd, name, AT_SYMLINK_FOLLOW) >= 0)
                return 0;
        return -errno;
}

int pod_store_import_fd(struct pod_store *s, int fd, const struct pod_store_import_options *o,
                        char **ret_id, struct pod_error *reterr) {
        static const struct pod_store_import_options default_opts = {};
        _cleanup_(tmp_dir_done) struct tmp_dir t = { .fd = -EBADF };
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        _cleanup_(pod_unpack_result_done) struct pod_unpack_result res = {};
        struct pod_unpack_options uo = POD_UNPACK_OPTIONS_INIT;
        _cleanup_close_ int blob = -EBADF, tree = -EBADF;
        char *id;
        int r;

        if (!o)
                o = &default_opts;

        r = tmp_dir_make(s, &t);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create a temp dir in the store: %s",
                                     strerror(-r));
        if (!o->adopt_tmpfile || adopt_tmpfile(fd, t.fd, "blob") < 0) {
                blob = openat(t.fd, "blob", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                              0444);
                if (blob < 0)
                        return pod_error_set(reterr, -errno, "Failed to create a temp blob: %m");
        }
        if (mkdirat(t.fd, "tree", 0755) < 0)
                return pod_error_set(reterr, -errno, "Failed to create a temp tree: %m");
        tree = openat(t.fd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (tree < 0)
                return pod_error_set(reterr, -errno, "Failed to open the temp tree: %m");

        uo.copy_fd = blob;
        uo.flags = (o->unpack_flags & POD_UNPACK_ALLOW_DEVICES) | POD_UNPACK_HASH_INPUT;
        uo.limits = o->limits ?: &pod_limits_default;
        r = pod_unpack(fd, tree, &uo, &res, reterr);
        if (r < 0)
                return r;

        r = pod_image_manifest_parse(res.manifest, res.manifest_size, &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Invalid image manifest");
        if (o->check) {
                r = o->check(res.id, m, o->userdata, reterr);
                if (r < 0)
                        return r;
        }

        /* The marker goes last into the tree; the rename in import_commit publishes it.
         * Before it, POD_STORE_TREE_LOWER_OK: this tree's attributes were filtered at
         * unpack, so pods may use its rootfs/ as an overlay lower dir as it is. */
        r = write_file_at(tree, POD_STORE_TREE_LOWER_OK, "", 0, 0444, false);
        if (r >= 0)
                r = write_file_atomic_at(tree, "rendered", res.id, strlen(res.id), 0444);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write the rendered marker: %s",
                                     strerror(-r));

        /* The blob's own hash (`image verify` then also catches damage that decompression
         * does not see: bytes appended after the compressed stream, header fields) was taken
         * by pod_unpack() over the very bytes it copied to the blob, in the same pass. */
        r = import_commit(s, &t, res.id, m, &res, res.input_sha512, o, reterr);
        if (r < 0)
                return r;

        id = strdup(res.id);
        if (!id)
                return -ENOMEM;
        *ret_id = id;
        return 0;
}

int pod_store_tmpfile(struct pod_store *s, int *ret_fd) {
        int fd = openat(s->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* ---- access ---- */

int pod_store_open_blob(struct pod_store *s, const char *id, int *ret_fd,
                        struct pod_error *reterr) {
        char bname[POD_IMAGE_ID_SIZE + 4];
        int fd;

        if (!image_id_valid(id, true))
                return pod_error_set(reterr, -EINVAL, "Invalid image ID '%s'", id);
        blob_name(id, bname);
        fd = openat(s->blob_fd, bname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open the blob of '%s': %m", id);
        *ret_fd = fd;
        return 0;
}

int pod_store_open_tree(struct pod_store *s, const char *id, int *ret_fd,
                        struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;

        if (!image_id_valid(id, true))
                return pod_error_set(reterr, -EINVAL, "Invalid image ID '%s'", id);
        fd = openat(s->tree_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open the tree of '%s': %m", id);
        if (faccessat(fd, "rendered", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return pod_error_set(reterr, -ENOENT, "The tree of '%s' is not fully rendered", id);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int pod_store_touch(struct pod_store *s, const char *id, struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r, rc;

        r = sql_prepare(s, "UPDATE images SET last_used = ? WHERE id = ?", &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)store_now_usec());
        (void)sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(s, rc, reterr, "update last use");
        return 0;
}

/* Files of an image whose row is gone (or never came): tree first (renamed aside so a
 * half-removed tree is never under its ID), then the blob.  Caller holds the image lock. */
static int remove_files(struct pod_store *s, const char *id) {
        char bname[POD_IMAGE_ID_SIZE + 4], trash[64];
        uint64_t rnd = 0;
        int r;

        (void)getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
        (void)snprintf(trash, sizeof(trash), "rm-%d-%016" PRIx64, (int)getpid(), rnd);
        if (renameat(s->tree_fd, id, s->tmp_fd, trash) < 0) {
                if (errno != ENOENT)
                        return -errno;
        } else {
                r = rm_rf_at(s->tmp_fd, trash);
                if (r < 0)
                        return r;
        }
        blob_name(id, bname);
        if (unlinkat(s->blob_fd, bname, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static void pin_name(const char *id, char ret[POD_IMAGE_ID_SIZE + 8]) {
        (void)snprintf(ret, POD_IMAGE_ID_SIZE + 8, "%s.use", id);
}

int pod_store_pin(struct pod_store *s, const char *id, struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;
        char name[POD_IMAGE_ID_SIZE + 8];
        char **ids;
        int *fds, r;

        if (!image_id_valid(id, true))
                return pod_error_set(reterr, -EINVAL, "Invalid image ID '%s'", id);
        for (size_t i = 0; i < s->n_pins; i++)
                if (streq(s->pin_ids[i], id))
                        return 0;
        pin_name(id, name);
        r = store_lock_at(s->locks_fd, name, LOCK_SH, &fd);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to pin image '%s': %s", id, strerror(-r));
        /* Removed between the caller's lookup and our lock? */
        r = store_image_in_index(s, id);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to look up image '%s' in the index: %s", id,
                                     strerror(-r));
        if (r == 0)
                return pod_error_set(reterr, -ENOENT,
                                     "Image '%s' was removed from the store (pod image rm or gc) "
                                     "while it was being used",
                                     id);
        fds = reallocarray(s->pin_fds, s->n_pins + 1, sizeof(int));
        if (!fds)
                return -ENOMEM;
        s->pin_fds = fds;
        ids = reallocarray(s->pin_ids, s->n_pins + 1, sizeof(char *));
        if (!ids)
                return -ENOMEM;
        s->pin_ids = ids;
        s->pin_ids[s->n_pins] = strdup(id);
        if (!s->pin_ids[s->n_pins])
                return -ENOMEM;
        s->pin_fds[s->n_pins++] = TAKE_FD(fd);
        return 0;
}

void pod_store_pin_renders(struct pod_store *s) {
        s->pin_renders = true;
}

/* This handle's own pin on id, if any, goes (the remover's own pin keeps nothing). */
static void unpin_one(struct pod_store *s, const char *id) {
        for (size_t i = 0; i < s->n_pins; i++)
                if (streq(s->pin_ids[i], id)) {
                        safe_close(s->pin_fds[i]);
                        free(s->pin_ids[i]);
                        s->pin_fds[i] = s->pin_fds[s->n_pins - 1];
                        s->pin_ids[i] = s->pin_ids[s->n_pins - 1];
                        s->n_pins--;
                        return;
                }
}

void pod_store_set_users(struct pod_store *s,
                         int (*users)(const char *id, char **ret_users, void *userdata),
                         void *userdata) {
        s->users = users;
        s->users_userdata = userdata;
}

int pod_store_pinned(struct pod_store *s, char ***ret_ids) {
        char **l = calloc(s->n_pins + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_pins; i++)
                if (!(l[i] = strdup(s->pin_ids[i]))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *ret_ids = l;
        return 0;
}

void pod_store_unpin_all(struct pod_store *s) {
        for (size_t i = 0; i < s->n_pins; i++) {
                safe_close(s->pin_fds[i]);
                free(s->pin_ids[i]);
        }
        free(s->pin_fds);
        free(s->pin_ids);
        s->pin_fds = NULL;
        s->pin_ids = NULL;
        s->n_pins = 0;
        s->pin_renders = false;
}

int pod_store_remove(struct pod_store *s, const char *id, struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_(txn_rollback) struct txn txn = {};
        _cleanup_close_ int lock = -EBADF, pin = -EBADF;
        char pname[POD_IMAGE_ID_SIZE + 8];
        int r, rc;

        if (!image_id_valid(id, true))
                return pod_error_set(reterr, -EINVAL, "Invalid image ID '%s'", id);
        r = lock_image(s, id, LOCK_EX, &lock, reterr);
        if (r < 0)
                return r;
        /* Held until the files are gone: no pod starts preparing from a half-removed tree. */
        unpin_one(s, id);
        pin_name(id, pname);
        r = store_lock_at(s->locks_fd, pname, LOCK_EX | LOCK_NB, &pin);
        if (r == -EWOULDBLOCK)
                return pod_error_set(reterr, -EBUSY,
                                     "Image '%s' is in use by a pod being prepared or a fetch in "
                                     "progress; not removed",
                                     id);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to lock image '%s': %s", id, strerror(-r));
        /* Under the exclusive pin lock: a prepare either holds its pin (refused above) or
         * recorded its pod before it let go (store.h). */
        if (s->users) {
                _cleanup_free_ char *who = NULL;

                r = s->users(id, &who, s->users_userdata);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Failed to find the pods using image '%s': %s", id,
                                             strerror(-r));
                if (r > 0)
                        return pod_error_set(reterr, -EBUSY,
                                             "Image '%s' is used by pod %s; not removed (remove "
                                             "the pod first: pod rm)",
                                             id, who);
        }
        r = txn_begin(s, &txn, reterr);
        if (r < 0)
                return r;
        r = sql_prepare(s, "DELETE FROM images WHERE id = ?", &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(s, rc, reterr, "remove the image");
        if (sqlite3_changes(s->db) == 0)
                return pod_error_set(reterr, -ENOENT, "Image '%s' is not in the store", id);
        st = (sqlite3_finalize(st), NULL);
        r = store_oci_forget(s, id, reterr); /* its layers stay until gc */
        if (r < 0)
                return r;
        /* A cache record pointing at a removed image would make fetch reuse nothing. */
        r = sql_prepare(s, "DELETE FROM remotes WHERE image_id = ?", &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(s, rc, reterr, "remove cache records");
        r = txn_commit(&txn, reterr);
        if (r < 0)
                return r;

        r = remove_files(s, id);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Image '%s' removed, but its files were not (gc will): %s", id,
                                     strerror(-r));
        /* Unlinked while held: a pin waiting on the old file retries on a new one, then finds
         * no index row (store_lock_at() re-checks the inode). */
        (void)unlinkat(s->locks_fd, pname, 0);
        return 0;
}

/* Copies all of in to out (from the current offsets). */
static int copy_fd(int in, int out) {
        for (;;) {
                ssize_t k = copy_file_range(in, NULL, out, NULL, 1u << 30, 0);

                if (k < 0 &&
                    (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
                        break; /* fall back to read/write */
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
        }
        for (;;) {
                char buf[1 << 16];
                ssize_t k = read(in, buf, sizeof(buf));
                int r;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                r = loop_write(out, buf, (size_t)k);
                if (r < 0)
                        return r;
        }
}

int pod_store_export(struct pod_store *s, const char *id, const char *path, bool overwrite,
                     struct pod_error *reterr) {
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        _cleanup_free_ char *tmp = NULL;
        int r;

        r = pod_store_open_blob(s, id, &in, reterr);
        if (r < 0)
                return r;
        if (asprintf(&tmp, "%s.tmp-%d", path, (int)getpid()) < 0)
                return -ENOMEM;
        out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (out < 0)
                return pod_error_set(reterr, -errno, "Failed to create '%s': %m", tmp);
        r = copy_fd(in, out);
        if (r >= 0 && fsync(out) < 0)
                r = -errno;
        if (r >= 0 && overwrite && rename(tmp, path) < 0)
                r = -errno;
        /* No clobbering unless asked: renameat2() refuses an existing path atomically; where
         * the file system cannot, link() does (it never replaces). */
        if (r >= 0 && !overwrite &&
            renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
                r = -errno;
                if (r == -EINVAL || r == -ENOSYS)
                        r = link(tmp, path) < 0 ? -errno : 0;
        }
        (void)unlink(tmp); /* after a rename: gone already */
        if (r == -EEXIST)
                return pod_error_set(reterr, r, "'%s' exists (use --overwrite)", path);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write '%s': %s", path, strerror(-r));
        return 0;
}

/* A rendered tree into the empty directory to: copies (never links) of `manifest` and
 * `rootfs/`, or the rootfs contents only. */
static int render_copy(int tree, int to, bool rootfs_only, bool keep_privileges, const char *dir,
                       struct pod_error *reterr) {
        _cleanup_close_ int rootfs = -EBADF, t = -EBADF;
        _cleanup_free_ char *m = NULL;
        size_t n = 0;
        int r;

        rootfs = openat(tree, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (rootfs < 0)
                return pod_error_set(reterr, -errno, "Failed to open the rendered rootfs: %m");
        if (rootfs_only)
                t = fcntl(to, F_DUPFD_CLOEXEC, 3);
        else {
                r = read_full_file_at(tree, "manifest", POD_UNPACK_MANIFEST_MAX, &m, &n);
                if (r >= 0)
                        r = write_file_atomic_at(to, "manifest", m, n, 0644);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to copy the manifest to '%s': %s",
                                             dir, strerror(-r));
                if (mkdirat(to, "rootfs", 0755) >= 0)
                        t = openat(to, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        }
        if (t < 0)
                return pod_error_set(reterr, -errno, "Failed to create the rootfs in '%s': %m",
                                     dir);
        r = store_tree_copy(rootfs, t, keep_privileges);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to copy the rendered tree to '%s': %s", dir,
                                     strerror(-r));
        return 0;
}

int pod_store_extract(struct pod_store *s, const char *id, const char *dir, unsigned flags,
                      struct pod_error *reterr) {
        _cleanup_(pod_unpack_result_done) struct pod_unpack_result res = {};
        struct pod_unpack_options uo = POD_UNPACK_OPTIONS_INIT;
        _cleanup_free_ char *tmp = NULL, *copy = NULL;
        _cleanup_close_ int blob = -EBADF, tfd = -EBADF, rendered = -EBADF;
        bool exists;
        struct stat st;
        int r;

        r = pod_store_oci_is_oci(s, id, reterr);
        if (r < 0)
                return r;
        if (r > 0)
                return store_oci_extract(s, id, dir, flags, reterr);

        exists = lstat(dir, &st) >= 0;
        if (exists && !(flags & POD_STORE_EXTRACT_OVERWRITE))
                return pod_error_set(reterr, -EEXIST, "'%s' exists (use --overwrite)", dir);
        if (exists && !S_ISDIR(st.st_mode))
                return pod_error_set(reterr, -ENOTDIR, "'%s' exists and is not a directory", dir);

        if (flags & POD_STORE_EXTRACT_RENDER) {
                _cleanup_free_ char *name = NULL;

                r = pod_store_render_tree(s, id, &rendered, &name, reterr);
                if (r < 0)
                        return r;
                if (streq(name, id)) /* nothing layered: unpacked (and re-hashed) below */
                        rendered = safe_close(rendered);
        }

        r = pod_store_open_blob(s, id, &blob, reterr);
        if (r < 0)
                return r;

        /* Built next to dir and renamed in: dir never holds a half extraction. */
        copy = strdup(dir);
        if (!copy)
                return -ENOMEM;
        while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
                copy[strlen(copy) - 1] = 0;
        if (asprintf(&tmp, "%s.pod-tmp-XXXXXX", copy) < 0)
                return -ENOMEM;
        if (!mkdtemp(tmp))
                return pod_error_set(reterr, -errno,
                                     "Failed to create a directory next to '%s': %m", dir);
        tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (tfd < 0) {
                r = -errno;
                (void)rm_rf_at(AT_FDCWD, tmp);
                return pod_error_set(reterr, r, "Failed to open '%s': %s", tmp, strerror(-r));
        }
        if (fchmod(tfd, 0755) < 0) {
                r = -errno;
                (void)rm_rf_at(AT_FDCWD, tmp);
                return pod_error_set(reterr, r, "Failed to chmod '%s': %s", tmp, strerror(-r));
        }

        if (flags & POD_STORE_EXTRACT_ROOTFS_ONLY)
                uo.flags |= POD_UNPACK_ROOTFS_ONLY;
        uo.flags |= POD_UNPACK_ALLOW_DEVICES; /* it was allowed into the store */
        if (!(flags & POD_STORE_EXTRACT_KEEP_PRIVILEGES))
                uo.flags |= POD_UNPACK_DROP_PRIVILEGES;
        if (rendered >= 0)
                r = render_copy(rendered, tfd, flags & POD_STORE_EXTRACT_ROOTFS_ONLY,
                                flags & POD_STORE_EXTRACT_KEEP_PRIVILEGES, dir, reterr);
        else
                r = pod_unpack(blob, tfd, &uo, &res, reterr);
        if (r >= 0 && rendered < 0 && !streq(res.id, id))
                r = pod_error_set(reterr, -EBADMSG,
                                  "Stored blob of '%s' is damaged: it hashes to '%s'", id, res.id);
        if (r >= 0 && exists) {
                /* Swap atomically, then drop the old contents. */
                if (renameat2(AT_FDCWD, tmp, AT_FDCWD, copy, RENAME_EXCHANGE) < 0)
                        r = pod_error_set(reterr, -errno, "Failed to replace '%s': %m", dir);
        } else if (r >= 0 && rename(tmp, copy) < 0)
                r = pod_error_set(reterr, -errno, "Failed to move the extraction to '%s': %m", dir);
        (void)rm_rf_at(AT_FDCWD, tmp);
        if (r < 0)
                return r;

        (void)pod_store_touch(s, id, NULL);
        return 0;
}

/* ---- verify ---- */

struct verify_ctx {
        int tree_fd;
        const char *id;
        unsigned n_checked;
        /* The tree file whose data is being compared (verify_data()). */
        char *data_path;
        int data_fd;
        void *buf;
};

/* Each data block of the archive against the same range of the tree's file: a tree whose
 * import lost writes (a full disk taken for a warning: holes of zeros) differs here. */
static int verify_data(const char *path, uint64_t offset, const void *buf, size_t size,
                       void *userdata, struct pod_error *reterr) {
        struct verify_ctx *v = userdata;
        size_t done = 0;

        if (!v->data_path || !streq(v->data_path, path)) {
                free(v->data_path);
                v->data_path = strdup(path);
                if (!v->data_path)
                        return -ENOMEM;
                v->data_fd = safe_close(v->data_fd);
                v->data_fd = openat(v->tree_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (v->data_fd < 0)
                        return pod_error_set(reterr, -EBADMSG, "Tree of '%s' is damaged: '%s': %m",
                                             v->id, path);
        }
        if (!v->buf && !(v->buf = malloc(1 << 16)))
                return -ENOMEM;
        while (done < size) {
                size_t want = size - done < ((size_t)1 << 16) ? size - done : (size_t)1 << 16;
                ssize_t k = pread(v->data_fd, v->buf, want, (off_t)(offset + done));

                if (k < 0)
                        return pod_error_set(reterr, -errno,
                                             "Failed to read '%s' in the tree of '%s': %m", path,
                                             v->id);
                if ((size_t)k != want || memcmp(v->buf, (const char *)buf + done, want) != 0) {
                        size_t at = 0;

                        while (at < (size_t)k &&
                               ((const char *)v->buf)[at] == ((const char *)buf)[done + at])
                                at++;
                        return pod_error_set(reterr, -EBADMSG,
                                             "Tree of '%s' is damaged: the content of '%s' differs "
                                             "from the image at offset %" PRIu64,
                                             v->id, path, offset + done + at);
                }
                done += want;
        }
        return 0;
}

static int verify_entry(const struct pod_unpack_entry *e, void *userdata,
                        struct pod_error *reterr) {
        struct verify_ctx *v = userdata;
        struct stat st;

        /* Read-only stat; the archive side already refused paths through symlinks. */
        if (fstatat(v->tree_fd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return pod_error_set(reterr, -EBADMSG, "Tree of '%s' is damaged: '%s': %m", v->id,
                                     e->path);
        if ((st.st_mode & S_IFMT) != (e->mode & S_IFMT) && !(e->hardlink && S_ISREG(st.st_mode)))
                return pod_error_set(reterr, -EBADMSG,
                                     "Tree of '%s' is damaged: '%s' has the wrong file type", v->id,
                                     e->path);
        if (S_ISREG(st.st_mode) && !e->hardlink && (uint64_t)st.st_size != e->size)
                return pod_error_set(reterr, -EBADMSG,
                                     "Tree of '%s' is damaged: '%s' is %lld bytes, the image "
                                     "has %" PRIu64,
                                     v->id, e->path, (long long)st.st_size, e->size);
        if (e->symlink) {
                char buf[PATH_MAX];
                ssize_t k = readlinkat(v->tree_fd, e->path, buf, sizeof(buf) - 1);

                if (k < 0 || (buf[k] = 0, !streq(buf, e->symlink)))
                        return pod_error_set(reterr, -EBADMSG,
                                             "Tree of '%s' is damaged: symlink '%s' changed", v->id,
                                             e->path);
        }
        v->n_checked++;
        return 0;
}

/* The stored bytes against the index: size, and the blob's SHA-512 where recorded (v2). */
static int verify_blob_bytes(struct pod_store *s, const struct pod_store_image *img, int blob,
                             struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        char hex[POD_SHA512_HEX_SIZE + 1];
        _cleanup_free_ char *want = NULL;
        struct stat sb;
        int r, rc;

        if (fstat(blob, &sb) < 0)
                return pod_error_set(reterr, -errno, "Failed to stat the blob of '%s': %m",
                                     img->id);
        if ((uint64_t)sb.st_size != img->blob_size)
                return pod_error_set(reterr, -EBADMSG,
                                     "Blob of '%s' (%s) is damaged: it has %" PRIu64
                                     " bytes, %" PRIu64 " were imported",
                                     img->name, img->id, (uint64_t)sb.st_size, img->blob_size);

        r = sql_prepare(s, "SELECT blob_sha512 FROM images WHERE id = ?", &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, img->id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return sql_fail(s, rc, reterr, "read the blob hash");
        if (rc == SQLITE_DONE || sqlite3_column_type(st, 0) == SQLITE_NULL)
                return 0; /* imported by a v1 store: the unpack checks must do */
        want = strdup((const char *)sqlite3_column_text(st, 0));
        if (!want)
                return -ENOMEM;

        r = pod_sha512_fd(blob, hex);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the blob of '%s': %s", img->id,
                                     strerror(-r));
        if (lseek(blob, 0, SEEK_SET) < 0)
                return pod_error_set(reterr, -errno, "Failed to rewind the blob of '%s': %m",
                                     img->id);
        if (!streq(hex, want))
                return pod_error_set(
                        reterr, -EBADMSG,
                        "Blob of '%s' (%s) is damaged: its bytes hash to sha512-%.16s..., "
                        "the import recorded sha512-%.16s...",
                        img->name, img->id, hex, want);
        return 0;
}

int pod_store_verify(struct pod_store *s, const char *id, struct pod_error *reterr) {
        _cleanup_(pod_unpack_result_done) struct pod_unpack_result res = {};
        struct pod_unpack_options uo = POD_UNPACK_OPTIONS_INIT;
        _cleanup_close_ int blob = -EBADF, tree = -EBADF;
        _cleanup_free_ char *m = NULL, *tm = NULL, *marker = NULL;
        _cleanup_(pod_store_image_freep) struct pod_store_image *img = NULL;
        struct verify_ctx v = { .id = id, .data_fd = -EBADF };
        size_t n = 0, tn = 0;
        int r;

        r = pod_store_oci_is_oci(s, id, reterr);
        if (r < 0)
                return r;
        if (r > 0)
                return store_oci_verify(s, id, reterr);
        r = pod_store_read_manifest(s, id, &m, &n, reterr);
        if (r < 0)
                return r;
        r = pod_store_get_image(s, id, &img, reterr);
        if (r < 0)
                return r;
        r = pod_store_open_blob(s, id, &blob, reterr);
        if (r < 0)
                return pod_error_set(reterr, -EBADMSG, "Blob of '%s' (%s) is missing", img->name,
                                     id);
        r = verify_blob_bytes(s, img, blob, reterr);
        if (r < 0)
                return r;
        tree = openat(s->tree_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (tree < 0)
                return pod_error_set(reterr, -EBADMSG, "Tree of '%s' is missing: %m", id);
        r = read_full_file_at(tree, "rendered", 4096, &marker, NULL);
        if (r < 0 || !streq(marker, id))
                return pod_error_set(reterr, -EBADMSG,
                                     "Tree of '%s' is damaged: no valid 'rendered' marker", id);
        r = read_full_file_at(tree, "manifest", POD_UNPACK_MANIFEST_MAX, &tm, &tn);
        if (r < 0 || tn != n || memcmp(tm, m, n) != 0)
                return pod_error_set(reterr, -EBADMSG,
                                     "Tree of '%s' is damaged: 'manifest' differs from the index",
                                     id);

        v.tree_fd = tree;
        uo.entry_cb = verify_entry;
        uo.data_cb = verify_data;
        uo.userdata = &v;
        uo.flags = POD_UNPACK_ALLOW_DEVICES;
        r = pod_unpack(blob, -EBADF, &uo, &res, reterr);
        free(v.data_path);
        safe_close(v.data_fd);
        free(v.buf);
        if (r < 0)
                return pod_error_prefix(reterr, -EBADMSG, "Image '%s' (%s)", img->name, id);
        if (!streq(res.id, id))
                return pod_error_set(reterr, -EBADMSG,
                                     "Blob of '%s' (%s) is damaged: it hashes to '%s'", img->name,
                                     id, res.id);
        if (res.input_size != img->blob_size)
                return pod_error_set(reterr, -EBADMSG,
                                     "Blob of '%s' (%s) is damaged: decompression used %" PRIu64
                                     " of its %" PRIu64 " bytes (data after the compressed stream)",
                                     img->name, id, res.input_size, img->blob_size);
        return 0;
}

/* ---- gc ---- */

int store_image_in_index(struct pod_store *s, const char *id) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int rc;

        if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM images WHERE id = ?", -1, &st, NULL) !=
            SQLITE_OK)
                return -EIO;
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return sql_errno(rc);
}

/* An ID-named file or dir without an index row: removed under the image lock, skipped while
 * an import of that image holds it. */
static void gc_orphan(struct pod_store *s, const char *id, const char *what,
                      void (*removed)(const char *, const char *, void *), void *userdata) {
        _cleanup_close_ int lock = -EBADF;

        if (!image_id_valid(id, true))
                return;
        if (lock_image(s, id, LOCK_EX | LOCK_NB, &lock, NULL) < 0)
                return;
        if (store_image_in_index(s, id) != 0)
                return;
        if (remove_files(s, id) >= 0 && removed)
                removed(what, id, userdata);
}

static int list_dir(int dir_fd, const char *path, char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;
        size_t n = 0;
        int fd;

        fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                char **t;

                if (de->d_name[0] == '.')
                        continue;
                t = realloc(l, (n + 2) * sizeof(char *));
                if (!t)
                        return -ENOMEM;
                l = t;
                l[n] = strdup(de->d_name);
                l[n + 1] = NULL;
                if (!l[n])
                        return -ENOMEM;
                n++;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int pod_store_gc(struct pod_store *s, uint64_t grace_usec,
                 void (*removed)(const char *what, const char *name, void *userdata),
                 void *userdata, struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_strv_free_ char **ids = NULL, **trees = NULL, **subs = NULL, **locks = NULL;
        uint64_t now = store_now_usec(), cutoff = now > grace_usec ? now - grace_usec : 0;
        size_t n = 0;
        int r, rc;

        r = sql_prepare(s, "SELECT id FROM images WHERE last_used < ?", &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                char **t = realloc(ids, (n + 2) * sizeof(char *));

                if (!t)
                        return -ENOMEM;
                ids = t;
                ids[n] = strdup((const char *)sqlite3_column_text(st, 0));
                ids[n + 1] = NULL;
                if (!ids[n])
                        return -ENOMEM;
                n++;
        }
        if (rc != SQLITE_DONE)
                return sql_fail(s, rc, reterr, "list unused images");
        st = (sqlite3_finalize(st), NULL);

        STRV_FOREACH (id, ids) {
                struct pod_error e = {};

                r = pod_store_remove(s, *id, &e);
                if (r == -EBUSY) {
                        if (removed)
                                removed("in-use image", *id, userdata);
                        continue;
                }
                if (r < 0 && r != -ENOENT)
                        return pod_error_set(reterr, r, "%s", e.msg);
                if (r >= 0 && removed)
                        removed("image", *id, userdata);
        }

        /* Orphans: trees and blobs without an index row. */
        r = list_dir(s->tree_fd, ".", &trees);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to list trees: %s", strerror(-r));
        STRV_FOREACH (t, trees)
                gc_orphan(s, *t, "tree", removed, userdata);
        store_gc_render_trees(s, removed, userdata);
        r = store_oci_gc(s, removed, userdata, reterr); /* layers and blobs no image lists */
        if (r < 0)
                return r;

        r = list_dir(s->blob_fd, ".", &subs);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to list blobs: %s", strerror(-r));
        STRV_FOREACH (sub, subs) {
                _cleanup_strv_free_ char **blobs = NULL;

                if (list_dir(s->blob_fd, *sub, &blobs) < 0)
                        continue;
                STRV_FOREACH (b, blobs)
                        gc_orphan(s, *b, "blob", removed, userdata);
                (void)unlinkat(s->blob_fd, *sub, AT_REMOVEDIR); /* only if empty */
        }

        /* Lock files of images no longer stored: unlinked while held, so a process that
         * opened the old file notices (lock_at() re-checks the inode) and retries. */
        r = list_dir(s->locks_fd, ".", &locks);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to list locks: %s", strerror(-r));
        STRV_FOREACH (name, locks) {
                char id[POD_IMAGE_ID_SIZE];
                size_t len = strlen(*name);
                _cleanup_close_ int fd = -EBADF;

                /* <id>.lock (the image lock) or <id>.use (its pins) */
                if (len < POD_IMAGE_ID_SIZE - 1 ||
                    (!streq(*name + POD_IMAGE_ID_SIZE - 1, ".lock") &&
                     !streq(*name + POD_IMAGE_ID_SIZE - 1, ".use")))
                        continue;
                memcpy(id, *name, POD_IMAGE_ID_SIZE - 1);
                id[POD_IMAGE_ID_SIZE - 1] = 0;
                if (!image_id_valid(id, true) ||
                    store_lock_at(s->locks_fd, *name, LOCK_EX | LOCK_NB, &fd) < 0)
                        continue;
                if (store_image_in_index(s, id) == 0)
                        (void)unlinkat(s->locks_fd, *name, 0);
        }

        return clean_tmp(s, removed, userdata);
}

/* ---- remotes ---- */

struct pod_store_remote *pod_store_remote_free(struct pod_store_remote *r) {
        if (!r)
                return NULL;
        free(r->aci_url);
        free(r->sig_url);
        free(r->etag);
        free(r->image_id);
        free(r);
        return NULL;
}

static char *column_strdup(sqlite3_stmt *st, int i) {
        const unsigned char *t = sqlite3_column_text(st, i);

        return t ? strdup((const char *)t) : NULL;
}

int pod_store_remote_get(struct pod_store *s, const char *aci_url, struct pod_store_remote **ret,
                         struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_(pod_store_remote_freep) struct pod_store_remote *rem = NULL;
        int rc, r;

        /* Only records whose image is still stored are worth anything. */
        r = sql_prepare(s,
                        "SELECT r.aci_url, r.sig_url, r.etag, r.image_id, r.max_age, "
                        "r.download_time FROM remotes r JOIN images i ON i.id = r.image_id "
                        "WHERE r.aci_url = ?",
                        &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, aci_url, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return pod_error_set(reterr, -ENOENT, "No cache record for '%s'", aci_url);
        if (rc != SQLITE_ROW)
                return sql_fail(s, rc, reterr, "read a cache record");
        rem = calloc(1, sizeof(*rem));
        if (!rem)
                return -ENOMEM;
        rem->aci_url = column_strdup(st, 0);
        rem->sig_url = column_strdup(st, 1);
        rem->etag = column_strdup(st, 2);
        rem->image_id = column_strdup(st, 3);
        if (!rem->aci_url || !rem->image_id ||
            (sqlite3_column_type(st, 1) != SQLITE_NULL && !rem->sig_url) ||
            (sqlite3_column_type(st, 2) != SQLITE_NULL && !rem->etag))
                return -ENOMEM;
        rem->max_age = (uint64_t)sqlite3_column_int64(st, 4);
        rem->download_time = (uint64_t)sqlite3_column_int64(st, 5);
        *ret = TAKE_PTR(rem);
        return 0;
}

int pod_store_remote_put(struct pod_store *s, const struct pod_store_remote *rem,
                         struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int rc, r;

        if (!rem->aci_url || !rem->image_id || !image_id_valid(rem->image_id, true))
                return pod_error_set(reterr, -EINVAL, "Invalid cache record");
        r = sql_prepare(s,
                        "INSERT OR REPLACE INTO remotes (aci_url, sig_url, etag, image_id, "
                        "max_age, download_time) VALUES (?, ?, ?, ?, ?, ?)",
                        &st, reterr);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, rem->aci_url, -1, SQLITE_TRANSIENT);
        (void)sqlite3_bind_text(st, 2, rem->sig_url, -1, SQLITE_TRANSIENT);
        (void)sqlite3_bind_text(st, 3, rem->etag, -1, SQLITE_TRANSIENT);
        (void)sqlite3_bind_text(st, 4, rem->image_id, -1, SQLITE_TRANSIENT);
        (void)sqlite3_bind_int64(st, 5, (sqlite3_int64)rem->max_age);
        (void)sqlite3_bind_int64(st, 6, (sqlite3_int64)rem->download_time);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(s, rc, reterr, "write a cache record");
        return 0;
}
