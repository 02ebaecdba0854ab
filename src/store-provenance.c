/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The provenance records of stored images (provenance.h): one row per image ID in their own
 * table, so the images table and its readers stay as they are.  Stores made before it get
 * the table on their next open (CREATE TABLE IF NOT EXISTS: the migration); their images have
 * no row and show as unknown.  A trigger drops the row with the image.  Kept apart to keep
 * store.c below the size cap; uses the index handle from store-internal.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "macro.h"
#include "provenance.h"
#include "store-internal.h"
#include "store.h"

static const char provenance_schema[] =
        "CREATE TABLE IF NOT EXISTS provenance ("
        " id TEXT PRIMARY KEY NOT NULL," /* images.id */
        " origin TEXT,"
        " signer_fingerprint TEXT,"
        " signer_uid TEXT,"
        " trusted_prefix TEXT,"
        " root_key INTEGER NOT NULL DEFAULT 0,"
        " key_path TEXT,"
        " signature_time INTEGER NOT NULL DEFAULT 0," /* seconds */
        " insecure TEXT,"
        " recorded INTEGER NOT NULL);" /* usec */
        "CREATE TRIGGER IF NOT EXISTS provenance_drop AFTER DELETE ON images"
        " BEGIN DELETE FROM provenance WHERE id = old.id; END;";

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize)

static int fail(struct pod_store *s, int rc, const char *what, struct pod_error *reterr) {
        int r = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? -EBUSY
                : (rc & 0xff) == SQLITE_READONLY                           ? -EACCES
                : (rc & 0xff) == SQLITE_FULL                               ? -ENOSPC
                                                                           : -EIO;

        return pod_error_set(reterr, r, "Store index: failed to %s: %s", what,
                             sqlite3_errmsg(s->db));
}

int store_provenance_init(struct pod_store *s, struct pod_error *reterr) {
        int rc;

        if (store_schema_present(s, provenance_schema))
                return 0;
        rc = sqlite3_exec(s->db, provenance_schema, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return fail(s, rc, "create the provenance table", reterr);
        return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
        if (v)
                (void)sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                (void)sqlite3_bind_null(st, i);
}

int store_provenance_put(struct pod_store *s, const char *id, const struct pod_provenance *p,
                         struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int rc;

        if (!p)
                return 0;
        rc = sqlite3_prepare_v2(
                s->db,
                "INSERT OR REPLACE INTO provenance (id, origin, signer_fingerprint, "
                "signer_uid, trusted_prefix, root_key, key_path, signature_time, "
                "insecure, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return fail(s, rc, "prepare the provenance record", reterr);
        bind_text(st, 1, id);
        bind_text(st, 2, p->origin);
        bind_text(st, 3, p->signer_fingerprint);
        bind_text(st, 4, p->signer_uid);
        bind_text(st, 5, p->root_key ? NULL : p->trusted_prefix);
        (void)sqlite3_bind_int(st, 6, p->root_key);
        bind_text(st, 7, p->key_path);
        (void)sqlite3_bind_int64(st, 8, p->signature_time);
        bind_text(st, 9, p->insecure && *p->insecure ? p->insecure : NULL);
        (void)sqlite3_bind_int64(st, 10, (sqlite3_int64)store_now_usec());
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return fail(s, rc, "record the provenance", reterr);
        return 0;
}

static int column_dup(sqlite3_stmt *st, int i, char **ret) {
        const unsigned char *v = sqlite3_column_text(st, i);

        return pod_provenance_set(ret, (const char *)v);
}

int pod_store_get_provenance(struct pod_store *s, const char *id, struct pod_provenance *ret,
                             struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        struct pod_provenance p = {};
        int rc, r = 0;

        rc = sqlite3_prepare_v2(s->db,
                                "SELECT origin, signer_fingerprint, signer_uid, trusted_prefix, "
                                "root_key, key_path, signature_time, insecure, recorded "
                                "FROM provenance WHERE id = ?",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return fail(s, rc, "look up the provenance", reterr);
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                *ret = (struct pod_provenance){}; /* no record: unknown */
                return 0;
        }
        if (rc != SQLITE_ROW)
                return fail(s, rc, "look up the provenance", reterr);
        r = r < 0 ? r : column_dup(st, 0, &p.origin);
        r = r < 0 ? r : column_dup(st, 1, &p.signer_fingerprint);
        r = r < 0 ? r : column_dup(st, 2, &p.signer_uid);
        r = r < 0 ? r : column_dup(st, 3, &p.trusted_prefix);
        r = r < 0 ? r : column_dup(st, 5, &p.key_path);
        r = r < 0 ? r : column_dup(st, 7, &p.insecure);
        if (r < 0) {
                pod_provenance_done(&p);
                return r;
        }
        p.root_key = sqlite3_column_int(st, 4) != 0;
        p.signature_time = sqlite3_column_int64(st, 6);
        p.recorded_usec = (uint64_t)sqlite3_column_int64(st, 8);
        if (p.recorded_usec == 0)
                p.recorded_usec = 1; /* a row is a record */
        *ret = p;
        return 1;
}

int pod_store_image_load_provenance(struct pod_store *s, struct pod_store_image *i,
                                    struct pod_error *reterr) {
        struct pod_provenance *p;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        r = pod_store_get_provenance(s, i->id, p, reterr);
        if (r < 0) {
                free(p);
                return r;
        }
        if (i->provenance) {
                pod_provenance_done(i->provenance);
                free(i->provenance);
        }
        i->provenance = p;
        return 0;
}
