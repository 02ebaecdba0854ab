/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "macro.h"
#include "podgc.h"
#include "podref.h"
#include "verbs.h"

static const char *arg_uuid_file;
static bool arg_force;

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_UUID_FILE = 0x100, ARG_FORCE };
        static const struct option options[] = {
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                { "force", optional_argument, NULL, ARG_FORCE },
                {},
        };
        int c;

        arg_uuid_file = NULL;
        arg_force = false;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_UUID_FILE:
                        arg_uuid_file = optarg;
                        break;
                case ARG_FORCE:
                        if (pod_bool_arg("rm", "force", optarg, &arg_force) < 0)
                                return -EINVAL;
                        break;
                default:
                        return pod_usage_error("rm", "Invalid option");
                }
        return podref_check_positional("rm", argc - optind, arg_uuid_file ? 0 : 1, -1);
}

static int remove_one(int pods_fd, const char *arg, const char *uuid_file) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        struct pod_error e = {};
        int r;

        r = podref_open_pod(pods_fd, arg, uuid_file, &p);
        if (r < 0)
                return r;
        pod_gc_set_stage1(getenv("POD_STAGE1") && getenv("POD_STAGE1")[0] ? getenv("POD_STAGE1")
                                                                          : POD_STAGE1_PATH);
        r = pod_gc_remove(p, arg_force, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        printf("%s\n", p->uuid);
        return 0;
}

int verb_rm(int argc, char *argv[]) {
        int r;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;
        return podref_each(argc, argv, optind, arg_uuid_file, remove_one);
}
