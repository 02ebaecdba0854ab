/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The root file system mode of a pod and the overlay probe: rootfs-mode.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf-file.h"
#include "fd-util.h"
#include "macro.h"
#include "path-util.h"
#include "rootfs-mode.h"

static const char *const mode_names[_POD_ROOTFS_MODE_MAX] = {
        [POD_ROOTFS_AUTO] = "auto",
        [POD_ROOTFS_OVERLAY] = "overlay",
        [POD_ROOTFS_COPY] = "copy",
        [POD_ROOTFS_FUSE] = "fuse-overlayfs",
};

int pod_rootfs_mode_from_string(const char *s) {
        for (int i = 0; s && i < _POD_ROOTFS_MODE_MAX; i++)
                if (streq(s, mode_names[i]))
                        return i;
        return -EINVAL;
}

const char *pod_rootfs_mode_to_string(enum pod_rootfs_mode m) {
        return m >= 0 && m < _POD_ROOTFS_MODE_MAX ? mode_names[m] : NULL;
}

static int conf_kv(const char *path, unsigned n, const char *k, const char *v, void *userdata,
                   struct pod_error *reterr) {
        struct pod_rootfs_conf *conf = userdata;
        int r;

        if (streq(k, "fuse-overlayfs")) {
                if (!streq(v, "no") && v[0] != '/')
                        return pod_error_set(reterr, -EINVAL,
                                             "%s:%u: fuse-overlayfs must be an absolute path or "
                                             "'no', not '%s'",
                                             path, n, v);
                free(conf->fuse_overlayfs);
                conf->fuse_overlayfs = strdup(v);
                return conf->fuse_overlayfs ? 0 : -ENOMEM;
        }
        if (!streq(k, "rootfs"))
                return pod_error_set(reterr, -EINVAL, "%s:%u: unknown key '%s'", path, n, k);
        r = pod_rootfs_mode_from_string(v);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "%s:%u: rootfs must be auto, overlay, copy or fuse-overlayfs, "
                                     "not '%s'",
                                     path, n, v);
        conf->mode = r;
        return 0;
}

int pod_rootfs_conf_load_full(const char *vendordir, const char *sysconfdir,
                              struct pod_rootfs_conf *ret, struct pod_error *reterr) {
        struct pod_rootfs_conf c = { .mode = POD_ROOTFS_AUTO };
        int r;

        r = pod_conf_file_parse(vendordir, POD_ROOTFS_CONF_FILE, conf_kv, &c, reterr);
        if (r >= 0)
                r = pod_conf_file_parse(sysconfdir, POD_ROOTFS_CONF_FILE, conf_kv, &c, reterr);
        if (r < 0) {
                free(c.fuse_overlayfs);
                return r;
        }
        *ret = c;
        return 0;
}

int pod_rootfs_conf_load(const char *vendordir, const char *sysconfdir, enum pod_rootfs_mode *ret,
                         struct pod_error *reterr) {
        struct pod_rootfs_conf c;
        int r;

        r = pod_rootfs_conf_load_full(vendordir, sysconfdir, &c, reterr);
        if (r < 0)
                return r;
        free(c.fuse_overlayfs);
        *ret = c.mode;
        return 0;
}

bool pod_rootfs_probe_refused(int r) {
        return r == -EPERM || r == -EINVAL || r == -ENODEV || r == -EOPNOTSUPP;
}

/* The forked child: its own mount namespace (the overlay dies with it), then the mount that
 * stage1 would make for a rootless pod (stage1/mount.c: upper and work next to the pod, the
 * markers as user.overlay.*).  Exits 0 or the errno of the step that failed. */
static _noreturn_ void probe_child(const char *dir) {
        if (unshare(CLONE_NEWNS) < 0)
                _exit(errno);
        /* Nothing of ours propagates back to the namespace stage0 shares with the user. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                _exit(errno);
        /* By path, after the unshare: overlayfs refuses an upper dir on a mount of another
         * mount namespace ("failed to clone upperpath"), which an fd opened before would be.
         * Relative names: no ',' or ':' of the user's path reaches the option string. */
        if (chdir(dir) < 0)
                _exit(errno);
        if (mount("overlay", "merged", "overlay", MS_NODEV,
                  "lowerdir=lower,upperdir=upper,workdir=work,userxattr") < 0)
                _exit(errno);
        _exit(0);
}

