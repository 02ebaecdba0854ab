/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod export [--overwrite] [--app=NAME] UUID|--uuid-file=PATH OUT.aci: an exited pod's app's root
 * file system as an image (src/podexport.h).  The pod is share-locked while it is read:
 * a running pod holds the lock exclusively (refused), and gc's sweep needs it exclusively
 * (it skips the pod until we are done). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>

#include "log.h"
#include "podexport.h"
#include "podref.h"
#include "verbs.h"

static bool arg_overwrite;
static const char *arg_uuid_file;
static const char *arg_app;

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_OVERWRITE = 0x100, ARG_UUID_FILE, ARG_APP };
        static const struct option options[] = {
                { "overwrite", optional_argument, NULL, ARG_OVERWRITE },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                { "app", required_argument, NULL, ARG_APP },
                {},
        };
        int c;

        arg_overwrite = false;
        arg_uuid_file = NULL;
        arg_app = NULL;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_OVERWRITE:
                        if (pod_bool_arg("export", "overwrite", optarg, &arg_overwrite) < 0)
                                return -EINVAL;
                        break;
                case ARG_UUID_FILE:
                        arg_uuid_file = optarg;
                        break;
                case ARG_APP:
                        arg_app = optarg;
                        break;
                default:
                        return pod_usage_error("export", "Invalid option");
                }
        if (arg_uuid_file)
                return podref_check_positional("export", argc - optind, 1, 1);
        return podref_check_positional("export", argc - optind, 2, 2);
}

int verb_export(int argc, char *argv[]) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        _cleanup_free_ char *id = NULL;
        struct pod_aci_build_options o = { .compression = POD_COMPRESSION_GZIP };
        struct pod_error e = {};
        enum pod_state state;
        const char *out;
        int r;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;
        out = argv[argc - 1];
        r = podref_open_pods(&pods_fd);
        if (r < 0)
                return r;
        if (pods_fd < 0)
                return log_error_errno(-ENOENT, "No pods in '%s'.", arg_dir);
        r = podref_open_pod(pods_fd, arg_uuid_file ? NULL : argv[optind], arg_uuid_file, &p);
        if (r < 0)
                return r;

        r = pod_poddir_get_state(p, &state);
        if (r < 0)
                return log_error_errno(r, "Failed to probe the lock of pod '%s': %m", p->uuid);
        switch (state) {
        case POD_STATE_EXITED:
        case POD_STATE_EXITED_GARBAGE:
                break;
        case POD_STATE_RUNNING:
                return log_error_errno(-EBUSY,
                                       "Pod '%s' is running; stop it first ('pod stop %s').",
                                       p->uuid, p->uuid);
        default:
                return log_error_errno(-EINVAL, "Pod '%s' has not run (%s): nothing to export.",
                                       p->uuid, pod_state_to_string(state));
        }
        r = pod_poddir_lock(p, LOCK_SH | LOCK_NB);
        if (r == -EBUSY)
                return log_error_errno(r, "Pod '%s' is being started or deleted.", p->uuid);
        if (r < 0)
                return log_error_errno(r, "Failed to lock pod '%s': %m", p->uuid);
        /* It may have been moved (gc mark) while we looked; still the same tree. */
        r = pod_poddir_refresh(p);
        if (r < 0)
                return log_error_errno(r, "Pod '%s' disappeared: %m", p->uuid);

        r = pod_export_rootfs(p->fd, arg_app, out, arg_overwrite, &o, &id, &e);
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "Pod '%s'", p->uuid);
                return log_pod_error(r, &e);
        }
        printf("%s\n", id);
        return 0;
}
