/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Chown-shifted copies of image trees, for --private-users pods where idmapped mounts are not
 * available (--private-users-ownership=chown, pod-run(1)): a copy of a lower dir whose every
 * owner, group, ACL entry and file capability root ID is moved into one ID range (N becomes
 * BASE+N), so that the pod's user namespace sees the image's IDs without an idmapped mount.
 *
 * Layout (part of the store, store.h): cas/shifted/<BASE>-<COUNT>/<key>/ holding
 *   rootfs/   the copy, used as the pod's overlay lower dir as it is;
 *   source    "<absolute path of the lower dir>\n<its inode>\n": what it is a copy of;
 *   shifted   written last (empty): the copy is complete.
 * <key> is 32 hex digits of the SHA-512 of the source's path and inode.  A copy is built in
 * cas/tmp/ and appears by one rename, under cas/locks/shift-<BASE>-<COUNT>-<key>.lock; one
 * without `shifted` (a crash) is replaced.  A copy is made once per range and lower dir and
 * kept: the next pod with that range and image reuses it.  It gets the same guarantees as the
 * trees it copies (store.h "Trees as the pods' lower dirs"): never written once published,
 * inside the 0700 cas/, attributes filtered (xattr_name_allowed(): no trusted.*, the ones
 * kept are re-checked here).  IDs >= COUNT cannot be shifted: the copy is refused, naming the
 * file (an idmapped mount would show them as the overflow ID instead).
 *
 * Reuse: pick prefers the ranges that have copies (pod_store_shift_ranges(), userns-alloc.h),
 * so pods of an image keep using one copy as long as one of those ranges is free.  A copy
 * of a range no pod holds stays: its files are inside the 0700 cas/, and the range is only
 * ever given to a pod again (pick skips host users and subuid ranges).
 *
 * Removal (pod_store_shift_gc, from `pod image gc`): a copy whose source is gone (path or
 * inode changed: the image was removed) or whose range no pod holds any more.  A pod holds
 * its range from its prepare to its removal, and its image cannot be removed while it exists,
 * so a copy is never removed under a pod.
 *
 * Owns: that layout, making, finding and removing copies.  Does not own: choosing the range
 * (userns-alloc.h), the ID formats (idunshift.h), when a pod uses a copy (prepare-tree.c). */

#include <stdint.h>

#include "error.h"
#include "idmap.h"

struct pod_store;

#define POD_STORE_SHIFTED_DIR "shifted"

/* The absolute path of the rootfs/ of the shifted copy of the directory at src (an absolute
 * path without symlinks: a lower dir as prepare-tree.c names it) for range m, made now if
 * there is none.  Errors name the file that could not be copied. */
int pod_store_shifted(struct pod_store *s, const char *src, const struct pod_idmap *m,
                      char **ret_path, struct pod_error *reterr);

/* The bases of the ranges of count IDs that have at least one complete copy, malloc'ed in
 * *ret (*ret_n of them; none: NULL, 0). */
int pod_store_shift_ranges(struct pod_store *s, uint32_t count, uint32_t **ret, size_t *ret_n);

/* pod_idmap_supported() on the store's trees' file system, through a namespace of map m. */
int pod_store_idmap_supported(struct pod_store *s, const struct pod_idmap *m, char **why,
                              struct pod_error *reterr);

/* Removes copies whose source is gone, and, with range_held (may be NULL), those of ranges for
 * which range_held(base, count, userdata) returns 0 (< 0: kept).  removed("shifted", name) is
 * called for each removed copy.  Returns how many were removed. */
int pod_store_shift_gc(struct pod_store *s,
                       int (*range_held)(uint32_t base, uint32_t count, void *userdata),
                       void *userdata,
                       void (*removed)(const char *what, const char *name, void *userdata),
                       void *removed_userdata);
