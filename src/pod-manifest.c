/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "escape.h"
#include "isolator.h"
#include "json-util.h"
#include "manifest-internal.h"
#include "manifest.h"
#include "path-util.h"

static void volume_done(struct pod_volume *v) {
        free(v->name);
        free(v->source);
}

static void runtime_app_done(struct pod_runtime_app *a) {
        free(a->name);
        free(a->image.name);
        free(a->image.id);
        (void)pod_kv_free(a->image.labels, a->image.n_labels);
        (void)pod_app_free(a->app);
        for (size_t i = 0; i < a->n_mounts; i++) {
                free(a->mounts[i].volume);
                free(a->mounts[i].path);
                if (a->mounts[i].app_volume) {
                        volume_done(a->mounts[i].app_volume);
                        free(a->mounts[i].app_volume);
                }
        }
        free(a->mounts);
        (void)pod_kv_free(a->annotations, a->n_annotations);
}

struct pod_pod_manifest *pod_pod_manifest_free(struct pod_pod_manifest *m) {
        if (!m)
                return NULL;
        free(m->ac_version);
        for (size_t i = 0; i < m->n_apps; i++)
                runtime_app_done(&m->apps[i]);
        free(m->apps);
        for (size_t i = 0; i < m->n_volumes; i++)
                volume_done(&m->volumes[i]);
        free(m->volumes);
        (void)pod_isolators_free(m->isolators, m->n_isolators);
        (void)pod_kv_free(m->annotations, m->n_annotations);
        for (size_t i = 0; i < m->n_ports; i++) {
                free(m->ports[i].name);
                free(m->ports[i].host_ip);
        }
        free(m->ports);
        (void)pod_kv_free(m->user_annotations, m->n_user_annotations);
        (void)pod_kv_free(m->user_labels, m->n_user_labels);
        free(m);
        return NULL;
}

static int parse_mode(const char *s, mode_t *ret) {
        mode_t m = 0;
        size_t n = strlen(s);

        /* "0755", "755", "01777": octal permission bits, nothing above 07777. */
        if (n < 3 || n > 5)
                return -EINVAL;
        for (const char *c = s; *c; c++) {
                if (*c < '0' || *c > '7')
                        return -EINVAL;
                m = m * 8 + (mode_t)(*c - '0');
        }
        if (m > 07777)
                return -EINVAL;
        *ret = m;
        return 0;
}

static int parse_volume(struct json_object *e, const struct pod_json_path *p, struct pod_volume *v,
                        struct pod_error *reterr) {
        _cleanup_free_ char *kind = NULL, *mode = NULL;
        int64_t id;
        int r;

        v->recursive = true;
        v->mode = 0755;
        r = pod_json_get_string(e, "name", p, true, &v->name, reterr);
        if (r >= 0)
                r = manifest_check_ac_name(v->name, POD_JSON_KEY(p, "name"), reterr);
        if (r >= 0)
                r = pod_json_get_string(e, "kind", p, true, &kind, reterr);
        if (r >= 0)
                r = pod_json_get_bool(e, "readOnly", p, &v->read_only, reterr);
        if (r < 0)
                return r;

        if (streq(kind, "host")) {
                v->kind = POD_VOLUME_HOST;
                r = pod_json_get_string(e, "source", p, true, &v->source, reterr);
                if (r >= 0)
                        r = manifest_check_absolute(v->source, POD_JSON_KEY(p, "source"), reterr);
                if (r >= 0)
                        r = pod_json_get_bool(e, "recursive", p, &v->recursive, reterr);
                /* pod's extension: appc's volume has no such field; appc readers (Go's
                 * decoder in rkt) ignore unknown keys, so the manifest stays valid. */
                if (r >= 0)
                        r = pod_json_get_bool(e, "suid", p, &v->suid, reterr);
                /* pod's extension too: "idmap" (pod-run(1) --volume, ABI.md "User
                 * namespace").  An appc reader that ignores it mounts the volume plainly,
                 * which gives the pod less, never more. */
                if (r >= 0)
                        r = pod_json_get_bool(e, "idmap", p, &v->idmap, reterr);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < 3; i++) {
                        static const char *const k[] = { "mode", "uid", "gid" };

                        if (pod_json_get(e, k[i]))
                                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, k[i]),
                                                      "only applies to empty volumes");
                }
                return 0;
        }
        if (!streq(kind, "empty"))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "kind"),
                                      "'%s' is not a volume kind (host, empty)", POD_ESC(kind));

        v->kind = POD_VOLUME_EMPTY;
        if (pod_json_get(e, "source"))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "source"),
                                      "only applies to host volumes");
        if (pod_json_get(e, "suid"))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "suid"),
                                      "only applies to host volumes");
        if (pod_json_get(e, "idmap"))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "idmap"),
                                      "only applies to host volumes");
        r = pod_json_get_string(e, "mode", p, false, &mode, reterr);
        if (r < 0)
                return r;
        if (mode && parse_mode(mode, &v->mode) < 0)
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "mode"),
                                      "'%s' is not an octal file mode", POD_ESC(mode));
        id = 0;
        r = pod_json_get_int(e, "uid", p, false, 0, MANIFEST_ID_MAX, &id, reterr);
        if (r < 0)
                return r;
        v->uid = (uid_t)id;
        id = 0;
        r = pod_json_get_int(e, "gid", p, false, 0, MANIFEST_ID_MAX, &id, reterr);
        if (r < 0)
                return r;
        v->gid = (gid_t)id;
        return 0;
}

