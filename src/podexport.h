/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `pod export`: an exited single-app pod's root file system written as an ACI.
 *
 * The tree is what the app saw last: the overlay upper dir (its writes, whiteouts and
 * opaque dirs) over the image tree.  Rather than reimplementing overlayfs' merge rules,
 * the kernel does the merge: in a forked child with a private mount namespace both dirs
 * are mounted as an overlay (the pod's upper dir as the top lower layer, a scratch upper dir
 * of the export's own on top: the pod's dirs are never written), and the ACI writer (aci.h)
 * walks that.  A pod run with --no-overlay has no
 * upper dir: its private copy is the tree, bind-mounted read-only.  The manifest is the
 * app's image manifest (appsinfo/<app>/manifest).  A pod with "private-users" (userns-alloc.h)
 * wrote host IDs BASE+N: its image trees are mounted idmapped through a user namespace with
 * its map (idmap.h), so every file of the merged view is in the range, and the writer shifts
 * them back (aci.h unshift); a file outside the range fails the export, naming it.
 *
 * Owns: building the merged view and handing it to the writer.  Does not own: the pod's
 * state or locking (the caller holds a shared lock so that gc cannot sweep the pod
 * meanwhile), the archive format (aci.h). */

#include <stdbool.h>

#include "aci.h"
#include "error.h"

/* pod_fd: the pod directory; app: the app to export (rkt's --app), NULL for the pod's only
 * app (a pod of several apps is then -EOPNOTSUPP; an unknown app -ENOENT).  Files stage1
 * generated in the app's /etc (hosts, resolv.conf) are left out, or the image's own restored,
 * unless the app changed them.  An existing out without overwrite is -EEXIST.  *ret_id (may
 * be NULL) gets the new image ID. */
int pod_export_rootfs(int pod_fd, const char *app, const char *out, bool overwrite,
                      const struct pod_aci_build_options *o, char **ret_id,
                      struct pod_error *reterr);
