/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* User namespaces and idmapped mounts (idmap.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "idmap.h"
#include "macro.h"
#include "syscall.h"

static int parse_u32(const char *s, const char **end, uint32_t *ret) {
        uint64_t v = 0;
        const char *p = s;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > UINT32_MAX)
                        return -ERANGE;
        }
        *end = p;
        *ret = (uint32_t)v;
        return 0;
}

int pod_idmap_parse(const char *s, struct pod_idmap *m, struct pod_error *reterr) {
        const char *p;
        uint32_t base, count;

        if (parse_u32(s, &p, &base) < 0 || *p != ':' || parse_u32(p + 1, &p, &count) < 0 || *p != 0)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid user namespace range '%s': expected BASE:COUNT "
                                     "(decimal)",
                                     s);
        if (base == 0)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid user namespace range '%s': a base of 0 would map "
                                     "the pod's root to the host's root",
                                     s);
        if (count == 0 || (uint64_t)base + count > UINT32_MAX)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid user namespace range '%s': the count must be at "
                                     "least 1 and the range end below 4294967295",
                                     s);
        m->base = base;
        m->count = count;
        return 0;
}

static int write_map(pid_t pid, const char *file, const struct pod_idmap *m) {
        _cleanup_close_ int fd = -EBADF;
        char path[64], line[64];
        int n;

        (void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = snprintf(line, sizeof(line), "0 %" PRIu32 " %" PRIu32 "\n", m->base, m->count);
        /* One write(2) call: the kernel takes a map only whole, in one go. */
        if (write(fd, line, (size_t)n) != n)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int pod_idmap_userns(const struct pod_idmap *m, struct pod_error *reterr) {
        int ready[2] = { -EBADF, -EBADF }, done[2] = { -EBADF, -EBADF };
        _cleanup_close_ int ns = -EBADF;
        char path[64], c = 0;
        int r = 0, status;
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
                /* A child that only exists to own the namespace until we hold it by fd. */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                (void)close(done[1]);
                c = unshare(CLONE_NEWUSER) < 0 ? (char)errno : 0;
                (void)!write(ready[1], &c, 1);
                (void)!read(done[0], &c, 1);
                _exit(0);
        }
        ready[1] = safe_close(ready[1]);
        done[0] = safe_close(done[0]);
        if (read(ready[0], &c, 1) != 1)
                r = -EIO;
        else if (c != 0)
                r = -(int)c;
        if (r >= 0)
                r = write_map(pid, "uid_map", m);
        if (r >= 0)
                r = write_map(pid, "gid_map", m);
        if (r >= 0) {
                (void)snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
                ns = open(path, O_RDONLY | O_CLOEXEC);
                if (ns < 0)
                        r = -errno;
        }
        done[1] = safe_close(done[1]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
finish:
        safe_close(ready[0]);
        safe_close(ready[1]);
        safe_close(done[0]);
        safe_close(done[1]);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Failed to create the pod's user namespace (0 -> host %" PRIu32
                                     ", %" PRIu32 " IDs): %m",
                                     m->base, m->count);
        return TAKE_FD(ns);
}

int pod_idmap_clone(int dir_fd, int userns_fd, bool recursive, struct pod_error *reterr) {
        struct pod_mount_attr attr = {
                .attr_set = MOUNT_ATTR_IDMAP,
                .userns_fd = (uint64_t)userns_fd,
        };
        _cleanup_close_ int fd = -EBADF;
        unsigned rec = recursive ? AT_RECURSIVE : 0;

        fd = sys_open_tree(dir_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
        if (fd < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to clone a mount for the user namespace (open_tree, "
                                     "Linux 5.2): %m");
        if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0) {
                int r = -errno;
                struct utsname u = {};
                struct statfs sf = {};

                (void)uname(&u);
                (void)fstatfs(dir_fd, &sf);
                if (r == -ENOSYS || r == -EINVAL || r == -EPERM || r == -EOPNOTSUPP)
                        return pod_error_set(reterr, -EOPNOTSUPP,
                                             "--private-users needs idmapped mounts, which this "
                                             "kernel (%s) or file system (type 0x%llx) does not "
                                             "provide (Linux 5.12 or later; ext4, xfs, btrfs, "
                                             "tmpfs (6.3) and others; not 9p or NFS): %s",
                                             u.release, (unsigned long long)sf.f_type,
                                             strerror(-r));
                return pod_error_set(reterr, r, "Failed to idmap a mount: %m");
        }
        return TAKE_FD(fd);
}

int pod_idmap_supported(int dir_fd, const struct pod_idmap *m, char **why,
                        struct pod_error *reterr) {
        _cleanup_close_ int userns = -EBADF, clone = -EBADF;
        struct pod_error e = {};

        userns = pod_idmap_userns(m, reterr);
        if (userns < 0)
                return userns;
        clone = pod_idmap_clone(dir_fd, userns, false, &e);
        if (clone == -EOPNOTSUPP) {
                if (why)
                        *why = strdup(e.msg);
                return 0;
        }
        if (clone < 0) {
                if (reterr)
                        *reterr = e;
                return clone;
        }
        return 1;
}
