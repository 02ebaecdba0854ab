/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "escape.h"
#include "log.h"
#include "podinfo.h"
#include "podref.h"
#include "provenance.h"
#include "store.h"
#include "verbs.h"

static const char *arg_uuid_file;
static bool arg_wait, arg_wait_ready, arg_json, arg_json_pretty;
static uint64_t arg_wait_usec, arg_wait_ready_usec;

/* rkt's --wait=bool|timeout: absent value or a true spelling waits without a limit, a false
 * one not at all (*ret_wait false), a duration that long; a negative duration (rkt: "less
 * than zero") waits without a limit.  A zero duration checks once (pod's rule so far: times
 * out at once unless the condition holds). */
static int parse_wait_arg(const char *opt, const char *s, bool *ret_wait, uint64_t *ret) {
        /* strconv.ParseBool's spellings, as pod_bool_arg() */
        static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
        static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };

        for (size_t k = 0; s && k < ELEMENTSOF(no); k++)
                if (streq(s, no[k])) {
                        *ret_wait = false;
                        return 0;
                }
        *ret_wait = true;
        *ret = POD_USEC_INFINITY;
        if (!s)
                return 0;
        for (size_t k = 0; k < ELEMENTSOF(yes); k++)
                if (streq(s, yes[k]))
                        return 0;
        if (s[0] == '-' && pod_duration_parse(s + 1, ret) >= 0) {
                *ret = POD_USEC_INFINITY;
                return 0;
        }
        if (pod_duration_parse(s, ret) < 0)
                return pod_usage_error("status",
                                       "Invalid value '%s' for --%s: expected true, false or a "
                                       "duration",
                                       s, opt);
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_WAIT = 0x100, ARG_WAIT_READY, ARG_FORMAT, ARG_UUID_FILE };
        static const struct option options[] = {
                { "wait", optional_argument, NULL, ARG_WAIT },
                { "wait-ready", optional_argument, NULL, ARG_WAIT_READY },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                {},
        };
        int c, r;

        arg_uuid_file = NULL;
        arg_wait = arg_wait_ready = arg_json = arg_json_pretty = false;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_WAIT:
                        r = parse_wait_arg("wait", optarg, &arg_wait, &arg_wait_usec);
                        if (r < 0)
                                return r;
                        break;
                case ARG_WAIT_READY:
                        r = parse_wait_arg("wait-ready", optarg, &arg_wait_ready,
                                           &arg_wait_ready_usec);
                        if (r < 0)
                                return r;
                        break;
                case ARG_FORMAT:
                        if (streq(optarg, "json"))
                                arg_json = true;
                        else if (streq(optarg, "json-pretty"))
                                arg_json = arg_json_pretty = true;
                        else if (!streq(optarg, "text"))
                                return pod_usage_error("status", "Unknown output format '%s'",
                                                       optarg);
                        break;
                case ARG_UUID_FILE:
                        arg_uuid_file = optarg;
                        break;
                default:
                        return pod_usage_error("status", "Invalid option");
                }
        if (arg_wait && arg_wait_ready)
                return pod_usage_error("status", "--wait and --wait-ready exclude each other");
        if (arg_uuid_file)
                return podref_check_positional("status", argc - optind, 0, 0);
        return podref_check_positional("status", argc - optind, 1, 1);
}

/* The provenance of each app's image from the store.  Best effort: a store we cannot open
 * (another --dir, no permission) leaves it unknown rather than failing the status. */
static void load_provenance(struct pod_info *i) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *index = NULL;
        struct pod_error e = {};
        int r;

        /* No store index yet: nothing recorded, and status must not create a store. */
        if (asprintf(&index, "%s/cas/db/index.sqlite", arg_dir) < 0)
                return;
        if (access(index, F_OK) < 0)
                return;
        r = pod_store_open(arg_dir, &s, &e);
        if (r < 0) {
                log_debug("Not showing image provenance: %s", e.msg[0] ? e.msg : strerror(-r));
                return;
        }
        for (size_t k = 0; k < i->n_apps; k++) {
                struct pod_provenance *p;

                if (!i->apps[k].image_id)
                        continue;
                p = calloc(1, sizeof(*p));
                if (!p)
                        return;
                pod_error_clear(&e);
                r = pod_store_get_provenance(s, i->apps[k].image_id, p, &e);
                if (r < 0) {
                        log_debug("Not showing the provenance of '%s': %s", i->apps[k].image_id,
                                  e.msg[0] ? e.msg : strerror(-r));
                        free(p);
                        continue;
                }
                i->apps[k].provenance = p;
        }
}

