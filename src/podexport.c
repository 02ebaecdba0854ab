/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd-util.h"
#include "idmap.h"
#include "manifest.h"
#include "path-util.h"
#include "podexport.h"
#include "prepare-tree.h"
#include "sha512.h"
#include "syscall.h"
#include "userns-alloc.h"

struct result {
        struct pod_error error;
        char id[POD_IMAGE_ID_SIZE];
};

static void lower_fds_close(int (*fds)[POD_PREPARE_LOWERS_MAX + 1]) {
        for (size_t i = 0; i <= POD_PREPARE_LOWERS_MAX && (*fds)[i] >= 0; i++)
                safe_close((*fds)[i]);
}

/* An idmapped clone of the directory fd refers to, through userns_fd, replacing *fd: what a
 * --private-users pod saw of its image (stage1 mounts the same), host ID X shown as BASE+X.
 * Attached at mnt_dir/n in our private mount namespace first, as stage1 does, so that
 * overlayfs takes it as a layer of this namespace. */
static int idmap_in_place(int *fd, int userns_fd, const char *mnt_dir, size_t n,
                          struct pod_error *reterr) {
        _cleanup_close_ int clone = -EBADF;
        char path[PATH_MAX];
        int attached;

        clone = pod_idmap_clone(*fd, userns_fd, false, reterr);
        if (clone < 0)
                return clone;
        (void)snprintf(path, sizeof(path), "%s/%zu", mnt_dir, n);
        if (mkdir(path, 0700) < 0)
                return pod_error_set(reterr, -errno, "Failed to create '%s': %m", path);
        if (sys_move_mount(clone, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return pod_error_set(reterr, -errno, "Failed to attach an idmapped tree: %m");
        attached = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (attached < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", path);
        safe_close(*fd);
        *fd = attached;
        return 0;
}

/* With a "lowers" file (prepare-tree.h): *lower becomes "/proc/self/fd/N:..." of the lower
 * dirs (top first), opened O_PATH without following a symlink, each an idmapped clone when
 * userns_fd >= 0.  Without: unchanged. */
static int open_lowers(int pod_fd, const char *app, int userns_fd, const char *mnt_dir,
                       int fds[static POD_PREPARE_LOWERS_MAX + 1], char **lower,
                       struct pod_error *reterr) {
        _cleanup_free_ char *path = NULL, *text = NULL, *opt = NULL;
        size_t n = 0, len = 0;
        int r;

        fds[0] = -EBADF;
        path = path_join("stage1/rootfs/opt/stage2", app, POD_PREPARE_LOWERS);
        if (!path)
                return -ENOMEM;
        r = read_full_file_at(pod_fd, path, 1u << 20, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s': %m", path);
        opt = malloc(POD_PREPARE_LOWERS_MAX * 32);
        if (!opt)
                return -ENOMEM;
        opt[0] = 0;
        for (char *p = text, *e; *p; p = e + 1) {
                struct open_how how = {
                        .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                };

                e = strchr(p, '\n');
                if (!e || p[0] != '/' || n == POD_PREPARE_LOWERS_MAX)
                        return pod_error_set(reterr, -EBADMSG, "'%s' is damaged", path);
                *e = 0;
                fds[n] = sys_openat2(AT_FDCWD, p, &how, sizeof(how));
                if (fds[n] < 0 && errno == ENOSYS)
                        fds[n] = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fds[n] < 0)
                        return pod_error_set(reterr, -errno, "Failed to open lower dir '%s': %m",
                                             p);
                if (userns_fd >= 0) {
                        r = idmap_in_place(&fds[n], userns_fd, mnt_dir, n, reterr);
                        if (r < 0) {
                                fds[n + 1] = -EBADF; /* fds[n] is closed with the others */
                                return r;
                        }
                }
                len += (size_t)sprintf(opt + len, "%s/proc/self/fd/%d", n ? ":" : "", fds[n]);
                fds[++n] = -EBADF;
        }
        if (n == 0)
                return pod_error_set(reterr, -EBADMSG, "'%s' is empty", path);
        free(*lower);
        *lower = TAKE_PTR(opt);
        return 0;
}

/* In the child: a private mount namespace, the merged tree at dir/rootfs, the writer. */
static int copy_fd_data(int in, int out) {
        char buf[16384];
        ssize_t n;

        while ((n = loop_read(in, buf, sizeof(buf))) > 0)
                if (loop_write(out, buf, (size_t)n) < 0)
                        return -errno;
        return n < 0 ? -errno : 0;
}

static int open_in_root(int root_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t)flags | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = sys_openat2(root_fd, path, &how, sizeof(how));

        return fd < 0 ? -errno : fd;
}

/* Files stage1 generated in the app's /etc (stage1/ABI.md: appsinfo/<app>/generated-NAME)
 * are not the app's: where the file in the merged tree is still what stage1 wrote, it is
 * replaced by the image's own (image_fd: the lower dirs merged) or removed when the image
 * had none.  A file the app changed afterwards is the app's and stays (issue 13 bug 2: an
 * exported pod otherwise carried the old pod's hostname in /etc/hosts). */
static int restore_generated(int pod_fd, const char *app, int root_fd, int image_fd,
                             struct pod_error *reterr) {
        static const char *const names[] = { "hosts", "resolv.conf" };

        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                _cleanup_free_ char *record = NULL, *gen = NULL, *cur = NULL, *path = NULL;
                _cleanup_close_ int cur_fd = -EBADF, etc = -EBADF, img_etc = -EBADF;
                size_t gen_size = 0;
                struct stat st;
                ssize_t n;
                int r;

                if (asprintf(&record, "appsinfo/%s/generated-%s", app, names[k]) < 0 ||
                    asprintf(&path, "etc/%s", names[k]) < 0)
                        return -ENOMEM;
                r = read_full_file_at(pod_fd, record, 1u << 20, &gen, &gen_size);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to read '%s': %m", record);
                cur_fd = open_in_root(root_fd, path, O_RDONLY);
                if (cur_fd < 0)
                        continue; /* gone, a symlink now, or not a file: the app's doing */
                if (fstat(cur_fd, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (st.st_size != (off_t)gen_size)
                        continue;
                cur = malloc(gen_size + 1);
                if (!cur)
                        return -ENOMEM;
                n = loop_read(cur_fd, cur, gen_size + 1);
                if (n < 0 || (size_t)n != gen_size || memcmp(cur, gen, gen_size) != 0)
                        continue;
                etc = open_in_root(root_fd, "etc", O_RDONLY | O_DIRECTORY);
                if (etc < 0)
                        return pod_error_set(reterr, etc, "Failed to open the app's /etc: %m");
                if (unlinkat(etc, names[k], 0) < 0)
                        return pod_error_set(reterr, -errno, "Failed to leave out /etc/%s: %m",
                                             names[k]);
                img_etc = open_in_root(image_fd, "etc", O_RDONLY | O_DIRECTORY);
                if (img_etc < 0 || fstatat(img_etc, names[k], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue; /* the image had none: neither has the export */
                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t m = readlinkat(img_etc, names[k], target, sizeof(target) - 1);

                        if (m < 0)
                                return pod_error_set(reterr, -errno,
                                                     "Failed to read the image's /etc/%s: %m",
                                                     names[k]);
                        target[m] = 0;
                        if (symlinkat(target, etc, names[k]) < 0)
                                return pod_error_set(reterr, -errno,
                                                     "Failed to restore the image's /etc/%s: %m",
                                                     names[k]);
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_close_ int in = -EBADF, out = -EBADF;

                        in = openat(img_etc, names[k], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        out = openat(etc, names[k],
                                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                     st.st_mode & 07777);
                        if (in < 0 || out < 0 || copy_fd_data(in, out) < 0 ||
                            fchown(out, st.st_uid, st.st_gid) < 0 ||
                            fchmod(out, st.st_mode & 07777) < 0)
                                return pod_error_set(reterr, -errno,
                                                     "Failed to restore the image's /etc/%s: %m",
                                                     names[k]);
                }
        }
        return 0;
}

static int build_in_child(int pod_fd, const char *dir, const char *app, const char *rootfs_lower,
                          const char *upper, const char *out, const struct pod_aci_build_options *o,
                          struct result *res) {
        _cleanup_(lower_fds_close) int lower_fds[POD_PREPARE_LOWERS_MAX + 1] = { -EBADF };
        _cleanup_free_ char *rootfs = NULL, *opts = NULL, *id = NULL, *lower = NULL,
                            *mnt_dir = NULL;
        _cleanup_close_ int cwd_fd = -EBADF, userns_fd = -EBADF, tree_fd = -EBADF;
        enum pod_userns_ownership ownership;
        int r;

        rootfs = path_join(dir, "rootfs");
        if (!rootfs)
                return -ENOMEM;
        /* overlayfs takes its layers only from mounts of the caller's namespace: enter the
         * pod dir first, so that after unshare() the cwd is our copy of it and the layers
         * can be named relative to it.  out stays relative to the original cwd. */
        cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cwd_fd < 0)
                return pod_error_set(&res->error, -errno, "Failed to open the cwd: %m");
        if (fchdir(pod_fd) < 0)
                return pod_error_set(&res->error, -errno, "Failed to enter the pod dir: %m");
        if (unshare(CLONE_NEWNS) < 0)
                return pod_error_set(&res->error, -errno, "Failed to create a mount namespace: %m");
        /* Nothing mounted here may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return pod_error_set(&res->error, -errno, "Failed to make '/' private: %m");
        /* The store's trees as the lower dirs (prepare-tree.h), opened in this namespace
         * (overlayfs clones the lower mounts, which must be ours) and named by fd. */
        lower = strdup(rootfs_lower);
        if (!lower)
                return -ENOMEM;
        /* A --private-users pod (o->unshift): the image's trees as the pod saw them, through
         * its user namespace, so that every file of the merged view has an ID of the pod's
         * range (its own writes are already there), and the writer shifts them all back. */
        /* A chown-shifted pod's lower dirs (store-shift.h) are in the range already. */
        if (o->unshift && !(pod_userns_ownership_record_read(pod_fd, &ownership) >= 0 &&
                            ownership == POD_USERNS_OWNERSHIP_CHOWN)) {
                mnt_dir = path_join(dir, "idmapped");
                if (!mnt_dir)
                        return -ENOMEM;
                if (mkdir(mnt_dir, 0700) < 0)
                        return pod_error_set(&res->error, -errno, "Failed to create '%s': %m",
                                             mnt_dir);
                userns_fd = pod_idmap_userns(o->unshift, &res->error);
                if (userns_fd < 0)
                        return userns_fd;
        }
        r = open_lowers(pod_fd, app, userns_fd, mnt_dir, lower_fds, &lower, &res->error);
        if (r < 0)
                return r;
        if (userns_fd >= 0 && lower_fds[0] < 0) {
                /* No "lowers": the app's rendered tree (hard links of the store's; stage1
                 * refuses --private-users with --no-overlay), idmapped the same way. */
                tree_fd = open(rootfs_lower, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (tree_fd < 0)
                        return pod_error_set(&res->error, -errno, "Failed to open '%s': %m",
                                             rootfs_lower);
                r = idmap_in_place(&tree_fd, userns_fd, mnt_dir, 0, &res->error);
                if (r < 0)
                        return r;
                free(lower);
                if (asprintf(&lower, "/proc/self/fd/%d", tree_fd) < 0) {
                        lower = NULL;
                        return -ENOMEM;
                }
        }
        if (upper) {
                /* The pod's upper dir over its lower dirs, whiteouts (of the upper dir and of
                 * OCI layers) and opaque dirs honoured by overlayfs itself; writable through
                 * a scratch upper dir of our own (the pod's stays untouched), so that files
                 * stage1 generated can be left out (restore_generated()). */
                _cleanup_free_ char *image = NULL, *iopts = NULL, *up = NULL, *work = NULL;
                _cleanup_close_ int root_fd = -EBADF, image_fd = -EBADF;

                image = path_join(dir, "image");
                up = path_join(dir, "scratch-up");
                work = path_join(dir, "scratch-work");
                if (!image || !up || !work)
                        return -ENOMEM;
                if (mkdir(image, 0700) < 0 || mkdir(up, 0700) < 0 || mkdir(work, 0700) < 0)
                        return pod_error_set(&res->error, -errno,
                                             "Failed to create the export's scratch dirs: %m");
                /* The merged root directory is the scratch upper dir: with unshift it must
                 * carry the pod's root owner, not ours (host root, outside the range). */
                if (o->unshift) {
                        struct stat st;

                        if (stat(upper, &st) < 0 || chown(up, st.st_uid, st.st_gid) < 0 ||
                            chmod(up, st.st_mode & 07777) < 0)
                                return pod_error_set(&res->error, -errno,
                                                     "Failed to give the export's scratch dir "
                                                     "the owner of '%s': %m",
                                                     upper);
                }
                if (asprintf(&opts, "lowerdir=%s:%s,upperdir=%s,workdir=%s", upper, lower, up,
                             work) < 0)
                        return -ENOMEM;
                if (mount("overlay", rootfs, "overlay", MS_NODEV | MS_NOSUID, opts) < 0)
                        return pod_error_set(&res->error, -errno,
                                             "Failed to mount the app's overlay: %m");
                if (strchr(lower, ':')) {
                        if (asprintf(&iopts, "lowerdir=%s", lower) < 0)
                                return -ENOMEM;
                        r = mount("overlay", image, "overlay", MS_RDONLY | MS_NODEV | MS_NOSUID,
                                  iopts);
                } else
                        r = mount(lower, image, NULL, MS_BIND, NULL);
                if (r < 0)
                        return pod_error_set(&res->error, -errno,
                                             "Failed to mount the image's tree: %m");
                root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                image_fd = open(image, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (root_fd < 0 || image_fd < 0)
                        return pod_error_set(&res->error, -errno, "Failed to open the trees: %m");
                r = restore_generated(pod_fd, app, root_fd, image_fd, &res->error);
                if (r < 0)
                        return r;
        } else if (strchr(lower, ':')) {
                /* Lower layers and no upper (--no-overlay pods have none): a read-only merge. */
                if (asprintf(&opts, "lowerdir=%s", lower) < 0)
                        return -ENOMEM;
                if (mount("overlay", rootfs, "overlay", MS_RDONLY | MS_NODEV | MS_NOSUID, opts) < 0)
                        return pod_error_set(&res->error, -errno,
                                             "Failed to mount the app's overlay: %m");
        } else {
                if (mount(lower, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                    mount(NULL, rootfs, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                        return pod_error_set(&res->error, -errno,
                                             "Failed to bind-mount the app's tree: %m");
        }
        if (fchdir(cwd_fd) < 0)
                return pod_error_set(&res->error, -errno, "Failed to return to the cwd: %m");
        r = pod_aci_build(dir, out, o, &id, &res->error);
        if (r < 0)
                return r;
        (void)snprintf(res->id, sizeof(res->id), "%s", id);
        return 0;
}

/* The temp dir: manifest and an empty rootfs/ (the overlay lived only in the child's
 * namespace). */
static void tmpdir_removep(char **dir) {
        _cleanup_close_ int fd = -EBADF;

        if (!*dir)
                return;
        fd = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
                (void)unlinkat(fd, "manifest", 0);
                (void)unlinkat(fd, "rootfs", AT_REMOVEDIR);
                (void)unlinkat(fd, "image", AT_REMOVEDIR);
                (void)rm_rf_at(fd, "scratch-up");
                (void)rm_rf_at(fd, "scratch-work");
                (void)rm_rf_at(fd, "idmapped"); /* mount points, mounted in the child only */
        }
        (void)rmdir(*dir);
        free(*dir);
}

static int run_child(int pod_fd, const char *tmpdir, const char *app, const char *lower,
                     const char *upper, const char *out, const struct pod_aci_build_options *o,
                     char **ret_id, struct pod_error *reterr) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        struct result res = {};
        int pipefd[2], status, r;
        ssize_t n;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return pod_error_set(reterr, -errno, "Failed to create a pipe: %m");
        rfd = pipefd[0];
        wfd = pipefd[1];
        pid = fork();
        if (pid < 0)
                return pod_error_set(reterr, -errno, "Failed to fork: %m");
        if (pid == 0) {
                rfd = safe_close(rfd);
                r = build_in_child(pod_fd, tmpdir, app, lower, upper, out, o, &res);
                if (r < 0 && res.error.error == 0)
                        (void)pod_error_set(&res.error, r, "Failed to export: %m");
                (void)loop_write(wfd, &res, sizeof(res));
                _exit(r < 0 ? 1 : 0);
        }
        wfd = safe_close(wfd);
        n = loop_read(rfd, &res, sizeof(res));
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return pod_error_set(reterr, -errno, "Failed to wait for pid %d: %m",
                                             (int)pid);
        if (n != (ssize_t)sizeof(res) || !WIFEXITED(status))
                return pod_error_set(reterr, -EPROTO, "The export process died");
        if (res.error.error < 0) {
                if (reterr)
                        *reterr = res.error;
                return res.error.error;
        }
        res.id[sizeof(res.id) - 1] = 0;
        if (ret_id) {
                *ret_id = strdup(res.id);
                if (!*ret_id)
                        return -ENOMEM;
        }
        return 0;
}

int pod_export_rootfs(int pod_fd, const char *app_name, const char *out, bool overwrite,
                      const struct pod_aci_build_options *o, char **ret_id,
                      struct pod_error *reterr) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *pm = NULL;
        _cleanup_free_ char *text = NULL, *mtext = NULL, *mpath = NULL, *lower = NULL,
                            *upper = NULL;
        _cleanup_(tmpdir_removep) char *tmpdir = NULL;
        _cleanup_close_ int tmp_fd = -EBADF;
        struct pod_aci_build_options bo;
        struct pod_idmap idmap;
        const char *app;
        struct stat st;
        size_t size = 0, msize = 0;
        int r;

        r = read_full_file_at(pod_fd, "pod", POD_MANIFEST_MAX, &text, &size);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the pod manifest: %m");
        r = pod_pod_manifest_parse(text, size, &pm, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Pod manifest");
        app = NULL;
        for (size_t k = 0; app_name && k < pm->n_apps; k++)
                if (streq(pm->apps[k].name, app_name))
                        app = pm->apps[k].name;
        if (app_name && !app)
                return pod_error_set(reterr, -ENOENT, "The pod has no app '%s'", app_name);
        if (!app && pm->n_apps != 1)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The pod has %zu apps; name the one to export with --app=NAME",
                                     pm->n_apps);
        if (!app)
                app = pm->apps[0].name;

        if (!overwrite && faccessat(AT_FDCWD, out, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return pod_error_set(reterr, -EEXIST, "'%s' exists (use --overwrite)", out);

        mpath = path_join("appsinfo", app, "manifest");
        if (!mpath)
                return -ENOMEM;
        r = read_full_file_at(pod_fd, mpath, POD_MANIFEST_MAX, &mtext, &msize);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the image manifest of app '%s': %m",
                                     app);

        /* Relative to the pod dir; app names are AC names: no ':' or ',' for the options. */
        lower = path_join("stage1/rootfs/opt/stage2", app, "rootfs");
        upper = path_join("overlay", app, "upper");
        if (!lower || !upper)
                return -ENOMEM;
        if (fstatat(pod_fd, lower, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return pod_error_set(reterr, -ENOENT, "App '%s' has no tree in the pod", app);

        if (fstatat(pod_fd, upper, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return pod_error_set(reterr, -errno, "Failed to look at '%s': %m", upper);
                /* --no-overlay: the tree itself was written to */
                free(upper);
                upper = NULL;
        }

        {
                const char *t = getenv("TMPDIR");

                if (asprintf(&tmpdir, "%s/pod-export-XXXXXX", t && t[0] == '/' ? t : "/tmp") < 0)
                        return -ENOMEM;
        }
        if (!mkdtemp(tmpdir))
                return pod_error_set(reterr, -errno, "Failed to create a temporary directory: %m");
        tmp_fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmp_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", tmpdir);
        r = write_file_atomic_at(tmp_fd, "manifest", mtext, msize, 0644);
        if (r >= 0 && mkdirat(tmp_fd, "rootfs", 0755) < 0)
                r = -errno;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to set up '%s': %m", tmpdir);

        /* The build's own rename refuses an out that appeared meanwhile, unless overwrite. */
        bo = *o;
        bo.overwrite = overwrite;
        r = pod_userns_record_read(pod_fd, &idmap);
        if (r >= 0)
                bo.unshift = &idmap;
        else if (r != -ENOENT)
                return pod_error_set(reterr, r, "Failed to read the pod's '%s': %s",
                                     POD_USERNS_RECORD, strerror(-r));
        return run_child(pod_fd, tmpdir, app, lower, upper, out, &bo, ret_id, reterr);
}
