/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "escape.h"
#include "isolator.h"
#include "json-util.h"
#include "manifest-internal.h"
#include "manifest.h"
#include "path-util.h"

/* ---- key/value lists ---- */

const char *pod_kv_get(const struct pod_kv *list, size_t n, const char *name) {
        for (size_t i = 0; list && i < n; i++)
                if (streq(list[i].name, name))
                        return list[i].value;
        return NULL;
}

int pod_kv_add(struct pod_kv **list, size_t *n, const char *name, const char *value) {
        struct pod_kv *l;
        char *k, *v;

        if (pod_kv_get(*list, *n, name))
                return -EEXIST;
        l = reallocarray(*list, *n + 1, sizeof(struct pod_kv));
        if (!l)
                return -ENOMEM;
        *list = l;
        k = strdup(name);
        v = strdup(value);
        if (!k || !v) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        l[(*n)++] = (struct pod_kv){ .name = k, .value = v };
        return 0;
}

struct pod_kv *pod_kv_free(struct pod_kv *list, size_t n) {
        for (size_t i = 0; list && i < n; i++) {
                free(list[i].name);
                free(list[i].value);
        }
        free(list);
        return NULL;
}

/* ---- appc value types ---- */

static bool semver_ident_valid(const char *s, size_t n, bool numeric_no_lead_zero) {
        bool all_digits = true;

        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c >= '0' && c <= '9')
                        continue;
                all_digits = false;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
                        return false;
        }
        return !(numeric_no_lead_zero && all_digits && n > 1 && s[0] == '0');
}

bool pod_semver_valid(const char *s) {
        const char *p = s;

        /* MAJOR.MINOR.PATCH, numbers without leading zeros (semver.org 2.0.0). */
        for (int k = 0; k < 3; k++) {
                const char *start = p;

                while (*p >= '0' && *p <= '9')
                        p++;
                if (p == start || (p - start > 1 && *start == '0'))
                        return false;
                if (k < 2) {
                        if (*p != '.')
                                return false;
                        p++;
                }
        }
        /* -pre.release and +build: dot-separated [0-9A-Za-z-]+; numeric pre-release
         * identifiers without leading zeros. */
        for (char sep = '-'; *p; sep = '+') {
                bool pre = *p == '-';

                if (*p != sep && *p != '+')
                        return false;
                if (!pre && sep == '+' && *p != '+')
                        return false;
                p++;
                for (;;) {
                        size_t n = strcspn(p, pre ? ".+" : ".");

                        if (!semver_ident_valid(p, n, pre))
                                return false;
                        p += n;
                        if (*p != '.')
                                break;
                        p++;
                }
                if (!pre)
                        break;
        }
        return *p == 0;
}

static const struct {
        const char *os;
        const char *const arches[11];
} os_arch[] = {
        { "linux",
          { "amd64", "i386", "aarch64", "aarch64_be", "armv6l", "armv7l", "armv7b", "ppc64",
            "ppc64le", "s390x", NULL } },
        { "freebsd", { "amd64", "i386", "arm", NULL } },
        { "darwin", { "x86_64", "i386", NULL } },
};

bool pod_os_arch_valid(const char *os, const char *arch) {
        for (size_t i = 0; i < ELEMENTSOF(os_arch); i++) {
                if (!streq(os_arch[i].os, os))
                        continue;
                for (size_t j = 0; os_arch[i].arches[j]; j++)
                        if (streq(os_arch[i].arches[j], arch))
                                return true;
                return false;
        }
        return false;
}

/* In pod manifests rkt writes IDs truncated to 64 hex digits; full ones are 128. */
bool manifest_image_id_valid(const char *s) {
        return image_id_valid(s, false) && (strlen(s) == 7 + 64 || strlen(s) == 7 + 128);
}

/* ---- parsing helpers ---- */

struct kv_list {
        struct pod_kv *l;
        size_t n;
};

static void kv_list_done(struct kv_list *k) {
        k->l = pod_kv_free(k->l, k->n);
        k->n = 0;
}

