/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Step 3: /dev.  A fresh tmpfs instead of the host's devtmpfs, holding exactly the nodes the
 * appc OS spec requires, each a bind mount of the host node (creating nodes would need
 * CAP_MKNOD and would bypass nothing: the bind is the same device).  The tmpfs is nodev, so a
 * node an app creates with its CAP_MKNOD cannot be opened; the binds are separate mounts
 * and keep working.  devpts is a new instance, so the pod cannot see or open the host's
 * ptys (devpts(5) "newinstance"; bubblewrap's setup_newroot()). */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "stage1.h"

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

static const struct {
        const char *name, *target;
} dev_links[] = {
        { "ptmx", "pts/ptmx" },          { "fd", "/proc/self/fd" },
        { "stdin", "/proc/self/fd/0" },  { "stdout", "/proc/self/fd/1" },
        { "stderr", "/proc/self/fd/2" },
};

/* Binds host node source onto a new empty file dev/name. */
static int bind_node(int dev_fd, const char *source, const char *name, struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF, target = -EBADF;
        int r;

        fd = openat(dev_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to create /dev/%s: %m", name);
        target = openat(dev_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0)
                return pod_error_set(reterr, -errno, "Failed to open /dev/%s: %m", name);
        r = stage1_mount_at_fd(source, target, NULL, MS_BIND, NULL);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to bind '%s' on /dev/%s: %m", source, name);
        return 0;
}

static int mount_subdir(int dev_fd, const char *name, mode_t mode, const char *fstype,
                        unsigned long flags, const char *data, struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (mkdirat(dev_fd, name, mode) < 0)
                return pod_error_set(reterr, -errno, "Failed to create /dev/%s: %m", name);
        fd = openat(dev_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open /dev/%s: %m", name);
        r = stage1_mount_at_fd(fstype, fd, fstype, flags, data);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to mount %s on /dev/%s: %m", fstype, name);
        return 0;
}

int stage1_dev_setup(const struct stage1_config *c, int root_fd, struct pod_error *reterr) {
        _cleanup_close_ int target = -EBADF, dev_fd = -EBADF;
        char tty[256], opts[128];
        int r;

        target = stage1_mount_target(root_fd, "/dev", true, reterr);
        if (target < 0)
                return target;
        /* --private-users: owned by the pod's root (the options speak host IDs). */
        (void)snprintf(opts, sizeof(opts), "mode=0755,size=4m,nr_inodes=4096,uid=%u,gid=%u",
                       c->private_users ? (unsigned)c->idmap.base : 0U,
                       c->private_users ? (unsigned)c->idmap.base : 0U);
        r = stage1_mount_at_fd("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to mount tmpfs on /dev: %m");
        /* The fd taken before the mount still points at the image's /dev: reopen, as a
         * directory fd (O_PATH fds cannot create files). */
        target = safe_close(target);
        {
                _cleanup_close_ int p = stage1_mount_target(root_fd, "/dev", true, reterr);
                if (p < 0)
                        return p;
                dev_fd = openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dev_fd < 0)
                        return pod_error_set(reterr, -errno, "Failed to open /dev: %m");
        }

        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                char src[32];

                (void)snprintf(src, sizeof(src), "/dev/%s", dev_nodes[i]);
                r = bind_node(dev_fd, src, dev_nodes[i], reterr);
                if (r < 0)
                        return r;
        }

        /* ptmxmode=0666: the instance's own ptmx must be usable by any uid in the pod. */
        r = mount_subdir(dev_fd, "pts", 0755, "devpts", MS_NOSUID | MS_NOEXEC,
                         "newinstance,ptmxmode=0666,mode=0620", reterr);
        if (r < 0)
                return r;
        (void)snprintf(opts, sizeof(opts), "mode=1777,size=65536k,uid=%u,gid=%u",
                       c->private_users ? (unsigned)c->idmap.base : 0U,
                       c->private_users ? (unsigned)c->idmap.base : 0U);
        r = mount_subdir(dev_fd, "shm", 01777, "tmpfs", MS_NOSUID | MS_NODEV, opts, reterr);
        if (r < 0)
                return r;
        r = mount_subdir(dev_fd, "mqueue", 0755, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                         reterr);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++)
                if (symlinkat(dev_links[i].target, dev_fd, dev_links[i].name) < 0)
                        return pod_error_set(reterr, -errno, "Failed to create /dev/%s: %m",
                                             dev_links[i].name);

        /* Interactive apps talk to the terminal stage0 was started on: it is their console. */
        if (c->interactive && isatty(STDIN_FILENO) &&
            ttyname_r(STDIN_FILENO, tty, sizeof(tty)) == 0) {
                r = bind_node(dev_fd, tty, "console", reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}
