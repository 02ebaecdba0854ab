/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aci.h"
#include "escape.h"
#include "insecure.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "oci-archive.h"
#include "oci.h"
#include "podlimits.h"
#include "podref.h"
#include "podusers.h"
#include "provenance.h"
#include "store-oci.h"
#include "store-shift.h"
#include "store.h"
#include "unpack.h"
#include "userns-alloc.h"
#include "verbs.h"

#define ID_SHORT_LEN 19 /* "sha512-" + 12 hex */

/* list --fields and --sort (rkt's field names; provenance is pod's own) */
enum field {
        FIELD_ID,
        FIELD_NAME,
        FIELD_SIZE,
        FIELD_IMPORTTIME,
        FIELD_LASTUSED,
        FIELD_LATEST,
        FIELD_PROVENANCE,
        _FIELD_MAX,
};
#define FIELDS_MAX 16

static const char *const field_names[_FIELD_MAX] = {
        "id", "name", "size", "importtime", "lastused", "latest", "provenance",
};
static const char *const field_headers[_FIELD_MAX] = {
        "ID", "NAME", "SIZE", "IMPORT TIME", "LAST USED", "LATEST", "PROVENANCE",
};

static bool arg_no_legend;
static bool arg_full;
static int arg_pretty = -1; /* cat-manifest: unset is true, but false with --oci */
static enum field arg_fields[FIELDS_MAX];
static size_t arg_n_fields; /* 0: id,name,size,importtime,lastused,latest (+provenance with
                             * --full) */
static enum field arg_sort[FIELDS_MAX] = { FIELD_IMPORTTIME }; /* rkt's default */
static size_t arg_n_sort = 1;
static bool arg_desc;
static bool arg_rootfs_only;
static bool arg_overwrite;
static bool arg_reproducible;
static bool arg_keep_privileges;
static const char *arg_format = "text";
static uint64_t arg_grace = 24ull * 3600 * 1000000;
static enum pod_compression arg_compression = POD_COMPRESSION_GZIP;
static const char *arg_platform;
static const char *arg_name;
static const char *arg_oci; /* cat-manifest --oci[=manifest|config] */
static unsigned seen_flags; /* which of the ARG_ options were given */

enum {
        ARG_FORMAT = 0x100,
        ARG_NO_LEGEND,
        ARG_FULL,
        ARG_PRETTY,
        ARG_ROOTFS_ONLY,
        ARG_OVERWRITE,
        ARG_GRACE,
        ARG_COMPRESSION,
        ARG_REPRODUCIBLE,
        ARG_KEEP_PRIVILEGES,
        ARG_INSECURE,
        ARG_PLATFORM,
        ARG_NAME,
        ARG_OCI,
        ARG_FIELDS,
        ARG_SORT,
        ARG_ORDER,
};

/* "name,size": the fields, in order (repeats allowed, as rkt); sortable excludes provenance. */
static int parse_fields(const char *flag, const char *value, bool sortable, enum field *ret,
                        size_t *ret_n) {
        size_t n = 0;
        const char *p = value;

        for (;;) {
                size_t len = strcspn(p, ",");
                int f = -1;

                for (int k = 0; k < _FIELD_MAX; k++)
                        if (strlen(field_names[k]) == len && strncmp(p, field_names[k], len) == 0)
                                f = k;
                if (f < 0 || (sortable && f == FIELD_PROVENANCE))
                        return pod_usage_error("image",
                                               "Invalid field '%.*s' for --%s: expected %s",
                                               (int)len, p, flag,
                                               sortable ? "id, name, size, importtime, lastused or "
                                                          "latest"
                                                        : "id, name, size, importtime, lastused, "
                                                          "latest or provenance");
                if (n == FIELDS_MAX)
                        return pod_usage_error("image", "Too many fields for --%s", flag);
                ret[n++] = (enum field)f;
                if (p[len] == 0)
                        break;
                p += len + 1;
        }
        *ret_n = n;
        return 0;
}

/* A pflag-style boolean of an image subcommand (--flag, --flag=true|false). */
static int bool_arg(const char *flag, bool *ret) {
        return pod_bool_arg("image", flag, optarg, ret);
}