static int parse_volumes(struct json_object *obj, struct pod_pod_manifest *m,
                         struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(NULL, "volumes");
        struct json_object *arr = NULL;
        size_t n;
        int r;

        r = manifest_array_elements(obj, "volumes", NULL, &arr, &n, reterr);
        if (r < 0 || n == 0)
                return r;
        m->volumes = calloc(n, sizeof(struct pod_volume));
        if (!m->volumes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *ip = POD_JSON_IDX(p, i);
                struct json_object *e = NULL;

                m->n_volumes = i + 1;
                r = manifest_element_object(arr, i, ip, &e, reterr);
                if (r >= 0)
                        r = parse_volume(e, ip, &m->volumes[i], reterr);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(m->volumes[j].name, m->volumes[i].name))
                                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "name"),
                                                      "duplicate volume '%s'", m->volumes[i].name);
        }
        return 0;
}

static const struct pod_volume *find_volume(const struct pod_pod_manifest *m, const char *name) {
        for (size_t i = 0; i < m->n_volumes; i++)
                if (streq(m->volumes[i].name, name))
                        return &m->volumes[i];
        return NULL;
}

static int parse_mounts(struct json_object *obj, const struct pod_json_path *pp,
                        const struct pod_pod_manifest *m, struct pod_runtime_app *a,
                        struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(pp, "mounts");
        struct json_object *arr = NULL;
        size_t n;
        int r;

        r = manifest_array_elements(obj, "mounts", pp, &arr, &n, reterr);
        if (r < 0 || n == 0)
                return r;
        a->mounts = calloc(n, sizeof(struct pod_mount));
        if (!a->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *ip = POD_JSON_IDX(p, i);
                struct pod_mount *mt = &a->mounts[i];
                struct json_object *e = NULL, *av = NULL;

                a->n_mounts = i + 1;
                r = manifest_element_object(arr, i, ip, &e, reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "volume", ip, true, &mt->volume, reterr);
                if (r >= 0)
                        r = manifest_check_ac_name(mt->volume, POD_JSON_KEY(ip, "volume"), reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "path", ip, true, &mt->path, reterr);
                if (r >= 0 && !mt->path[0])
                        r = pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "path"),
                                           "must not be empty");
                if (r >= 0)
                        r = pod_json_get_object(e, "appVolume", ip, &av, reterr);
                if (r < 0)
                        return r;
                if (av) {
                        mt->app_volume = calloc(1, sizeof(struct pod_volume));
                        if (!mt->app_volume)
                                return -ENOMEM;
                        r = parse_volume(av, POD_JSON_KEY(ip, "appVolume"), mt->app_volume, reterr);
                        if (r < 0)
                                return r;
                } else if (!find_volume(m, mt->volume))
                        /* A reified pod manifest satisfies every mount. */
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "volume"),
                                              "no volume named '%s' in the pod", mt->volume);
        }
        return 0;
}

