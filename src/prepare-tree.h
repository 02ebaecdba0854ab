/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The app trees of a pod (part of prepare.h, kept apart for the size cap): what stage1
 * mounts as each app's root (stage1/ABI.md "Files in the pod directory").
 *
 *   - overlay pods: the store's trees themselves are the lower dirs: an appc image's
 *     rendered tree (with its dependencies, store.h) or an OCI image's layers (store-oci.h),
 *     listed in stage1/rootfs/opt/stage2/<app>/lowers (absolute real paths, top first, one a
 *     line), beside an empty rootfs/ that is the mount point.  Nothing is created per file:
 *     a pod's start does not depend on the size of its image (issue 16).  Trees without the
 *     store's lower-ok marker (imported by older versions: they may carry trusted.*; the
 *     marker and the OCI layer store are younger than the filter of trusted.* and
 *     user.overlay.*, xattr-util.h, so no lower dir listed carries an image's own) are
 *     hard-linked file by file into rootfs/ instead, with the attribute filter, as before;
 *   - --no-overlay pods: a private copy in rootfs/ (an OCI image's layers flattened by
 *     layer-merge.h), which the apps write to.
 *
 *   - --private-users pods whose ownership is chown (userns-alloc.h): the lower dirs are
 *     chown-shifted copies of the same trees, kept in the store (store-shift.h); auto becomes
 *     map or chown at the first lower dir, by trying to idmap it (pod_idmap_supported()).
 *
 * Owns: the choice and the writing of those files.  Does not own: the store's guarantees
 * about its trees (store.h), the mount (stage1/mount.c). */

#include <stdbool.h>

#include "error.h"
#include "idmap.h"
#include "userns-alloc.h"

struct pod_store;

/* A --private-users pod's range and how its IDs reach the image's files; ownership AUTO is
 * resolved (to MAP or CHOWN) by the first pod_prepare_app_tree() that has a lower dir. */
struct pod_prepare_shift {
        struct pod_idmap map;
        enum pod_userns_ownership ownership;
};

/* The file in stage1/rootfs/opt/stage2/<app>/ that lists the lower dirs. */
#define POD_PREPARE_LOWERS "lowers"
/* At most this many lower dirs (overlayfs' own limit is 500; Docker's layers 127). */
#define POD_PREPARE_LOWERS_MAX 500

/* shift: NULL without --private-users. */
int pod_prepare_app_tree(struct pod_store *s, int pod_fd, const char *app, const char *id,
                         bool private_copy, struct pod_prepare_shift *shift, bool sync,
                         struct pod_error *reterr);
