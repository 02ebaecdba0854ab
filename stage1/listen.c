/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket activation (sd_listen_fds(3)): when the service manager started us with
 * LISTEN_PID = our PID, LISTEN_FDS = N (fds 3 .. 3+N-1) and LISTEN_FDNAMES, the sockets go
 * to the apps (stage1/ABI.md "Socket activation"):
 *  - a single-app pod: every fd, in order, to that app;
 *  - several apps: the fd named X (FileDescriptorName=X in the .socket unit) to each app
 *    whose manifest has a port named X with socketActivated: true; an fd no app claims fails
 *    the pod, as the service could never answer on it.
 * The app's main process (not its event handlers) gets them as fds 3, 4, ... in the
 * order stage1 received them, with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID = its own PID
 * in the pod's PID namespace. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "manifest.h"
#include "stage1.h"

#define LISTEN_FDS_START 3
#define LISTEN_FDS_MAX   256

static int parse_count(const char *s, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != 0 || v < 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

static void unset_listen_env(void) {
        (void)unsetenv("LISTEN_PID");
        (void)unsetenv("LISTEN_FDS");
        (void)unsetenv("LISTEN_FDNAMES");
}

static int app_add(struct stage1_app *app, size_t idx) {
        size_t *t = realloc(app->listen_idx, (app->n_listen + 1) * sizeof(*t));

        if (!t)
                return -ENOMEM;
        t[app->n_listen++] = idx;
        app->listen_idx = t;
        return 0;
}

static bool app_claims(const struct stage1_app *app, const char *name) {
        for (size_t p = 0; p < app->app->n_ports; p++)
                if (app->app->ports[p].socket_activated && streq(app->app->ports[p].name, name))
                        return true;
        return false;
}

int stage1_listen_setup(struct stage1_config *c, struct pod_error *reterr) {
        const char *e_pid = getenv("LISTEN_PID"), *e_fds = getenv("LISTEN_FDS");
        const char *e_names = getenv("LISTEN_FDNAMES");
        _cleanup_free_ char *names = NULL;
        long pid, n;
        char *tok;
        int r;

        if (!e_pid || !e_fds)
                return unset_listen_env(), 0;
        if (parse_count(e_pid, &pid) < 0 || parse_count(e_fds, &n) < 0)
                return pod_error_set(reterr, -EINVAL, "Invalid LISTEN_PID='%s' or LISTEN_FDS='%s'",
                                     e_pid, e_fds);
        /* Meant for another process (one we were started by): not ours to take. */
        if (pid != (long)getpid() || n == 0)
                return unset_listen_env(), 0;
        if (n > LISTEN_FDS_MAX)
                return pod_error_set(reterr, -E2BIG, "LISTEN_FDS=%ld: at most %d sockets", n,
                                     LISTEN_FDS_MAX);

        c->listen_fds = calloc((size_t)n, sizeof(int));
        c->listen_names = calloc((size_t)n + 1, sizeof(char *));
        if (!c->listen_fds || !c->listen_names)
                return -ENOMEM;
        names = strdup(e_names ?: "");
        if (!names)
                return -ENOMEM;
        for (long j = 0; j < n; j++)
                c->listen_fds[j] = -EBADF;
        c->n_listen_fds = (size_t)n;
        /* strtok_r would merge empty names: split by hand. */
        tok = e_names ? names : NULL;
        for (long j = 0; j < n; j++) {
                char *colon = tok ? strchr(tok, ':') : NULL;

                if (colon)
                        *colon = 0;
                c->listen_names[j] = strdup(tok && *tok ? tok : "unknown");
                if (!c->listen_names[j])
                        return -ENOMEM;
                if (e_names && !tok)
                        return pod_error_set(reterr, -EINVAL,
                                             "LISTEN_FDNAMES='%s' names fewer than LISTEN_FDS=%ld "
                                             "sockets",
                                             e_names, n);
                tok = colon ? colon + 1 : NULL;
        }
        if (tok)
                return pod_error_set(reterr, -EINVAL,
                                     "LISTEN_FDNAMES='%s' names more than LISTEN_FDS=%ld sockets",
                                     e_names, n);

        for (long j = 0; j < n; j++) {
                int fd = LISTEN_FDS_START + (int)j;

                if (fcntl(fd, F_GETFD) < 0)
                        return pod_error_set(reterr, -EBADF,
                                             "LISTEN_FDS=%ld, but fd %d is not open", n, fd);
                /* Ours until an app's main process takes it; no other process inherits it. */
                r = fd_cloexec(fd, true);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to take fd %d: %m", fd);
                c->listen_fds[j] = fd;
        }
        unset_listen_env();
        return 0;
}

int stage1_listen_assign(struct stage1_config *c, struct pod_error *reterr) {
        size_t k = 0;
        int r;

        for (size_t j = 0; j < c->n_listen_fds; j++) {
                bool claimed = false;

                for (size_t i = 0; i < c->n_apps; i++)
                        if (c->n_apps == 1 || app_claims(&c->apps[i], c->listen_names[j])) {
                                r = app_add(&c->apps[i], j);
                                if (r < 0)
                                        return r;
                                claimed = true;
                                k++;
                        }
                if (!claimed)
                        return pod_error_set(reterr, -ENXIO,
                                             "Socket '%s' (LISTEN_FDNAMES) matches no port with "
                                             "socketActivated: true of the pod's apps",
                                             c->listen_names[j]);
        }
        log_debug("Socket activation: %zu socket(s) handed to the apps %zu time(s)",
                  c->n_listen_fds, k);
        return 0;
}

int stage1_listen_install(const struct stage1_config *c, const struct stage1_app *app,
                          char **ret_names) {
        _cleanup_free_ char *names = NULL;
        int k = (int)app->n_listen;
        size_t len = 0;

        if (k == 0) {
                *ret_names = NULL;
                return 0;
        }
        for (int j = 0; j < k; j++)
                len += strlen(c->listen_names[app->listen_idx[j]]) + 1;
        names = calloc(len + 1, 1);
        if (!names)
                return -ENOMEM;
        /* Two steps, so that no target number is also a source still to be moved: first
         * above the target range, then into place (dup2 clears FD_CLOEXEC). */
        for (int j = 0; j < k; j++) {
                int src = c->listen_fds[app->listen_idx[j]];
                int t = fcntl(src, F_DUPFD_CLOEXEC, LISTEN_FDS_START + k);

                if (t < 0)
                        return -errno;
                if (dup2(t, LISTEN_FDS_START + j) < 0) {
                        int r = -errno;
                        (void)close(t);
                        return r;
                }
                (void)close(t);
                if (j > 0)
                        strcat(names, ":");
                strcat(names, c->listen_names[app->listen_idx[j]]);
        }
        *ret_names = TAKE_PTR(names);
        return k;
}

void stage1_listen_close(struct stage1_config *c) {
        for (size_t j = 0; j < c->n_listen_fds; j++)
                c->listen_fds[j] = safe_close(c->listen_fds[j]);
}
