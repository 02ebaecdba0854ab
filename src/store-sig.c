/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "store-internal.h"
#include "store-sig.h"

/* Created on first use: stores from before this table work unchanged (no row: unverified). */
static const char table[] = "CREATE TABLE IF NOT EXISTS signatures ("
                            " image_id TEXT PRIMARY KEY NOT NULL,"
                            " sig BLOB NOT NULL)";

/* A signature is a few hundred bytes; fetch.c refuses more than 1 MiB anyway. */
#define SIG_MAX (1024 * 1024)

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize)

static int fail(struct pod_store *s, int rc, const char *what, struct pod_error *reterr) {
        int r = (rc & 0xff) == SQLITE_BUSY ? -EBUSY : (rc & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;

        return pod_error_set(reterr, r, "Store index: failed to %s: %s", what,
                             sqlite3_errmsg(s->db));
}

int pod_store_sig_put(struct pod_store *s, const char *id, const void *sig, size_t size,
                      struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int rc;

        if (!sig || size == 0 || size > SIG_MAX)
                return pod_error_set(reterr, -EINVAL, "Invalid signature for %s", id);
        rc = sqlite3_exec(s->db, table, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return fail(s, rc, "create the signatures table", reterr);
        rc = sqlite3_prepare_v2(s->db,
                                "INSERT OR REPLACE INTO signatures (image_id, sig) VALUES (?, ?)",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return fail(s, rc, "prepare a query", reterr);
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        (void)sqlite3_bind_blob(st, 2, sig, (int)size, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return fail(s, rc, "record a signature", reterr);
        return 0;
}

int pod_store_sig_get(struct pod_store *s, const char *id, char **ret, size_t *ret_size,
                      struct pod_error *reterr) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        const void *b;
        char *copy;
        int rc, n;

        rc = sqlite3_prepare_v2(s->db, "SELECT sig FROM signatures WHERE image_id = ?", -1, &st,
                                NULL);
        if (rc != SQLITE_OK) /* no table yet: nothing was ever recorded */
                return pod_error_set(reterr, -ENOENT, "No signature recorded for %s", id);
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return pod_error_set(reterr, -ENOENT, "No signature recorded for %s", id);
        if (rc != SQLITE_ROW)
                return fail(s, rc, "read a signature", reterr);
        b = sqlite3_column_blob(st, 0);
        n = sqlite3_column_bytes(st, 0);
        if (!b || n <= 0 || n > SIG_MAX)
                return pod_error_set(reterr, -ENOENT, "No signature recorded for %s", id);
        copy = malloc((size_t)n + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, b, (size_t)n);
        copy[n] = 0;
        *ret = copy;
        *ret_size = (size_t)n;
        return 0;
}