/* "24h", "30m", "90s", "2d", "0": usec. */
static int parse_duration(const char *s, uint64_t *ret) {
        char *end = NULL;
        unsigned long long v;
        uint64_t mult;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || s[0] == '-')
                return -EINVAL;
        if (streq(end, "") || streq(end, "s"))
                mult = 1000000;
        else if (streq(end, "m") || streq(end, "min"))
                mult = 60ull * 1000000;
        else if (streq(end, "h"))
                mult = 3600ull * 1000000;
        else if (streq(end, "d"))
                mult = 86400ull * 1000000;
        else
                return -EINVAL;
        if (v > UINT64_MAX / mult)
                return -ERANGE;
        *ret = v * mult;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "format", required_argument, NULL, ARG_FORMAT },
                { "no-legend", optional_argument, NULL, ARG_NO_LEGEND },
                { "full", optional_argument, NULL, ARG_FULL },
                { "pretty-print", optional_argument, NULL, ARG_PRETTY },
                { "rootfs-only", optional_argument, NULL, ARG_ROOTFS_ONLY },
                { "overwrite", optional_argument, NULL, ARG_OVERWRITE },
                { "grace-period", required_argument, NULL, ARG_GRACE },
                { "compression", required_argument, NULL, ARG_COMPRESSION },
                { "reproducible", optional_argument, NULL, ARG_REPRODUCIBLE },
                { "keep-privileges", optional_argument, NULL, ARG_KEEP_PRIVILEGES },
                { "insecure-options", required_argument, NULL, ARG_INSECURE },
                { "platform", required_argument, NULL, ARG_PLATFORM },
                { "name", required_argument, NULL, ARG_NAME },
                { "oci", optional_argument, NULL, ARG_OCI },
                { "fields", required_argument, NULL, ARG_FIELDS },
                { "sort", required_argument, NULL, ARG_SORT },
                { "order", required_argument, NULL, ARG_ORDER },
                {},
        };
        int c, r = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                const char *bad = NULL;
                unsigned bits;
                bool b = false;

                if (c >= ARG_FORMAT && c <= ARG_ORDER)
                        seen_flags |= 1u << (c - ARG_FORMAT);
                switch (c) {
                case ARG_FORMAT:
                        if (!streq(optarg, "json") && !streq(optarg, "json-pretty") &&
                            !streq(optarg, "text"))
                                return pod_usage_error("image", "Unknown format '%s'", optarg);
                        arg_format = optarg;
                        break;
                case ARG_NO_LEGEND:
                        r = bool_arg("no-legend", &arg_no_legend);
                        break;
                case ARG_FULL:
                        r = bool_arg("full", &arg_full);
                        break;
                case ARG_PRETTY:
                        r = bool_arg("pretty-print", &b);
                        if (r >= 0)
                                arg_pretty = b;
                        break;
                case ARG_ROOTFS_ONLY:
                        r = bool_arg("rootfs-only", &arg_rootfs_only);
                        break;
                case ARG_OVERWRITE:
                        r = bool_arg("overwrite", &arg_overwrite);
                        break;
                case ARG_GRACE:
                        if (parse_duration(optarg, &arg_grace) < 0)
                                return pod_usage_error("image", "Invalid grace period '%s'",
                                                       optarg);
                        break;
                case ARG_COMPRESSION:
                        arg_compression = pod_compression_from_string(optarg);
                        if (arg_compression < 0 || arg_compression == POD_COMPRESSION_BZIP2)
                                return pod_usage_error("image", "Unknown compression '%s'", optarg);
                        break;
                case ARG_REPRODUCIBLE:
                        r = bool_arg("reproducible", &arg_reproducible);
                        break;
                case ARG_KEEP_PRIVILEGES:
                        r = bool_arg("keep-privileges", &arg_keep_privileges);
                        break;
                case ARG_INSECURE:
                        if (pod_insecure_parse(optarg, &bits, &bad) < 0)
                                return pod_usage_error("image", "Unknown insecure option '%s'",
                                                       bad);
                        arg_insecure |= bits;
                        break;
                case ARG_PLATFORM:
                        arg_platform = optarg;
                        break;
                case ARG_NAME:
                        arg_name = optarg;
                        break;
                case ARG_OCI:
                        if (optarg && !streq(optarg, "manifest") && !streq(optarg, "config"))
                                return pod_usage_error("image",
                                                       "--oci takes 'manifest' or 'config', not "
                                                       "'%s'",
                                                       optarg);
                        arg_oci = optarg ?: "manifest";
                        break;
                case ARG_FIELDS:
                        r = parse_fields("fields", optarg, false, arg_fields, &arg_n_fields);
                        break;
                case ARG_SORT:
                        r = parse_fields("sort", optarg, true, arg_sort, &arg_n_sort);
                        break;
                case ARG_ORDER:
                        if (!streq(optarg, "asc") && !streq(optarg, "desc"))
                                return pod_usage_error("image",
                                                       "Invalid order '%s': expected asc or desc",
                                                       optarg);
                        arg_desc = streq(optarg, "desc");
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int open_store(struct pod_store **ret) {
        struct pod_error e = {};
        int r;

        r = pod_store_open(arg_dir, ret, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        return 0;
}

/* The in-use rule (store.h, podusers.h): rm and gc keep images that pods were made from. */
static int watch_pods(struct pod_store *s, int *pods_fd) {
        int r;

        r = podref_open_pods(pods_fd);
        if (r < 0)
                return r;
        pod_store_set_users(s, pod_users_store_callback, pods_fd);
        return 0;
}

static int resolve(struct pod_store *s, const char *ref, char **ret_id) {
        struct pod_error e = {};
        int r;

        r = pod_store_resolve(s, ref, ret_id, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        return 0;
}

static int resolve_unique(struct pod_store *s, const char *ref, char **ret_id) {
        struct pod_error e = {};
        int r;

        r = pod_store_resolve_unique(s, ref, ret_id, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        return 0;
}

static int need_args(const char *sub, int n, int min, int max) {
        if (n < min)
                return pod_usage_error("image", "'image %s' needs %s", sub,
                                       min == 1 ? "an argument" : "more arguments");
        if (max >= 0 && n > max)
                return pod_usage_error("image", "Too many arguments for 'image %s'", sub);
        return 0;
}

/* A docker save archive or an OCI layout (oci-archive.h): unsigned, as an ACI file is, so
 * it needs --insecure-options=image too (checked by the caller). */
static int import_oci_archive(struct pod_store *s, const char *arg, const struct pod_limits *limits,
                              const struct pod_oci_platform *platform) {
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_free_ char *path = realpath(arg, NULL);
        struct pod_provenance prov = { .origin = path ?: (char *)arg, .insecure = (char *)"image" };
        struct pod_oci_archive_import_options o = {
                .platform = platform,
                .name = arg_name,
                .limits = limits,
                .provenance = &prov,
        };
        struct pod_error e = {};
        int r;

        r = pod_oci_archive_import(s, arg, &o, &ids, &e);
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "Failed to import '%s'", arg);
                return log_pod_error(r, &e);
        }
        STRV_FOREACH (id, ids)
                printf("%s\n", *id);
        return 0;
}

static int image_import(int n, char **args) {
        _cleanup_(pod_oci_platform_done) struct pod_oci_platform platform = {};
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        struct pod_limits limits;
        struct pod_error le = {};
        int r, ret = 0;

        r = need_args("import", n, 1, -1);
        if (r < 0)
                return r;
        if (!(arg_insecure & POD_INSECURE_IMAGE))
                return log_error_errno(-EPERM,
                                       "Refusing to import '%s' without signature verification: "
                                       "'image import' does not verify signatures. Use 'pod "
                                       "fetch' for signed images, or pass "
                                       "--insecure-options=image to import it unverified.",
                                       args[0]);
        r = pod_limits_load(arg_vendordir, arg_sysconfdir, &limits, &le);
        if (r < 0)
                return log_pod_error(r, &le);
        if (arg_platform) {
                r = pod_oci_platform_parse(arg_platform, &platform, &le);
                if (r < 0)
                        return log_pod_error(r, &le);
        }
        r = open_store(&s);
        if (r < 0)
                return r;
        for (int i = 0; i < n; i++) {
                _cleanup_close_ int fd = -EBADF;
                _cleanup_free_ char *id = NULL, *path = NULL;
                struct pod_error e = {};
                /* Provenance: this file, nothing verified (--insecure-options=image). */
                struct pod_provenance prov = { .insecure = (char *)"image" };
                struct pod_store_import_options io = { .provenance = &prov, .limits = &limits };
                enum pod_oci_archive_kind kind;

                /* docker save archives and OCI layouts, by content; the rest is an ACI */
                r = pod_oci_archive_probe(args[i], &kind, &e);
                if (r < 0) {
                        (void)pod_error_prefix(&e, r, "Failed to import '%s'", args[i]);
                        ret = log_pod_error(r, &e);
                        continue;
                }
                if (kind != POD_OCI_ARCHIVE_NONE) {
                        r = import_oci_archive(s, args[i], &limits,
                                               arg_platform ? &platform : NULL);
                        if (r < 0)
                                ret = r;
                        continue;
                }
                fd = open(args[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0) {
                        ret = log_error_errno(-errno, "Failed to open '%s': %m", args[i]);
                        continue;
                }
                path = realpath(args[i], NULL);
                prov.origin = path ?: args[i];
                r = pod_store_import_fd(s, fd, &io, &id, &e);
                if (r < 0) {
                        (void)pod_error_prefix(&e, r, "Failed to import '%s'", args[i]);
                        ret = log_pod_error(r, &e);
                        continue;
                }
                printf("%s\n", id);
        }
        return ret;
}

static void format_size(uint64_t n, char *buf, size_t size) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double)n;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                (void)snprintf(buf, size, "%" PRIu64 "B", n);
        else
                (void)snprintf(buf, size, "%.1f%s", v, units[u]);
}

static void format_time(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t)(usec / 1000000u);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                (void)snprintf(buf, size, "-");
}

