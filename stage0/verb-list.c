/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "log.h"
#include "podinfo.h"
#include "podref.h"
#include "verbs.h"

enum output_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_JSON_PRETTY };

static bool arg_full;
static bool arg_legend;
static enum output_format arg_format;

enum {
        COL_UUID,
        COL_APP,
        COL_IMAGE,
        COL_STATE,
        COL_CREATED,
        COL_STARTED,
        COL_UNIT,
        COL_NETS,
        _COL_MAX
};

static const char *const headers[_COL_MAX] = { "UUID",    "APP",     "IMAGE NAME", "STATE",
                                               "CREATED", "STARTED", "UNIT",       "NETWORKS" };

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_FULL = 0x100, ARG_NO_LEGEND, ARG_FORMAT };
        static const struct option options[] = {
                { "full", no_argument, NULL, ARG_FULL },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "format", required_argument, NULL, ARG_FORMAT },
                {},
        };
        int c;

        arg_full = false;
        arg_legend = true;
        arg_format = FORMAT_TEXT;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_FULL:
                        arg_full = true;
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case ARG_FORMAT:
                        if (streq(optarg, "json"))
                                arg_format = FORMAT_JSON;
                        else if (streq(optarg, "json-pretty"))
                                arg_format = FORMAT_JSON_PRETTY;
                        else if (streq(optarg, "text"))
                                arg_format = FORMAT_TEXT;
                        else
                                return pod_usage_error("list", "Unknown output format '%s'",
                                                       optarg);
                        break;
                default:
                        return pod_usage_error("list", "Invalid option");
                }
        return podref_check_positional("list", argc - optind, 0, 0);
}

/* Joins the strings get(i, k, buf) for k < n with ','; "-" for an empty result.  get()
 * returns the string to show, using buf (POD_LIST_CELL_MAX bytes) if it must build one.
 * Sizes first, then one allocation: this runs three times per pod. */
#define POD_LIST_CELL_MAX 512
static char *join(const struct pod_info *i, size_t n,
                  const char *(*get)(const struct pod_info *, size_t, char *)) {
        char buf[POD_LIST_CELL_MAX];
        size_t len = 0;
        char *s, *p;

        if (n == 0)
                return strdup("-");
        for (size_t k = 0; k < n; k++)
                len += strlen(get(i, k, buf)) + 1;
        s = p = malloc(len);
        if (!s)
                return NULL;
        for (size_t k = 0; k < n; k++) {
                const char *x = get(i, k, buf);
                size_t l = strlen(x);

                if (k > 0)
                        *p++ = ',';
                memcpy(p, x, l);
                p += l;
        }
        *p = 0;
        return s;
}

static const char *get_app(const struct pod_info *i, size_t k, char *buf) {
        return i->apps[k].name;
}

static const char *get_image(const struct pod_info *i, size_t k, char *buf) {
        return i->apps[k].image_name ? i->apps[k].image_name : "-";
}

static const char *get_net(const struct pod_info *i, size_t k, char *buf) {
        const struct pod_info_net *n = &i->nets[k];

        if (!n->ip)
                return n->name;
        (void)snprintf(buf, POD_LIST_CELL_MAX, "%s:%s=%s", n->name,
                       strchr(n->ip, ':') ? "ip6" : "ip4", n->ip);
        return buf;
}

static char *time_cell(const struct timespec *t) {
        char buf[96];

        if (arg_full)
                podref_format_time(t, buf, sizeof(buf));
        else
                podref_format_relative(t, buf, sizeof(buf));
        return strdup(buf[0] ? buf : "-");
}

struct table {
        char **cells;
        size_t n;
};

static void table_done(struct table *t) {
        if (!t->cells)
                return;
        for (size_t k = 0; k < t->n * _COL_MAX; k++)
                free(t->cells[k]);
        free(t->cells);
}

static void print_row(const char *const *row, const size_t *width) {
        for (int c = 0; c < _COL_MAX; c++)
                if (c + 1 < _COL_MAX)
                        printf("%-*s  ", (int)width[c], POD_ESC(row[c]));
                else
                        printf("%s\n", POD_ESC(row[c]));
}

static int print_table(struct pod_info **l, size_t n) {
        _cleanup_(table_done) struct table t = { .n = n };
        size_t width[_COL_MAX];

        t.cells = calloc(n * _COL_MAX + 1, sizeof(char *));
        if (!t.cells)
                return log_error_errno(-ENOMEM, "Out of memory");
        for (int c = 0; c < _COL_MAX; c++)
                width[c] = arg_legend ? strlen(headers[c]) : 0;

        for (size_t k = 0; k < n; k++) {
                const struct pod_info *i = l[k];
                char **row = t.cells + k * _COL_MAX;

                row[COL_UUID] = arg_full ? strdup(i->uuid) : strndup(i->uuid, 8);
                row[COL_APP] = join(i, i->n_apps, get_app);
                row[COL_IMAGE] = join(i, i->n_apps, get_image);
                row[COL_STATE] = strdup(pod_state_to_string(i->state));
                row[COL_CREATED] = time_cell(&i->created);
                row[COL_STARTED] = time_cell(&i->started);
                row[COL_UNIT] = strdup(i->unit ? i->unit : "-");
                row[COL_NETS] = join(i, i->n_nets, get_net);
                for (int c = 0; c < _COL_MAX; c++) {
                        if (!row[c])
                                return log_error_errno(-ENOMEM, "Out of memory");
                        if (strlen(row[c]) > width[c])
                                width[c] = strlen(row[c]);
                }
        }

        if (arg_legend)
                print_row(headers, width);
        for (size_t k = 0; k < n; k++)
                print_row((const char *const *)t.cells + k * _COL_MAX, width);
        return 0;
}

struct info_list {
        struct pod_info **l;
        size_t n;
};

static void info_list_done(struct info_list *x) {
        pod_info_list_free(x->l, x->n);
}

int verb_list(int argc, char *argv[]) {
        _cleanup_(info_list_done) struct info_list list = {};
        _cleanup_close_ int pods_fd = -EBADF;
        int r;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;
        r = podref_open_pods(&pods_fd);
        if (r < 0)
                return r;
        if (pods_fd >= 0) {
                r = pod_info_list(pods_fd, arg_format != FORMAT_TEXT ? POD_INFO_PID : 0, &list.l,
                                  &list.n);
                if (r < 0)
                        return log_error_errno(r, "Failed to list the pods in '%s/pods': %m",
                                               arg_dir);
        }

        if (arg_format != FORMAT_TEXT) {
                _cleanup_free_ char *json = NULL;

                r = pod_info_list_to_json(list.l, list.n, arg_format == FORMAT_JSON_PRETTY, &json);
                if (r < 0)
                        return log_error_errno(r, "Failed to format the pod list: %m");
                puts(json);
                return 0;
        }
        return print_table(list.l, list.n);
}
