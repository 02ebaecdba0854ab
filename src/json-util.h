/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* json-c helpers shared by the manifest and isolator parsers: strict parsing with byte
 * offset/line in errors, Go-decoder-like key lookup (case-insensitive, last key wins,
 * null = absent), typed getters that name the field path in their errors.
 * Owns: json-c error mapping and json-c cleanups.  Does not own: any appc rule. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "error.h"
#include "macro.h"

static inline void json_object_putp(struct json_object **o) {
        if (*o)
                (void)json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* A field path, built on the stack while descending: "app.ports[1].port". */
struct pod_json_path {
        const struct pod_json_path *parent;
        const char *key; /* NULL for an array index */
        size_t index;
};
#define POD_JSON_KEY(p, k) (&(const struct pod_json_path){ .parent = (p), .key = (k) })
#define POD_JSON_IDX(p, i) (&(const struct pod_json_path){ .parent = (p), .index = (i) })

void pod_json_path_format(const struct pod_json_path *p, char *buf, size_t size);

/* Sets reterr to "<path>: <message>" (just the message when p is NULL); returns r. */
int pod_json_error(struct pod_error *reterr, int r, const struct pod_json_path *p, const char *fmt,
                   ...) _printf_(4, 5);

/* Parses exactly one JSON value filling all of text[0..size) (surrounding whitespace
 * allowed).  -EBADMSG with "JSON syntax error at byte N (line L, column C): ..." on
 * failure, -EFBIG above max_size. */
int pod_json_parse(const char *text, size_t size, size_t max_size, struct json_object **ret,
                   struct pod_error *reterr);

/* Key lookup like Go's encoding/json: case-insensitive, the last matching non-null key in
 * document order wins, JSON null counts as absent.  Returns a borrowed reference or NULL. */
struct json_object *pod_json_get(struct json_object *obj, const char *key);

/* Typed getters for obj[key].  Absent (or null) optional fields leave *ret untouched and
 * return 0; absent required ones fail with "<path>.<key>: is required". */
int pod_json_get_string(struct json_object *obj, const char *key, const struct pod_json_path *p,
                        bool required, char **ret, struct pod_error *reterr);
int pod_json_get_bool(struct json_object *obj, const char *key, const struct pod_json_path *p,
                      bool *ret, struct pod_error *reterr);
int pod_json_get_int(struct json_object *obj, const char *key, const struct pod_json_path *p,
                     bool required, int64_t min, int64_t max, int64_t *ret,
                     struct pod_error *reterr);
/* Returns 1 if present (borrowed *ret), 0 if absent. */
int pod_json_get_array(struct json_object *obj, const char *key, const struct pod_json_path *p,
                       struct json_object **ret, struct pod_error *reterr);
int pod_json_get_object(struct json_object *obj, const char *key, const struct pod_json_path *p,
                        struct json_object **ret, struct pod_error *reterr);

/* Value checks for an already-fetched value v at path p. */
int pod_json_as_string(struct json_object *v, const struct pod_json_path *p, const char **ret,
                       struct pod_error *reterr);
int pod_json_as_int(struct json_object *v, const struct pod_json_path *p, int64_t min, int64_t max,
                    int64_t *ret, struct pod_error *reterr);
int pod_json_as_object(struct json_object *v, const struct pod_json_path *p,
                       struct pod_error *reterr);

/* A JSON array of strings into a NULL-terminated strv (NULL for an empty array).
 * nonempty: refuse "" elements. */
int pod_json_as_strv(struct json_object *v, const struct pod_json_path *p, bool nonempty,
                     char ***ret, struct pod_error *reterr);

/* Serialisation helpers: add key only when value is non-NULL; return -ENOMEM on failure. */
int pod_json_add_string(struct json_object *obj, const char *key, const char *value);
int pod_json_add_int(struct json_object *obj, const char *key, int64_t value);
int pod_json_add_bool(struct json_object *obj, const char *key, bool value);
int pod_json_add(struct json_object *obj, const char *key, struct json_object *value); /* takes */
int pod_json_strv_new(char *const *l, struct json_object **ret);
/* Compact or pretty text of obj, malloc'ed. */
int pod_json_to_string(struct json_object *obj, bool pretty, char **ret);
