/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Flattening overlayfs-format layer trees into one plain tree, as overlayfs would show them
 * merged: for `--no-overlay` pods, `pod image extract` of OCI images and `pod export`.
 * A whiteout (character device 0/0) in a layer removes the path from the layers below it;
 * a directory with trusted.overlay.opaque="y" (user.overlay.opaque="y" in a rootless store)
 * hides the contents of the same directory in the layers below.  Neither appears in the result.
 * Nothing is followed: symlinks are copied as symlinks, a symlink or file in the way of a directory
 * of an upper layer is replaced. Owns: the merge.  Does not own: where layers are (store-oci.h). */

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum {
        /* keep set-uid/set-gid bits and security.capability (off: dropped, for a tree handed to
         * a user outside the private store) */
        POD_LAYER_MERGE_KEEP_PRIVILEGES = 1 << 0,
        /* hard-link regular files instead of copying (falls back to a copy across file systems
         * and for files with attributes a link would share wrongly) */
        POD_LAYER_MERGE_LINK = 1 << 1,
};

/* Merges the directories lower_fds[0] (BOTTOM) .. lower_fds[n-1] (top) into the empty
 * directory to_fd.  -errno with reterr naming the path that failed. */
int pod_layer_merge(const int *lower_fds, size_t n, int to_fd, unsigned flags,
                    struct pod_error *reterr);
