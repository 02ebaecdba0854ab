/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* pod's state directory (--dir) and the directories pod keeps directly in it (cas/, pods/):
 * private to their owner.  The store and the pod dirs hold set-uid-root and file-capability
 * binaries from images, usable inside pods; a host user who could walk into them could run
 * them on the host (containers/storage keeps its root 0700 for the same reason).
 * Created 0700; found with other modes (a store from before this rule had 0755), they are
 * set to 0700 when the caller owns them.  As root, a state directory owned by another user is
 * refused: its owner could open it again, or swap what root writes there.
 * Owns: the mode and owner rule of these directories.  Does not own: what lives in them
 * (store.h, poddir.h). */

#include <stdbool.h>

#include "error.h"

/* Opens path (relative to dir_fd, or absolute) as a private state directory, creating it (and
 * missing parents 0755) when create is set.  With dir_fd == AT_FDCWD the path may go through
 * symlinks (an admin's /var/lib/pod -> /srv/pod); below an fd the last component must not be
 * a symlink.  -ENOENT missing (create unset), -EPERM owned by another user while running as
 * root; reterr says which directory and why. */
int pod_statedir_open(int dir_fd, const char *path, bool create, int *ret_fd,
                      struct pod_error *reterr);
