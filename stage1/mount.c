/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Step 2: the app's file system, built in its own mount namespace before pivot_root:
 * the rootfs (overlayfs over the rendered image, or the private copy with --no-overlay),
 * /proc, /sys, volumes, /etc/hosts and /etc/resolv.conf, and readOnlyRootFS.
 *
 * Every target inside the rootfs is opened relative to the rootfs by path-resolve.c
 * (openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)), so a symlink or ".." planted in the
 * image resolves inside the image and never on the host, and no /proc magic link is
 * followed; the mount then goes to /proc/self/fd/N of that fd, i.e. exactly the inode we
 * checked, not a path that could be swapped in between (the runc/crun technique). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "idmap.h"
#include "log.h"
#include "manifest.h"
#include "path-resolve.h"
#include "path-util.h"
#include "stage1.h"
#include "syscall.h"

#define FD_PATH_MAX 64

static void fd_path(char buf[static FD_PATH_MAX], int fd) {
        (void)snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

int stage1_mount_at_fd(const char *source, int target_fd, const char *fstype, unsigned long flags,
                       const char *data) {
        char p[FD_PATH_MAX];

        fd_path(p, target_fd);
        if (mount(source, p, fstype, flags, data) < 0)
                return -errno;
        return 0;
}

/* Bind mount of fd onto fd: both ends are pinned inodes, no path is re-resolved. */
static int bind_fd(int source_fd, int target_fd, bool recursive) {
        char s[FD_PATH_MAX];

        fd_path(s, source_fd);
        return stage1_mount_at_fd(s, target_fd, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL);
}

/* Every path inside the rootfs: path-resolve.c (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). */
static int open_in_root(int root_fd, const char *path) {
        return pod_open_in_root(root_fd, path, O_PATH);
}

/* Owner of the mount targets stage1 creates: 0:0, or with --private-users the pod's root
 * (host BASE), so that the pod sees them as its root's and pod export finds them in range. */
static uid_t target_uid;
static gid_t target_gid;

int stage1_mount_target(int root_fd, const char *path, bool is_dir, struct pod_error *reterr) {
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int parent_fd = -EBADF, fd = -EBADF;
        const char *base;
        struct stat st;

        fd = open_in_root(root_fd, path);
        if (fd == -ENOENT) {
                base = strrchr(path, '/');
                if (!base || base[1] == 0)
                        return pod_error_set(reterr, -EINVAL, "Invalid mount target '%s'", path);
                parent = strndup(path, (size_t)(base - path));
                if (!parent)
                        return -ENOMEM;
                base++;
                parent_fd = stage1_mount_target(root_fd, parent[0] ? parent : "/", true, reterr);
                if (parent_fd < 0)
                        return parent_fd;
                /* Created like ACE volumes' missing targets: 0755 (0644 for files), 0:0. */
                if (is_dir) {
                        if (mkdirat(parent_fd, base, 0755) >= 0) {
                                if ((target_uid != 0 || target_gid != 0) &&
                                    fchownat(parent_fd, base, target_uid, target_gid,
                                             AT_SYMLINK_NOFOLLOW) < 0)
                                        return pod_error_set(reterr, -errno,
                                                             "Failed to set the owner of '%s': %m",
                                                             path);
                        } else if (errno != EEXIST)
                                return pod_error_set(reterr, -errno,
                                                     "Failed to create '%s' in the app: %m", path);
                } else {
                        int f = openat(parent_fd, base,
                                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                        if (f < 0 && errno != EEXIST)
                                return pod_error_set(reterr, -errno,
                                                     "Failed to create '%s' in the app: %m", path);
                        if (f >= 0 && (target_uid != 0 || target_gid != 0) &&
                            fchown(f, target_uid, target_gid) < 0) {
                                int r = -errno;
                                safe_close(f);
                                return pod_error_set(reterr, r,
                                                     "Failed to set the owner of '%s': %m", path);
                        }
                        safe_close(f);
                }
                fd = open_in_root(root_fd, path);
                if (fd == -ENOENT)
                        return pod_error_set(reterr, -ELOOP,
                                             "Mount target '%s' is a dangling symlink in the image",
                                             path);
        }
        if (fd < 0)
                return pod_error_set(reterr, fd, "Failed to open mount target '%s' in the app: %m",
                                     path);
        if (fstat(fd, &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to stat '%s': %m", path);
        if (is_dir && !S_ISDIR(st.st_mode))
                return pod_error_set(reterr, -ENOTDIR, "Mount target '%s' is not a directory",
                                     path);
        if (!is_dir && S_ISDIR(st.st_mode))
                return pod_error_set(reterr, -EISDIR, "Mount target '%s' is a directory", path);
        return TAKE_FD(fd);
}

/* Sets or clears per-mount flags on the mount at path (inside root), optionally on every
 * mount below it too.  mount_setattr(2) changes only the named attributes; the old
 * MS_REMOUNT|MS_BIND replaces all of them and only on the top mount, so it is a fallback
 * for the non-recursive case only. */
static int set_mount_attr(int root_fd, const char *path, uint64_t attr_set, bool recursive,
                          struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;
        struct pod_mount_attr attr = { .attr_set = attr_set };
        unsigned long flags = MS_REMOUNT | MS_BIND;

        /* Re-open: a fd taken before the mount points below it. */
        fd = open_in_root(root_fd, path);
        if (fd < 0)
                return pod_error_set(reterr, fd, "Failed to open '%s': %m", path);
        if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                              sizeof(attr)) >= 0)
                return 0;
        if (errno != ENOSYS)
                return pod_error_set(reterr, -errno, "Failed to change mount flags of '%s': %m",
                                     path);
        if (recursive)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "Cannot make every mount below '%s' %s: the kernel lacks "
                                     "mount_setattr() (5.12)",
                                     path,
                                     attr_set & MOUNT_ATTR_RDONLY ? "read-only, nodev" : "nodev");
        if (attr_set & MOUNT_ATTR_RDONLY)
                flags |= MS_RDONLY;
        if (attr_set & MOUNT_ATTR_NODEV)
                flags |= MS_NODEV;
        if (attr_set & MOUNT_ATTR_NOSUID)
                flags |= MS_NOSUID;
        if (stage1_mount_at_fd(NULL, fd, NULL, flags, NULL) < 0)
                return pod_error_set(reterr, -errno, "Failed to remount '%s': %m", path);
        return 0;
}

static bool has_bad_option_chars(const char *s) {
        return strpbrk(s, ",:\\\n") != NULL;
}

int stage1_open_lower(const char *path, struct pod_error *reterr) {
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = sys_openat2(AT_FDCWD, path, &how, sizeof(how));
        if (fd < 0 && errno == ENOSYS) {
                /* Before 5.6: one component at a time, none of them followed. */
                _cleanup_free_ char *copy = strdup(path);
                char *save = NULL;

                if (!copy)
                        return -ENOMEM;
                fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                for (char *c = strtok_r(copy, "/", &save); fd >= 0 && c;
                     c = strtok_r(NULL, "/", &save)) {
                        int next = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        safe_close(fd);
                        fd = next;
                }
        }
        if (fd < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to open lower dir '%s' (no symlink may be in its "
                                     "path): %m",
                                     path);
        /* In a directory of ours, not a user's: the tree dir that holds it (the store's,
         * made by pod) is owned by root.  The lower dir itself has the image root's owner. */
        {
                _cleanup_close_ int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

                if (parent < 0 || fstat(parent, &st) < 0)
                        return pod_error_set(reterr, -errno, "Failed to look at lower dir '%s': %m",
                                             path);
        }
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return pod_error_set(reterr, -EPERM,
                                     "The directory of lower dir '%s' is owned by uid %u, not by "
                                     "root",
                                     path, (unsigned)st.st_uid);
        return TAKE_FD(fd);
}

/* lowerdir= of the app's lower dirs, each opened (stage1_open_lower) and named as
 * /proc/self/fd/N: the option page (4096 bytes) takes hundreds of layers that way, whatever
 * the store's path, and the mount gets exactly the inodes checked.  fds get the opened
 * ones, closed by the caller after the mount. */
static int lowerdir_option(const struct stage1_config *c, const struct stage1_app *app, int *fds,
                           char **ret, struct pod_error *reterr) {
        _cleanup_free_ char *opt = NULL;
        size_t len = 0, n = 0;

        STRV_FOREACH (l, app->lowers)
                n++;
        opt = malloc(sizeof("lowerdir=") + n * (FD_PATH_MAX + 1));
        if (!opt)
                return -ENOMEM;
        len = (size_t)sprintf(opt, "lowerdir=");
        for (size_t i = 0; i < n; i++) {
                fds[i] = stage1_open_lower(app->lowers[i], reterr);
                if (fds[i] < 0)
                        return pod_error_prefix(reterr, fds[i], "App '%s'", app->name);
                /* --private-users: the image as the pod's IDs see it, the store untouched
                 * (chown: the lower dirs are shifted copies already). */
                if (c->userns_fd >= 0 && !c->userns_chown) {
                        int m = stage1_userns_lower(c, fds[i], i, reterr);

                        safe_close(fds[i]);
                        fds[i] = m;
                        if (m < 0)
                                return pod_error_prefix(reterr, m, "App '%s'", app->name);
                }
                len += (size_t)sprintf(opt + len, "%s/proc/self/fd/%d", i ? ":" : "", fds[i]);
        }
        *ret = TAKE_PTR(opt);
        return 0;
}

/* The rootfs.  overlayfs keeps the rendered image untouched (it may be shared with other
 * pods through the tree store) and puts every write in overlay/<app>/upper.  "volatile"
 * (5.10) skips the syncfs that unmounting an overlay otherwise does on the whole host file
 * system: the upper dir is thrown away with the pod, and status files live outside it, so
 * losing it in a crash loses nothing (overlayfs refuses to remount a volatile upper after a
 * crash, which we never do).  nodev: image device nodes must not open host devices. */
static int mount_overlay(const struct stage1_config *c, const struct stage1_app *app,
                         const char *root, const char *opts, struct pod_error *reterr);

static int mount_rootfs(const struct stage1_config *c, const struct stage1_app *app,
                        const char *root, struct pod_error *reterr) {
        _cleanup_free_ char *opts = NULL;
        int r;

        if (c->no_overlay) {
                _cleanup_close_ int fd = -EBADF;

                /* pivot_root needs a mount point; the copy is private to this pod. */
                if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return pod_error_set(reterr, -errno, "Failed to bind '%s': %m", root);
                /* nodev, the other flags of the file system it lives on kept (a plain
                 * MS_REMOUNT would clear an admin's nosuid or noexec there). */
                fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return pod_error_set(reterr, -errno, "Failed to open '%s': %m", root);
                return set_mount_attr(fd, "/", MOUNT_ATTR_NODEV, false, reterr);
        }
        if (c->fuse_overlayfs) {
                struct statfs sf;

                /* Mounted by the host side before the init was forked (fuse-overlay.c). */
                if (statfs(root, &sf) < 0 || sf.f_type != 0x65735546 /* FUSE_SUPER_MAGIC */)
                        return pod_error_set(reterr, errno ? -errno : -EIO,
                                             "App '%s': its fuse-overlayfs mount is missing",
                                             app->name);
                return 0;
        }
        if (has_bad_option_chars(c->pod_dir))
                return pod_error_set(reterr, -EINVAL,
                                     "Pod directory '%s' contains ',', ':' or '\\', which "
                                     "overlayfs options cannot carry",
                                     c->pod_dir);
        if (app->lowers) {
                _cleanup_free_ char *lower = NULL;
                int fds[STAGE1_LOWERS_MAX];
                size_t n = 0;

                STRV_FOREACH (l, app->lowers)
                        fds[n++] = -EBADF;
                r = lowerdir_option(c, app, fds, &lower, reterr);
                if (r >= 0 &&
                    asprintf(&opts, "%s,upperdir=%s/overlay/%s/upper,workdir=%s/overlay/%s/work",
                             lower, c->pod_dir, app->name, c->pod_dir, app->name) < 0)
                        r = -ENOMEM;
                if (r >= 0 && strlen(opts) + sizeof(",userxattr,volatile") > 4096)
                        r = pod_error_set(reterr, -E2BIG,
                                          "App '%s': the overlay options of %zu lower dirs do not "
                                          "fit in a page",
                                          app->name, n);
                if (r >= 0)
                        r = mount_overlay(c, app, root, opts, reterr);
                for (size_t i = 0; i < n; i++)
                        safe_close(fds[i]);
                if (c->userns_fd >= 0 && !c->userns_chown)
                        stage1_userns_lowers_detach(c, n);
                return r;
        }
        if (c->userns_fd >= 0 && c->userns_chown)
                return pod_error_set(reterr, -EINVAL,
                                     "App '%s': --private-users-ownership=chown needs the image "
                                     "as lower dirs",
                                     app->name);
        if (c->userns_fd >= 0) {
                _cleanup_close_ int fd = -EBADF, m = -EBADF;
                _cleanup_free_ char *p = path_join(c->pod_dir, app->rootfs);

                if (!p)
                        return -ENOMEM;
                fd = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return pod_error_set(reterr, -errno, "Failed to open '%s': %m", p);
                m = stage1_userns_lower(c, fd, 0, reterr);
                if (m < 0)
                        return pod_error_prefix(reterr, m, "App '%s'", app->name);
                if (asprintf(&opts,
                             "lowerdir=/proc/self/fd/%d,upperdir=%s/overlay/%s/upper,"
                             "workdir=%s/overlay/%s/work",
                             m, c->pod_dir, app->name, c->pod_dir, app->name) < 0)
                        return -ENOMEM;
                r = mount_overlay(c, app, root, opts, reterr);
                stage1_userns_lowers_detach(c, 1);
                return r;
        }
        r = asprintf(&opts,
                     "lowerdir=%s/%s,upperdir=%s/overlay/%s/upper,workdir=%s/overlay/%s/work",
                     c->pod_dir, app->rootfs, c->pod_dir, app->name, c->pod_dir, app->name);
        if (r < 0)
                return -ENOMEM;
        return mount_overlay(c, app, root, opts, reterr);
}

static int mount_overlay(const struct stage1_config *c, const struct stage1_app *app,
                         const char *root, const char *opts_in, struct pod_error *reterr) {
        _cleanup_free_ char *uopts = NULL;
        const char *opts = opts_in;

        /* Rootless (5.11): overlayfs in a user namespace reads and writes its markers as
         * user.overlay.* (trusted.* needs host root), so stage0 marks OCI opaque dirs
         * user.overlay.opaque; userxattr also keeps redirects and metacopy off. */
        if (c->rootless) {
                if (asprintf(&uopts, "%s,userxattr", opts_in) < 0)
                        return -ENOMEM;
                opts = uopts;
        }
        {
                _cleanup_free_ char *vopts = NULL;

                if (asprintf(&vopts, "%s,volatile", opts) < 0)
                        return -ENOMEM;
                if (mount("overlay", root, "overlay", MS_NODEV, vopts) >= 0)
                        return 0;
                if (errno != EINVAL)
                        return pod_error_set(reterr, -errno,
                                             "Failed to mount the overlay for app '%s': %m",
                                             app->name);
        }
        log_debug("overlayfs has no 'volatile' (kernel < 5.10), mounting without it");
        if (mount("overlay", root, "overlay", MS_NODEV, opts) < 0)
                return pod_error_set(reterr, -errno, "Failed to mount the overlay for app '%s': %m",
                                     app->name);
        return 0;
}

/* /proc entries that reconfigure the whole machine stay visible but read-only; entries that
 * leak host-wide secrets or kernel addresses are masked (bubblewrap's setup_newroot(), the
 * OCI runtime-spec default masked paths). */
static const char *const proc_read_only[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
static const char *const proc_masked[] = { "kcore",       "keys",          "timer_list",
                                           "sched_debug", "latency_stats", "timer_stats",
                                           "acpi",        "scsi",          "asound" };

static int mount_proc(const struct stage1_config *c, int root_fd, struct pod_error *reterr) {
        _cleanup_close_ int target = -EBADF, proc_fd = -EBADF, null_fd = -EBADF;
        int r;

        target = stage1_mount_target(root_fd, "/proc", true, reterr);
        if (target < 0)
                return target;
        /* A proc mount belongs to the PID namespace of whoever mounts it: init is PID 1 of
         * the pod's namespace, so the app sees only the pod's processes. */
        r = stage1_mount_at_fd("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to mount /proc: %m");
        if (c->disable_paths)
                return 0;

        proc_fd = open_in_root(root_fd, "/proc");
        if (proc_fd < 0)
                return pod_error_set(reterr, proc_fd, "Failed to open /proc: %m");
        for (size_t i = 0; i < ELEMENTSOF(proc_read_only); i++) {
                _cleanup_close_ int fd = -EBADF;
                _cleanup_free_ char *p = NULL;

                fd = openat(proc_fd, proc_read_only[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT)
                        continue;
                if (fd < 0)
                        return pod_error_set(reterr, -errno, "Failed to open /proc/%s: %m",
                                             proc_read_only[i]);
                r = bind_fd(fd, fd, true);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to bind /proc/%s: %m",
                                             proc_read_only[i]);
                p = path_join("/proc", proc_read_only[i]);
                if (!p)
                        return -ENOMEM;
                r = set_mount_attr(root_fd, p,
                                   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true,
                                   reterr);
                if (r < 0)
                        return r;
        }

        null_fd = open("/dev/null", O_PATH | O_CLOEXEC);
        if (null_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open the host's /dev/null: %m");
        for (size_t i = 0; i < ELEMENTSOF(proc_masked); i++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                fd = openat(proc_fd, proc_masked[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT)
                        continue;
                if (fd < 0 || fstat(fd, &st) < 0)
                        return pod_error_set(reterr, -errno, "Failed to open /proc/%s: %m",
                                             proc_masked[i]);
                if (S_ISDIR(st.st_mode))
                        r = stage1_mount_at_fd("tmpfs", fd, "tmpfs",
                                               MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                               "size=0,mode=0555");
                else
                        r = bind_fd(null_fd, fd, false);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to mask /proc/%s: %m",
                                             proc_masked[i]);
        }
        return 0;
}

/* A fresh sysfs shows the pod's network namespace.  Read-only: writes there reconfigure
 * host devices.  Its cgroup submounts are not carried over, so the host's (v1) hierarchies
 * stay out of reach. */
static int mount_sys(const struct stage1_config *c, int root_fd, struct pod_error *reterr) {
        _cleanup_close_ int target = -EBADF;
        unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        int r;

        target = stage1_mount_target(root_fd, "/sys", true, reterr);
        if (target < 0)
                return target;
        if (!c->disable_paths)
                flags |= MS_RDONLY;
        r = stage1_mount_at_fd("sysfs", target, "sysfs", flags, NULL);
        /* Rootless --net=host: sysfs shows a network namespace, and only a user namespace
         * that owns it may mount one; the host's is host root's.  The host's /sys then,
         * bound with its submounts (a user namespace cannot split a locked tree) and made
         * read-only throughout (ABI.md "Rootless"). */
        if (r == -EPERM && c->rootless && c->net == STAGE1_NET_HOST) {
                _cleanup_close_ int host = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);

                r = host < 0 ? -errno : bind_fd(host, target, true);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to bind the host's /sys: %m");
                r = set_mount_attr(root_fd, "/sys",
                                   (c->disable_paths ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NOSUID |
                                           MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                   true, reterr);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to mount /sys: %m");
        if (!c->disable_paths) {
                _cleanup_close_ int fw = -EBADF;

                fw = open_in_root(root_fd, "/sys/firmware");
                if (fw >= 0) {
                        r = stage1_mount_at_fd("tmpfs", fw, "tmpfs",
                                               MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                               "size=0,mode=0555");
                        if (r < 0)
                                return pod_error_set(reterr, r, "Failed to mask /sys/firmware: %m");
                }
        }
        return 0;
}

static bool path_is_under(const char *p, const char *prefix) {
        size_t n = strlen(prefix);
        return strneq(p, prefix, n) && (p[n] == 0 || p[n] == '/');
}

static int mount_volume(const struct stage1_config *c, const struct stage1_app *app,
                        const struct stage1_mount *m, int root_fd, struct pod_error *reterr) {
        _cleanup_close_ int src = -EBADF, target = -EBADF;
        _cleanup_free_ char *empty = NULL;
        const struct pod_volume *v = m->volume;
        uint64_t attr = 0;
        bool recursive;
        struct stat st;
        int r;

        if (path_is_under(m->path, "/proc") || path_is_under(m->path, "/sys") ||
            path_is_under(m->path, "/dev") || streq(m->path, "/"))
                return pod_error_set(reterr, -EINVAL,
                                     "App '%s': volume '%s' cannot be mounted on '%s'", app->name,
                                     v->name, m->path);

        if (v->kind == POD_VOLUME_HOST) {
                /* ACE: never create host sources; a missing or symlinked source is an error. */
                if (lstat(v->source, &st) < 0)
                        return pod_error_set(reterr, -errno, "Volume '%s': source '%s': %m",
                                             v->name, v->source);
                if (S_ISLNK(st.st_mode))
                        return pod_error_set(reterr, -ELOOP,
                                             "Volume '%s': source '%s' is a symlink", v->name,
                                             v->source);
                src = open(v->source, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                recursive = v->recursive;
                /* The host's own nodes (or ones a root app makes there with CAP_MKNOD) must
                 * not open host devices, on any submount either; setuid files there must not
                 * lift a non-root app to root unless the volume says "suid" (ABI.md). */
                attr |= MOUNT_ATTR_NODEV;
                if (!v->suid)
                        attr |= MOUNT_ATTR_NOSUID;
        } else {
                /* By absolute path: a bind source must belong to our mount namespace, and
                 * the pod dir fd was opened in the host's. */
                empty = path_join(c->pod_dir, "volumes", v->name);
                if (!empty)
                        return -ENOMEM;
                src = open(empty, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
                recursive = false;
                /* Shared between apps, never a door to host devices or setuid files. */
                attr |= MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID;
        }
        if (src < 0 || fstat(src, &st) < 0)
                return pod_error_set(reterr, -errno, "Volume '%s': failed to open source: %m",
                                     v->name);

        target = stage1_mount_target(root_fd, m->path, S_ISDIR(st.st_mode), reterr);
        if (target < 0)
                return target;
        if (v->kind == POD_VOLUME_HOST && v->idmap) {
                /* userns.c: an idmapped clone of the source, attached here. */
                _cleanup_close_ int idm = stage1_userns_volume(c, v, src, recursive, reterr);

                if (idm < 0)
                        return idm;
                r = sys_move_mount(idm, "", target, "",
                                   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
                            ? -errno
                            : 0;
        } else
                r = bind_fd(src, target, recursive);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to mount volume '%s' on '%s': %m", v->name,
                                     m->path);
        if (m->read_only)
                attr |= MOUNT_ATTR_RDONLY;
        return set_mount_attr(root_fd, m->path, attr, recursive, reterr);
}

static int cmp_depth(const void *a, const void *b) {
        const struct stage1_mount *x = a, *y = b;
        size_t dx = 0, dy = 0;

        for (const char *p = x->path; *p; p++)
                dx += *p == '/';
        for (const char *p = y->path; *p; p++)
                dy += *p == '/';
        return dx < dy ? -1 : dx > dy ? 1 : strcmp(x->path, y->path);
}

/* Writes name under the image's /etc unless keep_existing and the image ships one.  The
 * write lands in the overlay's upper dir (or the private copy), never in the image.  What was
 * written is kept as appsinfo/<app>/generated-<name> (ABI.md), so that `pod export` leaves a
 * file pod generated out of the image unless the app changed it. */
static int write_etc(const struct stage1_config *c, const struct stage1_app *app, int root_fd,
                     const char *name, const char *text, bool keep_existing,
                     struct pod_error *reterr) {
        _cleanup_free_ char *record = NULL;
        _cleanup_close_ int etc = -EBADF, fd = -EBADF;
        struct stat st;
        int r;

        etc = stage1_mount_target(root_fd, "/etc", true, reterr);
        if (etc < 0)
                return etc;
        /* Reopen as a real directory fd: O_PATH fds cannot be written through. */
        r = openat(etc, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r < 0)
                return pod_error_set(reterr, -errno, "Failed to open /etc in the app: %m");
        safe_close(etc);
        etc = r;
        if (fstatat(etc, name, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (keep_existing)
                        return 0;
                /* A symlink (e.g. to systemd-resolved's stub) would lead our write elsewhere. */
                if (unlinkat(etc, name, 0) < 0)
                        return pod_error_set(reterr, -errno, "Failed to replace /etc/%s: %m", name);
        }
        fd = openat(etc, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to create /etc/%s: %m", name);
        /* The pod's root owns it, as it would a file of the image (--private-users). */
        if ((target_uid != 0 || target_gid != 0) && fchown(fd, target_uid, target_gid) < 0)
                return pod_error_set(reterr, -errno, "Failed to set the owner of /etc/%s: %m",
                                     name);
        r = loop_write(fd, text, strlen(text));
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write /etc/%s: %m", name);
        if (asprintf(&record, "appsinfo/%s/generated-%s", app->name, name) < 0)
                return -ENOMEM;
        r = stage1_write_file(c->pod_dir_fd, record, text);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write '%s': %m", record);
        return 0;
}

/* localhost, the hostname on the pod's (first CNI) IP or on loopback, then --hosts-entry
 * lines; "host" starts from a copy of the host's file instead. */
static int make_hosts(const struct stage1_config *c, char **ret, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        bool host = false;
        int r;

        STRV_FOREACH (e, c->hosts_entries)
                host = host || streq(*e, "host");
        if (host) {
                r = read_full_file_at(AT_FDCWD, "/etc/hosts", 1 << 20, &text, NULL);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "--hosts-entry=host: failed to read "
                                             "/etc/hosts: %m");
        } else if (c->net_ip)
                r = asprintf(&text,
                             "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                             "ip6-loopback\n%s\t%s\n",
                             c->net_ip, c->hostname);
        else
                r = asprintf(&text, "127.0.0.1\tlocalhost %s\n::1\tlocalhost %s\n", c->hostname,
                             c->hostname);
        if (r < 0)
                return -ENOMEM;
        STRV_FOREACH (e, c->hosts_entries) {
                const char *eq = strchr(*e, '=');
                _cleanup_free_ char *names = NULL;
                char *t;

                if (!eq)
                        continue; /* "host" */
                names = strdup(eq + 1);
                if (!names)
                        return -ENOMEM;
                for (char *p = names; *p; p++)
                        if (*p == ',')
                                *p = ' ';
                if (asprintf(&t, "%s%s%.*s\t%s\n", text,
                             text[0] && text[strlen(text) - 1] != '\n' ? "\n" : "", (int)(eq - *e),
                             *e, names) < 0)
                        return -ENOMEM;
                free(text);
                text = t;
        }
        *ret = TAKE_PTR(text);
        return 0;
}

int stage1_mount_app(const struct stage1_config *c, struct stage1_app *app, const char *root,
                     struct pod_error *reterr) {
        _cleanup_close_ int root_fd = -EBADF;
        _cleanup_free_ char *hosts = NULL, *resolv = NULL;
        int r;

        target_uid = c->private_users ? c->idmap.base : 0;
        target_gid = c->private_users ? c->idmap.base : 0;
        r = mount_rootfs(c, app, root, reterr);
        if (r < 0)
                return r;
        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", root);

        r = mount_proc(c, root_fd, reterr);
        if (r < 0)
                return r;
        r = mount_sys(c, root_fd, reterr);
        if (r < 0)
                return r;
        r = stage1_dev_setup(c, root_fd, reterr);
        if (r < 0)
                return r;

        qsort(app->mounts, app->n_mounts, sizeof(app->mounts[0]), cmp_depth);
        for (size_t i = 0; i < app->n_mounts; i++) {
                if (i > 0 && streq(app->mounts[i].path, app->mounts[i - 1].path))
                        return pod_error_set(reterr, -EINVAL,
                                             "App '%s': two volumes are mounted on '%s'", app->name,
                                             app->mounts[i].path);
                r = mount_volume(c, app, &app->mounts[i], root_fd, reterr);
                if (r < 0)
                        return r;
        }

        r = make_hosts(c, &hosts, reterr);
        if (r < 0)
                return r;
        /* ACE: provide /etc/hosts with localhost, but leave one the image ships alone
         * unless --hosts-entry asks for entries. */
        r = write_etc(c, app, root_fd, "hosts", hosts, !c->hosts_entries, reterr);
        if (r < 0)
                return r;
        switch (c->resolv_conf) {
        case STAGE1_RESOLV_AUTO:
                if (c->net_dns)
                        return write_etc(c, app, root_fd, "resolv.conf", c->net_dns, false, reterr);
                if (c->net == STAGE1_NET_HOST)
                        break;
                return 0;
        case STAGE1_RESOLV_NONE:
                return 0;
        case STAGE1_RESOLV_POD:
                /* Written by stage0 from --dns, --dns-search, --dns-opt, --dns-domain. */
                r = read_full_file_at(c->pod_dir_fd, "resolv.conf", 1 << 16, &resolv, NULL);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Failed to read 'resolv.conf' in the pod dir: %m");
                return write_etc(c, app, root_fd, "resolv.conf", resolv, false, reterr);
        case STAGE1_RESOLV_HOST:
                break;
        }
        r = read_full_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &resolv, NULL);
        if (r >= 0) {
                r = write_etc(c, app, root_fd, "resolv.conf", resolv, false, reterr);
                if (r < 0)
                        return r;
        } else
                log_debug_errno(r, "No host /etc/resolv.conf to copy, ignoring: %m");
        return 0;
}

int stage1_mount_finish_app(const struct stage1_config *c, struct stage1_app *app, const char *root,
                            struct pod_error *reterr) {
        _cleanup_close_ int root_fd = -EBADF;

        if (!app->read_only_rootfs)
                return 0;
        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", root);
        /* Only the root mount: volumes keep their own readOnly setting. */
        return set_mount_attr(root_fd, "/", MOUNT_ATTR_RDONLY, false, reterr);
}

/* The fly flavour (fly.c; ABI.md "The fly stage1"): the app's root is the same overlay (or
 * --no-overlay copy) as a pod's, so the store's trees are never written, but the host's
 * /dev, /proc and /sys are bound into it recursively, as they are (rkt fly's rbind mounts):
 * the app shares the host's PID namespace and devices and is meant to manage the host.  Host
 * volumes and empty volumes are mounted as for a pod; /etc/resolv.conf is a copy of the
 * host's (host network: ABI.md's --resolv-conf=auto rule). */
int stage1_mount_fly(const struct stage1_config *c, struct stage1_app *app, const char *root,
                     struct pod_error *reterr) {
        static const char *const host_dirs[] = { "/dev", "/proc", "/sys" };
        _cleanup_close_ int root_fd = -EBADF;
        _cleanup_free_ char *resolv = NULL;
        int r;

        r = mount_rootfs(c, app, root, reterr);
        if (r < 0)
                return r;
        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", root);
        for (size_t i = 0; i < ELEMENTSOF(host_dirs); i++) {
                _cleanup_close_ int src = -EBADF, dst = -EBADF;

                src = open(host_dirs[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (src < 0)
                        return pod_error_set(reterr, -errno, "Failed to open the host's '%s': %m",
                                             host_dirs[i]);
                dst = stage1_mount_target(root_fd, host_dirs[i], true, reterr);
                if (dst < 0)
                        return pod_error_prefix(reterr, dst, "App '%s'", app->name);
                r = bind_fd(src, dst, true);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to bind the host's '%s': %m",
                                             host_dirs[i]);
        }
        qsort(app->mounts, app->n_mounts, sizeof(app->mounts[0]), cmp_depth);
        for (size_t i = 0; i < app->n_mounts; i++) {
                if (i > 0 && streq(app->mounts[i].path, app->mounts[i - 1].path))
                        return pod_error_set(reterr, -EINVAL,
                                             "App '%s': two volumes are mounted on '%s'", app->name,
                                             app->mounts[i].path);
                r = mount_volume(c, app, &app->mounts[i], root_fd, reterr);
                if (r < 0)
                        return r;
        }
        if (c->resolv_conf == STAGE1_RESOLV_NONE)
                return 0;
        r = read_full_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &resolv, NULL);
        if (r < 0) {
                log_debug_errno(r, "No host /etc/resolv.conf to copy, ignoring: %m");
                return 0;
        }
        return write_etc(c, app, root_fd, "resolv.conf", resolv, false, reterr);
}