/* list --full: rkt's layout (Go's "2006-01-02 15:04:05.999 -0700 MST"), milliseconds
 * without their trailing zeros. */
static void format_time_full(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t)(usec / 1000000u);
        unsigned ms = (unsigned)(usec / 1000u % 1000u);
        char date[32], zone[64], frac[8] = "";
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm) == 0 ||
            strftime(zone, sizeof(zone), "%z %Z", &tm) == 0) {
                (void)snprintf(buf, size, "-");
                return;
        }
        if (ms > 0) {
                (void)snprintf(frac, sizeof(frac), ".%03u", ms);
                for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
                        frac[n - 1] = 0;
        }
        (void)snprintf(buf, size, "%s%s %s", date, frac, zone);
}

/* OCI images: their docker:// names and registry digest (store-oci.h). */
static int load_docker_names(struct pod_store *s, struct pod_store_image **l, size_t k) {
        for (size_t i = 0; i < k; i++) {
                struct pod_error e = {};
                int r;

                r = pod_store_oci_is_oci(s, l[i]->id, &e);
                if (r == 0)
                        continue;
                if (r > 0)
                        r = pod_store_oci_names(s, l[i]->id, &l[i]->docker_names,
                                                &l[i]->registry_digest, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
        }
        return 0;
}

/* The NAME column of an OCI image: its docker:// names, comma-separated, with --full the
 * registry digest after them; "" for appc images (their appc name is shown). */
static void docker_name_column(const struct pod_store_image *i, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = 0;
        STRV_FOREACH (dn, i->docker_names)
                if (n < size)
                        n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "", *dn);
        if (arg_full && i->registry_digest && n < size)
                (void)snprintf(buf + n, size - n, "%s%s", n ? "@" : "", i->registry_digest);
}

