/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Docker and OCI image archives (issue 12): `pod image import` of a `docker save` tar (the
 * classic layout with manifest.json and <id>/layer.tar, and docker 25's, an OCI layout inside
 * the tar), of an OCI image layout directory and of an OCI layout tar; `pod image export` of
 * a stored OCI image as one tar that is both an OCI layout and a `docker save` archive.
 *
 * A tar is never unpacked to disk: its member table is read once (headers only, seeking
 * over the data), the small JSON members (manifest.json, index.json, manifests, configs) are
 * read with pread() and checked against their digests before use, and each layer member is
 * streamed through a pipe into pod_store_oci_import_layer_fd(), which verifies its digest and
 * diff_id while it unpacks.  A layout directory's blobs are opened with openat2(RESOLVE_BENEATH
 * | RESOLVE_NO_SYMLINKS): a symlinked or escaping blob is refused.  Every image of the archive
 * is checked (all JSON, all members present) before the first layer is imported, and an image
 * becomes visible only by pod_store_oci_commit(), so a failure leaves no image behind (layers
 * imported before it are unreferenced and go at the next gc).
 *
 * Names: a docker save RepoTag "name:tag" is parsed as docker does (no registry: Docker Hub,
 * registry-1.docker.io, one-part names under library/).  An OCI layout names an image by the
 * annotation io.containerd.image.name (a full reference, docker 25 writes it) or
 * org.opencontainers.image.ref.name: a full reference, or a tag for the name given in
 * options.name; an image left without a name is imported untagged.
 *
 * Owns: archive reading and writing, member path rules, docker reference parsing of archive
 * tags.  Does not own: JSON shapes and platform choice (oci.h), layers and images in the store
 * (store-oci.h), the ACI import (store.h; pod_oci_archive_probe() tells the two apart). */

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct pod_limits;
struct pod_oci_platform;
struct pod_provenance;
struct pod_store;

/* Members of an archive tar, and entries of its manifest.json/index.json, are bounded. */
#define POD_OCI_ARCHIVE_MEMBERS_MAX 65536u
#define POD_OCI_ARCHIVE_IMAGES_MAX  1024u

enum pod_oci_archive_kind {
        POD_OCI_ARCHIVE_NONE,       /* not a Docker/OCI archive (an ACI, or anything else) */
        POD_OCI_ARCHIVE_DOCKER_TAR, /* manifest.json only: classic `docker save` */
        POD_OCI_ARCHIVE_OCI_TAR,    /* index.json (with or without manifest.json): docker 25+
                                     * `docker save`, `skopeo copy oci-archive:` */
        POD_OCI_ARCHIVE_OCI_DIR,    /* a directory holding oci-layout */
        _POD_OCI_ARCHIVE_KIND_MAX,
        _POD_OCI_ARCHIVE_KIND_INVALID = -EINVAL,
};

/* What path is, by content: a directory with an oci-layout file, or an uncompressed tar with
 * manifest.json and/or index.json at its top (and no ACI `manifest`).  A compressed file or a
 * tar without those members is POD_OCI_ARCHIVE_NONE (the caller imports it as an ACI).
 * -errno with reterr when path cannot be opened or a tar header is corrupt. */
int pod_oci_archive_probe(const char *path, enum pod_oci_archive_kind *ret,
                          struct pod_error *reterr);

struct pod_oci_archive_import_options {
        const struct pod_oci_platform *platform; /* index entries to pick; NULL: the host's */
        const char *name; /* "[REGISTRY/]NAME" for OCI tags that are only a tag; may be NULL */
        const struct pod_limits *limits;         /* podlimits.h; NULL: the defaults */
        unsigned unpack_flags;                   /* POD_UNPACK_ALLOW_DEVICES */
        const struct pod_provenance *provenance; /* recorded with each image; may be NULL */
};

/* Imports every image of the archive at path (any kind but NONE).  *ret_ids: the image IDs,
 * each once, in archive order (NULL-terminated).  -EBADMSG a malformed or lying archive (a
 * digest mismatch, a missing member or blob, a hostile member path, a symlinked blob), the
 * message naming the member; -EFBIG a JSON member above POD_OCI_JSON_MAX; -ENOENT no image
 * for the platform; store-oci.h's errors for layers. */
int pod_oci_archive_import(struct pod_store *s, const char *path,
                           const struct pod_oci_archive_import_options *o, char ***ret_ids,
                           struct pod_error *reterr);

/* Writes OCI image id to path as one uncompressed tar: oci-layout, index.json (one entry per
 * tag, annotated with org.opencontainers.image.ref.name = the tag and
 * io.containerd.image.name = the full reference, or one untagged entry), blobs/sha256/ (the
 * manifest, the config and the layers exactly as stored) and manifest.json (docker save's
 * Config/RepoTags/Layers, pointing into blobs/).  An image without a stored manifest (from
 * a classic docker save) gets a synthesised OCI manifest, the same bytes at every export.
 * Written to a temp file beside path and renamed in; an existing path is replaced only with
 * overwrite, else -EEXIST and nothing is written. */
int pod_oci_archive_export(struct pod_store *s, const char *id, const char *path, bool overwrite,
                           struct pod_error *reterr);

enum pod_oci_archive_what {
        POD_OCI_ARCHIVE_MANIFEST, /* the image manifest (the synthesised one for docker save) */
        POD_OCI_ARCHIVE_CONFIG,   /* the image config */
};

/* The stored registry manifest or config of OCI image id, exactly as stored (for
 * `cat-manifest --oci`). */
int pod_oci_archive_read_json(struct pod_store *s, const char *id, enum pod_oci_archive_what w,
                              char **ret, size_t *ret_size, struct pod_error *reterr);
