/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --private-users: the pod's user namespace (ABI.md "User namespace").
 *
 * The host side makes the namespace (uid and gid map "0 BASE COUNT", src/idmap.c) and holds it
 * by fd; the pod init inherits that fd.  The pod's mount, PID, UTS and IPC namespaces stay
 * owned by the host's user namespace: stage1 (host root) builds them as for any pod, with the
 * image's lower dirs idmapped (mount.c), and each app process joins the user namespace last,
 * after its mount namespace and before it takes the app's credentials.  So the app's root is
 * host BASE, has its capabilities only over what the namespace owns (files of the range, its
 * own processes, the network namespace), and can neither mount nor set the hostname even with
 * CAP_SYS_ADMIN retained.  The network namespace (--net=none or CNI) is made inside the user
 * namespace, so that the pod's root may bind ports below 1024 and use raw sockets there. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "idmap.h"
#include "log.h"
#include "manifest.h"
#include "path-util.h"
#include "stage1.h"
#include "syscall.h"

#define USERNS_FILE "userns"
#define LOWERS_DIR  "userns-lowers"

int stage1_userns_shift(const struct stage1_config *c, uint32_t id, uint32_t *ret) {
        if (!c->private_users) {
                *ret = id;
                return 0;
        }
        if (id >= c->idmap.count)
                return -ERANGE;
        *ret = c->idmap.base + id;
        return 0;
}

int stage1_userns_netns(const struct stage1_config *c) {
        int ready[2] = { -EBADF, -EBADF }, done[2] = { -EBADF, -EBADF };
        char path[64], st = 0;
        int r = 0, fd = -EBADF, ws;
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) {
                r = -errno;
                goto finish;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto finish;
        }
        if (pid == 0) {
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                (void)close(done[1]);
                if (setns(c->userns_fd, CLONE_NEWUSER) < 0)
                        st = 1;
                else if (unshare(CLONE_NEWNET) < 0)
                        st = 2;
                else if (stage1_ns_loopback_up() < 0)
                        st = 3;
                (void)!write(ready[1], &st, 1);
                (void)!read(done[0], &st, 1);
                _exit(0);
        }
        ready[1] = safe_close(ready[1]);
        done[0] = safe_close(done[0]);
        if (read(ready[0], &st, 1) != 1 || st != 0)
                r = st == 1 ? -EPERM : -EIO;
        if (r >= 0) {
                (void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = -errno;
        }
        done[1] = safe_close(done[1]);
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
finish:
        safe_close(ready[0]);
        safe_close(ready[1]);
        safe_close(done[0]);
        safe_close(done[1]);
        return r < 0 ? r : fd;
}

