/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `pod export`: an exited single-app pod's root file system written as an ACI.
 *
 * The tree is what the app saw last: the overlay upper dir (its writes, whiteouts and
 * opaque dirs) over the image tree.  Rather than reimplementing overlayfs' merge rules,
 * the kernel does the merge: in a forked child with a private mount namespace both dirs
 * are mounted as a read-only overlay (upper as the top lower layer, no upper dir: nothing
 * is written), and the ACI writer (aci.h) walks that.  A pod run with --no-overlay has no
 * upper dir: its private copy is the tree, bind-mounted read-only.  The manifest is the
 * app's image manifest (appsinfo/<app>/manifest).
 *
 * Owns: building the merged view and handing it to the writer.  Does not own: the pod's
 * state or locking (the caller holds a shared lock so that gc cannot sweep the pod
 * meanwhile), the archive format (aci.h). */

#include <stdbool.h>

#include "aci.h"
#include "error.h"

/* pod_fd: the pod directory.  Refuses pods with more than one app (-EOPNOTSUPP) and an
 * existing out without overwrite (-EEXIST).  *ret_id (may be NULL) gets the new image ID. */
int pod_export_rootfs(int pod_fd, const char *out, bool overwrite,
                      const struct pod_aci_build_options *o, char **ret_id,
                      struct pod_error *reterr);