/* One line of `image list`: the image, its NAME (docker:// names, else name:version as rkt
 * showed), its place in the store's order (ties keep it). */
struct row {
        struct pod_store_image *img;
        char *name;
        size_t index;
};

static int cmp_u64(uint64_t a, uint64_t b) {
        return a < b ? -1 : a > b;
}

static int compare_rows(const void *x, const void *y) {
        const struct row *a = x, *b = y;

        for (size_t k = 0; k < arg_n_sort; k++) {
                int c = 0;

                switch (arg_sort[k]) {
                case FIELD_ID:
                        c = strcmp(a->img->id, b->img->id);
                        break;
                case FIELD_NAME:
                        c = strcmp(a->name, b->name);
                        break;
                case FIELD_SIZE:
                        c = cmp_u64(a->img->size, b->img->size);
                        break;
                case FIELD_IMPORTTIME:
                        c = cmp_u64(a->img->import_time, b->img->import_time);
                        break;
                case FIELD_LASTUSED:
                        c = cmp_u64(a->img->last_used, b->img->last_used);
                        break;
                case FIELD_LATEST:
                        c = (int)a->img->latest - (int)b->img->latest;
                        break;
                default:
                        break;
                }
                if (c != 0)
                        return arg_desc ? -c : c;
        }
        return cmp_u64(a->index, b->index);
}

/* A table cell, escaped (names come from images); NULL when out of memory.  --full: the
 * whole ID, the size in bytes and rkt's time layout, as rkt's --full. */
static char *cell(const struct row *w, enum field f) {
        char buf[POD_ESCAPE_MAX + 64];

        switch (f) {
        case FIELD_ID:
                return strndup(w->img->id, arg_full ? strlen(w->img->id) : ID_SHORT_LEN);
        case FIELD_NAME:
                return pod_cescape(w->name);
        case FIELD_SIZE:
                if (arg_full)
                        (void)snprintf(buf, sizeof(buf), "%" PRIu64, w->img->size);
                else
                        format_size(w->img->size, buf, sizeof(buf));
                return strdup(buf);
        case FIELD_IMPORTTIME:
        case FIELD_LASTUSED:
                (arg_full ? format_time_full : format_time)(
                        f == FIELD_LASTUSED ? w->img->last_used : w->img->import_time, buf,
                        sizeof(buf));
                return strdup(buf);
        case FIELD_LATEST:
                return strdup(w->img->latest ? "true" : "false");
        case FIELD_PROVENANCE:
                return strdup(pod_provenance_summary(w->img->provenance, buf, sizeof(buf)));
        default:
                return strdup("");
        }
}

static void cells_free(char **cells, size_t n) {
        for (size_t i = 0; cells && i < n; i++)
                free(cells[i]);
        free(cells);
}