int stage1_userns_setup(struct stage1_config *c, struct pod_error *reterr) {
        struct stat st;
        char text[96];
        int r;

        if (!c->private_users)
                return 0;
        if (c->no_overlay)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "--private-users cannot be combined with --no-overlay: the "
                                     "pod's private copy would be written with host IDs");
        c->userns_fd = pod_idmap_userns(&c->idmap, reterr);
        if (c->userns_fd < 0)
                return c->userns_fd;
        if (fstat(c->userns_fd, &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to inspect the user namespace: %m");
        if (c->net == STAGE1_NET_NONE) {
                c->userns_netns_fd = stage1_userns_netns(c);
                if (c->userns_netns_fd < 0)
                        return pod_error_set(reterr, c->userns_netns_fd,
                                             "Failed to create the pod's network namespace in "
                                             "its user namespace: %m");
        }
        /* What enter joins must be this namespace, never one an app made (below). */
        (void)snprintf(text, sizeof(text), "%" PRIu32 " %" PRIu32 " %" PRIu64 "\n", c->idmap.base,
                       c->idmap.count, (uint64_t)st.st_ino);
        r = stage1_write_file(c->pod_dir_fd, USERNS_FILE, text);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write '" USERNS_FILE "': %m");
        log_debug("User namespace: 0 -> host %" PRIu32 ", %" PRIu32 " IDs", c->idmap.base,
                  c->idmap.count);
        return 0;
}

int stage1_userns_join(const struct stage1_config *c) {
        if (c->userns_fd < 0)
                return 0;
        if (setns(c->userns_fd, CLONE_NEWUSER) < 0)
                return -errno;
        return 0;
}

int stage1_userns_open_for_enter(int pod_dir_fd, pid_t app_pid, int *ret_fd,
                                 struct pod_idmap *ret_map, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint64_t ino;
        struct stat st;
        char path[64];
        int r, n = 0;

        *ret_fd = -EBADF;
        r = read_full_file_at(pod_dir_fd, USERNS_FILE, 128, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the pod's '" USERNS_FILE "': %m");
        if (sscanf(text, "%" SCNu32 " %" SCNu32 " %" SCNu64 "%n", &ret_map->base, &ret_map->count,
                   &ino, &n) != 3 ||
            ret_map->base == 0 || ret_map->count == 0)
                return pod_error_set(reterr, -EBADMSG, "The pod's '" USERNS_FILE "' is malformed");
        (void)snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)app_pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", path);
        /* An app with CAP_SYS_ADMIN in the pod may have nested itself in a user namespace of
         * its own making, whose maps it controls: walk up to the pod's. */
        for (int depth = 0;; depth++) {
                int parent;

                if (fstat(fd, &st) < 0)
                        return pod_error_set(reterr, -errno, "Failed to inspect '%s': %m", path);
                if ((uint64_t)st.st_ino == ino)
                        break;
                parent = depth < 32 ? ioctl(fd, NS_GET_PARENT) : -1;
                if (parent < 0)
                        return pod_error_set(reterr, -ESRCH,
                                             "The process of the app (pid %d) is not in the pod's "
                                             "user namespace",
                                             (int)app_pid);
                safe_close(fd);
                fd = parent;
        }
        *ret_fd = TAKE_FD(fd);
        return 1;
}

int stage1_userns_lower(const struct stage1_config *c, int fd, size_t i, struct pod_error *reterr) {
        _cleanup_close_ int m = -EBADF, dir = -EBADF;
        _cleanup_free_ char *path = NULL;
        char name[32];
        int r;

        m = pod_idmap_clone(fd, c->userns_fd, false, reterr);
        if (m < 0)
                return m;
        /* Attached, not detached: overlayfs before Linux 6.15 takes only layers that are
         * mounted in the mounter's namespace.  The mount point is in the pod dir, which no app
         * reaches, and the mount lives only in this (private) mount namespace. */
        (void)snprintf(name, sizeof(name), LOWERS_DIR "/%zu", i);
        r = mkdir_p_at(c->pod_dir_fd, name, 0700);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create '%s' in the pod dir: %m", name);
        /* By path: the pod dir fd was opened in the host's mount namespace, and a mount
         * point must be in ours. */
        path = path_join(c->pod_dir, name);
        if (!path)
                return -ENOMEM;
        dir = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", name);
        if (sys_move_mount(m, "", dir, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to attach an idmapped mount on '%s': %m", name);
        /* The fd taken before the mount is the directory under it: reopen. */
        r = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (r < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", name);
        return r;
}

int stage1_userns_volume(const struct stage1_config *c, const struct pod_volume *v, int src_fd,
                         bool recursive, struct pod_error *reterr) {
        int fd;

        /* config.c refused "idmap" without a user namespace; never idmap through none. */
        if (c->userns_fd < 0)
                return pod_error_set(reterr, -EINVAL, POD_VOLUME_IDMAP_NEEDS_USERNS, v->name);
        /* The same map as the image's lower dirs: on-disk N is the namespace's N, i.e. host
         * BASE+N to the kernel, so the pod's root (host BASE) owns what host root owns there
         * and writes as host root (pod-run(1) "--volume ...,idmap=true"). */
        fd = pod_idmap_clone(src_fd, c->userns_fd, recursive, reterr);
        if (fd < 0)
                return pod_error_prefix(reterr, fd, "Volume '%s': cannot idmap source '%s'",
                                        v->name, v->source);
        return fd;
}

void stage1_userns_lowers_detach(const struct stage1_config *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                char name[32];

                (void)snprintf(name, sizeof(name), LOWERS_DIR "/%zu", i);
                _cleanup_free_ char *p = path_join(c->pod_dir, name);
                if (p)
                        (void)umount2(p, MNT_DETACH);
        }
}

int stage1_userns_open_rootless(pid_t init_pid, int *ret_fd, char **ret_uid_map, char **ret_gid_map,
                                struct pod_error *reterr) {
        _cleanup_free_ char *umap = NULL, *gmap = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st, own;
        char path[64];
        int r;

        *ret_fd = -EBADF;
        (void)snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)init_pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", path);
        if (fstat(fd, &st) < 0 || stat("/proc/self/ns/user", &own) < 0)
                return pod_error_set(reterr, -errno, "Failed to inspect a user namespace: %m");
        if (st.st_ino == own.st_ino && st.st_dev == own.st_dev)
                return 0;
        (void)snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)init_pid);
        r = read_full_file_at(AT_FDCWD, path, 4096, &umap, NULL);
        if (r >= 0) {
                (void)snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)init_pid);
                r = read_full_file_at(AT_FDCWD, path, 4096, &gmap, NULL);
        }
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s': %m", path);
        *ret_fd = TAKE_FD(fd);
        *ret_uid_map = TAKE_PTR(umap);
        *ret_gid_map = TAKE_PTR(gmap);
        return 1;
}

int stage1_userns_map_id(const char *map, uint32_t *id, struct pod_error *reterr) {
        const char *p = map;

        while (p && *p) {
                unsigned long long in, out, count;
                int n = 0;

                if (sscanf(p, "%llu %llu %llu%n", &in, &out, &count, &n) != 3)
                        break;
                if (*id >= out && *id - out < count) {
                        *id = (uint32_t)(in + (*id - out));
                        return 0;
                }
                p = strchr(p + n, '\n');
                if (p)
                        p++;
        }
        return pod_error_set(reterr, -ERANGE,
                             "The app runs as host ID %u, which the pod's user namespace does "
                             "not map",
                             (unsigned)*id);
}
