/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Writing and checking ACI files (spec section 2) outside the store.
 * Build: DIR holds `manifest` and `rootfs/`; the manifest is validated; the tar is
 * deterministic: entries sorted bytewise, numeric owners only (no user/group names),
 * atime/ctime dropped, pax headers only where ustar cannot say it, and with `reproducible`
 * every mtime set to SOURCE_DATE_EPOCH (or 0) and no timestamp in the gzip header.  Hard
 * links, symlinks, devices, fifos, xattrs and ACLs are kept.
 * Validate: the checks of an import (structure, hostile entries, manifest) without writing.
 * Owns: the archive writer.  Does not own: reading (unpack.h) or manifests (manifest.h). */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "unpack.h"

struct pod_idmap;
struct pod_image_manifest;
struct pod_limits;

struct pod_aci_build_options {
        enum pod_compression compression; /* default (0 = none); verbs default to gzip */
        bool reproducible;
        uint64_t mtime; /* used when reproducible: SOURCE_DATE_EPOCH or 0 */
        bool overwrite; /* replace an existing out; without it -EEXIST and nothing written */
        /* A --private-users pod's tree (pod export): every owner, group, v3 capability root
         * ID and ACL ID is shifted back by unshift->base (idunshift.h); an ID outside the
         * range fails the build with -ERANGE naming the file.  NULL: IDs as they are. */
        const struct pod_idmap *unshift;
};

/* Writes dir as an ACI to out (temp file next to it, renamed at the end; an existing out is
 * replaced only with o->overwrite, else -EEXIST, checked atomically at the rename); *ret_id
 * (may be NULL) gets the image ID of the result. */
int pod_aci_build(const char *dir, const char *out, const struct pod_aci_build_options *o,
                  char **ret_id, struct pod_error *reterr);

/* The bytes of the `manifest` entry of the ACI in fd (read from offset 0, rewound after),
 * without extracting anything (aci-peek.c), within limits (NULL: pod_limits_default):
 * -ENOENT no manifest, -EFBIG a limit hit, -EBADMSG corrupt, -EMEDIUMTYPE not an ACI. */
int pod_aci_peek_manifest(int fd, const struct pod_limits *limits, char **ret, size_t *ret_size,
                          struct pod_error *reterr);

/* Reads the ACI from fd through every import check; returns the ID and parsed manifest. */
int pod_aci_validate(int fd, char ret_id[POD_IMAGE_ID_SIZE], struct pod_image_manifest **ret,
                     struct pod_error *reterr);
