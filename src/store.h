/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The local image store: content-addressed blobs, rendered trees and an SQLite index.
 *
 * Layout under DIR (--dir, default /var/lib/pod):
 *   cas/blob/sha512/<2 hex>/<id>   the ACI exactly as imported (compressed or not), 0444.
 *                                  Keeping the published bytes (not the uncompressed tar as
 *                                  rkt did) costs less disk and I/O at import, makes
 *                                  `image export` reproduce the signed file (its .asc still
 *                                  verifies), and the ID is still checked on every re-read:
 *                                  <id> is the SHA-512 of the *uncompressed* tar.
 *   cas/tree/<id>/{manifest,rootfs/,lower-ok,rendered}
 *                                  the extracted image; `rendered` (holding the ID) is written
 *                                  last, and the whole tree appears by one rename.  `lower-ok`
 *                                  (empty; trees made by pod versions that filter attributes
 *                                  at import): rootfs/ may be an overlay lower dir as it is.
 *   cas/db/index.sqlite            WAL-mode index: images (id, name, labels JSON, manifest,
 *                                  sizes, import time, last used, latest) and remotes (per ACI
 *                                  URL: signature URL, ETag, image ID, max-age, download time).
 *   cas/tmp/<pid>-<random>/        one dir per import in progress ({blob, tree/}), flock()ed
 *                                  by its importer; unlocked ones are stale and removed when
 *                                  the store is opened and by gc.
 *   cas/locks/<id>.lock            per-image flock: import commit, remove and gc of one image
 *                                  are serialised.  cas/locks/db.lock guards schema creation.
 *   cas/shifted/<BASE>-<COUNT>/<key>/
 *                                  chown-shifted copies of trees for --private-users pods
 *                                  where idmapped mounts are unavailable (store-shift.h).
 *
 * Visibility is the index row: files are moved into place (rename) before the row is committed
 * and removed after the row is deleted, so kill -9 at any point leaves either no image or a
 * complete one; files without a row are orphans that gc (and a re-import) replace.
 * Concurrent imports of one image all succeed and yield one image.
 * Durability: file data is not fsync()ed (an import writes the image twice, blob and tree;
 * syncing would cost a full disk write inside every import, and tar -x does not either).
 * Process crashes lose nothing (the page cache survives); after a power loss a committed
 * image may have damaged files, which `pod image verify` detects (blob hash, tree contents).
 *
 * Trees as the pods' lower dirs (prepare.h): pods mount overlays whose lower dirs are the
 * trees' rootfs/ (and OCI layers', store-oci.h) themselves, so the store guarantees, for every
 * tree with `lower-ok`:
 *   - never written after it appeared: trees are built in cas/tmp and renamed in complete;
 *     nothing in pod opens a published tree for writing (overlayfs never writes a lower dir);
 *   - not reachable by other host users: cas/ is 0700 (statedir.h), so the set-uid files and
 *     capabilities trees keep are reachable only through the pods' own mounts;
 *   - no trusted.* attribute (xattr-util.h filters at import), so nothing in a tree steers
 *     the overlay (opaque, redirect, metacopy); trees without `lower-ok` (imported by
 *     older versions) may have them and are copied per pod with the filter instead;
 *   - never removed while a pod uses it: the in-use rule (pod_store_set_users() below).
 *
 * Owns: the store layout, its index, import/remove/gc/verify/export/render of stored images
 * and the per-URL HTTP cache records.  Does not own: downloading or signature verification
 * (fetch/verify modules call pod_store_import_fd() after verifying), manifest parsing
 * (manifest.h), archive reading (unpack.h). */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "macro.h"

struct pod_kv;
struct pod_image_manifest;
struct pod_provenance;
struct pod_limits;
struct pod_store;

int pod_store_open(const char *dir, struct pod_store **ret, struct pod_error *reterr);
struct pod_store *pod_store_free(struct pod_store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_store *, pod_store_free)

