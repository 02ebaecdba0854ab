/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "duration.h"
#include "log.h"
#include "podgc.h"
#include "podref.h"
#include "verbs.h"

static uint64_t arg_grace_usec;
static uint64_t arg_expire_prepared_usec;
static bool arg_mark_only;

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_GRACE = 0x100, ARG_EXPIRE_PREPARED, ARG_MARK_ONLY };
        static const struct option options[] = {
                { "grace-period", required_argument, NULL, ARG_GRACE },
                { "expire-prepared", required_argument, NULL, ARG_EXPIRE_PREPARED },
                { "mark-only", optional_argument, NULL, ARG_MARK_ONLY },
                {},
        };
        int c;

        arg_grace_usec = 30 * 60 * POD_USEC_PER_SEC;
        arg_expire_prepared_usec = 24 * 3600 * POD_USEC_PER_SEC;
        arg_mark_only = false;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_GRACE:
                        if (pod_duration_parse(optarg, &arg_grace_usec) < 0)
                                return pod_usage_error("gc",
                                                       "Invalid duration '%s' for "
                                                       "--grace-period",
                                                       optarg);
                        break;
                case ARG_EXPIRE_PREPARED:
                        if (pod_duration_parse(optarg, &arg_expire_prepared_usec) < 0)
                                return pod_usage_error("gc",
                                                       "Invalid duration '%s' for "
                                                       "--expire-prepared",
                                                       optarg);
                        break;
                case ARG_MARK_ONLY:
                        if (pod_bool_arg("gc", "mark-only", optarg, &arg_mark_only) < 0)
                                return -EINVAL;
                        break;
                default:
                        return pod_usage_error("gc", "Invalid option");
                }
        return podref_check_positional("gc", argc - optind, 0, 0);
}

static void on_failure(const char *uuid, int error, const char *msg, void *userdata) {
        if (msg && msg[0])
                (void)log_error_errno(error, "%s", msg);
        else
                (void)log_error_errno(error, "Failed to remove pod '%s': %m", uuid);
}

int verb_gc(int argc, char *argv[]) {
        _cleanup_close_ int pods_fd = -EBADF;
        struct pod_gc_stats st = {};
        int r;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;
        r = podref_open_pods(&pods_fd);
        if (r < 0)
                return r;
        if (pods_fd < 0)
                return 0; /* no pods ever */

        pod_gc_set_stage1(getenv("POD_STAGE1") && getenv("POD_STAGE1")[0] ? getenv("POD_STAGE1")
                                                                          : POD_STAGE1_PATH);
        r = pod_gc(pods_fd, arg_grace_usec, arg_expire_prepared_usec, arg_mark_only, on_failure,
                   NULL, &st);
        if (r < 0)
                return log_error_errno(r, "Failed to collect garbage in '%s/pods': %m", arg_dir);
        log_info("gc: %u pods marked, %u removed, %u skipped, %u failed.", st.marked, st.removed,
                 st.skipped, st.failed);
        if (st.ranges_released > 0)
                log_info("gc: released %u --private-users ranges of pods that are gone.",
                         st.ranges_released);
        if (st.ranges_bad > 0)
                log_warning("gc: %u unreadable records in '%s/userns' are kept (their ranges stay "
                            "taken; remove them by hand if their pods are gone)",
                            st.ranges_bad, arg_dir);
        return st.failed > 0 ? -EBUSY : 0;
}
