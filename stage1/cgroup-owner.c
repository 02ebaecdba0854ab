/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The delegated cgroup of a --private-users pod belongs to the pod's root (stage1/ABI.md
 * "User namespace"), as systemd-nspawn --private-users makes it: the directory and the files
 * the kernel lists in /sys/kernel/cgroup/delegate (cgroup.procs, cgroup.threads,
 * cgroup.subtree_control, and on newer kernels memory.oom.group and memory.reclaim) are
 * chowned to host BASE:BASE, which is what "delegating a cgroup to a user" means in the
 * kernel's cgroup-v2 documentation ("Delegation").  The owner may then create sub-cgroups
 * below it, move its own processes between them and hand controllers down; every limit set on
 * the delegated cgroup itself (memory.max, cpu.max, the device program: root's files, or
 * systemd's) still bounds the whole subtree.
 *
 * Owns: only the chown.  Which cgroup is delegated is the callers': stage1's own cgroup when it
 * is the cgroup of a unit with Delegate=yes (our scope, or a kept unit that says so) and the
 * pod has no per-app limits; else each app's sub-cgroup (cgroup.c), never the unit's cgroup
 * that hands the per-app limits down nor its pod/ leaf where stage1 and the pod init live.
 * cgroup v2 only: systemd delegates no v1 hierarchy, and a chowned v1 cgroup would be a way
 * out of its limits.  limits.c's cgroups (no systemd) are not chowned (see ABI.md).
 *
 * The pod does not see the cgroup file system (its /sys is a fresh sysfs without the cgroup
 * mounts, and it has no cgroup namespace): this is for tools on the host that go by the
 * owner, as for systemd-run -p Delegate=yes and nspawn. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "stage1.h"

#define CGROUP_ROOT   "/sys/fs/cgroup"
#define DELEGATE_LIST "/sys/kernel/cgroup/delegate"

/* Kernels before 4.15 have no delegate list: the three files every v2 kernel delegates. */
static const char default_delegate[] = "cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n";

int stage1_cgroup_chown_fd(const struct stage1_config *c, int cg_fd, const char *path,
                           struct pod_error *reterr) {
        _cleanup_free_ char *list = NULL;
        struct statfs sfs;
        uid_t uid = c->idmap.base;
        gid_t gid = c->idmap.base;
        int r;

        if (!c->private_users)
                return 0;
        if (fstatfs(cg_fd, &sfs) < 0)
                return pod_error_set(reterr, -errno, "Failed to inspect cgroup '%s': %m", path);
        if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
                log_debug("cgroup '%s' is not cgroup v2: not delegated to the pod's root", path);
                return 0;
        }
        r = read_full_file_at(AT_FDCWD, DELEGATE_LIST, 4096, &list, NULL);
        if (r < 0) {
                log_debug_errno(r, "Failed to read " DELEGATE_LIST ", using the basic list: %m");
                list = strdup(default_delegate);
                if (!list)
                        return -ENOMEM;
        }
        for (char *name = list, *next; name && *name; name = next) {
                next = strchr(name, '\n');
                if (next)
                        *next++ = 0;
                /* Names of the cgroup's own files; anything else is not the kernel's list. */
                if (!*name || strchr(name, '/') || name[0] == '.')
                        continue;
                if (fchownat(cg_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
                        /* memory.reclaim and memory.oom.group exist only where the memory
                         * controller is enabled for the cgroup. */
                        if (errno == ENOENT)
                                continue;
                        return pod_error_set(reterr, -errno,
                                             "Failed to give '%s/%s' to the pod's root (%u): %m",
                                             path, name, (unsigned)uid);
                }
        }
        /* The directory last: until then nothing of it is the pod's. */
        if (fchown(cg_fd, uid, gid) < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to give cgroup '%s' to the pod's root (%u): %m", path,
                                     (unsigned)uid);
        log_debug("cgroup '%s' delegated to the pod's root (host %u)", path, (unsigned)uid);
        return 0;
}

int stage1_cgroup_chown_own(const struct stage1_config *c, const struct stage1_scope *scope,
                            struct pod_error *reterr) {
        _cleanup_free_ char *own = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* Per-app limits: cgroup.c gives each app's sub-cgroup instead. */
        if (!c->private_users || c->rootless || c->per_app_limits || !stage1_scope_delegated(scope))
                return 0;
        r = stage1_cgroup_own(&own);
        if (r == -ENOENT) {
                log_debug("No cgroup v2 membership: no cgroup to delegate to the pod's root");
                return 0;
        }
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to find our cgroup: %m");
        /* Never the root cgroup, whatever /proc/self/cgroup said. */
        if (streq(own, "/"))
                return pod_error_set(reterr, -EINVAL,
                                     "The pod's unit '%s' is in the root cgroup: not delegating "
                                     "it to the pod's root",
                                     stage1_scope_unit(scope));
        if (asprintf(&path, CGROUP_ROOT "%s", own) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open cgroup '%s': %m", path);
        return stage1_cgroup_chown_fd(c, fd, path, reterr);
}