/* Columns as wide as their widest printed cell, two spaces apart, the last one unpadded. */
static int print_table(const struct row *rows, size_t k, const enum field *fields, size_t nf) {
        size_t n = (k + 1) * nf, first = arg_no_legend ? nf : 0, width[FIELDS_MAX] = {};
        char **cells = calloc(n, sizeof(char *));

        if (!cells)
                return log_error_errno(-ENOMEM, "Out of memory");
        for (size_t c = 0; c < nf; c++)
                cells[c] = strdup(field_headers[fields[c]]);
        for (size_t i = 0; i < k; i++)
                for (size_t c = 0; c < nf; c++)
                        cells[(i + 1) * nf + c] = cell(&rows[i], fields[c]);
        for (size_t i = 0; i < n; i++) {
                if (!cells[i]) {
                        cells_free(cells, n);
                        return log_error_errno(-ENOMEM, "Out of memory");
                }
                if (i >= first && strlen(cells[i]) > width[i % nf])
                        width[i % nf] = strlen(cells[i]);
        }
        for (size_t i = first; i < n; i++)
                if (i % nf + 1 < nf)
                        printf("%-*s  ", (int)width[i % nf], cells[i]);
                else
                        printf("%s\n", cells[i]);
        cells_free(cells, n);
        return 0;
}

static int print_rows(const struct row *rows, size_t k) {
        static const enum field defaults[] = {
                FIELD_ID,       FIELD_NAME,   FIELD_SIZE,       FIELD_IMPORTTIME,
                FIELD_LASTUSED, FIELD_LATEST, FIELD_PROVENANCE, /* the last: --full only */
        };
        _cleanup_free_ struct pod_store_image **sorted = NULL;
        _cleanup_free_ char *json = NULL;
        int r;

        if (streq(arg_format, "text")) {
                if (arg_n_fields > 0)
                        return print_table(rows, k, arg_fields, arg_n_fields);
                return print_table(rows, k, defaults, ELEMENTSOF(defaults) - !arg_full);
        }
        sorted = calloc(k + 1, sizeof(*sorted));
        if (!sorted)
                return log_error_errno(-ENOMEM, "Out of memory");
        for (size_t i = 0; i < k; i++)
                sorted[i] = rows[i].img;
        r = pod_store_images_to_json(sorted, k, streq(arg_format, "json-pretty"), &json);
        if (r < 0)
                return log_error_errno(r, "Failed to format the image list: %m");
        printf("%s\n", json);
        return 0;
}

static bool shows_provenance(void) {
        if (!streq(arg_format, "text"))
                return true;
        if (arg_n_fields == 0)
                return arg_full;
        for (size_t c = 0; c < arg_n_fields; c++)
                if (arg_fields[c] == FIELD_PROVENANCE)
                        return true;
        return false;
}

static int list_images(struct pod_store *s, struct pod_store_image **l, size_t k) {
        struct row *rows = NULL;
        int r;

        r = load_docker_names(s, l, k);
        if (r < 0)
                return r;
        /* Provenance only where it is shown: a plain list stays one query. */
        for (size_t i = 0; shows_provenance() && i < k; i++) {
                struct pod_error e = {};

                r = pod_store_image_load_provenance(s, l[i], &e);
                if (r < 0)
                        return log_pod_error(r, &e);
        }
        rows = calloc(k + 1, sizeof(*rows));
        if (!rows)
                return log_error_errno(-ENOMEM, "Out of memory");
        for (size_t i = 0; i < k; i++) {
                char buf[1024];

                docker_name_column(l[i], buf, sizeof(buf));
                rows[i] = (struct row){ .img = l[i], .index = i };
                rows[i].name = buf[0] ? strdup(buf) : pod_store_image_name_version(l[i]);
                if (!rows[i].name)
                        r = -ENOMEM;
        }
        if (r >= 0) {
                /* rkt's --sort (default importtime) and --order */
                qsort(rows, k, sizeof(*rows), compare_rows);
                r = print_rows(rows, k);
        } else
                r = log_error_errno(r, "Out of memory");
        for (size_t i = 0; i < k; i++)
                free(rows[i].name);
        free(rows);
        return r;
}

static int image_list(int n) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        struct pod_store_image **l = NULL;
        struct pod_error e = {};
        size_t k = 0;
        int r;

        r = need_args("list", n, 0, 0);
        if (r < 0)
                return r;
        r = open_store(&s);
        if (r < 0)
                return r;
        r = pod_store_list(s, &l, &k, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        r = list_images(s, l, k);
        pod_store_image_list_free(l, k);
        return r;
}