int pod_rootfs_probe_overlay(int dir_fd, struct pod_error *reterr) {
        static const char *const subdirs[] = { "lower", "upper", "work", "merged" };
        _cleanup_close_ int fd = -EBADF;
        char name[64], path[PATH_MAX];
        const char *test = getenv(POD_ROOTFS_PROBE_TEST_ENV);
        int status, r = 0;
        pid_t pid;

        if (test && streq(test, "refuse"))
                return -EPERM;

        /* A name of this process's own: two pods prepared at once probe side by side. */
        (void)snprintf(name, sizeof(name), ".overlay-probe-%ld", (long)getpid());
        (void)rm_rf_at(dir_fd, name); /* a leftover of a killed earlier process of this PID */
        if (mkdirat(dir_fd, name, 0700) < 0)
                return pod_error_set(reterr, -errno, "Failed to create the overlay probe '%s': %m",
                                     name);
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                r = pod_error_set(reterr, -errno, "Failed to open the overlay probe '%s': %m",
                                  name);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(subdirs); i++)
                if (mkdirat(fd, subdirs[i], 0700) < 0)
                        r = pod_error_set(reterr, -errno,
                                          "Failed to create the overlay probe '%s/%s': %m", name,
                                          subdirs[i]);
        if (r >= 0) {
                char link[64];
                ssize_t n;

                (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
                n = readlink(link, path, sizeof(path) - 1);
                if (n < 0 || n >= (ssize_t)sizeof(path) - 1 || path[0] != '/')
                        r = pod_error_set(reterr, n < 0 ? -errno : -ENAMETOOLONG,
                                          "Failed to name the overlay probe '%s': %m", name);
                else
                        path[n] = 0;
        }
        if (r >= 0) {
                pid = fork();
                if (pid < 0)
                        r = pod_error_set(reterr, -errno, "Failed to fork the overlay probe: %m");
                else if (pid == 0)
                        probe_child(path);
        }
        if (r >= 0) {
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR) {
                                r = pod_error_set(reterr, -errno,
                                                  "Failed to wait for the overlay probe: %m");
                                break;
                        }
                if (r >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                        r = WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
                        (void)pod_error_set(reterr, r, "overlayfs with userxattr: %s",
                                            strerror(-r));
                }
        }
        fd = safe_close(fd);
        (void)rm_rf_at(dir_fd, name);
        return r;
}

int pod_rootfs_fuse_find(const char *configured, char **ret_path, struct pod_error *reterr) {
        _cleanup_free_ char *found = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *path = getenv("PATH");

        if (configured && streq(configured, "no"))
                return pod_error_set(reterr, -ENOENT,
                                     "fuse-overlayfs is turned off (fuse-overlayfs = no in "
                                     "rootfs.conf)");
        if (configured) {
                if (access(configured, X_OK) < 0)
                        return pod_error_set(reterr, -errno,
                                             "fuse-overlayfs '%s' (rootfs.conf) cannot be "
                                             "executed: %m",
                                             configured);
                found = strdup(configured);
                if (!found)
                        return -ENOMEM;
        }
        for (const char *p = path && *path ? path : "/usr/bin"; p && !found;) {
                const char *e = strchr(p, ':');
                size_t n = e ? (size_t)(e - p) : strlen(p);

                if (n > 0 && p[0] == '/') {
                        char *c = NULL;

                        if (asprintf(&c, "%.*s/fuse-overlayfs", (int)n, p) < 0)
                                return -ENOMEM;
                        if (access(c, X_OK) == 0)
                                found = c;
                        else
                                free(c);
                }
                p = e ? e + 1 : NULL;
        }
        if (!found && access("/usr/bin/fuse-overlayfs", X_OK) == 0)
                found = strdup("/usr/bin/fuse-overlayfs");
        if (!found)
                return pod_error_set(reterr, -ENOENT,
                                     "fuse-overlayfs is not installed (not in $PATH nor "
                                     "/usr/bin; Debian's package fuse-overlayfs)");
        fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return pod_error_set(reterr, -errno,
                                     "fuse-overlayfs needs /dev/fuse, which this user cannot open: "
                                     "%m");
        *ret_path = TAKE_PTR(found);
        return 0;
}
