/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The only home of raw syscalls (STYLE.md section 7): libc-like wrappers returning -1 with
 * errno set, ENOSYS when the headers do not know the number.  Callers own fallbacks. */

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int sys_pivot_root(const char *new_root, const char *put_old) {
#if HAVE_DECL___NR_PIVOT_ROOT
        return (int)syscall(__NR_pivot_root, new_root, put_old);
#else
        errno = ENOSYS;
        return -1;
#endif
}

/* pidfd_open(2), kernel 5.3: an fd that polls readable once the process has exited. */
static inline int sys_pidfd_open(pid_t pid, unsigned flags) {
#if HAVE_DECL___NR_PIDFD_OPEN
        return (int)syscall(__NR_pidfd_open, pid, flags);
#else
        errno = ENOSYS;
        return -1;
#endif
}

/* clone(2) with no new stack, which is fork(2) with flags: with CLONE_NEWPID the child is
 * PID 1 of a new PID namespace without the caller's own later children following it there
 * (unshare(CLONE_NEWPID) does that, and going back by setns() needs CAP_SYS_ADMIN over the
 * caller's PID namespace, which a rootless stage1 lacks).  No fork handlers run; the child
 * must not rely on a cached TID.  s390 takes the stack first. */
static inline pid_t sys_clone_fork(unsigned long flags) {
#if defined(__s390__) || defined(__CRIS__)
        return (pid_t)syscall(__NR_clone, NULL, flags);
#else
        return (pid_t)syscall(__NR_clone, flags, NULL);
#endif
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static inline int sys_close_range(unsigned first, unsigned last, unsigned flags) {
#if HAVE_DECL___NR_CLOSE_RANGE
        return (int)syscall(__NR_close_range, first, last, flags);
#else
        errno = ENOSYS;
        return -1;
#endif
}

/* openat2(2), kernel 5.6: RESOLVE_IN_ROOT keeps path resolution (symlinks and "..") inside
 * dirfd, which is how stage1 creates mount targets in an image it does not trust. */
#if HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#else
#include <stdint.h>
struct open_how {
        uint64_t flags;
        uint64_t mode;
        uint64_t resolve;
};
#define RESOLVE_NO_XDEV       0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS   0x04
#define RESOLVE_BENEATH       0x08
#define RESOLVE_IN_ROOT       0x10
#endif

static inline int sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size) {
#if HAVE_DECL___NR_OPENAT2
        return (int)syscall(__NR_openat2, dirfd, path, how, size);
#else
        errno = ENOSYS;
        return -1;
#endif
}

/* mount_setattr(2), kernel 5.12: the only way to make a whole bind-mounted tree read-only
 * in one step (MS_REMOUNT|MS_RDONLY changes only the top mount). */
#include <stdint.h>
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x00000002
#endif
#ifndef MOUNT_ATTR_NODEV
#define MOUNT_ATTR_NODEV 0x00000004
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
struct pod_mount_attr {
        uint64_t attr_set;
        uint64_t attr_clr;
        uint64_t propagation;
        uint64_t userns_fd;
};

static inline int sys_mount_setattr(int dirfd, const char *path, unsigned flags,
                                    struct pod_mount_attr *attr, size_t size) {
#if HAVE_DECL___NR_MOUNT_SETATTR
        return (int)syscall(__NR_mount_setattr, dirfd, path, flags, attr, size);
#else
        errno = ENOSYS;
        return -1;
#endif
}

/* open_tree(2) and move_mount(2), kernel 5.2: detached copies of a mount tree (OPEN_TREE_CLONE),
 * which mount_setattr(MOUNT_ATTR_IDMAP) can then idmap (src/idmap.c). */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC 02000000
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

static inline int sys_open_tree(int dirfd, const char *path, unsigned flags) {
#if HAVE_DECL___NR_OPEN_TREE
        return (int)syscall(__NR_open_tree, dirfd, path, flags);
#else
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_move_mount(int from_dirfd, const char *from_path, int to_dirfd,
                                 const char *to_path, unsigned flags) {
#if HAVE_DECL___NR_MOVE_MOUNT
        return (int)syscall(__NR_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
#else
        errno = ENOSYS;
        return -1;
#endif
}

/* capget/capset(2): glibc has no wrapper (libcap does; one struct is not worth a library). */
#include <linux/capability.h>

static inline int sys_capget(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d) {
        return (int)syscall(__NR_capget, h, d);
}

static inline int sys_capset(struct __user_cap_header_struct *h,
                             const struct __user_cap_data_struct *d) {
        return (int)syscall(__NR_capset, h, d);
}

/* bpf(2): glibc has no wrapper.  stage1 loads a cgroup device program (stage1/devices.c). */
#include <linux/bpf.h>

static inline int sys_bpf(int cmd, union bpf_attr *attr, unsigned size) {
        return (int)syscall(__NR_bpf, cmd, attr, size);
}

/* seccomp(2), kernel 3.17: stage1 loads a filter it compiled earlier (or read from its cache,
 * stage1/seccomp-cache.c) without libseccomp; glibc has no wrapper. */
#include <linux/filter.h>
#include <linux/seccomp.h>

static inline int sys_seccomp(unsigned op, unsigned flags, void *args) {
#ifdef __NR_seccomp
        return (int)syscall(__NR_seccomp, op, flags, args);
#else
        errno = ENOSYS;
        return -1;
#endif
}

/* execveat(2), kernel 3.19: with AT_EMPTY_PATH, executes exactly the file an fd refers to
 * (stage1 runs apps from an fd resolved inside their root, and itself from a sealed memfd). */
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
static inline int sys_execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                               int flags) {
#if HAVE_DECL___NR_EXECVEAT
        return (int)syscall(__NR_execveat, dirfd, path, argv, envp, flags);
#else
        errno = ENOSYS;
        return -1;
#endif
}
