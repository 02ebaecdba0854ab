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
 *   - fuse-overlayfs (rootless pods only): the same overlay served by the fuse-overlayfs
 *     program (Debian's fuse-overlayfs) over the FUSE device, where the kernel refuses its own
 *     overlayfs in a user namespace (Linux before 5.11, an upper dir it does not take);
 *     stage1 mounts it and runs the program outside the pod (stage1/fuse-overlay.c);
 *   - auto (the default): overlay for root-started pods, as always; for a rootless pod,
 *     overlay when a probe mount of the same kind next to the pods works, else
 *     fuse-overlayfs when it is installed and /dev/fuse opens, else copy, with one note on
 *     stderr naming the reason.  The probe runs in a forked child in a mount
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
        POD_ROOTFS_FUSE,
        _POD_ROOTFS_MODE_MAX,
        _POD_ROOTFS_MODE_INVALID = -EINVAL,
};

/* "auto", "overlay", "copy", "fuse-overlayfs"; -EINVAL for anything else. */
int pod_rootfs_mode_from_string(const char *s);
const char *pod_rootfs_mode_to_string(enum pod_rootfs_mode m);

/* rootfs.conf: "rootfs = auto|overlay|copy|fuse-overlayfs" and "fuse-overlayfs = PATH|no"
 * (the program, or none: auto then never takes it). */
struct pod_rootfs_conf {
        enum pod_rootfs_mode mode;
        char *fuse_overlayfs; /* NULL: not set (the program is looked for) */
};
int pod_rootfs_conf_load_full(const char *vendordir, const char *sysconfdir,
                              struct pod_rootfs_conf *ret, struct pod_error *reterr);

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

/* fuse-overlayfs for this process: the absolute path of the program (configured, from
 * rootfs.conf: a path, or "no" for none; NULL: the first "fuse-overlayfs" in $PATH, else
 * /usr/bin's) in *ret_path, once /dev/fuse opens for reading and writing; -ENOENT (not
 * installed, turned off) or the -errno of the path or of /dev/fuse, with reterr saying which. */
int pod_rootfs_fuse_find(const char *configured, char **ret_path, struct pod_error *reterr);

/* Whether r (from the probe) is the kernel refusing overlayfs (EPERM, EINVAL, ENODEV,
 * EOPNOTSUPP): what "auto" falls back to a copy for.  Anything else is an error. */
bool pod_rootfs_probe_refused(int r);