struct pod_store_image {
        char *id; /* sha512-<128 hex> */
        char *name;
        struct pod_kv *labels;
        size_t n_labels;
        uint64_t size;                     /* uncompressed tar bytes */
        uint64_t blob_size;                /* bytes of the stored ACI */
        uint64_t import_time;              /* usec since the epoch */
        uint64_t last_used;                /* usec since the epoch */
        bool latest;                       /* fetched as "latest" (no version given) */
        struct pod_provenance *provenance; /* NULL unless pod_store_image_load_provenance() */
        /* OCI images (store-oci.h), set by callers from pod_store_oci_names(): the
         * "docker://registry/repository:tag" names and the registry digest; NULL otherwise. */
        char **docker_names;
        char *registry_digest;
};

struct pod_store_image *pod_store_image_free(struct pod_store_image *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_store_image *, pod_store_image_free)
void pod_store_image_list_free(struct pod_store_image **l, size_t n);

struct pod_store_import_options {
        bool latest; /* mark as fetched without a version (clears it on same-name images) */
        unsigned unpack_flags; /* POD_UNPACK_ALLOW_DEVICES */
        /* Called after unpacking and hashing, before anything becomes visible: the fetch code
         * checks name/labels/expected ID here.  < 0 aborts the import. */
        int (*check)(const char *id, const struct pod_image_manifest *m, void *userdata,
                     struct pod_error *reterr);
        void *userdata;
        /* Where it came from and what vouched for it (provenance.h), recorded with the image
         * (replacing an earlier record: the latest import's story); NULL records nothing. */
        const struct pod_provenance *provenance;
        /* podlimits.h; NULL: pod_limits_default (an import is never unlimited). */
        const struct pod_limits *limits;
        /* fd is a temp file of this store (pod_store_tmpfile(): unnamed, nobody else can
         * write it, e.g. a download): it becomes the stored blob itself, linked instead of
         * copied, when the kernel allows (else it is copied as any input). */
        bool adopt_tmpfile;
};

/* Imports the ACI readable from fd (from its offset).  *ret_id gets the image ID.  Importing
 * an image that is already stored succeeds and changes nothing but the latest flag. */
int pod_store_import_fd(struct pod_store *s, int fd, const struct pod_store_import_options *o,
                        char **ret_id, struct pod_error *reterr);

/* An unnamed temp file (O_TMPFILE) on the store's file system, for downloads: it vanishes
 * with the process, whatever kills it. */
int pod_store_tmpfile(struct pod_store *s, int *ret_fd);

/* Resolves what a user typed: a full ID, a unique ID prefix ("sha512-" + at least 2 hex;
 * rkt's 64-hex IDs are prefixes), or NAME[:VERSION][,LABEL=VALUE...] (all given labels must
 * match; several matches prefer the "latest" one, then the newest import).  -ENOENT when
 * nothing matches, -ENOTUNIQ for an ambiguous prefix (message lists candidates). */
int pod_store_resolve(struct pod_store *s, const char *ref, char **ret_id,
                      struct pod_error *reterr);
/* Same, but a name matching several images is -ENOTUNIQ (for destructive verbs: rm). */
int pod_store_resolve_unique(struct pod_store *s, const char *ref, char **ret_id,
                             struct pod_error *reterr);
int pod_store_find_by_name(struct pod_store *s, const char *name, const struct pod_kv *labels,
                           size_t n_labels, char **ret_id, struct pod_error *reterr);

int pod_store_get_image(struct pod_store *s, const char *id, struct pod_store_image **ret,
                        struct pod_error *reterr);
/* The provenance record of id into *ret (release with pod_provenance_done()): 1 if recorded,
 * 0 if the image has none (imported before pod recorded provenance; *ret zeroed: unknown). */
/* Loads i->provenance (an unknown one when the image has no record). */
int pod_store_image_load_provenance(struct pod_store *s, struct pod_store_image *i,
                                    struct pod_error *reterr);
int pod_store_get_provenance(struct pod_store *s, const char *id, struct pod_provenance *ret,
                             struct pod_error *reterr);
/* All images, ordered by import time. */
int pod_store_list(struct pod_store *s, struct pod_store_image ***ret, size_t *ret_n,
                   struct pod_error *reterr);