static int parse_runtime_app(struct json_object *e, const struct pod_json_path *p,
                             const struct pod_pod_manifest *m, struct pod_runtime_app *a,
                             struct pod_error *reterr) {
        const struct pod_json_path *ip = POD_JSON_KEY(p, "image");
        struct json_object *img = NULL, *app = NULL;
        int r;

        r = pod_json_get_string(e, "name", p, true, &a->name, reterr);
        if (r >= 0)
                r = manifest_check_ac_name(a->name, POD_JSON_KEY(p, "name"), reterr);
        if (r >= 0)
                r = pod_json_get_object(e, "image", p, &img, reterr);
        if (r < 0)
                return r;
        if (!img)
                return pod_json_error(reterr, -EINVAL, ip, "is required");

        r = pod_json_get_string(img, "name", ip, false, &a->image.name, reterr);
        if (r >= 0 && a->image.name && !ac_identifier_valid(a->image.name))
                r = pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "name"),
                                   "'%s' is not a valid AC Identifier", POD_ESC(a->image.name));
        if (r >= 0)
                r = pod_json_get_string(img, "id", ip, true, &a->image.id, reterr);
        if (r >= 0 && !manifest_image_id_valid(a->image.id))
                r = pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "id"),
                                   "'%s' is not 'sha512-' with 64 or 128 lowercase hex digits",
                                   POD_ESC(a->image.id));
        if (r >= 0)
                r = manifest_parse_kv_list(img, "labels", ip, KV_LABELS, &a->image.labels,
                                           &a->image.n_labels, reterr);
        if (r >= 0)
                r = pod_json_get_object(e, "app", p, &app, reterr);
        if (r >= 0 && app)
                r = manifest_parse_app(app, POD_JSON_KEY(p, "app"), &a->app, reterr);
        if (r >= 0)
                r = pod_json_get_bool(e, "readOnlyRootFS", p, &a->read_only_root_fs, reterr);
        if (r >= 0)
                r = parse_mounts(e, p, m, a, reterr);
        if (r >= 0)
                r = manifest_parse_kv_list(e, "annotations", p, KV_ANNOTATIONS, &a->annotations,
                                           &a->n_annotations, reterr);
        return r;
}

static int parse_apps(struct json_object *obj, struct pod_pod_manifest *m,
                      struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(NULL, "apps");
        struct json_object *arr = NULL;
        size_t n;
        int r;

        r = pod_json_get_array(obj, "apps", NULL, &arr, reterr);
        if (r < 0)
                return r;
        if (r == 0)
                return pod_json_error(reterr, -EINVAL, p, "is required");
        n = json_object_array_length(arr);
        if (n == 0)
                return 0;
        m->apps = calloc(n, sizeof(struct pod_runtime_app));
        if (!m->apps)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *ip = POD_JSON_IDX(p, i);
                struct json_object *e = NULL;

                m->n_apps = i + 1;
                r = manifest_element_object(arr, i, ip, &e, reterr);
                if (r >= 0)
                        r = parse_runtime_app(e, ip, m, &m->apps[i], reterr);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(m->apps[j].name, m->apps[i].name))
                                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "name"),
                                                      "duplicate app '%s'", m->apps[i].name);
        }
        return 0;
}