static int check_kv_name(enum kv_kind kind, const char *name, const struct pod_json_path *p,
                         struct pod_error *reterr) {
        switch (kind) {
        case KV_ENVIRONMENT:
                if (!env_name_valid(name))
                        return pod_json_error(reterr, -EINVAL, p,
                                              "'%s' is not a valid environment variable name",
                                              POD_ESC(name));
                return 0;
        default:
                if (kind == KV_LABELS && streq(name, "name"))
                        return pod_json_error(reterr, -EINVAL, p,
                                              "'name' is not allowed as a label");
                if (!ac_identifier_valid(name))
                        return pod_json_error(reterr, -EINVAL, p,
                                              "'%s' is not a valid AC Identifier", POD_ESC(name));
                return 0;
        }
}

int manifest_parse_kv_list(struct json_object *obj, const char *key, const struct pod_json_path *pp,
                           enum kv_kind kind, struct pod_kv **ret, size_t *ret_n,
                           struct pod_error *reterr) {
        static const char *const what[] = {
                [KV_LABELS] = "label",
                [KV_ANNOTATIONS] = "annotation",
                [KV_ENVIRONMENT] = "environment variable",
        };
        const struct pod_json_path *p = POD_JSON_KEY(pp, key);
        _cleanup_(kv_list_done) struct kv_list list = {};
        struct json_object *a = NULL;
        int r;

        r = pod_json_get_array(obj, key, pp, &a, reterr);
        if (r <= 0)
                return r;

        for (size_t i = 0; i < json_object_array_length(a); i++) {
                struct json_object *e = json_object_array_get_idx(a, i);
                const struct pod_json_path *ip = POD_JSON_IDX(p, i);
                _cleanup_free_ char *name = NULL, *value = NULL;

                r = e ? pod_json_as_object(e, ip, reterr)
                      : pod_json_error(reterr, -EINVAL, ip, "must be an object, not null");
                if (r >= 0)
                        r = pod_json_get_string(e, "name", ip, true, &name, reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "value", ip, false, &value, reterr);
                if (r >= 0)
                        r = check_kv_name(kind, name, POD_JSON_KEY(ip, "name"), reterr);
                if (r < 0)
                        return r;

                r = pod_kv_add(&list.l, &list.n, name, value ?: "");
                if (r == -EEXIST)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "name"),
                                              "duplicate %s '%s'", what[kind], POD_ESC(name));
                if (r < 0)
                        return r;
        }

        if (kind == KV_LABELS) {
                const char *os = pod_kv_get(list.l, list.n, "os");
                const char *arch = pod_kv_get(list.l, list.n, "arch");

                if (os && arch && !pod_os_arch_valid(os, arch))
                        return pod_json_error(reterr, -EINVAL, p,
                                              "os/arch '%s/%s' is not a supported combination", os,
                                              arch);
        }

        *ret = TAKE_PTR(list.l);
        *ret_n = list.n;
        list.n = 0;
        return 0;
}

int manifest_parse_string_map(struct json_object *obj, const char *key,
                              const struct pod_json_path *pp, struct pod_kv **ret, size_t *ret_n,
                              struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(pp, key);
        _cleanup_(kv_list_done) struct kv_list list = {};
        struct json_object *m = NULL;
        int r;

        r = pod_json_get_object(obj, key, pp, &m, reterr);
        if (r <= 0)
                return r;
        json_object_object_foreach (m, k, v) {
                const char *s;

                r = v ? pod_json_as_string(v, POD_JSON_KEY(p, k), &s, reterr)
                      : pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, k),
                                       "must be a string, not null");
                if (r >= 0)
                        r = pod_kv_add(&list.l, &list.n, k, s);
                if (r == -EEXIST) /* only via "\u0000" in keys, which C strings truncate */
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, k), "duplicate key");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(list.l);
        *ret_n = list.n;
        list.n = 0;
        return 0;
}

/* obj[key] as an array and its length (0 when absent). */
int manifest_array_elements(struct json_object *obj, const char *key, const struct pod_json_path *p,
                            struct json_object **ret_a, size_t *ret_n, struct pod_error *reterr) {
        struct json_object *a = NULL;
        int r;

        r = pod_json_get_array(obj, key, p, &a, reterr);
        if (r <= 0) {
                *ret_n = 0;
                return r;
        }
        *ret_a = a;
        *ret_n = json_object_array_length(a);
        return 0;
}

int manifest_element_object(struct json_object *a, size_t i, const struct pod_json_path *ip,
                            struct json_object **ret, struct pod_error *reterr) {
        struct json_object *e = json_object_array_get_idx(a, i);
        int r;

        if (!e)
                return pod_json_error(reterr, -EINVAL, ip, "must be an object, not null");
        r = pod_json_as_object(e, ip, reterr);
        if (r < 0)
                return r;
        *ret = e;
        return 0;
}

