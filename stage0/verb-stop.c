/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "log.h"
#include "podref.h"
#include "verbs.h"

static bool arg_force;
static const char *arg_uuid_file;

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_FORCE = 0x100, ARG_UUID_FILE };
        static const struct option options[] = {
                { "force", optional_argument, NULL, ARG_FORCE },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                {},
        };
        int c;

        arg_force = false;
        arg_uuid_file = NULL;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_FORCE:
                        if (pod_bool_arg("stop", "force", optarg, &arg_force) < 0)
                                return -EINVAL;
                        break;
                case ARG_UUID_FILE:
                        arg_uuid_file = optarg;
                        break;
                default:
                        return pod_usage_error("stop", "Invalid option");
                }
        return podref_check_positional("stop", argc - optind, arg_uuid_file ? 0 : 1, -1);
}

static int stop_one(int pods_fd, const char *arg, const char *uuid_file) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        struct pod_error e = {};
        int r;

        r = podref_open_pod(pods_fd, arg, uuid_file, &p);
        if (r < 0)
                return r;
        r = pod_poddir_stop(p, arg_force, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        if (r == 0)
                log_info("Pod '%s' is not running anymore.", p->uuid);
        printf("%s\n", p->uuid);
        return 0;
}

int verb_stop(int argc, char *argv[]) {
        int r;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;
        return podref_each(argc, argv, optind, arg_uuid_file, stop_one);
}
