/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd_notify readiness, rkt's model (stage1/ABI.md "systemd"): when $NOTIFY_SOCKET is set
 * (stage1 is the main process of a Type=notify service), the service becomes ready
 *  - when every app's image manifest has the annotation
 *    appc.io/executor/supports-systemd-notify=true: once each app has sent READY=1 to its
 *    own socket, notify/<app> in the pod dir, bind-mounted into the app as
 *    /run/systemd/notify, with NOTIFY_SOCKET pointing there;
 *  - otherwise: once every app's main process has been started.
 * One socket per app, so that whoever reads it knows which app spoke without trusting the
 * message or translating PIDs across namespaces.  The host side (hostwait.c) reads the
 * sockets and is the only sender towards systemd, so MAINPID stays stage1's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "hostwait.h"
#include "log.h"
#include "manifest.h"
#include "path-util.h"
#include "stage1.h"

#define NOTIFY_ANNOTATION "appc.io/executor/supports-systemd-notify"

static bool image_supports_notify(const struct pod_image_manifest *m) {
        const char *v = pod_kv_get(m->annotations, m->n_annotations, NOTIFY_ANNOTATION);
        return v && streq(v, "true");
}

/* Binds a datagram socket to notify/<app>.  sun_path holds 108 bytes; app names are not
 * bounded, so bind a short name (relative to the pod dir, our cwd) and rename it: a bound
 * socket is reached through its inode, whatever its name. */
static int make_socket(const struct stage1_config *c, const struct stage1_app *app,
                       struct pod_error *reterr) {
        static const char tmp[] = "notify/.bind";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *name = NULL;

        name = path_join("notify", app->name);
        if (!name)
                return -ENOMEM;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to create a notify socket: %m");
        memcpy(sa.sun_path, tmp, sizeof(tmp));
        (void)unlinkat(c->pod_dir_fd, tmp, 0);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return pod_error_set(reterr, -errno, "Failed to bind the notify socket of '%s': %m",
                                     app->name);
        /* The app may run as any user; only its own mount namespace can reach the socket
         * (notify/ is 0700). */
        if (fchmodat(c->pod_dir_fd, tmp, 0666, 0) < 0 ||
            renameat(c->pod_dir_fd, tmp, c->pod_dir_fd, name) < 0)
                return pod_error_set(reterr, -errno, "Failed to create '%s': %m", name);
        return TAKE_FD(fd);
}

int stage1_notify_setup(struct stage1_config *c, struct pod_error *reterr) {
        const char *e = getenv("NOTIFY_SOCKET");
        int r;

        if (!e)
                return 0;
        c->notify = true;
        c->notify_apps = true;
        for (size_t i = 0; i < c->n_apps; i++)
                c->notify_apps = c->notify_apps && image_supports_notify(c->images[i]);
        log_debug("$NOTIFY_SOCKET is set: READY=1 when %s",
                  c->notify_apps ? "every app said so" : "every app has started");
        if (!c->notify_apps)
                return 0;
        if (c->n_apps > STAGE1_NOTIFY_MAX_APPS)
                return pod_error_set(reterr, -E2BIG, "At most %d apps can use sd_notify",
                                     STAGE1_NOTIFY_MAX_APPS);

        if (mkdirat(c->pod_dir_fd, "notify", 0700) < 0 && errno != EEXIST)
                return pod_error_set(reterr, -errno, "Failed to create 'notify': %m");
        for (size_t i = 0; i < c->n_apps; i++) {
                struct stage1_app *app = &c->apps[i];

                /* The socket path is mounted over /run/systemd/notify: a host volume there
                 * would get a file created in the host's directory. */
                for (size_t k = 0; k < app->n_mounts; k++) {
                        const char *p = app->mounts[k].path;
                        size_t n = strlen(p);

                        if (app->mounts[k].volume->kind == POD_VOLUME_HOST &&
                            strneq(STAGE1_NOTIFY_PATH, p, n) &&
                            (STAGE1_NOTIFY_PATH[n] == '/' || STAGE1_NOTIFY_PATH[n] == 0))
                                return pod_error_set(reterr, -EBUSY,
                                                     "App '%s': host volume '%s' on '%s' covers "
                                                     "the notify socket " STAGE1_NOTIFY_PATH,
                                                     app->name, app->mounts[k].volume->name, p);
                }
                r = make_socket(c, app, reterr);
                if (r < 0)
                        return r;
                app->notify_fd = r;
        }
        return 0;
}

int stage1_notify_mount_app(const struct stage1_config *c, const struct stage1_app *app,
                            const char *root, struct pod_error *reterr) {
        _cleanup_close_ int root_fd = -EBADF, target = -EBADF;
        _cleanup_free_ char *src = NULL;
        int r;

        if (!c->notify_apps)
                return 0;
        /* By absolute path: a bind source must belong to our mount namespace. */
        src = path_join(c->pod_dir, "notify", app->name);
        if (!src)
                return -ENOMEM;
        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", root);
        target = stage1_mount_target(root_fd, STAGE1_NOTIFY_PATH, false, reterr);
        if (target < 0)
                return target;
        r = stage1_mount_at_fd(src, target, NULL, MS_BIND, NULL);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "App '%s': failed to mount its notify socket on "
                                     "'" STAGE1_NOTIFY_PATH "': %m",
                                     app->name);
        return 0;
}