static int get_strv(struct json_object *obj, const char *key, const struct pod_json_path *p,
                    char ***ret, struct pod_error *reterr) {
        struct json_object *v = pod_json_get(obj, key);

        if (!v)
                return 0;
        return pod_json_as_strv(v, POD_JSON_KEY(p, key), true, ret, reterr);
}

int manifest_check_ac_name(const char *s, const struct pod_json_path *p, struct pod_error *reterr) {
        if (!ac_name_valid(s))
                return pod_json_error(reterr, -EINVAL, p, "'%s' is not a valid AC Name",
                                      POD_ESC(s));
        return 0;
}

int manifest_check_absolute(const char *s, const struct pod_json_path *p,
                            struct pod_error *reterr) {
        if (!path_is_absolute(s))
                return pod_json_error(reterr, -EINVAL, p, "'%s' is not an absolute path",
                                      POD_ESC(s));
        return 0;
}

/* ---- app ---- */

struct pod_app *pod_app_free(struct pod_app *a) {
        if (!a)
                return NULL;
        strv_free(a->exec);
        free(a->user);
        free(a->group);
        free(a->supplementary_gids);
        free(a->working_directory);
        (void)pod_kv_free(a->environment, a->n_environment);
        strv_free(a->pre_start);
        strv_free(a->post_stop);
        for (size_t i = 0; i < a->n_mount_points; i++) {
                free(a->mount_points[i].name);
                free(a->mount_points[i].path);
        }
        free(a->mount_points);
        for (size_t i = 0; i < a->n_ports; i++) {
                free(a->ports[i].name);
                free(a->ports[i].protocol);
        }
        free(a->ports);
        (void)pod_isolators_free(a->isolators, a->n_isolators);
        (void)pod_kv_free(a->user_annotations, a->n_user_annotations);
        (void)pod_kv_free(a->user_labels, a->n_user_labels);
        free(a);
        return NULL;
}

static int parse_event_handlers(struct json_object *obj, const struct pod_json_path *pp,
                                struct pod_app *a, struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(pp, "eventHandlers");
        struct json_object *arr = NULL;
        size_t n;
        int r;

        r = manifest_array_elements(obj, "eventHandlers", pp, &arr, &n, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *ip = POD_JSON_IDX(p, i);
                _cleanup_free_ char *name = NULL;
                struct json_object *e = NULL, *ex;
                char ***slot;

                r = manifest_element_object(arr, i, ip, &e, reterr);
                if (r < 0)
                        return r;
                r = pod_json_get_string(e, "name", ip, true, &name, reterr);
                if (r < 0)
                        return r;
                if (streq(name, "pre-start"))
                        slot = &a->pre_start;
                else if (streq(name, "post-stop"))
                        slot = &a->post_stop;
                else
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "name"),
                                              "'%s' is not an event (pre-start, post-stop)",
                                              POD_ESC(name));
                if (*slot)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "name"),
                                              "duplicate event handler '%s'", name);
                ex = pod_json_get(e, "exec");
                if (!ex)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "exec"),
                                              "is required");
                r = pod_json_as_strv(ex, POD_JSON_KEY(ip, "exec"), true, slot, reterr);
                if (r < 0)
                        return r;
                if (!*slot)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "exec"),
                                              "must not be empty");
        }
        return 0;
}

static int parse_mount_points(struct json_object *obj, const struct pod_json_path *pp,
                              struct pod_app *a, struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(pp, "mountPoints");
        struct json_object *arr = NULL;
        size_t n;
        int r;

        r = manifest_array_elements(obj, "mountPoints", pp, &arr, &n, reterr);
        if (r < 0 || n == 0)
                return r;
        a->mount_points = calloc(n, sizeof(struct pod_mount_point));
        if (!a->mount_points)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *ip = POD_JSON_IDX(p, i);
                struct pod_mount_point *mp = &a->mount_points[i];
                struct json_object *e = NULL;

                a->n_mount_points = i + 1;
                r = manifest_element_object(arr, i, ip, &e, reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "name", ip, true, &mp->name, reterr);
                if (r >= 0)
                        r = manifest_check_ac_name(mp->name, POD_JSON_KEY(ip, "name"), reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "path", ip, true, &mp->path, reterr);
                if (r >= 0)
                        r = manifest_check_absolute(mp->path, POD_JSON_KEY(ip, "path"), reterr);
                if (r >= 0)
                        r = pod_json_get_bool(e, "readOnly", ip, &mp->read_only, reterr);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(a->mount_points[j].name, mp->name))
                                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "name"),
                                                      "duplicate mount point '%s'", mp->name);
        }
        return 0;
}

