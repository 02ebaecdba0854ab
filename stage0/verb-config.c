/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "configview.h"
#include "log.h"
#include "podref.h"
#include "verbs.h"

static bool arg_pretty;
static bool arg_paths;

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_PRETTY = 0x100, ARG_FORMAT };
        static const struct option options[] = {
                { "pretty-print", optional_argument, NULL, ARG_PRETTY },
                { "format", required_argument, NULL, ARG_FORMAT },
                {},
        };
        int c, r;

        arg_pretty = true; /* rkt's default */
        arg_paths = false;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_PRETTY:
                        r = pod_bool_arg("config", "pretty-print", optarg, &arg_pretty);
                        if (r < 0)
                                return r;
                        break;
                case ARG_FORMAT:
                        if (streq(optarg, "paths"))
                                arg_paths = true;
                        else if (streq(optarg, "json"))
                                arg_paths = false;
                        else
                                return pod_usage_error("config", "Unknown output format '%s'",
                                                       optarg);
                        break;
                default:
                        return pod_usage_error("config", "Invalid option");
                }
        return podref_check_positional("config", argc - optind, 0, 0);
}

/* rkt's `rkt config` JSON (configview.h), or with --format=paths pod's key=value lines of
 * the effective paths after --dir, --local-config and --system-config. */
int verb_config(int argc, char *argv[]) {
        const struct pod_config_paths paths = {
                .data_dir = arg_dir,
                .sysconfdir = arg_sysconfdir,
                .vendordir = arg_vendordir,
                .userdir = arg_userdir,
                .stage1 = POD_STAGE1_PATH,
                .version = PACKAGE_VERSION,
        };
        _cleanup_free_ char *json = NULL;
        struct pod_error e = {};
        int r;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;
        if (arg_paths) {
                printf("data-dir=%s\n", arg_dir);
                printf("pods-dir=%s/pods\n", arg_dir);
                printf("local-config=%s\n", arg_sysconfdir);
                printf("system-config=%s\n", arg_vendordir);
                printf("user-config=%s\n", arg_userdir ?: "");
                if (arg_rootless) /* root's output stays as it was */
                        printf("runtime-dir=%s\nrootless-uid=%s\n", arg_runtimedir ?: "",
                               getenv("POD_ROOTLESS_UID") ?: "");
                printf("stage1=%s\n", POD_STAGE1_PATH);
                return 0;
        }
        r = pod_config_view_json(&paths, arg_pretty, &json, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        puts(json);
        return 0;
}
