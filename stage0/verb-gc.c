/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "duration.h"
#include "log.h"
#include "podgc.h"
#include "podref.h"
#include "store-shift.h"
#include "store.h"
#include "userns-alloc.h"
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

static int range_held(uint32_t base, uint32_t count, void *userdata) {
        return pod_userns_range_held(*(int *)userdata, base, count);
}

static void shift_removed(const char *what, const char *name, void *userdata) {
        (void)userdata;
        log_info("gc: removed the %s copy %s (its range or image is gone).", what, name);
}

/* The chown-shifted copies of ranges that no pod holds any more (store-shift.h). */
static void gc_shifted(void) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_close_ int data_fd = -EBADF;
        struct pod_error e = {};
        char path[64];

        data_fd = open(arg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        (void)snprintf(path, sizeof(path), "cas/%s", POD_STORE_SHIFTED_DIR);
        if (data_fd < 0 || faccessat(data_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return;
        if (pod_store_open(arg_dir, &s, &e) < 0) {
                log_warning("gc: chown-shifted copies not collected: %s", e.msg);
                return;
        }
        (void)pod_store_shift_gc(s, range_held, &data_fd, shift_removed, NULL);
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
        if (!arg_mark_only)
                gc_shifted();
        return st.failed > 0 ? -EBUSY : 0;
}