static int parse_ports(struct json_object *obj, const struct pod_json_path *pp, struct pod_app *a,
                       struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(pp, "ports");
        struct json_object *arr = NULL;
        size_t n;
        int r;

        r = manifest_array_elements(obj, "ports", pp, &arr, &n, reterr);
        if (r < 0 || n == 0)
                return r;
        a->ports = calloc(n, sizeof(struct pod_port));
        if (!a->ports)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *ip = POD_JSON_IDX(p, i);
                struct pod_port *port = &a->ports[i];
                int64_t num = 0, count = 1;
                struct json_object *e = NULL;

                a->n_ports = i + 1;
                r = manifest_element_object(arr, i, ip, &e, reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "name", ip, true, &port->name, reterr);
                if (r >= 0)
                        r = manifest_check_ac_name(port->name, POD_JSON_KEY(ip, "name"), reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "protocol", ip, true, &port->protocol, reterr);
                if (r >= 0 && !port->protocol[0])
                        r = pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "protocol"),
                                           "must not be empty");
                if (r >= 0)
                        r = pod_json_get_int(e, "port", ip, true, 1, 65535, &num, reterr);
                if (r >= 0)
                        r = pod_json_get_int(e, "count", ip, false, 1, 65535, &count, reterr);
                if (r >= 0 && num + count - 1 > 65535)
                        r = pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "count"),
                                           "ports %" PRId64 "..%" PRId64 " go beyond 65535", num,
                                           num + count - 1);
                if (r >= 0)
                        r = pod_json_get_bool(e, "socketActivated", ip, &port->socket_activated,
                                              reterr);
                if (r < 0)
                        return r;
                port->port = (unsigned)num;
                port->count = (unsigned)count;
                for (size_t j = 0; j < i; j++)
                        if (streq(a->ports[j].name, port->name))
                                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "name"),
                                                      "duplicate port '%s'", port->name);
        }
        return 0;
}

int manifest_parse_app(struct json_object *obj, const struct pod_json_path *p, struct pod_app **ret,
                       struct pod_error *reterr) {
        _cleanup_(pod_app_freep) struct pod_app *a = NULL;
        struct json_object *v;
        int r;

        r = pod_json_as_object(obj, p, reterr);
        if (r < 0)
                return r;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;

        r = get_strv(obj, "exec", p, &a->exec, reterr);
        if (r < 0)
                return r;
        r = pod_json_get_string(obj, "user", p, true, &a->user, reterr);
        if (r < 0)
                return r;
        if (!a->user[0])
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "user"),
                                      "must not be empty");
        r = pod_json_get_string(obj, "group", p, true, &a->group, reterr);
        if (r < 0)
                return r;
        if (!a->group[0])
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "group"),
                                      "must not be empty");

        /* "supplementaryGIDs" (appc types) and "supplementaryGids" (spec example) differ
         * only in case, which the lookup ignores. */
        v = pod_json_get(obj, "supplementaryGIDs");
        if (v) {
                const struct pod_json_path *gp = POD_JSON_KEY(p, "supplementaryGIDs");
                size_t n;

                if (!json_object_is_type(v, json_type_array))
                        return pod_json_error(reterr, -EINVAL, gp, "must be an array");
                n = json_object_array_length(v);
                if (n > 0) {
                        a->supplementary_gids = calloc(n, sizeof(uint32_t));
                        if (!a->supplementary_gids)
                                return -ENOMEM;
                }
                for (size_t i = 0; i < n; i++) {
                        struct json_object *e = json_object_array_get_idx(v, i);
                        int64_t gid;

                        r = e ? pod_json_as_int(e, POD_JSON_IDX(gp, i), 0, MANIFEST_ID_MAX, &gid,
                                                reterr)
                              : pod_json_error(reterr, -EINVAL, POD_JSON_IDX(gp, i),
                                               "must be an integer, not null");
                        if (r < 0)
                                return r;
                        a->supplementary_gids[a->n_supplementary_gids++] = (uint32_t)gid;
                }
        }

        r = pod_json_get_string(obj, "workingDirectory", p, false, &a->working_directory, reterr);
        if (r < 0)
                return r;
        if (a->working_directory && !a->working_directory[0])
                a->working_directory = (free(a->working_directory), NULL); /* "" = default */
        if (a->working_directory) {
                r = manifest_check_absolute(a->working_directory,
                                            POD_JSON_KEY(p, "workingDirectory"), reterr);
                if (r < 0)
                        return r;
        }

        r = manifest_parse_kv_list(obj, "environment", p, KV_ENVIRONMENT, &a->environment,
                                   &a->n_environment, reterr);
        if (r < 0)
                return r;
        r = parse_event_handlers(obj, p, a, reterr);
        if (r < 0)
                return r;
        r = parse_mount_points(obj, p, a, reterr);
        if (r < 0)
                return r;
        r = parse_ports(obj, p, a, reterr);
        if (r < 0)
                return r;

        v = NULL;
        r = pod_json_get_array(obj, "isolators", p, &v, reterr);
        if (r < 0)
                return r;
        if (r > 0) {
                r = pod_isolators_parse_json(v, POD_JSON_KEY(p, "isolators"),
                                             POD_ISOLATOR_SCOPE_APP, &a->isolators, &a->n_isolators,
                                             reterr);
                if (r < 0)
                        return r;
        }

        r = manifest_parse_string_map(obj, "userAnnotations", p, &a->user_annotations,
                                      &a->n_user_annotations, reterr);
        if (r < 0)
                return r;
        r = manifest_parse_string_map(obj, "userLabels", p, &a->user_labels, &a->n_user_labels,
                                      reterr);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(a);
        return 0;
}

