/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What one pod's metadata service serves (struct pod_mds), as bytes: the pod init packs it
 * into a sealed memfd and the server, executed from the static pod-stage1-supervise (ABI.md
 * "Metadata service"), unpacks it.  The server checks every length, count and string and
 * refuses anything else, so a damaged or foreign blob never becomes a pointer.
 * Owns: the blob's format.  Does not own: fds, memfds or processes (stage1/mds.c,
 * stage1/mds-server.c). */

#include <stddef.h>

#include "mds.h"

#define POD_MDS_PACK_MAX (64u << 20) /* bytes: manifests are bounded far below this */

/* The blob for m, in a new buffer of *ret_size bytes.  -EINVAL if a string is NULL where
 * one is required or a count does not fit, -ENOMEM. */
int pod_mds_pack(const struct pod_mds *m, char **ret, size_t *ret_size);

/* The unpacked service: m borrows from the other fields. */
struct pod_mds_unpacked {
        struct pod_mds m;
        char *buf;
        struct pod_mds_app *apps;
        struct pod_kv *kvs;
};

/* Unpacks size bytes (copied) into a new *ret; -EBADMSG for anything but a whole blob as
 * pod_mds_pack() writes it (a token of POD_MDS_TOKEN_SIZE hex digits, a valid UUID, no NUL
 * inside a string, nothing after the end), -E2BIG above POD_MDS_PACK_MAX, -ENOMEM. */
int pod_mds_unpack(const void *data, size_t size, struct pod_mds_unpacked **ret);
/* Wipes the key; accepts NULL; returns NULL. */
struct pod_mds_unpacked *pod_mds_unpacked_free(struct pod_mds_unpacked *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_mds_unpacked *, pod_mds_unpacked_free);
