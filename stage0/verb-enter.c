/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod enter [--app=NAME] UUID|--uuid-file=PATH [CMD [ARGS...]]: a command inside a running
 * pod, as one of its apps (src/enter.h says what is joined and in which order).  The app's
 * seccomp filter is rebuilt from the pod manifest by stage1's own code (stage1/config.c
 * reads the isolators, stage1/seccomp.c builds the filter), so what enter loads is what
 * stage1 loaded for the app. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enter.h"
#include "log.h"
#include "podref.h"
#include "seccomp-lib.h"
#include "stage1.h"
#include "verbs.h"

static const char *arg_app;
static const char *arg_uuid_file;

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_APP = 0x100, ARG_UUID_FILE };
        static const struct option options[] = {
                { "app", required_argument, NULL, ARG_APP },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                {},
        };
        int c;

        arg_app = NULL;
        arg_uuid_file = NULL;
        /* '+': stop at the first positional argument; the command's flags are its own. */
        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case ARG_APP:
                        arg_app = optarg;
                        break;
                case ARG_UUID_FILE:
                        arg_uuid_file = optarg;
                        break;
                default:
                        return pod_usage_error("enter", "Invalid option");
                }
        if (!arg_uuid_file && optind >= argc)
                return pod_usage_error("enter", "Missing UUID");
        return 0;
}

struct seccomp_ctx {
        struct stage1_config *config;
        struct stage1_app *app;
};

static int rebuild_seccomp(const struct pod_enter_target *t, void *userdata,
                           struct pod_error *reterr) {
        struct seccomp_ctx *ctx = userdata;

        /* What the process shows wins over the manifest: the filter's own no_new_privs
         * handling must match the process being reproduced. */
        ctx->app->no_new_privs = t->no_new_privs;
        ctx->config->disable_seccomp = false;
        return stage1_seccomp_apply(ctx->config, ctx->app, reterr);
}

static int pick_app(struct stage1_config *c, struct stage1_app **ret) {
        char names[512] = "";
        size_t len = 0;

        for (size_t i = 0; i < c->n_apps; i++)
                if (arg_app ? streq(c->apps[i].name, arg_app) : c->n_apps == 1) {
                        *ret = &c->apps[i];
                        return 0;
                }
        for (size_t i = 0; i < c->n_apps && len < sizeof(names); i++)
                len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%s'", i ? ", " : "",
                                        c->apps[i].name);
        if (arg_app)
                log_error("Pod has no app '%s'; its apps: %s.", arg_app, names);
        else
                log_error("Pod has several apps, choose one with --app=NAME: %s.", names);
        return -EINVAL;
}

int verb_enter(int argc, char *argv[]) {
        _cleanup_(pod_enter_target_freep) struct pod_enter_target *t = NULL;
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        _cleanup_free_ char *term = NULL;
        struct stage1_config c = { .pod_dir_fd = -EBADF, .lock_fd = -EBADF };
        char *default_argv[] = { (char *)"/bin/sh", NULL };
        struct stage1_app *app = NULL;
        struct seccomp_ctx ctx;
        struct pod_error e = {};
        enum pod_state state;
        char *const *cmd;
        int r, level, first, status = 0;
        pid_t pid;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;
        r = podref_open_pods(&pods_fd);
        if (r < 0)
                return r;
        if (pods_fd < 0)
                return log_error_errno(-ENOENT, "No pods in '%s'.", arg_dir);
        r = podref_open_pod(pods_fd, arg_uuid_file ? NULL : argv[optind], arg_uuid_file, &p);
        if (r < 0)
                return r;
        /* The command: what follows the UUID, after an optional "--". */
        first = optind + (arg_uuid_file ? 0 : 1);
        if (first < argc && streq(argv[first], "--"))
                first++;
        cmd = first < argc ? argv + first : default_argv;

        r = pod_poddir_get_state(p, &state);
        if (r < 0)
                return log_error_errno(r, "Failed to probe the lock of pod '%s': %m", p->uuid);
        if (state != POD_STATE_RUNNING)
                return log_error_errno(-EINVAL, "Pod '%s' is not running (%s).", p->uuid,
                                       pod_state_to_string(state));
        r = pod_poddir_read_pid(p->fd, &pid, NULL);
        if (r < 0)
                return log_error_errno(r == -ENOENT ? -ESRCH : r,
                                       "Pod '%s' has no pid yet (still starting?): %m", p->uuid);

        /* stage1's loader: the same isolators, the same filter.  Its notices about
         * isolators it does not enforce were shown when the pod started. */
        c.pod_dir_fd = p->fd;
        level = log_get_max_level();
        if (level < LOG_DEBUG)
                log_set_max_level(LOG_WARNING);
        r = stage1_config_load(&c, &e);
        log_set_max_level(level);
        if (r < 0) {
                stage1_config_done(&c);
                (void)pod_error_prefix(&e, r, "Pod '%s'", p->uuid);
                return log_pod_error(r, &e);
        }
        r = pick_app(&c, &app);
        if (r < 0) {
                stage1_config_done(&c);
                return r;
        }

        r = pod_enter_target_open(pid, app->name, &t, &e);
        /* The pid was the pod's only if the pod still runs now that it is pinned. */
        if (r >= 0 && pod_poddir_fd_is_locked(p->fd) <= 0)
                r = pod_error_set(&e, -ESRCH, "Pod '%s' exited", p->uuid);
        if (r < 0) {
                stage1_config_done(&c);
                (void)pod_error_prefix(&e, r, "Pod '%s'", p->uuid);
                return log_pod_error(r, &e);
        }
        log_debug("Entering app '%s' (pid %d) of pod '%s' (init %d)", app->name, (int)t->app_pid,
                  p->uuid, (int)pid);

        if (isatty(STDIN_FILENO) && getenv("TERM") &&
            asprintf(&term, "TERM=%s", getenv("TERM")) < 0)
                term = NULL;
        ctx = (struct seccomp_ctx){ .config = &c, .app = app };
        /* libseccomp is loaded on demand (seccomp-lib.h): here, while our own root is still
         * the host's, not in the child that rebuilds the filter inside the app's root. */
        r = t->seccomp_mode == 2 ? pod_dlopen_seccomp(&e) : 0;
        if (r >= 0)
                r = pod_enter_run(t, cmd, term, rebuild_seccomp, &ctx, &status, &e);
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "App '%s' of pod '%s'", app->name, p->uuid);
                (void)log_pod_error(r, &e);
        }
        stage1_config_done(&c);
        return r < 0 ? r : status;
}