/* ---- image manifest ---- */

static void dependency_done(struct pod_dependency *d) {
        free(d->image_name);
        free(d->image_id);
        (void)pod_kv_free(d->labels, d->n_labels);
}

struct pod_image_manifest *pod_image_manifest_free(struct pod_image_manifest *m) {
        if (!m)
                return NULL;
        free(m->ac_version);
        free(m->name);
        (void)pod_kv_free(m->labels, m->n_labels);
        (void)pod_app_free(m->app);
        for (size_t i = 0; i < m->n_dependencies; i++)
                dependency_done(&m->dependencies[i]);
        free(m->dependencies);
        strv_free(m->path_whitelist);
        (void)pod_kv_free(m->annotations, m->n_annotations);
        free(m);
        return NULL;
}

int manifest_parse_header(struct json_object *obj, const char *kind, char **ret_version,
                          struct pod_error *reterr) {
        _cleanup_free_ char *k = NULL;
        int r;

        r = pod_json_get_string(obj, "acKind", NULL, true, &k, reterr);
        if (r < 0)
                return r;
        if (!streq(k, kind))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(NULL, "acKind"),
                                      "'%s' is not '%s'", POD_ESC(k), POD_ESC(kind));
        r = pod_json_get_string(obj, "acVersion", NULL, true, ret_version, reterr);
        if (r < 0)
                return r;
        if (!pod_semver_valid(*ret_version))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(NULL, "acVersion"),
                                      "'%s' is not a semantic version", POD_ESC(*ret_version));
        return 0;
}

static int parse_dependencies(struct json_object *obj, struct pod_image_manifest *m,
                              struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(NULL, "dependencies");
        struct json_object *arr = NULL;
        size_t n;
        int r;

        r = manifest_array_elements(obj, "dependencies", NULL, &arr, &n, reterr);
        if (r < 0 || n == 0)
                return r;
        m->dependencies = calloc(n, sizeof(struct pod_dependency));
        if (!m->dependencies)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *ip = POD_JSON_IDX(p, i);
                struct pod_dependency *d = &m->dependencies[i];
                struct json_object *e = NULL;
                int64_t size = 0;

                m->n_dependencies = i + 1;
                r = manifest_element_object(arr, i, ip, &e, reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "imageName", ip, true, &d->image_name, reterr);
                if (r >= 0 && !ac_identifier_valid(d->image_name))
                        r = pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "imageName"),
                                           "'%s' is not a valid AC Identifier",
                                           POD_ESC(d->image_name));
                if (r >= 0)
                        r = pod_json_get_string(e, "imageID", ip, false, &d->image_id, reterr);
                if (r >= 0 && d->image_id && !manifest_image_id_valid(d->image_id))
                        r = pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "imageID"),
                                           "'%s' is not a sha512- image ID", POD_ESC(d->image_id));
                if (r >= 0)
                        r = manifest_parse_kv_list(e, "labels", ip, KV_LABELS, &d->labels,
                                                   &d->n_labels, reterr);
                if (r >= 0)
                        r = pod_json_get_int(e, "size", ip, false, 0, INT64_MAX, &size, reterr);
                if (r < 0)
                        return r;
                d->size = (uint64_t)size;
        }
        return 0;
}