int pod_store_read_manifest(struct pod_store *s, const char *id, char **ret, size_t *ret_size,
                            struct pod_error *reterr);
/* Read-only fd of the stored ACI bytes. */
int pod_store_open_blob(struct pod_store *s, const char *id, int *ret_fd, struct pod_error *reterr);
/* The marker file of trees whose rootfs/ may be an overlay lower dir as it is (above). */
#define POD_STORE_TREE_LOWER_OK "lower-ok"
/* O_DIRECTORY fd of cas/tree/<id> (holds manifest, rootfs/); -ENOENT unless rendered. */
int pod_store_open_tree(struct pod_store *s, const char *id, int *ret_fd, struct pod_error *reterr);
/* O_DIRECTORY fd of the image rendered with its dependencies (spec section 8): the
 * dependencies depth-first in listed order, then the image, later layers overriding earlier
 * ones (a symlink in the way is replaced, never followed), files kept only if the non-empty
 * pathWhitelist of their image and of every image above it lists them.  The dependencies are
 * resolved in the store as `pod fetch` fetched them (imageID, else name + labels with the
 * image's os/arch).  The tree holds `manifest` (the image's), `rootfs/` and `rendered`; it is
 * cas/tree/deps-<sha512 of the comma-joined layer IDs>, built once under a lock, or the
 * image's own tree when there is nothing to layer or filter.  *ret_name (may be NULL) gets
 * the tree's name.  Marks every layer used.  -ENOENT a dependency is not stored, -ELOOP a
 * cycle or a chain deeper than 32, -E2BIG more than 256 layers, -EMEDIUMTYPE a dependency's
 * name or size differs from the manifest's. */
int pod_store_render_tree(struct pod_store *s, const char *id, int *ret_fd, char **ret_name,
                          struct pod_error *reterr);
/* Sets last used to now (run and render call this). */
int pod_store_touch(struct pod_store *s, const char *id, struct pod_error *reterr);

/* Pins: an image a pod is being prepared from must not be removed under it.  pod_store_pin()
 * takes a shared lock on cas/locks/<id>.use, held by this handle until pod_store_unpin_all()
 * or pod_store_free(), and then checks that the image is still in the index (-ENOENT with a
 * message saying it was removed meanwhile).  After pod_store_pin_renders(), every image
 * pod_store_render_tree() reads (the image and each dependency) is pinned before it is read.
 * remove and gc take the pin lock exclusively without waiting: a pinned image is kept
 * (remove: -EBUSY; gc reports it as an "in-use image"); a handle's own pins do not keep an
 * image from its own remove.  pod_store_import_fd() pins the image it imported (before
 * it releases the image lock), so what a fetch just imported stays until the handle ends. */
int pod_store_pin(struct pod_store *s, const char *id, struct pod_error *reterr);
void pod_store_pin_renders(struct pod_store *s);
void pod_store_unpin_all(struct pod_store *s);

/* The in-use rule: an image a pod was made from (in any state until the pod is removed),
 * and each image its rendered tree came from, is never removed.  The store does not know
 * pods: the caller (stage0, podusers.h) gives a function that says which pods use image id
 * (1 with *ret_users "uuid[, uuid...]", 0 none, -errno).  remove and gc call it after they
 * took the image's pin lock exclusively (pins above), so a prepare that pinned the image
 * is either seen by the lock or has written its record (podusers.h) before it unpinned. */
void pod_store_set_users(struct pod_store *s,
                         int (*users)(const char *id, char **ret_users, void *userdata),
                         void *userdata);
/* The IDs this handle pins (NULL-terminated), e.g. every image a prepare rendered. */
int pod_store_pinned(struct pod_store *s, char ***ret_ids);

/* -EBUSY: pinned (above) or used by a pod (the message names the pods); nothing is removed
 * then. */
int pod_store_remove(struct pod_store *s, const char *id, struct pod_error *reterr);

