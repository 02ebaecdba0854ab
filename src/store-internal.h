/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What store.c shares with store-render.c (the rendered trees of images with dependencies,
 * kept apart to keep store.c below the size cap).  Not for any other module: use store.h. */

#include <sqlite3.h>
#include <stdint.h>

#include "error.h"

struct pod_store {
        char *dir;
        int cas_fd;
        int blob_fd; /* cas/blob/sha512 */
        int tree_fd;
        int tmp_fd;
        int locks_fd;
        sqlite3 *db;
        /* Pins (pod_store_pin()): shared locks on cas/locks/<id>.use held by this handle. */
        bool pin_renders;
        int *pin_fds;
        char **pin_ids;
        size_t n_pins;
        /* The in-use rule (store.h pod_store_set_users). */
        int (*users)(const char *id, char **ret_users, void *userdata);
        void *users_userdata;
        /* While store_init_db() runs: the names of every table, index and trigger in the
         * index (NULL-terminated), for store_schema_present(); NULL otherwise. */
        char **schema_names;
};

/* Whether every object that the schema text creates ("... IF NOT EXISTS <name>") is in the
 * index already, so that running it would change nothing (false when unknown). */
bool store_schema_present(const struct pod_store *s, const char *sql);

/* A private dir cas/tmp/<pid>-<random>/, flock()ed while in use; removed by tmp_dir_done(). */
struct tmp_dir {
        struct pod_store *s;
        char name[64];
        int fd;
};
int tmp_dir_make(struct pod_store *s, struct tmp_dir *t);
void tmp_dir_done(struct tmp_dir *t);

uint64_t store_now_usec(void);
/* flock() on dir_fd/name (created), re-checked against a concurrent unlink. */
int store_lock_at(int dir_fd, const char *name, int op, int *ret_fd);
/* 1 if id has an index row, 0 if not, -errno. */
int store_image_in_index(struct pod_store *s, const char *id);

/* Copies the contents and attributes of directory from_dir into directory to_dir, replacing
 * what is in the way, never following symlinks.  Without keep_privileges, set-id bits of
 * non-directories and file capabilities are dropped (a tree for the user, not for a pod). */
int store_tree_copy(int from_dir, int to_dir, bool keep_privileges);

/* gc of rendered trees (cas/tree/deps-*) whose images are no longer all stored. */
void store_gc_render_trees(struct pod_store *s,
                           void (*removed)(const char *what, const char *name, void *userdata),
                           void *userdata);

/* store-provenance.c: the provenance table (created on open) and one image's record. */
struct pod_provenance;
int store_provenance_init(struct pod_store *s, struct pod_error *reterr);
int store_provenance_put(struct pod_store *s, const char *id, const struct pod_provenance *p,
                         struct pod_error *reterr);

/* store-oci.c: the OCI tables (created on open) and what remove, verify, extract and gc do
 * for OCI images and their layers (store-oci.h). */
int store_oci_init(struct pod_store *s, struct pod_error *reterr);
/* Deletes id's OCI rows, inside the caller's transaction. */
int store_oci_forget(struct pod_store *s, const char *id, struct pod_error *reterr);
int store_oci_verify(struct pod_store *s, const char *id, struct pod_error *reterr);
int store_oci_extract(struct pod_store *s, const char *id, const char *dir, unsigned flags,
                      struct pod_error *reterr);
/* Layers and blobs no image lists (and no importer pins): removed, reported as "layer" and
 * "blob". */
int store_oci_gc(struct pod_store *s, void (*removed)(const char *, const char *, void *),
                 void *userdata, struct pod_error *reterr);