static int parse_path_whitelist(struct json_object *obj, char ***ret, struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(NULL, "pathWhitelist");
        int r;

        r = get_strv(obj, "pathWhitelist", NULL, ret, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; *ret && (*ret)[i]; i++) {
                r = manifest_check_absolute((*ret)[i], POD_JSON_IDX(p, i), reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int image_manifest_from_json(struct json_object *obj, struct pod_image_manifest **ret,
                                    struct pod_error *reterr) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        struct json_object *v = NULL;
        int r;

        r = pod_json_as_object(obj, NULL, reterr);
        if (r < 0)
                return r;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;

        r = manifest_parse_header(obj, "ImageManifest", &m->ac_version, reterr);
        if (r < 0)
                return r;
        r = pod_json_get_string(obj, "name", NULL, true, &m->name, reterr);
        if (r < 0)
                return r;
        if (!ac_identifier_valid(m->name))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(NULL, "name"),
                                      "'%s' is not a valid AC Identifier", POD_ESC(m->name));
        r = manifest_parse_kv_list(obj, "labels", NULL, KV_LABELS, &m->labels, &m->n_labels,
                                   reterr);
        if (r < 0)
                return r;
        r = pod_json_get_object(obj, "app", NULL, &v, reterr);
        if (r < 0)
                return r;
        if (r > 0) {
                r = manifest_parse_app(v, POD_JSON_KEY(NULL, "app"), &m->app, reterr);
                if (r < 0)
                        return r;
        }
        r = parse_dependencies(obj, m, reterr);
        if (r < 0)
                return r;
        r = parse_path_whitelist(obj, &m->path_whitelist, reterr);
        if (r < 0)
                return r;
        r = manifest_parse_kv_list(obj, "annotations", NULL, KV_ANNOTATIONS, &m->annotations,
                                   &m->n_annotations, reterr);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

int pod_image_manifest_parse(const char *text, size_t size, struct pod_image_manifest **ret,
                             struct pod_error *reterr) {
        _cleanup_json_ struct json_object *obj = NULL;
        int r;

        r = pod_json_parse(text, size, POD_MANIFEST_MAX, &obj, reterr);
        if (r >= 0)
                r = image_manifest_from_json(obj, ret, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "manifest");
        return 0;
}

/* ---- serialisation ---- */

int manifest_kv_list_to_json(struct json_object *obj, const char *key, const struct pod_kv *l,
                             size_t n) {
        _cleanup_json_ struct json_object *a = NULL;
        int r;

        if (n == 0)
                return 0;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ struct json_object *e = json_object_new_object();

                if (!e)
                        return -ENOMEM;
                r = pod_json_add_string(e, "name", l[i].name);
                if (r >= 0)
                        r = pod_json_add_string(e, "value", l[i].value);
                if (r < 0)
                        return r;
                if (json_object_array_add(a, e) < 0)
                        return -ENOMEM;
                e = NULL;
        }
        return pod_json_add(obj, key, TAKE_PTR(a));
}

int manifest_string_map_to_json(struct json_object *obj, const char *key, const struct pod_kv *l,
                                size_t n) {
        _cleanup_json_ struct json_object *m = NULL;
        int r;

        if (n == 0)
                return 0;
        m = json_object_new_object();
        if (!m)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = pod_json_add_string(m, l[i].name, l[i].value);
                if (r < 0)
                        return r;
        }
        return pod_json_add(obj, key, TAKE_PTR(m));
}