static void print_text(const struct pod_info *i) {
        char buf[96];

        printf("state=%s\n", pod_state_to_string(i->state));
        podref_format_time(&i->created, buf, sizeof(buf));
        printf("created=%s\n", buf);
        podref_format_time(&i->started, buf, sizeof(buf));
        printf("started=%s\n", buf);
        if (i->pid > 0)
                printf("pid=%d\n", (int)i->pid);
        if (i->unit)
                printf("unit=%s\n", i->unit);
        if (i->private_users_count > 0)
                printf("private-users=%" PRIu32 ":%" PRIu32 "\n", i->private_users_base,
                       i->private_users_count);
        printf("exited=%s\n", (i->phase == POD_PHASE_RUN && i->state == POD_STATE_EXITED) ||
                                              i->phase == POD_PHASE_EXITED_GARBAGE
                                      ? "true"
                                      : "false");
        for (size_t k = 0; k < i->n_apps; k++)
                if (i->apps[k].has_exit_code)
                        printf("app-%s=%d\n", POD_ESC(i->apps[k].name), i->apps[k].exit_code);
        /* Each app's image and where it came from (pod image status shows the same). */
        for (size_t k = 0; k < i->n_apps; k++) {
                char prefix[POD_ESCAPE_MAX + 16];

                if (!i->apps[k].image_id)
                        continue;
                (void)snprintf(prefix, sizeof(prefix), "image-%s-", POD_ESC(i->apps[k].name));
                printf("%sid=%s\n", prefix, POD_ESC(i->apps[k].image_id));
                if (i->apps[k].image_name)
                        printf("%sname=%s\n", prefix, POD_ESC(i->apps[k].image_name));
                pod_provenance_print_kv(stdout, prefix, i->apps[k].provenance);
        }
        printf("networks=");
        for (size_t k = 0; k < i->n_nets; k++) {
                const struct pod_info_net *n = &i->nets[k];

                printf("%s%s", k ? "," : "", POD_ESC(n->name));
                if (n->ip)
                        printf(":%s=%s", strchr(n->ip, ':') ? "ip6" : "ip4", POD_ESC(n->ip));
        }
        printf("\n");
}

int verb_status(int argc, char *argv[]) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        _cleanup_(pod_info_freep) struct pod_info *i = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
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

        if (arg_wait) {
                r = pod_poddir_wait_exited(p, arg_wait_usec);
                if (r == -ETIMEDOUT)
                        return log_error_errno(r, "Timed out waiting for pod '%s' to exit",
                                               p->uuid);
                if (r == -ECANCELED)
                        return log_error_errno(r,
                                               "Pod '%s' will never run: its prepare was "
                                               "aborted or it was removed",
                                               p->uuid);
                if (r == -ENOENT)
                        return log_error_errno(r, "Pod '%s' was removed while waiting", p->uuid);
                if (r < 0)
                        return log_error_errno(r, "Failed to wait for pod '%s': %m", p->uuid);
        } else if (arg_wait_ready) {
                r = pod_poddir_wait_ready(p, arg_wait_ready_usec);
                if (r == -ETIMEDOUT)
                        return log_error_errno(r, "Timed out waiting for pod '%s' to be ready",
                                               p->uuid);
                if (r == -ESRCH)
                        return log_error_errno(r,
                                               "Pod '%s' is not running and will not become "
                                               "ready",
                                               p->uuid);
                if (r < 0)
                        return log_error_errno(r, "Failed to wait for pod '%s': %m", p->uuid);
        }

        r = pod_poddir_refresh(p);
        if (r < 0)
                return log_error_errno(r, "Pod '%s' disappeared (removed by another process)",
                                       p->uuid);
        r = pod_info_load(p,
                          POD_INFO_EXIT_CODES | POD_INFO_PID | POD_INFO_PRIVATE_USERS |
                                  (arg_json ? POD_INFO_MANIFEST : 0),
                          &i);
        if (r < 0)
                return log_error_errno(r, "Failed to read the status of pod '%s': %m", p->uuid);

        load_provenance(i);
        if (arg_json) {
                _cleanup_free_ char *json = NULL;

                r = pod_info_to_json(i, arg_json_pretty, &json);
                if (r < 0)
                        return log_error_errno(r, "Failed to format the status of pod '%s': %m",
                                               p->uuid);
                puts(json);
                return 0;
        }
        print_text(i);
        return 0;
}
