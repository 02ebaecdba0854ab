/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "podinfo.h"
#include "podref.h"
#include "verbs.h"

static bool arg_pretty;
static const char *arg_uuid_file;

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_PRETTY = 0x100, ARG_UUID_FILE };
        static const struct option options[] = {
                { "pretty-print", optional_argument, NULL, ARG_PRETTY },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                {},
        };
        int c, r;

        arg_pretty = true; /* rkt's default */
        arg_uuid_file = NULL;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_PRETTY:
                        r = pod_bool_arg("cat-manifest", "pretty-print", optarg, &arg_pretty);
                        if (r < 0)
                                return r;
                        break;
                case ARG_UUID_FILE:
                        arg_uuid_file = optarg;
                        break;
                default:
                        return pod_usage_error("cat-manifest", "Invalid option");
                }
        if (arg_uuid_file)
                return podref_check_positional("cat-manifest", argc - optind, 0, 0);
        return podref_check_positional("cat-manifest", argc - optind, 1, 1);
}

int verb_cat_manifest(int argc, char *argv[]) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct pod_error e = {};
        int r;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;
        r = podref_open_pods(&pods_fd);
        if (r < 0)
                return r;
        r = podref_open_pod(pods_fd, arg_uuid_file ? NULL : argv[optind], arg_uuid_file, &p);
        if (r < 0)
                return r;
        r = pod_info_manifest_text(p->fd, arg_pretty, &text, &e);
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "Pod '%s'", p->uuid);
                return log_pod_error(r, &e);
        }
        fputs(text, stdout);
        if (text[0] && text[strlen(text) - 1] != '\n')
                fputc('\n', stdout);
        return 0;
}