/* One image: what the store knows, and where it came from and what vouched for it. */
static int image_status(int n, char **args) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_(pod_store_image_freep) struct pod_store_image *img = NULL;
        _cleanup_free_ char *id = NULL;
        struct pod_error e = {};
        char size[32], bsize[32], it[64], lu[64];
        bool oci;
        int r;

        r = need_args("status", n, 1, 1);
        if (r < 0)
                return r;
        r = open_store(&s);
        if (r < 0)
                return r;
        r = resolve(s, args[0], &id);
        if (r < 0)
                return r;
        r = pod_store_get_image(s, id, &img, &e);
        if (r >= 0)
                r = pod_store_image_load_provenance(s, img, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        r = load_docker_names(s, &img, 1);
        if (r < 0)
                return r;

        if (!streq(arg_format, "text")) {
                _cleanup_free_ char *json = NULL;

                r = pod_store_image_to_json(img, streq(arg_format, "json-pretty"), &json);
                if (r < 0)
                        return log_error_errno(r, "Failed to format the image status: %m");
                printf("%s\n", json);
                return 0;
        }
        format_size(img->size, size, sizeof(size));
        format_size(img->blob_size, bsize, sizeof(bsize));
        format_time(img->import_time, it, sizeof(it));
        format_time(img->last_used, lu, sizeof(lu));
        printf("ID: %s\n", img->id);
        printf("Name: %s\n", POD_ESC(img->name));
        oci = img->docker_names != NULL;
        STRV_FOREACH (dn, img->docker_names)
                printf("Docker name: %s\n", POD_ESC(*dn));
        if (img->registry_digest)
                printf("Registry digest: %s\n", POD_ESC(img->registry_digest));
        for (size_t i = 0; i < img->n_labels; i++)
                printf("Label: %s=%s\n", POD_ESC(img->labels[i].name),
                       POD_ESC(img->labels[i].value));
        printf("Size: %s (stored %s %s)\n", size, oci ? "layer blobs" : "ACI", bsize);
        printf("Import time: %s\n", it);
        printf("Last used: %s\n", lu);
        printf("Latest: %s\n", img->latest ? "true" : "false");
        pod_provenance_print(stdout, "", img->provenance);
        return 0;
}

static int image_rm(int n, char **args) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        int r, ret = 0;

        r = need_args("rm", n, 1, -1);
        if (r < 0)
                return r;
        r = open_store(&s);
        if (r < 0)
                return r;
        r = watch_pods(s, &pods_fd);
        if (r < 0)
                return r;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *id = NULL;
                struct pod_error e = {};

                r = resolve_unique(s, args[i], &id);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                r = pod_store_remove(s, id, &e);
                if (r < 0) {
                        ret = log_pod_error(r, &e);
                        continue;
                }
                printf("Removed %s\n", id);
        }
        return ret;
}

static int image_cat_manifest(int n, char **args) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *id = NULL, *m = NULL, *pretty = NULL;
        struct pod_error e = {};
        size_t size = 0;
        int r;

        r = need_args("cat-manifest", n, 1, 1);
        if (r < 0)
                return r;
        r = open_store(&s);
        if (r < 0)
                return r;
        r = resolve(s, args[0], &id);
        if (r < 0)
                return r;
        if (arg_oci)
                /* the registry manifest or the config, as stored (cat-manifest without --oci
                 * shows the appc manifest pod runs) */
                r = pod_oci_archive_read_json(s, id,
                                              streq(arg_oci, "config") ? POD_OCI_ARCHIVE_CONFIG
                                                                       : POD_OCI_ARCHIVE_MANIFEST,
                                              &m, &size, &e);
        else
                r = pod_store_read_manifest(s, id, &m, &size, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        /* Pretty by default, as rkt's (and pod's) cat-manifest; --oci prints the bytes the
         * registry digest covers unless --pretty-print is given. */
        if (arg_pretty > 0 || (arg_pretty < 0 && !arg_oci)) {
                r = pod_store_manifest_pretty(m, size, &pretty);
                if (r < 0)
                        return log_error_errno(r, "Failed to format the manifest of '%s': %m", id);
                printf("%s\n", pretty);
        } else if (fwrite(m, 1, size, stdout) != size ||
                   (size > 0 && m[size - 1] != '\n' && putchar('\n') == EOF))
                return log_error_errno(-EIO, "Failed to write the manifest: %m");
        return 0;
}

static int image_export(int n, char **args) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *id = NULL;
        struct pod_error e = {};
        int r;

        r = need_args("export", n, 2, 2);
        if (r < 0)
                return r;
        r = open_store(&s);
        if (r < 0)
                return r;
        r = resolve(s, args[0], &id);
        if (r < 0)
                return r;
        r = pod_store_oci_is_oci(s, id, &e);
        if (r > 0) /* an OCI layout that is also a docker save archive */
                r = pod_oci_archive_export(s, id, args[1], arg_overwrite, &e);
        else if (r == 0)
                r = pod_store_export(s, id, args[1], arg_overwrite, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        return 0;
}

