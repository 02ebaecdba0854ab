/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod enter [--app=NAME] UUID|--uuid-file=PATH [CMD [ARGS...]]: a command inside a running
 * pod, as one of its apps.  stage0 only finds the pod and checks that it runs; everything
 * that touches the pod is stage1's: "pod-stage1 enter" (stage1/ABI.md "enter", stage1/enter.h)
 * with the pod dir as cwd, exec'd in place, so its exit status is ours.  stage0 itself never
 * enters a pod: it would carry the host's pod binary and its open pods dir into it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "podref.h"
#include "prepare.h"
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

static const char *stage1_path(void) {
        const char *e = getenv("POD_STAGE1");
        return e && e[0] ? e : POD_STAGE1_PATH;
}

int verb_enter(int argc, char *argv[]) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        _cleanup_free_ char *app_opt = NULL;
        _cleanup_free_ const char **s1 = NULL;
        struct pod_error e = {};
        enum pod_state state;
        const char *stage1;
        size_t n = 0;
        int r, first;

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

        r = pod_poddir_get_state(p, &state);
        if (r < 0)
                return log_error_errno(r, "Failed to probe the lock of pod '%s': %m", p->uuid);
        if (state != POD_STATE_RUNNING)
                return log_error_errno(-EINVAL, "Pod '%s' is not running (%s).", p->uuid,
                                       pod_state_to_string(state));
        stage1 = stage1_path();
        r = pod_stage1_check(stage1, &e);
        if (r < 0)
                return log_pod_error(r, &e);

        /* pod-stage1 enter [--debug] [--app=NAME] UUID -- CMD...: the UUID is the pod's full
         * one, the command is passed on untouched after "--". */
        s1 = calloc((size_t)(argc - first) + 8, sizeof(char *));
        if (!s1)
                return log_error_errno(-ENOMEM, "Out of memory");
        s1[n++] = "pod-stage1";
        s1[n++] = "enter";
        if (log_get_max_level() >= LOG_DEBUG)
                s1[n++] = "--debug";
        if (arg_app) {
                if (asprintf(&app_opt, "--app=%s", arg_app) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory");
                s1[n++] = app_opt;
        }
        s1[n++] = p->uuid;
        s1[n++] = "--";
        for (int i = first; i < argc; i++)
                s1[n++] = argv[i];
        s1[n] = NULL;

        /* cwd = the pod dir (ABI.md); our fds are close-on-exec, stdin, stdout and stderr
         * pass. */
        if (fchdir(p->fd) < 0)
                return log_error_errno(-errno, "Failed to change to the directory of pod '%s': %m",
                                       p->uuid);
        if (setenv(POD_STAGE1_ABI_ENV, POD_STAGE1_ABI_STR, 1) < 0)
                return log_error_errno(-errno, "Failed to set $%s: %m", POD_STAGE1_ABI_ENV);
        execv(stage1, (char **)s1);
        return log_error_errno(-errno, "Failed to execute '%s': %m", stage1);
}
