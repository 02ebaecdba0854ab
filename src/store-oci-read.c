/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The read side of OCI images in the store (store-oci.h: pod_store_oci_get_info(); the
 * blobs themselves through store-oci.c's pod_store_oci_open_blob()), for `image export` and
 * `cat-manifest --oci` (oci-archive.h).
 * Queries the tables store-oci.c creates; writes nothing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "macro.h"
#include "oci.h"
#include "sha256.h"
#include "store-internal.h"
#include "store-oci.h"

static void finalizep(sqlite3_stmt **st) {
        if (*st)
                (void)sqlite3_finalize(*st);
}

static int q_error(struct pod_store *s, struct pod_error *reterr) {
        return pod_error_set(reterr, -EIO, "Store index '%s/cas/db/index.sqlite': %s", s->dir,
                             sqlite3_errmsg(s->db));
}

static char *column_dup(sqlite3_stmt *st, int col, size_t *ret_size) {
        const void *b = sqlite3_column_blob(st, col);
        int n = sqlite3_column_bytes(st, col);
        char *p;

        if (sqlite3_column_type(st, col) == SQLITE_NULL)
                return NULL;
        p = malloc((size_t)n + 1);
        if (!p)
                return NULL;
        if (n > 0)
                memcpy(p, b, (size_t)n);
        p[n] = 0;
        if (ret_size)
                *ret_size = (size_t)n;
        return p;
}

struct pod_store_oci_info *pod_store_oci_info_free(struct pod_store_oci_info *i) {
        if (!i)
                return NULL;
        free(i->config);
        free(i->config_digest);
        free(i->manifest);
        free(i->manifest_digest);
        for (size_t k = 0; k < i->n_layers; k++) {
                free((char *)i->layers[k].digest);
                free((char *)i->layers[k].media_type);
                free((char *)i->layers[k].diff_id);
        }
        free(i->layers);
        free(i);
        return NULL;
}

int pod_store_oci_find_config(struct pod_store *s, const char *config_digest, char **ret,
                              size_t *ret_size, struct pod_error *reterr) {
        _cleanup_(finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *config = NULL;
        char got[POD_SHA256_STRING_SIZE];
        size_t size = 0;
        int rc, r;

        if (sqlite3_prepare_v2(s->db,
                               "SELECT o.config FROM oci_images o JOIN images i ON i.id = o.id "
                               "WHERE o.config_digest = ? LIMIT 1",
                               -1, &st, NULL) != SQLITE_OK)
                return q_error(s, reterr);
        (void)sqlite3_bind_text(st, 1, config_digest, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return pod_error_set(reterr, -ENOENT, "No stored image has config %s",
                                     config_digest);
        if (rc != SQLITE_ROW)
                return q_error(s, reterr);
        config = column_dup(st, 0, &size);
        if (!config)
                return -ENOMEM;
        r = pod_sha256_buffer(config, size, got);
        if (r < 0)
                return r;
        if (!streq(got, config_digest))
                return pod_error_set(reterr, -EBADMSG,
                                     "The stored config %s hashes to %s: the store is damaged "
                                     "(pod image verify)",
                                     config_digest, got);
        *ret = TAKE_PTR(config);
        *ret_size = size;
        return 0;
}

int pod_store_oci_get_info(struct pod_store *s, const char *id, struct pod_store_oci_info **ret,
                           struct pod_error *reterr) {
        _cleanup_(pod_store_oci_info_freep) struct pod_store_oci_info *i = NULL;
        _cleanup_(finalizep) sqlite3_stmt *st = NULL, *lt = NULL;
        int rc;

        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT config, config_digest, manifest, manifest_digest "
                               "FROM oci_images WHERE id = ?",
                               -1, &st, NULL) != SQLITE_OK)
                return q_error(s, reterr);
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                int r = pod_store_oci_is_oci(s, id, NULL);

                if (r == 0)
                        return pod_error_set(reterr, -EMEDIUMTYPE,
                                             "Image %s is an appc image, not an OCI image", id);
                return pod_error_set(reterr, -ENOENT, "No OCI image %s in the store", id);
        }
        if (rc != SQLITE_ROW)
                return q_error(s, reterr);
        i->config = column_dup(st, 0, &i->config_size);
        i->config_digest = column_dup(st, 1, NULL);
        i->manifest = column_dup(st, 2, &i->manifest_size);
        i->manifest_digest = column_dup(st, 3, NULL);
        if (!i->config || !i->config_digest)
                return -ENOMEM;
        if (i->manifest_digest && !i->manifest_digest[0]) {
                free(i->manifest_digest);
                i->manifest_digest = NULL;
        }

        if (sqlite3_prepare_v2(s->db,
                               "SELECT l.diff_id, l.blob_digest, b.size, b.media_type "
                               "FROM oci_image_layers l LEFT JOIN oci_blobs b "
                               "ON b.digest = l.blob_digest WHERE l.id = ? ORDER BY l.position",
                               -1, &lt, NULL) != SQLITE_OK)
                return q_error(s, reterr);
        (void)sqlite3_bind_text(lt, 1, id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(lt)) == SQLITE_ROW) {
                struct pod_store_oci_layer *n;

                if (i->n_layers >= POD_OCI_LAYERS_MAX)
                        return pod_error_set(reterr, -E2BIG, "Image %s has too many layers", id);
                n = reallocarray(i->layers, i->n_layers + 1, sizeof(*n));
                if (!n)
                        return -ENOMEM;
                i->layers = n;
                n[i->n_layers] = (struct pod_store_oci_layer){
                        .diff_id = column_dup(lt, 0, NULL),
                        .digest = column_dup(lt, 1, NULL),
                        .size = (uint64_t)sqlite3_column_int64(lt, 2),
                        .media_type = column_dup(lt, 3, NULL),
                };
                i->n_layers++;
                if (!n[i->n_layers - 1].diff_id || !n[i->n_layers - 1].digest)
                        return -ENOMEM;
                if (sqlite3_column_type(lt, 2) == SQLITE_NULL)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Image %s: blob %s of layer %zu is not in the store "
                                             "(run 'pod image verify')",
                                             id, n[i->n_layers - 1].digest, i->n_layers - 1);
        }
        if (rc != SQLITE_DONE)
                return q_error(s, reterr);
        *ret = TAKE_PTR(i);
        return 0;
}
