/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON views of the store for `pod image list --format=json` and `cat-manifest --pretty-print`
 * (store.h): no store internals needed, kept apart to keep store.c below the size cap. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "escape.h"
#include "macro.h"
#include "manifest.h"
#include "provenance.h"
#include "store.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)

/* rkt's api/v1 ImageListEntry times: int64 nanoseconds since the epoch. */
static int64_t usec_to_nsec(uint64_t usec) {
        return usec > (uint64_t)INT64_MAX / 1000u ? INT64_MAX : (int64_t)(usec * 1000u);
}

char *pod_store_image_name_version(const struct pod_store_image *i) {
        char *s = NULL;

        for (size_t k = 0; k < i->n_labels; k++)
                if (streq(i->labels[k].name, "version"))
                        return asprintf(&s, "%s:%s", i->name, i->labels[k].value) < 0 ? NULL : s;
        return strdup(i->name);
}

static int images_array(struct pod_store_image *const *l, size_t n, json_object **ret) {
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_new_object(), *labels = json_object_new_object();
                _cleanup_free_ char *name = pod_store_image_name_version(l[i]);

                if (!o || !labels || !name || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        json_object_put(labels);
                        return -ENOMEM;
                }
                for (size_t k = 0; k < l[i]->n_labels; k++)
                        (void)json_object_object_add(labels, l[i]->labels[k].name,
                                                     json_object_new_string(l[i]->labels[k].value));
                /* rkt's api/v1 ImageListEntry first, so that tools written for rkt work */
                (void)json_object_object_add(o, "id", json_object_new_string(l[i]->id));
                (void)json_object_object_add(o, "name", json_object_new_string(name));
                (void)json_object_object_add(
                        o, "import_time", json_object_new_int64(usec_to_nsec(l[i]->import_time)));
                (void)json_object_object_add(o, "last_used_time",
                                             json_object_new_int64(usec_to_nsec(l[i]->last_used)));
                (void)json_object_object_add(o, "size", json_object_new_int64((int64_t)l[i]->size));
                /* pod's own */
                (void)json_object_object_add(o, "labels", labels);
                (void)json_object_object_add(o, "blobSize",
                                             json_object_new_int64((int64_t)l[i]->blob_size));
                (void)json_object_object_add(o, "latest", json_object_new_boolean(l[i]->latest));
                if (l[i]->docker_names) {
                        json_object *names = json_object_new_array();

                        if (!names)
                                return -ENOMEM;
                        (void)json_object_object_add(o, "dockerNames", names);
                        STRV_FOREACH (dn, l[i]->docker_names)
                                (void)json_object_array_add(names, json_object_new_string(*dn));
                }
                if (l[i]->registry_digest)
                        (void)json_object_object_add(o, "registryDigest",
                                                     json_object_new_string(l[i]->registry_digest));
                if (l[i]->provenance) {
                        json_object *p = pod_provenance_to_json(l[i]->provenance);

                        if (!p)
                                return -ENOMEM;
                        (void)json_object_object_add(o, "provenance", p);
                }
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* rkt indented with tabs (Go's json.MarshalIndent(v, "", "\t")), as podinfo.c does. */
#define PRETTY_FLAGS \
        (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB | JSON_C_TO_STRING_SPACED)

static int to_text(json_object *o, bool pretty, char **ret) {
        const char *t =
                json_object_to_json_string_ext(o, (pretty ? PRETTY_FLAGS : JSON_C_TO_STRING_PLAIN) |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);

        *ret = pod_json_escape_unsafe(t);
        return *ret ? 0 : -ENOMEM;
}

int pod_store_images_to_json(struct pod_store_image *const *l, size_t n, bool pretty, char **ret) {
        _cleanup_(json_object_putp) json_object *a = NULL;
        int r;

        r = images_array(l, n, &a);
        if (r < 0)
                return r;
        return to_text(a, pretty, ret);
}

int pod_store_image_to_json(const struct pod_store_image *i, bool pretty, char **ret) {
        _cleanup_(json_object_putp) json_object *a = NULL;
        struct pod_store_image *l[1] = { (struct pod_store_image *)i };
        int r;

        r = images_array(l, 1, &a);
        if (r < 0)
                return r;
        return to_text(json_object_array_get_idx(a, 0), pretty, ret);
}

int pod_store_manifest_pretty(const char *text, size_t size, char **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_tokener *tok = json_tokener_new();
        const char *t;

        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int)size);
        json_tokener_free(tok);
        if (!o)
                return -EBADMSG;
        t = json_object_to_json_string_ext(o, PRETTY_FLAGS | JSON_C_TO_STRING_NOSLASHESCAPE);
        *ret = pod_json_escape_unsafe(t);
        return *ret ? 0 : -ENOMEM;
}