static bool ip_address_valid(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Two valid literals for the same address ("::1" and "0:0::1"). */
static bool same_ip(const char *a, const char *b) {
        unsigned char x[sizeof(struct in6_addr)] = {}, y[sizeof(struct in6_addr)] = {};
        int fa = inet_pton(AF_INET, a, x) == 1 ? AF_INET : AF_INET6,
            fb = inet_pton(AF_INET, b, y) == 1 ? AF_INET : AF_INET6;

        if (fa != fb)
                return false;
        if (fa == AF_INET6 && (inet_pton(AF_INET6, a, x) != 1 || inet_pton(AF_INET6, b, y) != 1))
                return false;
        return memcmp(x, y, sizeof(x)) == 0;
}

static int parse_pod_ports(struct json_object *obj, struct pod_pod_manifest *m,
                           struct pod_error *reterr) {
        const struct pod_json_path *p = POD_JSON_KEY(NULL, "ports");
        struct json_object *arr = NULL;
        size_t n;
        int r;

        r = manifest_array_elements(obj, "ports", NULL, &arr, &n, reterr);
        if (r < 0 || n == 0)
                return r;
        m->ports = calloc(n, sizeof(struct pod_exposed_port));
        if (!m->ports)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *ip = POD_JSON_IDX(p, i);
                struct pod_exposed_port *pt = &m->ports[i];
                struct json_object *e = NULL;
                int64_t host_port = 0, pod_port = 0;

                m->n_ports = i + 1;
                r = manifest_element_object(arr, i, ip, &e, reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "name", ip, true, &pt->name, reterr);
                if (r >= 0)
                        r = manifest_check_ac_name(pt->name, POD_JSON_KEY(ip, "name"), reterr);
                if (r >= 0)
                        r = pod_json_get_int(e, "hostPort", ip, true, 1, 65535, &host_port, reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "hostIP", ip, false, &pt->host_ip, reterr);
                if (r >= 0 && pt->host_ip && !ip_address_valid(pt->host_ip))
                        r = pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "hostIP"),
                                           "'%s' is not an IP address", POD_ESC(pt->host_ip));
                if (r >= 0)
                        r = pod_json_get_int(e, "podPort", ip, false, 1, 65535, &pod_port, reterr);
                if (r < 0)
                        return r;
                pt->host_port = (unsigned)host_port;
                pt->pod_port = (unsigned)pod_port;
                /* One app port may be forwarded from several host ports, but a host port
                 * goes to one place: an absent hostIP means every address, so it clashes
                 * with any other entry for that port. */
                for (size_t j = 0; j < i; j++) {
                        const struct pod_exposed_port *o = &m->ports[j];

                        if (o->host_port != pt->host_port)
                                continue;
                        if (o->host_ip && pt->host_ip && !same_ip(o->host_ip, pt->host_ip))
                                continue;
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(ip, "hostPort"),
                                              "host port %s%s%u is already forwarded (ports[%zu])",
                                              pt->host_ip ? pt->host_ip : "",
                                              pt->host_ip ? ":" : "", pt->host_port, j);
                }
        }
        return 0;
}

static int pod_manifest_from_json(struct json_object *obj, struct pod_pod_manifest **ret,
                                  struct pod_error *reterr) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        struct json_object *v = NULL;
        int r;

        r = pod_json_as_object(obj, NULL, reterr);
        if (r < 0)
                return r;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;

        r = manifest_parse_header(obj, "PodManifest", &m->ac_version, reterr);
        if (r < 0)
                return r;
        /* Volumes first: mounts refer to them. */
        r = parse_volumes(obj, m, reterr);
        if (r < 0)
                return r;
        r = parse_apps(obj, m, reterr);
        if (r < 0)
                return r;
        r = pod_json_get_array(obj, "isolators", NULL, &v, reterr);
        if (r < 0)
                return r;
        if (r > 0) {
                r = pod_isolators_parse_json(v, POD_JSON_KEY(NULL, "isolators"),
                                             POD_ISOLATOR_SCOPE_POD, &m->isolators, &m->n_isolators,
                                             reterr);
                if (r < 0)
                        return r;
        }
        r = manifest_parse_kv_list(obj, "annotations", NULL, KV_ANNOTATIONS, &m->annotations,
                                   &m->n_annotations, reterr);
        if (r < 0)
                return r;
        r = parse_pod_ports(obj, m, reterr);
        if (r < 0)
                return r;
        r = manifest_parse_string_map(obj, "userAnnotations", NULL, &m->user_annotations,
                                      &m->n_user_annotations, reterr);
        if (r < 0)
                return r;
        r = manifest_parse_string_map(obj, "userLabels", NULL, &m->user_labels, &m->n_user_labels,
                                      reterr);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