static int image_extract(const char *sub, int n, char **args) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *id = NULL;
        struct pod_error e = {};
        unsigned flags = 0;
        int r;

        r = need_args(sub, n, 2, 2);
        if (r < 0)
                return r;
        r = open_store(&s);
        if (r < 0)
                return r;
        r = resolve(s, args[0], &id);
        if (r < 0)
                return r;
        if (arg_rootfs_only)
                flags |= POD_STORE_EXTRACT_ROOTFS_ONLY;
        if (arg_overwrite)
                flags |= POD_STORE_EXTRACT_OVERWRITE;
        if (streq(sub, "render"))
                flags |= POD_STORE_EXTRACT_RENDER;
        if (arg_keep_privileges)
                flags |= POD_STORE_EXTRACT_KEEP_PRIVILEGES;
        r = pod_store_extract(s, id, args[1], flags, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        return 0;
}

static void gc_report(const char *what, const char *name, void *userdata) {
        if (streq(what, "in-use image"))
                printf("Kept image %s: in use by a pod, or a prepare or fetch in progress\n", name);
        else
                printf("Removed %s %s\n", what, name);
}

static int range_held(uint32_t base, uint32_t count, void *userdata) {
        return pod_userns_range_held(*(int *)userdata, base, count);
}

static int image_gc(int n) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_close_ int pods_fd = -EBADF, data_fd = -EBADF;
        struct pod_error e = {};
        int r;

        r = need_args("gc", n, 0, 0);
        if (r < 0)
                return r;
        r = open_store(&s);
        if (r < 0)
                return r;
        r = watch_pods(s, &pods_fd);
        if (r < 0)
                return r;
        r = pod_store_gc(s, arg_grace, gc_report, NULL, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        /* Chown-shifted copies of trees that are gone, and of ranges no pod holds. */
        data_fd = open(arg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        (void)pod_store_shift_gc(s, data_fd >= 0 ? range_held : NULL, &data_fd, gc_report, NULL);
        return 0;
}

static int image_verify(int n, char **args) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        int r, damaged = 0;

        r = open_store(&s);
        if (r < 0)
                return r;
        if (n == 0) {
                struct pod_store_image **l = NULL;
                struct pod_error e = {};
                size_t k = 0;

                r = pod_store_list(s, &l, &k, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
                ids = calloc(k + 1, sizeof(char *));
                for (size_t i = 0; ids && i < k; i++)
                        ids[i] = TAKE_PTR(l[i]->id);
                pod_store_image_list_free(l, k);
                if (!ids)
                        return log_error_errno(-ENOMEM, "Out of memory");
        } else {
                ids = calloc((size_t)n + 1, sizeof(char *));
                if (!ids)
                        return log_error_errno(-ENOMEM, "Out of memory");
                for (int i = 0; i < n; i++) {
                        r = resolve(s, args[i], &ids[i]);
                        if (r < 0)
                                return r;
                }
        }

        STRV_FOREACH (id, ids) {
                struct pod_error e = {};

                r = pod_store_verify(s, *id, &e);
                if (r < 0) {
                        damaged++;
                        (void)log_pod_error(r, &e);
                        printf("%s: DAMAGED\n", *id);
                } else
                        printf("%s: OK\n", *id);
        }
        if (damaged > 0)
                return log_error_errno(-EBADMSG,
                                       "%d image(s) damaged; remove them with 'pod image "
                                       "rm' and import them again",
                                       damaged);
        return 0;
}

static int image_build(int n, char **args) {
        struct pod_aci_build_options o = { .compression = arg_compression,
                                           .reproducible = arg_reproducible,
                                           .overwrite = arg_overwrite };
        _cleanup_free_ char *id = NULL;
        struct pod_error e = {};
        const char *epoch;
        int r;

        r = need_args("build", n, 2, 2);
        if (r < 0)
                return r;
        epoch = getenv("SOURCE_DATE_EPOCH");
        if (arg_reproducible && epoch && *epoch) {
                char *end = NULL;

                errno = 0;
                o.mtime = strtoull(epoch, &end, 10);
                if (errno != 0 || *end || epoch[0] == '-')
                        return log_error_errno(-EINVAL, "Invalid SOURCE_DATE_EPOCH '%s'", epoch);
        }
        r = pod_aci_build(args[0], args[1], &o, &id, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        printf("%s\n", id);
        return 0;
}

static int image_validate(int n, char **args) {
        int r, ret = 0;

        r = need_args("validate", n, 1, -1);
        if (r < 0)
                return r;
        for (int i = 0; i < n; i++) {
                _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
                _cleanup_close_ int fd = -EBADF;
                char id[POD_IMAGE_ID_SIZE];
                struct pod_error e = {};

                fd = open(args[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0) {
                        ret = log_error_errno(-errno, "Failed to open '%s': %m", args[i]);
                        continue;
                }
                r = pod_aci_validate(fd, id, &m, &e);
                if (r < 0) {
                        (void)pod_error_prefix(&e, r, "'%s' is not a valid ACI", args[i]);
                        ret = log_pod_error(r, &e);
                        continue;
                }
                printf("%s: valid ACI, image '%s', %s\n", args[i], m->name, id);
        }
        return ret;
}

#define FLAG(a) (1u << ((a)-ARG_FORMAT))

static const char *const flag_names[] = {
        "format",
        "no-legend",
        "full",
        "pretty-print",
        "rootfs-only",
        "overwrite",
        "grace-period",
        "compression",
        "reproducible",
        "keep-privileges",
        "insecure-options",
        "platform",
        "name",
        "oci",
        "fields",
        "sort",
        "order",
};

static int sub_import(const char *sub, int n, char **args) {
        return image_import(n, args);
}
static int sub_list(const char *sub, int n, char **args) {
        return image_list(n);
}
static int sub_status(const char *sub, int n, char **args) {
        return image_status(n, args);
}
static int sub_rm(const char *sub, int n, char **args) {
        return image_rm(n, args);
}
static int sub_cat_manifest(const char *sub, int n, char **args) {
        return image_cat_manifest(n, args);
}
static int sub_export(const char *sub, int n, char **args) {
        return image_export(n, args);
}
static int sub_gc(const char *sub, int n, char **args) {
        return image_gc(n);
}
static int sub_verify(const char *sub, int n, char **args) {
        return image_verify(n, args);
}
static int sub_build(const char *sub, int n, char **args) {
        return image_build(n, args);
}
static int sub_validate(const char *sub, int n, char **args) {
        return image_validate(n, args);
}

static const struct {
        const char *name;
        int (*fn)(const char *sub, int n, char **args);
        unsigned flags; /* allowed options */
} subcommands[] = {
        { "build", sub_build,
          FLAG(ARG_COMPRESSION) | FLAG(ARG_REPRODUCIBLE) | FLAG(ARG_OVERWRITE) },
        { "cat-manifest", sub_cat_manifest, FLAG(ARG_PRETTY) | FLAG(ARG_OCI) },
        { "export", sub_export, FLAG(ARG_OVERWRITE) },
        { "extract", image_extract,
          FLAG(ARG_ROOTFS_ONLY) | FLAG(ARG_OVERWRITE) | FLAG(ARG_KEEP_PRIVILEGES) },
        { "gc", sub_gc, FLAG(ARG_GRACE) },
        { "import", sub_import, FLAG(ARG_PLATFORM) | FLAG(ARG_NAME) },
        { "list", sub_list,
          FLAG(ARG_FORMAT) | FLAG(ARG_NO_LEGEND) | FLAG(ARG_FULL) | FLAG(ARG_FIELDS) |
                  FLAG(ARG_SORT) | FLAG(ARG_ORDER) },
        { "render", image_extract,
          FLAG(ARG_ROOTFS_ONLY) | FLAG(ARG_OVERWRITE) | FLAG(ARG_KEEP_PRIVILEGES) },
        { "rm", sub_rm, 0 },
        { "status", sub_status, FLAG(ARG_FORMAT) },
        { "validate", sub_validate, 0 },
        { "verify", sub_verify, 0 },
};

int verb_image(int argc, char *argv[]) {
        const char *sub;
        char **args;
        int r, n;

        if (argc < 2)
                return pod_usage_error("image", "Missing subcommand");
        sub = argv[1];
        r = parse_argv(argc - 1, argv + 1);
        if (r < 0)
                return r;
        args = argv + 1 + optind;
        n = argc - 1 - optind;

        for (size_t i = 0; i < ELEMENTSOF(subcommands); i++) {
                unsigned extra;

                if (!streq(sub, subcommands[i].name))
                        continue;
                /* --insecure-options is global: fine anywhere. */
                extra = seen_flags & ~(subcommands[i].flags | FLAG(ARG_INSECURE));
                if (extra) {
                        const char *name = "?";

                        for (int k = 0; k < 32; k++)
                                if (extra & (1u << k))
                                        name = flag_names[k];
                        return pod_usage_error("image", "'--%s' is not an option of 'image %s'",
                                               name, sub);
                }
                return subcommands[i].fn(sub, n, args);
        }
        return pod_usage_error("image", "Unknown subcommand '%s'", sub);
}
