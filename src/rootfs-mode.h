/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How a pod's app trees are made (issue 14, "Root file system"): --rootfs= of pod run and
 * pod prepare, its configured default (rootfs.conf, pod-config(1)), and the probe that
 * decides "auto" for a rootless pod.
 *   - overlay: kernel overlayfs over the store's trees (prepare-tree.h); in a user namespace
 *     with `userxattr` (Linux 5.11+), which the kernel may refuse (older kernels, a file
 *     system it does not allow as an upper dir there, a distribution's policy);
 *   - copy: a private copy of the image per pod (--no-overlay), which works everywhere and
 *     costs time and space in proportion to the image;
 *   - auto (the default): overlay for root-started pods, as always; for a rootless pod,
 *     overlay when a probe mount of the same kind next to the pods works, else copy with
 *     one note on stderr naming the reason.  The probe runs in a forked child in a mount
 *     namespace of its own (the mount dies with it): nothing of it outlives the call.
 * POD_TEST_OVERLAY_PROBE=refuse makes the probe fail with EPERM without mounting (the tests'
 * way to a refusal on kernels that allow everything); it can only turn overlay off, and the
 * copy it leads to is the mode any user may pick: no weakening.
 * Owns: the mode names, rootfs.conf, the probe.  Does not own: the trees (prepare-tree.h),
 * the mount of a pod (stage1/mount.c). */

#include <errno.h>
#include <stdbool.h>

#include "error.h"

#define POD_ROOTFS_CONF_FILE      "rootfs.conf"
#define POD_ROOTFS_PROBE_TEST_ENV "POD_TEST_OVERLAY_PROBE"

enum pod_rootfs_mode {
        POD_ROOTFS_AUTO,
        POD_ROOTFS_OVERLAY,
        POD_ROOTFS_COPY,
        _POD_ROOTFS_MODE_MAX,
        _POD_ROOTFS_MODE_INVALID = -EINVAL,
};

/* "auto", "overlay", "copy"; -EINVAL for anything else. */
int pod_rootfs_mode_from_string(const char *s);
const char *pod_rootfs_mode_to_string(enum pod_rootfs_mode m);

/* `rootfs = auto|overlay|copy` from rootfs.conf in vendordir and then sysconfdir (either may
 * be NULL; the latter wins); AUTO without any.  A bad line is an error naming file and line. */
int pod_rootfs_conf_load(const char *vendordir, const char *sysconfdir, enum pod_rootfs_mode *ret,
                         struct pod_error *reterr);

/* Whether this process (root of a user namespace, rootless.h) can mount kernel overlayfs
 * with `userxattr` whose upper and lower dirs are on the file system of dir_fd: a temporary
 * directory is made there and removed again.  0: it can; the mount's -errno when the kernel
 * refused it; any other failure (making the directories, fork) also as -errno, with reterr
 * saying which step failed. */
int pod_rootfs_probe_overlay(int dir_fd, struct pod_error *reterr);

/* Whether r (from the probe) is the kernel refusing overlayfs (EPERM, EINVAL, ENODEV,
 * EOPNOTSUPP): what "auto" falls back to a copy for.  Anything else is an error. */
bool pod_rootfs_probe_refused(int r);
