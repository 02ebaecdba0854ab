/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* User namespaces and idmapped mounts for --private-users (stage1/ABI.md "User namespace").
 * Owns: making a user namespace with one "0 BASE COUNT" map for uids and gids, held by an fd,
 * and idmapped clones of a directory (open_tree + mount_setattr(MOUNT_ATTR_IDMAP)).  Does not
 * own: choosing a range (src/userns-alloc.c) or where the clones are mounted (stage1). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pod_error;

struct pod_idmap {
        uint32_t base;  /* host ID of the namespace's 0; > 0 */
        uint32_t count; /* >= 1, base + count <= UINT32_MAX */
};

/* "BASE:COUNT" (decimal; stage1's --private-users=) into m; -EINVAL with a message naming the
 * value (a base of 0, a count of 0, an overflow, trailing text). */
int pod_idmap_parse(const char *s, struct pod_idmap *m, struct pod_error *reterr);

/* A new user namespace, child of ours, whose uid and gid maps are "0 base count" (written
 * by us, so setgroups(2) stays allowed in it).  Returns an O_RDONLY|O_CLOEXEC nsfs fd.  Needs
 * CAP_SETUID/CAP_SETGID over the IDs (root). */
int pod_idmap_userns(const struct pod_idmap *m, struct pod_error *reterr);

/* A detached, idmapped, recursive clone of the directory (or mount) dir_fd refers to, mapped
 * through userns_fd: host ID X is seen as X in the namespace's terms, so a file owned by host 0
 * appears owned by the namespace's 0 (host base) to processes inside, and is written as such.
 * Returns the clone's fd (usable as "/proc/self/fd/N" for a mount source or an overlay lower
 * dir, or moved with move_mount).  Fails with -EOPNOTSUPP and a message naming the file system
 * and the kernel when the file system or kernel cannot idmap (Linux < 5.12, 9p, ...). */
int pod_idmap_clone(int dir_fd, int userns_fd, bool recursive, struct pod_error *reterr);

/* Whether dir_fd's file system and the kernel can idmap it through a namespace of map m: 1 yes,
 * 0 no (*why, if not NULL, gets the reason, malloc'ed), < 0 another failure (reterr). */
int pod_idmap_supported(int dir_fd, const struct pod_idmap *m, char **why,
                        struct pod_error *reterr);

/* Whether host ID id is inside the map's range, and its ID in the namespace. */
static inline bool pod_idmap_contains(const struct pod_idmap *m, uint32_t id) {
        return id >= m->base && id - m->base < m->count;
}