static int strv_to_json(struct json_object *obj, const char *key, char *const *l) {
        struct json_object *a = NULL;
        int r;

        if (!l || !l[0])
                return 0;
        r = pod_json_strv_new(l, &a);
        if (r < 0)
                return r;
        return pod_json_add(obj, key, a);
}

int manifest_array_add(struct json_object *a, struct json_object **e) {
        if (json_object_array_add(a, *e) < 0)
                return -ENOMEM;
        *e = NULL;
        return 0;
}

int manifest_isolators_to_json(struct json_object *obj, const struct pod_isolator *l, size_t n) {
        _cleanup_json_ struct json_object *a = NULL;
        int r;

        if (n == 0)
                return 0;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ struct json_object *e = json_object_new_object();
                struct json_object *v = NULL;

                if (!e)
                        return -ENOMEM;
                r = pod_json_add_string(e, "name", l[i].name);
                if (r < 0)
                        return r;
                /* The value is written back as it was read (normalised by json-c). */
                if (l[i].value_json) {
                        v = json_tokener_parse(l[i].value_json);
                        if (!v && !streq(l[i].value_json, "null"))
                                return -EINVAL;
                }
                if (json_object_object_add(e, "value", v) < 0) {
                        (void)json_object_put(v);
                        return -ENOMEM;
                }
                r = manifest_array_add(a, &e);
                if (r < 0)
                        return r;
        }
        return pod_json_add(obj, "isolators", TAKE_PTR(a));
}

static int event_handler_to_json(struct json_object *a, const char *name, char *const *exec) {
        _cleanup_json_ struct json_object *e = NULL;
        int r;

        if (!exec)
                return 0;
        e = json_object_new_object();
        if (!e)
                return -ENOMEM;
        r = pod_json_add_string(e, "name", name);
        if (r >= 0)
                r = strv_to_json(e, "exec", exec);
        if (r >= 0)
                r = manifest_array_add(a, &e);
        return r;
}

int manifest_app_to_json(const struct pod_app *app, struct json_object **ret) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        r = strv_to_json(o, "exec", app->exec);
        if (r >= 0)
                r = pod_json_add_string(o, "user", app->user);
        if (r >= 0)
                r = pod_json_add_string(o, "group", app->group);
        if (r < 0)
                return r;
        if (app->n_supplementary_gids > 0) {
                _cleanup_json_ struct json_object *a = json_object_new_array();

                if (!a)
                        return -ENOMEM;
                for (size_t i = 0; i < app->n_supplementary_gids; i++) {
                        struct json_object *g = json_object_new_int64(app->supplementary_gids[i]);

                        if (!g || json_object_array_add(a, g) < 0) {
                                (void)json_object_put(g);
                                return -ENOMEM;
                        }
                }
                r = pod_json_add(o, "supplementaryGIDs", TAKE_PTR(a));
                if (r < 0)
                        return r;
        }
        r = pod_json_add_string(o, "workingDirectory", app->working_directory);
        if (r >= 0)
                r = manifest_kv_list_to_json(o, "environment", app->environment,
                                             app->n_environment);
        if (r < 0)
                return r;
        if (app->pre_start || app->post_stop) {
                _cleanup_json_ struct json_object *a = json_object_new_array();

                if (!a)
                        return -ENOMEM;
                r = event_handler_to_json(a, "pre-start", app->pre_start);
                if (r >= 0)
                        r = event_handler_to_json(a, "post-stop", app->post_stop);
                if (r >= 0)
                        r = pod_json_add(o, "eventHandlers", TAKE_PTR(a));
                if (r < 0)
                        return r;
        }
        if (app->n_mount_points > 0) {
                _cleanup_json_ struct json_object *a = json_object_new_array();

                if (!a)
                        return -ENOMEM;
                for (size_t i = 0; i < app->n_mount_points; i++) {
                        _cleanup_json_ struct json_object *e = json_object_new_object();

                        if (!e)
                                return -ENOMEM;
                        r = pod_json_add_string(e, "name", app->mount_points[i].name);
                        if (r >= 0)
                                r = pod_json_add_string(e, "path", app->mount_points[i].path);
                        if (r >= 0)
                                r = pod_json_add_bool(e, "readOnly",
                                                      app->mount_points[i].read_only);
                        if (r >= 0)
                                r = manifest_array_add(a, &e);
                        if (r < 0)
                                return r;
                }
                r = pod_json_add(o, "mountPoints", TAKE_PTR(a));
                if (r < 0)
                        return r;
        }
        if (app->n_ports > 0) {
                _cleanup_json_ struct json_object *a = json_object_new_array();

                if (!a)
                        return -ENOMEM;
                for (size_t i = 0; i < app->n_ports; i++) {
                        const struct pod_port *pt = &app->ports[i];
                        _cleanup_json_ struct json_object *e = json_object_new_object();

                        if (!e)
                                return -ENOMEM;
                        r = pod_json_add_string(e, "name", pt->name);
                        if (r >= 0)
                                r = pod_json_add_string(e, "protocol", pt->protocol);
                        if (r >= 0)
                                r = pod_json_add_int(e, "port", pt->port);
                        if (r >= 0)
                                r = pod_json_add_int(e, "count", pt->count);
                        if (r >= 0)
                                r = pod_json_add_bool(e, "socketActivated", pt->socket_activated);
                        if (r >= 0)
                                r = manifest_array_add(a, &e);
                        if (r < 0)
                                return r;
                }
                r = pod_json_add(o, "ports", TAKE_PTR(a));
                if (r < 0)
                        return r;
        }
        r = manifest_isolators_to_json(o, app->isolators, app->n_isolators);
        if (r >= 0)
                r = manifest_string_map_to_json(o, "userAnnotations", app->user_annotations,
                                                app->n_user_annotations);
        if (r >= 0)
                r = manifest_string_map_to_json(o, "userLabels", app->user_labels,
                                                app->n_user_labels);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int manifest_header_to_json(struct json_object *o, const char *kind, const char *version) {
        int r;

        r = pod_json_add_string(o, "acKind", kind);
        if (r >= 0)
                r = pod_json_add_string(o, "acVersion", version ?: POD_AC_VERSION);
        return r;
}

