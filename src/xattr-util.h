/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which extended attributes of an image pod writes into a tree (the store's trees, the pods'
 * lower dirs and --no-overlay copies, `image extract`/`render` output), in one place.
 * Kept: user.* (but user.overlay.*, which overlayfs reads with `userxattr`), the POSIX ACLs
 * (system.posix_acl_access, system.posix_acl_default) and, unless asked otherwise,
 * security.capability (file capabilities, part of what an image's binaries are).
 * Dropped: trusted.* (trusted.overlay.* would steer the overlayfs that uses the tree as a
 * lower dir: opaque, redirect, metacopy), every other security.* (LSM labels: an image does
 * not choose its own SELinux/Smack/IMA/EVM metadata), and any namespace the kernel may add.
 * Owns: the name rule.  Does not own: reading or writing attributes (fd-util.h, unpack.h). */

#include <stdbool.h>

#define XATTR_CAPABILITY "security.capability"

enum {
        XATTR_KEEP_CAPS = 1 << 0, /* keep security.capability */
};

bool xattr_name_allowed(const char *name, unsigned flags);

/* Whether dir_fd/name (not followed if a symlink) carries an attribute xattr_name_allowed()
 * refuses under flags: 1 yes, 0 no (or none supported), negative errno. */
int xattr_has_refused_at(int dir_fd, const char *name, unsigned flags);
