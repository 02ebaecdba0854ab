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

/* rkt's columns in rkt's order (IMAGE ID with --full only), then pod's own (UNIT), so that a
 * script cutting rkt's columns by position finds them where rkt had them. */
enum {
        COL_UUID,
        COL_APP,
        COL_IMAGE,
        COL_IMAGE_ID,
        COL_STATE,
        COL_CREATED,
        COL_STARTED,
        COL_NETS,
        COL_UNIT,
        _COL_MAX
};

static const char *const headers[_COL_MAX] = { "UUID",     "APP",      "IMAGE NAME",
                                               "IMAGE ID", "STATE",    "CREATED",
                                               "STARTED",  "NETWORKS", "UNIT" };

static bool column_shown(int c) {
        return c != COL_IMAGE_ID || arg_full;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_FULL = 0x100, ARG_NO_LEGEND, ARG_FORMAT };
        static const struct option options[] = {
                { "full", optional_argument, NULL, ARG_FULL },
                { "no-legend", optional_argument, NULL, ARG_NO_LEGEND },
                { "format", required_argument, NULL, ARG_FORMAT },
                {},
        };
        bool no_legend = false;
        int c, r;

        arg_full = false;
        arg_format = FORMAT_TEXT;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_FULL:
                        r = pod_bool_arg("list", "full", optarg, &arg_full);
                        if (r < 0)
                                return r;
                        break;
                case ARG_NO_LEGEND:
                        r = pod_bool_arg("list", "no-legend", optarg, &no_legend);
                        if (r < 0)
                                return r;
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
        arg_legend = !no_legend;
        return podref_check_positional("list", argc - optind, 0, 0);
}

/* Joins the strings get(i, k, buf) for k < n with ','; "-" for an empty result.  get()
 * returns the string to show, using buf (POD_LIST_CELL_MAX bytes) if it must build one.
 * Sizes first, then one allocation. */
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
        char **cells; /* n rows of _COL_MAX cells, already escaped for the terminal */
        size_t n, alloc;
};

static void table_done(struct table *t) {
        if (!t->cells)
                return;
        for (size_t k = 0; k < t->n * _COL_MAX; k++)
                free(t->cells[k]);
        free(t->cells);
}

static char **table_add_row(struct table *t) {
        char **row;

        if (t->n >= t->alloc) {
                size_t na = t->alloc ? t->alloc * 2 : 16;
                char **c = reallocarray(t->cells, na * _COL_MAX, sizeof(char *));

                if (!c)
                        return NULL;
                t->cells = c;
                t->alloc = na;
        }
        row = t->cells + t->n++ * _COL_MAX;
        for (int c = 0; c < _COL_MAX; c++)
                row[c] = NULL;
        return row;
}

/* POD_ESC() of s, copied.  Printable ASCII without '\\' that fits escapes to itself: most
 * cells are, and skip the escaping (a fifth of a listing's instructions). */
static char *esc_dup(const char *s) {
        size_t n = 0;

        for (; s[n]; n++)
                if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f || s[n] == '\\')
                        return strdup(POD_ESC(s));
        if (n >= POD_ESCAPE_MAX)
                return strdup(POD_ESC(s));
        return strdup(s);
}

/* width - len spaces */
static void pad(size_t len, size_t width) {
        static const char spaces[] = "                                ";

        while (len < width) {
                size_t k = width - len < sizeof(spaces) - 1 ? width - len : sizeof(spaces) - 1;

                fwrite(spaces, 1, k, stdout);
                len += k;
        }
}

/* Cells padded to the column width with spaces, two between columns; the empty cells that
 * end a line (an app after a pod's first) leave no trailing blanks. */
static void print_row(char *const *row, const size_t *width) {
        int last = _COL_MAX - 1;

        while (last > 0 && (!column_shown(last) || !row[last][0]))
                last--;
        for (int c = 0; c < last; c++)
                if (column_shown(c)) {
                        size_t l = strlen(row[c]);

                        fwrite(row[c], 1, l, stdout);
                        pad(l, width[c] + 2);
                }
        fputs(row[last], stdout);
        putchar('\n');
}

/* One line per app, as rkt: the pod's first app carries the pod's columns (UUID, STATE,
 * CREATED, STARTED, NETWORKS, UNIT), its other apps only APP, IMAGE NAME and IMAGE ID.  A pod
 * without apps (no manifest yet) is one line with "-" for them. */
static int add_pod_rows(struct table *t, const struct pod_info *i) {
        size_t n = i->n_apps > 0 ? i->n_apps : 1;

        for (size_t k = 0; k < n; k++) {
                const struct pod_info_app *a = i->n_apps > 0 ? &i->apps[k] : NULL;
                char **row = table_add_row(t);

                if (!row)
                        return -ENOMEM;
                row[COL_APP] = esc_dup(a ? a->name : "-");
                row[COL_IMAGE] = esc_dup(a && a->image_name ? a->image_name : "-");
                row[COL_IMAGE_ID] = esc_dup(a && a->image_id ? a->image_id : "-");
                if (k == 0) {
                        _cleanup_free_ char *nets = join(i, i->n_nets, get_net);

                        row[COL_UUID] = arg_full ? strdup(i->uuid) : strndup(i->uuid, 8);
                        row[COL_STATE] = strdup(pod_state_to_string(i->state));
                        row[COL_CREATED] = time_cell(&i->created);
                        row[COL_STARTED] = time_cell(&i->started);
                        row[COL_NETS] = nets ? esc_dup(nets) : NULL;
                        row[COL_UNIT] = esc_dup(i->unit ? i->unit : "-");
                } else
                        for (int c = 0; c < _COL_MAX; c++)
                                if (!row[c])
                                        row[c] = strdup("");
                for (int c = 0; c < _COL_MAX; c++)
                        if (!row[c])
                                return -ENOMEM;
        }
        return 0;
}

static int print_table(struct pod_info **l, size_t n) {
        _cleanup_(table_done) struct table t = {};
        size_t width[_COL_MAX];
        int r;

        for (int c = 0; c < _COL_MAX; c++)
                width[c] = arg_legend ? strlen(headers[c]) : 0;
        for (size_t k = 0; k < n; k++) {
                r = add_pod_rows(&t, l[k]);
                if (r < 0)
                        return log_error_errno(r, "Out of memory");
        }
        for (size_t k = 0; k < t.n; k++)
                for (int c = 0; c < _COL_MAX; c++)
                        if (strlen(t.cells[k * _COL_MAX + c]) > width[c])
                                width[c] = strlen(t.cells[k * _COL_MAX + c]);

        if (arg_legend)
                print_row((char *const *)headers, width);
        for (size_t k = 0; k < t.n; k++)
                print_row(t.cells + k * _COL_MAX, width);
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
                /* JSON: rkt's api/v1 Pod, apps with their exit codes and the manifest's
                 * annotations, labels and mounts */
                r = pod_info_list(pods_fd,
                                  arg_format != FORMAT_TEXT
                                          ? POD_INFO_PID | POD_INFO_EXIT_CODES | POD_INFO_MANIFEST |
                                                    POD_INFO_PRIVATE_USERS
                                          : 0,
                                  &list.l, &list.n);
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