int pod_image_manifest_to_json(const struct pod_image_manifest *m, char **ret) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        r = manifest_header_to_json(o, "ImageManifest", m->ac_version);
        if (r >= 0)
                r = pod_json_add_string(o, "name", m->name);
        if (r >= 0)
                r = manifest_kv_list_to_json(o, "labels", m->labels, m->n_labels);
        if (r >= 0 && m->app) {
                struct json_object *a = NULL;

                r = manifest_app_to_json(m->app, &a);
                if (r >= 0)
                        r = pod_json_add(o, "app", a);
        }
        if (r < 0)
                return r;
        if (m->n_dependencies > 0) {
                _cleanup_json_ struct json_object *a = json_object_new_array();

                if (!a)
                        return -ENOMEM;
                for (size_t i = 0; i < m->n_dependencies; i++) {
                        const struct pod_dependency *d = &m->dependencies[i];
                        _cleanup_json_ struct json_object *e = json_object_new_object();

                        if (!e)
                                return -ENOMEM;
                        r = pod_json_add_string(e, "imageName", d->image_name);
                        if (r >= 0)
                                r = pod_json_add_string(e, "imageID", d->image_id);
                        if (r >= 0)
                                r = manifest_kv_list_to_json(e, "labels", d->labels, d->n_labels);
                        if (r >= 0 && d->size > 0)
                                r = pod_json_add_int(e, "size", (int64_t)d->size);
                        if (r >= 0)
                                r = manifest_array_add(a, &e);
                        if (r < 0)
                                return r;
                }
                r = pod_json_add(o, "dependencies", TAKE_PTR(a));
                if (r < 0)
                        return r;
        }
        r = strv_to_json(o, "pathWhitelist", m->path_whitelist);
        if (r >= 0)
                r = manifest_kv_list_to_json(o, "annotations", m->annotations, m->n_annotations);
        if (r < 0)
                return r;
        return pod_json_to_string(o, true, ret);
}

int pod_image_manifest_validate(const struct pod_image_manifest *m, struct pod_error *reterr) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *copy = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        /* Serialising and parsing again applies exactly the parser's rules. */
        r = pod_image_manifest_to_json(m, &text);
        if (r < 0)
                return r;
        return pod_image_manifest_parse(text, strlen(text), &copy, reterr);
}

int pod_app_copy(const struct pod_app *a, struct pod_app **ret) {
        _cleanup_json_ struct json_object *o = NULL;
        int r;

        r = manifest_app_to_json(a, &o);
        if (r < 0)
                return r;
        return manifest_parse_app(o, NULL, ret, NULL);
}
