/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rootless pods whose kernel refuses overlayfs in a user namespace: each app's root is the
 * same overlay served by the fuse-overlayfs program (--fuse-overlayfs=PATH, ABI.md "Rootless").
 *
 * The host side, before the pod init is forked, moves into a private mount namespace of its
 * own (owned by the user's user namespace, so it may mount there), opens /dev/fuse and mounts
 * the FUSE file system on each app's rootfs/ itself (fd=N), so that the init's and the apps'
 * mount namespaces, copied from this one, have it.  Then it forks fuse-overlayfs on that
 * descriptor (libfuse takes "/dev/fd/N" as an already mounted connection) and checks that it
 * answers.  The program is thus outside the pod's PID namespace (no app sees, signals or
 * traces it) and in the pod's unit; PR_SET_PDEATHSIG kills it when this process - by then the
 * supervisor it executes - goes, and it exits by itself once the pod's namespaces (the mount)
 * are gone.  It gets its lower dirs as stage1_open_lower() opened them (no symlink in their
 * path, in a directory of ours), bound read-only at fuse-lowers/<app>/<i> of the pod dir in a
 * mount namespace of its own, so it cannot write the store; its upper and work dirs are the
 * pod's overlay/<app>/, as for the kernel's overlay. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fd-util.h"
#include "log.h"
#include "path-util.h"
#include "stage1.h"
#include "syscall.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define LOWERS_DIR       "fuse-lowers"
#define FIRST_OTHER_FD   4 /* 3 is the FUSE connection */

static char *strf(const char *fmt, ...) _printf_(1, 2);
static char *strf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

/* In the forked child: its own mount namespace, the lower dirs read-only at
 * fuse-lowers/<app>/<i>, the descriptors in place, the program.  Never returns. */
_noreturn_ static void exec_daemon(const struct stage1_config *c, const struct stage1_app *app,
                                   int fuse_fd, const char *own_root, size_t n, pid_t parent) {
        _cleanup_free_ char *opts = NULL, *upper = NULL, *work = NULL;
        size_t len = 0, cap;
        sigset_t none;
        int null_fd;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_POD_FAILURE);
        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                log_error_errno(-errno, "fuse-overlayfs: failed to make its mount namespace: %m");
                _exit(EXIT_POD_FAILURE);
        }
        upper = strf("%s/overlay/%s/upper", c->pod_dir, app->name);
        work = strf("%s/overlay/%s/work", c->pod_dir, app->name);
        cap = sizeof("lowerdir=,upperdir=,workdir=") + (upper ? strlen(upper) : 0) +
              (work ? strlen(work) : 0) + n * (strlen(c->pod_dir) + strlen(app->name) + 64);
        opts = malloc(cap);
        if (!upper || !work || !opts)
                _exit(EXIT_POD_FAILURE);
        len = (size_t)snprintf(opts, cap, "lowerdir=");
        for (size_t i = 0; i < n; i++) {
                char src[64], target[PATH_MAX];
                struct pod_error e = {};
                int fd;

                /* Opened again here: a mount of another namespace cannot be bound. */
                fd = app->lowers ? stage1_open_lower(app->lowers[i], &e)
                                 : open(own_root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        log_error("fuse-overlayfs: %s", e.msg[0] ? e.msg : strerror(errno));
                        _exit(EXIT_POD_FAILURE);
                }
                (void)snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
                (void)snprintf(target, sizeof(target), "%s/" LOWERS_DIR "/%s/%zu", c->pod_dir,
                               app->name, i);
                if (mount(src, target, NULL, MS_BIND, NULL) < 0 ||
                    mount(NULL, target, NULL,
                          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
                        log_error_errno(-errno,
                                        "fuse-overlayfs: failed to bind lower dir %zu of app "
                                        "'%s' read-only: %m",
                                        i, app->name);
                        _exit(EXIT_POD_FAILURE);
                }
                (void)close(fd);
                len += (size_t)snprintf(opts + len, cap - len, "%s%s", i ? ":" : "", target);
        }
        (void)snprintf(opts + len, cap - len, ",upperdir=%s,workdir=%s", upper, work);

        /* The connection at 3, nothing else of ours. */
        if (dup2(fuse_fd, 3) < 0)
                _exit(EXIT_POD_FAILURE);
        (void)sys_close_range(FIRST_OTHER_FD, ~0U, 0);
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd >= 0)
                (void)dup2(null_fd, STDIN_FILENO);
        execl(c->fuse_overlayfs, "fuse-overlayfs", "-f", "-o", opts, "/dev/fd/3", (char *)NULL);
        log_error_errno(-errno, "Failed to execute '%s': %m", c->fuse_overlayfs);
        _exit(EXIT_POD_FAILURE);
}

