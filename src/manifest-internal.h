/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by manifest.c (image manifests, apps) and pod-manifest.c (pod manifests).
 * Not part of the manifest module's public surface: include only from those two files. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct json_object;
struct pod_app;
struct pod_isolator;
struct pod_json_path;
struct pod_kv;

#define MANIFEST_ID_MAX UINT32_C(4294967294) /* (uid_t)-1 is "no id" to the kernel */

enum kv_kind { KV_LABELS, KV_ANNOTATIONS, KV_ENVIRONMENT };

int manifest_parse_kv_list(struct json_object *obj, const char *key, const struct pod_json_path *pp,
                           enum kv_kind kind, struct pod_kv **ret, size_t *ret_n,
                           struct pod_error *reterr);
int manifest_parse_string_map(struct json_object *obj, const char *key,
                              const struct pod_json_path *pp, struct pod_kv **ret, size_t *ret_n,
                              struct pod_error *reterr);
int manifest_array_elements(struct json_object *obj, const char *key, const struct pod_json_path *p,
                            struct json_object **ret_a, size_t *ret_n, struct pod_error *reterr);
int manifest_element_object(struct json_object *a, size_t i, const struct pod_json_path *ip,
                            struct json_object **ret, struct pod_error *reterr);
int manifest_check_ac_name(const char *s, const struct pod_json_path *p, struct pod_error *reterr);
int manifest_check_absolute(const char *s, const struct pod_json_path *p, struct pod_error *reterr);
bool manifest_image_id_valid(const char *s);
int manifest_parse_app(struct json_object *obj, const struct pod_json_path *p, struct pod_app **ret,
                       struct pod_error *reterr);
int manifest_parse_header(struct json_object *obj, const char *kind, char **ret_version,
                          struct pod_error *reterr);
int manifest_kv_list_to_json(struct json_object *obj, const char *key, const struct pod_kv *l,
                             size_t n);
int manifest_string_map_to_json(struct json_object *obj, const char *key, const struct pod_kv *l,
                                size_t n);
int manifest_array_add(struct json_object *a, struct json_object **e);
int manifest_isolators_to_json(struct json_object *obj, const struct pod_isolator *l, size_t n);
int manifest_app_to_json(const struct pod_app *app, struct json_object **ret);
int manifest_header_to_json(struct json_object *o, const char *kind, const char *version);