/* Copies the stored ACI to path (temp file + rename): the same bytes that were imported. */
/* An existing path is replaced only with overwrite, else -EEXIST (nothing written). */
int pod_store_export(struct pod_store *s, const char *id, const char *path, bool overwrite,
                     struct pod_error *reterr);

enum {
        POD_STORE_EXTRACT_ROOTFS_ONLY = 1 << 0, /* dir gets the rootfs contents only */
        POD_STORE_EXTRACT_OVERWRITE = 1 << 1,   /* replace an existing dir */
        POD_STORE_EXTRACT_RENDER = 1 << 2,      /* with dependencies (pod_store_render_tree) */
        /* keep set-uid/set-gid bits and security.capability (dropped by default: the tree is
         * the caller's, outside the private store) */
        POD_STORE_EXTRACT_KEEP_PRIVILEGES = 1 << 3,
};
/* Unpacks the stored ACI again into dir (built next to it, renamed in at the end), checking
 * that it still hashes to id; with RENDER an image with dependencies or a pathWhitelist is
 * copied from its rendered tree instead.  -EEXIST if dir exists without OVERWRITE. */
int pod_store_extract(struct pod_store *s, const char *id, const char *dir, unsigned flags,
                      struct pod_error *reterr);

/* Checks the blob's size and SHA-512 of its stored bytes against the index (recorded at
 * import; stores from before that check that decompression consumes the whole blob), re-hashes
 * its uncompressed tar against the ID and compares the tree with the archive (entries
 * present, types, sizes, symlink targets, manifest bytes, rendered marker).  -EBADMSG with a
 * message naming the image and the damage. */
int pod_store_verify(struct pod_store *s, const char *id, struct pod_error *reterr);

/* Removes images not used within grace_usec, orphaned blobs and trees, stale temp dirs.
 * removed(what, name) is called for each removal ("image", "tree", "blob", "tmp"). */
int pod_store_gc(struct pod_store *s, uint64_t grace_usec,
                 void (*removed)(const char *what, const char *name, void *userdata),
                 void *userdata, struct pod_error *reterr);

/* "NAME:VERSION" (the version label), or NAME without one: the name rkt's `image list`
 * showed (a converted OCI image: "registry/repository:tag").  NULL: out of memory. */
char *pod_store_image_name_version(const struct pod_store_image *i);
/* JSON array of images for `image list --format=json` (pretty: tab-indented, as rkt's
 * json-pretty).  Each element is rkt's api/v1 ImageListEntry (id, name as
 * pod_store_image_name_version(), import_time and last_used_time in ns since the epoch, size
 * in bytes, all numbers) plus pod's own fields: labels, blobSize, latest, dockerNames,
 * registryDigest, provenance. */
int pod_store_images_to_json(struct pod_store_image *const *l, size_t n, bool pretty, char **ret);
/* One image as a JSON object (the list's element), for `pod image status`. */
int pod_store_image_to_json(const struct pod_store_image *i, bool pretty, char **ret);
/* Re-indents manifest JSON text as `pod cat-manifest` does (tabs, rkt's
 * json.MarshalIndent); -EBADMSG if it does not parse. */
int pod_store_manifest_pretty(const char *text, size_t size, char **ret);

/* Per-URL HTTP cache records (spec section 6.4). */
struct pod_store_remote {
        char *aci_url;
        char *sig_url;          /* may be NULL */
        char *etag;             /* may be NULL */
        char *image_id;         /* sha512-<128 hex> */
        uint64_t max_age;       /* seconds; 0 = always revalidate */
        uint64_t download_time; /* usec since the epoch */
};
struct pod_store_remote *pod_store_remote_free(struct pod_store_remote *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_store_remote *, pod_store_remote_free)
/* -ENOENT if there is no record, or if it names an image no longer stored. */
int pod_store_remote_get(struct pod_store *s, const char *aci_url, struct pod_store_remote **ret,
                         struct pod_error *reterr);
/* Inserts or replaces the record for r->aci_url. */
int pod_store_remote_put(struct pod_store *s, const struct pod_store_remote *r,
                         struct pod_error *reterr);