static int mount_app(const struct stage1_config *c, const struct stage1_app *app,
                     struct pod_error *reterr) {
        _cleanup_free_ char *root = NULL, *dir = NULL;
        _cleanup_close_ int fuse_fd = -EBADF;
        int fds[STAGE1_LOWERS_MAX + 1];
        char opts[160];
        struct statfs sf;
        size_t n = 0;
        pid_t parent = getpid(), pid = 0;
        int r = 0;

        root = path_join(c->pod_dir, app->rootfs);
        dir = strf(LOWERS_DIR "/%s", app->name);
        if (!root || !dir)
                return -ENOMEM;
        if (app->lowers) {
                STRV_FOREACH (l, app->lowers) {
                        fds[n] = stage1_open_lower(*l, reterr);
                        if (fds[n] < 0) {
                                r = pod_error_prefix(reterr, fds[n], "App '%s'", app->name);
                                break;
                        }
                        n++;
                }
        } else {
                /* The pod's own rendered tree (ABI.md "lowers"): its rootfs/ is lower dir and
                 * mount point at once, as for the kernel's overlay. */
                fds[0] = open(root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fds[0] < 0)
                        r = pod_error_set(reterr, -errno, "Failed to open '%s': %m", root);
                else
                        n = 1;
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *d = strf("%s/%zu", dir, i);

                r = d ? mkdir_p_at(c->pod_dir_fd, d, 0700) : -ENOMEM;
                if (r < 0)
                        r = pod_error_set(reterr, r, "Failed to create '%s' in the pod dir: %m", d);
        }
        if (r >= 0) {
                fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (fuse_fd < 0)
                        r = pod_error_set(reterr, -errno,
                                          "fuse-overlayfs: cannot open /dev/fuse: %m");
        }
        if (r >= 0) {
                (void)snprintf(opts, sizeof(opts),
                               "fd=%d,rootmode=40000,user_id=%u,group_id=%u,allow_other,"
                               "default_permissions",
                               fuse_fd, (unsigned)getuid(), (unsigned)getgid());
                if (mount("fuse-overlayfs", root, "fuse.fuse-overlayfs", MS_NOSUID | MS_NODEV,
                          opts) < 0)
                        r = pod_error_set(reterr, -errno,
                                          "Failed to mount the FUSE file system of app '%s': %m",
                                          app->name);
        }
        if (r >= 0) {
                pid = fork();
                if (pid < 0)
                        r = pod_error_set(reterr, -errno, "Failed to fork fuse-overlayfs: %m");
                else if (pid == 0)
                        exec_daemon(c, app, fuse_fd, root, n, parent);
        }
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
        /* The program's copy is the connection's only one now: if it is gone, requests fail
         * (ENOTCONN) instead of waiting for an answer forever. */
        fuse_fd = safe_close(fuse_fd);
        if (r < 0)
                return r;
        /* The first request waits for the program's answer: serving, or gone. */
        if (statfs(root, &sf) < 0 || sf.f_type != FUSE_SUPER_MAGIC)
                return pod_error_set(reterr, -errno ?: -EIO,
                                     "fuse-overlayfs did not start for app '%s' (%s): %m",
                                     app->name, c->fuse_overlayfs);
        log_debug("App '%s': fuse-overlayfs (pid %d) serves its root", app->name, (int)pid);
        return 0;
}

int stage1_fuse_overlay_setup(const struct stage1_config *c, struct pod_error *reterr) {
        int r;

        if (!c->fuse_overlayfs)
                return 0;
        if (!c->rootless)
                return pod_error_set(reterr, -EPERM,
                                     "--fuse-overlayfs is for rootless pods (root has the kernel's "
                                     "overlayfs)");
        if (c->no_overlay)
                return pod_error_set(reterr, -EINVAL,
                                     "--fuse-overlayfs cannot be combined with --no-overlay");
        if (c->fuse_overlayfs[0] != '/')
                return pod_error_set(reterr, -EINVAL, "--fuse-overlayfs needs an absolute path");
        if (strpbrk(c->pod_dir, ",:\\\n"))
                return pod_error_set(reterr, -EINVAL,
                                     "Pod directory '%s' contains ',', ':' or '\\', which "
                                     "fuse-overlayfs options cannot carry",
                                     c->pod_dir);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to make a mount namespace for the FUSE mounts: %m");
        for (size_t i = 0; i < c->n_apps; i++) {
                r = mount_app(c, &c->apps[i], reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}
