/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Step 4: switch the app's mount namespace to its rootfs.  pivot_root(2) rather than
 * chroot(2): a chroot leaves the host tree reachable (a process with CAP_SYS_CHROOT escapes
 * with a second chroot and "..", and the host's mounts stay in the namespace).  pivot_root(".",
 * ".") stacks the old root on top of the new one, and the lazy unmount then drops the whole
 * host tree from this namespace (pivot_root(2), "NOTES"). */
#include <sys/mount.h>
#include <unistd.h>

#include "error.h"
#include "stage1.h"
#include "syscall.h"

int stage1_pivot(const char *root, struct pod_error *reterr) {
        if (chdir(root) < 0)
                return pod_error_set(reterr, -errno, "Failed to enter '%s': %m", root);
        if (sys_pivot_root(".", ".") < 0)
                return pod_error_set(reterr, -errno, "Failed to pivot_root into '%s': %m", root);
        if (umount2(".", MNT_DETACH) < 0)
                return pod_error_set(reterr, -errno, "Failed to detach the old root: %m");
        if (chdir("/") < 0)
                return pod_error_set(reterr, -errno, "Failed to enter the new root: %m");
        return 0;
}
