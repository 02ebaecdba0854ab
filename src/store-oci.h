/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Docker/OCI images in the store (issue 12): layers stored once, content-addressed, unpacked
 * once into overlayfs lower dirs; images that list them; tags that name images.
 *
 * Layout under DIR, beside the appc store (store.h):
 *   cas/blob/sha256/<2 hex>/<64 hex>   a layer blob exactly as published (compressed or not),
 *                                      named by its digest, 0444.  Kept for export and verify.
 *   cas/layer/sha256-<64 hex>/         one layer, named by its diff_id (sha256 of the
 *                                      uncompressed tar): rootfs/ (the layer tree: whiteouts
 *                                      as overlayfs whiteouts, i.e. 0/0 character devices, opaque
 *                                      dirs with trusted.overlay.opaque="y" (rootless store:
 *                                      user.overlay.opaque="y"); no other trusted.*
 *                                      xattr can be in it) and `rendered` (written last; the
 *                                      layer appears by one rename).  Never written after that:
 *                                      pods use rootfs/ directly as a read-only lower dir.
 *   index tables (same SQLite db):     oci_blobs (digest -> diff_id, size, media type),
 *                                      oci_layers (diff_id, unpacked size), oci_images (image
 *                                      ID -> config, manifest, registry digest), oci_image_layers
 *                                      (image ID, position, diff_id, blob digest), oci_tags
 *                                      (registry, repository, tag -> image ID), oci_digests
 *                                      (registry, repository, registry digest -> image ID);
 *                                      registry and repository '' for an image without a name.
 *   cas/locks/layer-<hex>.{lock,use}   per-layer flock: import commit and gc of one layer are
 *                                      serialised; an importer holds .use (shared) until its
 *                                      handle's pins go, so gc keeps a layer fetched for an
 *                                      image not committed yet.
 * An OCI image is also an ordinary row of the images table (store.h: list, resolve by ID,
 * rm, gc, provenance, pins work unchanged), with the appc manifest converted from its config
 * (oci.h) as its manifest, so prepare and stage1 see an app as for any ACI.  Its image ID is
 * "sha512-" + SHA-512 of the config bytes: the same image from a registry, a `docker save`
 * archive or an OCI layout has one ID.
 *
 * Layers are removed by gc once no image lists them (the images-table rules decide when an
 * image goes).  Pods use the layer trees directly, so an image used by a pod is never
 * removed (store.h's in-use rule) and therefore neither are its layers.
 *
 * Owns: layer import (verify while streaming, unpack with whiteout conversion, limits),
 * the OCI tables, commit of an image, tag resolution, the lower-dir list of an image, layer
 * gc, export/extract/verify of OCI images.  Does not own: JSON (oci.h), the network
 * (registry.h), archives (oci-archive.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct pod_limits;
struct pod_provenance;
struct pod_store;

struct pod_store_oci_layer {
        const char *digest;     /* "sha256:<64 hex>" of the blob, as the manifest lists it */
        const char *media_type; /* the manifest's layer media type (NULL: detect by content) */
        uint64_t size;          /* blob size as the manifest says; 0: unknown (docker save) */
        const char *diff_id;    /* "sha256:<64 hex>" from the config's rootfs.diff_ids */
};

/* 1 when the layer diff_id is stored (unpacked, complete), 0 when not.  A fetch downloads
 * only the layers this says 0 for. */
int pod_store_oci_have_layer(struct pod_store *s, const char *diff_id, struct pod_error *reterr);

/* Imports one layer from fd (read to EOF; a pipe is fine: one pass, no seek).  While the
 * bytes stream: their count and SHA-256 are checked against l->size and l->digest, they are
 * copied to the blob file, decompressed (gzip, zstd or none, by content; a media type that
 * names another compression is -EBADMSG), the tar's SHA-256 is checked against l->diff_id,
 * and every entry is checked (unpack.h's rules, plus whiteouts) and written.  Nothing becomes
 * visible unless every check passed: on any error the temp dir is removed.  The limits of
 * podlimits.h apply (unpacked size, ratio, free space).  A layer already stored succeeds at
 * once (the input is drained and still verified); concurrent imports of one layer both
 * succeed and store it once.  unpack_flags: POD_UNPACK_ALLOW_DEVICES.
 * -EBADMSG digest, size or diff_id mismatch (the message gives expected and actual),
 * -EFBIG/-ENOSPC limits, unpack.h's errors for hostile entries. */
int pod_store_oci_import_layer_fd(struct pod_store *s, int fd, const struct pod_store_oci_layer *l,
                                  const struct pod_limits *limits, unsigned unpack_flags,
                                  struct pod_error *reterr);

struct pod_store_oci_image {
        const char *registry;        /* "registry-1.docker.io", "127.0.0.1:5000"; NULL for an
                                      * archive image without a name */
        const char *repository;      /* "library/busybox"; NULL with registry NULL */
        const char *tag;             /* NULL: untagged (pulled by digest, or no name) */
        const char *manifest_digest; /* "sha256:..." the registry's digest of manifest; NULL
                                      * when the image came without one (docker save) */
        const char *manifest;        /* the image manifest bytes, NULL for docker save */
        size_t manifest_size;
        const char *config; /* config bytes, already checked against their digest */
        size_t config_size;
        const struct pod_store_oci_layer *layers; /* bottom first */
        size_t n_layers;
        const struct pod_provenance *provenance; /* NULL: none recorded */
};

/* Makes an image of stored layers visible: checks that every layer is stored and that the
 * config's diff_ids are exactly the layers' diff_ids, converts the config to the appc
 * manifest (oci.h), writes the index rows (image, its layers, its tag: a tag moves to the new
 * image, as docker's do) in one transaction, pins the image (store.h) and returns its ID.
 * Committing an image that exists adds the tag and the registry digest.
 * -EBADMSG diff_id mismatch or a config that does not parse, -ENOENT a layer is not stored. */
int pod_store_oci_commit(struct pod_store *s, const struct pod_store_oci_image *img, char **ret_id,
                         struct pod_error *reterr);

/* The image registry/repository has under tag, or under the registry digest (one of tag and
 * digest is given).  -ENOENT when none. */
int pod_store_oci_resolve(struct pod_store *s, const char *registry, const char *repository,
                          const char *tag, const char *digest, char **ret_id,
                          struct pod_error *reterr);

/* Whether id is an OCI image: 1 yes, 0 an appc image, -ENOENT unknown. */
int pod_store_oci_is_oci(struct pod_store *s, const char *id, struct pod_error *reterr);

/* The overlayfs lower dirs of OCI image id: absolute paths of the layers' rootfs/ dirs, TOP
 * layer first (overlayfs lowerdir order), NULL-terminated.  Marks the image used. */
int pod_store_oci_lowers(struct pod_store *s, const char *id, char ***ret_paths,
                         struct pod_error *reterr);

/* What `image list` shows for an OCI image: "docker://registry/repository:tag" for each tag
 * (NULL-terminated, may be empty), the registry digest (or NULL). */
int pod_store_oci_names(struct pod_store *s, const char *id, char ***ret_names,
                        char **ret_manifest_digest, struct pod_error *reterr);

/* ---- Read side, for `image export` and `cat-manifest --oci` (oci-archive.c) ---- */
struct pod_store_oci_info {
        char *config; /* the config bytes (their SHA-512 is the image ID) */
        size_t config_size;
        char *config_digest; /* "sha256:..." of config */
        char *manifest;      /* the image manifest bytes as imported; NULL (docker save) */
        size_t manifest_size;
        char *manifest_digest; /* the registry digest; NULL when none */
        /* bottom first; the strings belong to the info; size is the stored blob's size and
         * media_type is NULL when none was recorded (docker save) */
        struct pod_store_oci_layer *layers;
        size_t n_layers;
};
struct pod_store_oci_info *pod_store_oci_info_free(struct pod_store_oci_info *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_store_oci_info *, pod_store_oci_info_free)
/* What the store holds for OCI image id.  -ENOENT unknown, -EMEDIUMTYPE an appc image. */
int pod_store_oci_get_info(struct pod_store *s, const char *id, struct pod_store_oci_info **ret,
                           struct pod_error *reterr);
/* The config bytes of a stored OCI image whose config digest is config_digest, re-checked
 * against it (a damaged row is -EBADMSG): a re-pull of a stored image needs no config
 * download.  -ENOENT when no stored image has it. */
int pod_store_oci_find_config(struct pod_store *s, const char *config_digest, char **ret,
                              size_t *ret_size, struct pod_error *reterr);
/* Read-only fd of the stored layer blob digest (cas/blob/sha256/...).  -ENOENT none. */
int pod_store_oci_open_blob(struct pod_store *s, const char *digest, int *ret_fd,
                            struct pod_error *reterr);