int pod_pod_manifest_parse(const char *text, size_t size, struct pod_pod_manifest **ret,
                           struct pod_error *reterr) {
        _cleanup_json_ struct json_object *obj = NULL;
        int r;

        r = pod_json_parse(text, size, POD_MANIFEST_MAX, &obj, reterr);
        if (r >= 0)
                r = pod_manifest_from_json(obj, ret, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "pod manifest");
        return 0;
}

static int volume_to_json(const struct pod_volume *v, struct json_object **ret) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        char mode[16];
        int r;

        if (!o)
                return -ENOMEM;
        r = pod_json_add_string(o, "name", v->name);
        if (r >= 0)
                r = pod_json_add_string(o, "kind", v->kind == POD_VOLUME_HOST ? "host" : "empty");
        if (r >= 0 && v->kind == POD_VOLUME_HOST) {
                r = pod_json_add_string(o, "source", v->source);
                if (r >= 0)
                        r = pod_json_add_bool(o, "readOnly", v->read_only);
                if (r >= 0)
                        r = pod_json_add_bool(o, "recursive", v->recursive);
                /* Only when set: the default manifest stays plain appc. */
                if (r >= 0 && v->suid)
                        r = pod_json_add_bool(o, "suid", true);
                if (r >= 0 && v->idmap)
                        r = pod_json_add_bool(o, "idmap", true);
        } else if (r >= 0) {
                (void)snprintf(mode, sizeof(mode), "%04o", (unsigned)v->mode);
                r = pod_json_add_bool(o, "readOnly", v->read_only);
                if (r >= 0)
                        r = pod_json_add_string(o, "mode", mode);
                if (r >= 0)
                        r = pod_json_add_int(o, "uid", v->uid);
                if (r >= 0)
                        r = pod_json_add_int(o, "gid", v->gid);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int runtime_app_to_json(const struct pod_runtime_app *a, struct json_object **ret) {
        _cleanup_json_ struct json_object *o = json_object_new_object(), *img = NULL;
        int r;

        img = json_object_new_object();
        if (!o || !img)
                return -ENOMEM;
        r = pod_json_add_string(o, "name", a->name);
        if (r >= 0)
                r = pod_json_add_string(img, "name", a->image.name);
        if (r >= 0)
                r = pod_json_add_string(img, "id", a->image.id);
        if (r >= 0)
                r = manifest_kv_list_to_json(img, "labels", a->image.labels, a->image.n_labels);
        if (r >= 0)
                r = pod_json_add(o, "image", TAKE_PTR(img));
        if (r >= 0 && a->app) {
                struct json_object *app = NULL;

                r = manifest_app_to_json(a->app, &app);
                if (r >= 0)
                        r = pod_json_add(o, "app", app);
        }
        if (r >= 0)
                r = pod_json_add_bool(o, "readOnlyRootFS", a->read_only_root_fs);
        if (r < 0)
                return r;
        if (a->n_mounts > 0) {
                _cleanup_json_ struct json_object *arr = json_object_new_array();

                if (!arr)
                        return -ENOMEM;
                for (size_t i = 0; i < a->n_mounts; i++) {
                        _cleanup_json_ struct json_object *e = json_object_new_object();

                        if (!e)
                                return -ENOMEM;
                        r = pod_json_add_string(e, "volume", a->mounts[i].volume);
                        if (r >= 0)
                                r = pod_json_add_string(e, "path", a->mounts[i].path);
                        if (r >= 0 && a->mounts[i].app_volume) {
                                struct json_object *v = NULL;

                                r = volume_to_json(a->mounts[i].app_volume, &v);
                                if (r >= 0)
                                        r = pod_json_add(e, "appVolume", v);
                        }
                        if (r >= 0)
                                r = manifest_array_add(arr, &e);
                        if (r < 0)
                                return r;
                }
                r = pod_json_add(o, "mounts", TAKE_PTR(arr));
                if (r < 0)
                        return r;
        }
        r = manifest_kv_list_to_json(o, "annotations", a->annotations, a->n_annotations);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int pod_pod_manifest_to_json(const struct pod_pod_manifest *m, char **ret) {
        _cleanup_json_ struct json_object *o = json_object_new_object(), *apps = NULL;
        int r;

        apps = json_object_new_array();
        if (!o || !apps)
                return -ENOMEM;
        r = manifest_header_to_json(o, "PodManifest", m->ac_version);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_apps; i++) {
                _cleanup_json_ struct json_object *e = NULL;

                r = runtime_app_to_json(&m->apps[i], &e);
                if (r >= 0)
                        r = manifest_array_add(apps, &e);
                if (r < 0)
                        return r;
        }
        r = pod_json_add(o, "apps", TAKE_PTR(apps));
        if (r < 0)
                return r;
        if (m->n_volumes > 0) {
                _cleanup_json_ struct json_object *arr = json_object_new_array();

                if (!arr)
                        return -ENOMEM;
                for (size_t i = 0; i < m->n_volumes; i++) {
                        _cleanup_json_ struct json_object *e = NULL;

                        r = volume_to_json(&m->volumes[i], &e);
                        if (r >= 0)
                                r = manifest_array_add(arr, &e);
                        if (r < 0)
                                return r;
                }
                r = pod_json_add(o, "volumes", TAKE_PTR(arr));
                if (r < 0)
                        return r;
        }
        r = manifest_isolators_to_json(o, m->isolators, m->n_isolators);
        if (r >= 0)
                r = manifest_kv_list_to_json(o, "annotations", m->annotations, m->n_annotations);
        if (r < 0)
                return r;
        if (m->n_ports > 0) {
                _cleanup_json_ struct json_object *arr = json_object_new_array();

                if (!arr)
                        return -ENOMEM;
                for (size_t i = 0; i < m->n_ports; i++) {
                        const struct pod_exposed_port *pt = &m->ports[i];
                        _cleanup_json_ struct json_object *e = json_object_new_object();

                        if (!e)
                                return -ENOMEM;
                        r = pod_json_add_string(e, "name", pt->name);
                        if (r >= 0)
                                r = pod_json_add_int(e, "hostPort", pt->host_port);
                        if (r >= 0)
                                r = pod_json_add_string(e, "hostIP", pt->host_ip);
                        if (r >= 0 && pt->pod_port > 0)
                                r = pod_json_add_int(e, "podPort", pt->pod_port);
                        if (r >= 0)
                                r = manifest_array_add(arr, &e);
                        if (r < 0)
                                return r;
                }
                r = pod_json_add(o, "ports", TAKE_PTR(arr));
                if (r < 0)
                        return r;
        }
        r = manifest_string_map_to_json(o, "userAnnotations", m->user_annotations,
                                        m->n_user_annotations);
        if (r >= 0)
                r = manifest_string_map_to_json(o, "userLabels", m->user_labels, m->n_user_labels);
        if (r < 0)
                return r;
        return pod_json_to_string(o, true, ret);
}

int pod_pod_manifest_validate(const struct pod_pod_manifest *m, struct pod_error *reterr) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *copy = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        r = pod_pod_manifest_to_json(m, &text);
        if (r < 0)
                return r;
        return pod_pod_manifest_parse(text, strlen(text), &copy, reterr);
}

const struct pod_volume *pod_pod_manifest_idmap_volume(const struct pod_pod_manifest *m) {
        for (size_t i = 0; i < m->n_volumes; i++)
                if (m->volumes[i].idmap)
                        return &m->volumes[i];
        for (size_t i = 0; i < m->n_apps; i++)
                for (size_t j = 0; j < m->apps[i].n_mounts; j++) {
                        const struct pod_volume *v = m->apps[i].mounts[j].app_volume;

                        if (v && v->idmap)
                                return v;
                }
        return NULL;
}
