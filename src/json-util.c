/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "escape.h"
#include "json-util.h"

static size_t path_format(const struct pod_json_path *p, char *buf, size_t size) {
        size_t n;
        int k;

        if (!p)
                return 0;
        n = path_format(p->parent, buf, size);
        if (n >= size)
                return n;
        if (p->key)
                k = snprintf(buf + n, size - n, "%s%s", n > 0 ? "." : "", POD_ESC(p->key));
        else
                k = snprintf(buf + n, size - n, "[%zu]", p->index);
        return k < 0 ? size : n + (size_t)k;
}

void pod_json_path_format(const struct pod_json_path *p, char *buf, size_t size) {
        if (size == 0)
                return;
        buf[0] = 0;
        (void)path_format(p, buf, size);
}

int pod_json_error(struct pod_error *reterr, int r, const struct pod_json_path *p, const char *fmt,
                   ...) {
        char path[256], msg[POD_ERROR_MSG_MAX];
        va_list ap;

        if (!reterr || reterr->error != 0)
                return r;

        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        pod_json_path_format(p, path, sizeof(path));
        if (path[0])
                return pod_error_set(reterr, r, "%s: %s", path, msg);
        return pod_error_set(reterr, r, "%s", msg);
}

/* Offset of the first raw control character (< 0x20) inside a string, or SIZE_MAX.  RFC 8259
 * forbids them and json-c's strict mode lets them through; a manifest carrying a raw ESC in
 * an annotation would reach a terminal byte for byte through "pod image cat-manifest". */
static size_t raw_control_in_string(const char *text, size_t size) {
        bool in_string = false;

        for (size_t i = 0; i < size; i++) {
                unsigned char c = (unsigned char)text[i];

                if (!in_string) {
                        if (c == '"')
                                in_string = true;
                } else if (c < 0x20)
                        return i;
                else if (c == '\\')
                        i++; /* the escaped character cannot end the string */
                else if (c == '"')
                        in_string = false;
        }
        return SIZE_MAX;
}

int pod_json_parse(const char *text, size_t size, size_t max_size, struct json_object **ret,
                   struct pod_error *reterr) {
        _cleanup_json_ struct json_object *obj = NULL;
        struct json_tokener *tok;
        enum json_tokener_error jerr;
        size_t end, line = 1, col = 1;
        const char *why;

        if (size > max_size)
                return pod_error_set(reterr, -EFBIG, "JSON text is %zu bytes, more than %zu", size,
                                     max_size);
        if (size > INT32_MAX)
                return pod_error_set(reterr, -EFBIG, "JSON text is too large");
        end = raw_control_in_string(text, size);
        if (end != SIZE_MAX)
                return pod_error_set(reterr, -EBADMSG,
                                     "JSON text has a raw control character (0x%02x) in a "
                                     "string at offset %zu",
                                     (unsigned)(unsigned char)text[end], end);

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        /* Strict RFC 8259 like Go's decoder (no single quotes, no trailing commas, no raw
         * control characters in strings); invalid UTF-8 is refused rather than guessed at. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                            JSON_TOKENER_VALIDATE_UTF8);
        obj = json_tokener_parse_ex(tok, text, (int)size);
        jerr = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        if (jerr == json_tokener_continue && end == size) {
                /* A top-level number only ends at a delimiter: feed the terminating NUL. */
                obj = json_tokener_parse_ex(tok, "", 1);
                jerr = json_tokener_get_error(tok);
                if (jerr != json_tokener_success)
                        jerr = json_tokener_continue; /* report the truncation, not the NUL */
                end = size;
        }
        json_tokener_free(tok);

        if (jerr == json_tokener_success) {
                /* Only whitespace may follow the value. */
                while (end < size && strchr(" \t\r\n", text[end]) && text[end] != 0)
                        end++;
                if (end < size) {
                        jerr = json_tokener_error_parse_unexpected;
                        why = "unexpected data after the JSON value";
                } else if (!obj) /* a bare "null" */
                        return pod_error_set(reterr, -EBADMSG, "JSON value is null");
                else {
                        *ret = TAKE_PTR(obj);
                        return 0;
                }
        } else if (jerr == json_tokener_continue) {
                end = size;
                why = "unexpected end of input";
        } else
                why = json_tokener_error_desc(jerr);

        if (end > size)
                end = size;
        for (size_t i = 0; i < end; i++)
                if (text[i] == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        return pod_error_set(reterr, -EBADMSG,
                             "JSON syntax error at byte %zu (line %zu, column %zu): %s", end, line,
                             col, why);
}

struct json_object *pod_json_get(struct json_object *obj, const char *key) {
        struct json_object *found = NULL;

        if (!obj || !json_object_is_type(obj, json_type_object))
                return NULL;

        /* Go maps every key to a field exactly or case-insensitively and assigns in document
         * order, and null leaves a field untouched: the last non-null matching key wins.
         * (json-c keeps JSON null as a NULL value.) */
        json_object_object_foreach (obj, k, v) {
                if (v && strcasecmp(k, key) == 0)
                        found = v;
        }
        return found;
}

static const char *json_type_word(struct json_object *v) {
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a fractional number";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "unknown";
}

int pod_json_as_string(struct json_object *v, const struct pod_json_path *p, const char **ret,
                       struct pod_error *reterr) {
        const char *s;

        if (!json_object_is_type(v, json_type_string))
                return pod_json_error(reterr, -EINVAL, p, "must be a string, not %s",
                                      json_type_word(v));
        s = json_object_get_string(v);
        /* "\u0000" would silently truncate the C string: refuse it. */
        if (strlen(s) != (size_t)json_object_get_string_len(v))
                return pod_json_error(reterr, -EINVAL, p, "must not contain NUL characters");
        *ret = s;
        return 0;
}

int pod_json_as_int(struct json_object *v, const struct pod_json_path *p, int64_t min, int64_t max,
                    int64_t *ret, struct pod_error *reterr) {
        int64_t i;

        if (!json_object_is_type(v, json_type_int))
                return pod_json_error(reterr, -EINVAL, p, "must be an integer, not %s",
                                      json_type_word(v));
        errno = 0;
        i = json_object_get_int64(v);
        /* json-c keeps values above INT64_MAX as uint64 and clamps get_int64(). */
        if (i < min || i > max || (i == INT64_MAX && json_object_get_uint64(v) > INT64_MAX)) {
                /* json-c saturates numbers beyond 64 bits: do not print the saturated value
                 * as if the user had written it. */
                if (i == INT64_MIN || json_object_get_uint64(v) == UINT64_MAX)
                        return pod_json_error(reterr, -EINVAL, p,
                                              "number is out of range %" PRId64 "..%" PRId64, min,
                                              max);
                return pod_json_error(
                        reterr, -EINVAL, p, "%s is out of range %" PRId64 "..%" PRId64,
                        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), min, max);
        }
        *ret = i;
        return 0;
}

int pod_json_as_object(struct json_object *v, const struct pod_json_path *p,
                       struct pod_error *reterr) {
        if (!json_object_is_type(v, json_type_object))
                return pod_json_error(reterr, -EINVAL, p, "must be an object, not %s",
                                      json_type_word(v));
        return 0;
}

int pod_json_get_string(struct json_object *obj, const char *key, const struct pod_json_path *p,
                        bool required, char **ret, struct pod_error *reterr) {
        struct json_object *v = pod_json_get(obj, key);
        const char *s;
        char *copy;
        int r;

        if (!v) {
                if (required)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, key), "is required");
                return 0;
        }
        r = pod_json_as_string(v, POD_JSON_KEY(p, key), &s, reterr);
        if (r < 0)
                return r;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(*ret);
        *ret = copy;
        return 0;
}

int pod_json_get_bool(struct json_object *obj, const char *key, const struct pod_json_path *p,
                      bool *ret, struct pod_error *reterr) {
        struct json_object *v = pod_json_get(obj, key);

        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, key),
                                      "must be true or false, not %s", json_type_word(v));
        *ret = json_object_get_boolean(v);
        return 0;
}

int pod_json_get_int(struct json_object *obj, const char *key, const struct pod_json_path *p,
                     bool required, int64_t min, int64_t max, int64_t *ret,
                     struct pod_error *reterr) {
        struct json_object *v = pod_json_get(obj, key);

        if (!v) {
                if (required)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, key), "is required");
                return 0;
        }
        return pod_json_as_int(v, POD_JSON_KEY(p, key), min, max, ret, reterr);
}

int pod_json_get_array(struct json_object *obj, const char *key, const struct pod_json_path *p,
                       struct json_object **ret, struct pod_error *reterr) {
        struct json_object *v = pod_json_get(obj, key);

        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, key),
                                      "must be an array, not %s", json_type_word(v));
        *ret = v;
        return 1;
}

int pod_json_get_object(struct json_object *obj, const char *key, const struct pod_json_path *p,
                        struct json_object **ret, struct pod_error *reterr) {
        struct json_object *v = pod_json_get(obj, key);
        int r;

        if (!v)
                return 0;
        r = pod_json_as_object(v, POD_JSON_KEY(p, key), reterr);
        if (r < 0)
                return r;
        *ret = v;
        return 1;
}

int pod_json_as_strv(struct json_object *v, const struct pod_json_path *p, bool nonempty,
                     char ***ret, struct pod_error *reterr) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n;
        int r;

        if (!json_object_is_type(v, json_type_array))
                return pod_json_error(reterr, -EINVAL, p, "must be an array of strings, not %s",
                                      json_type_word(v));
        n = json_object_array_length(v);
        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(v, i);
                const char *s;

                if (!e)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_IDX(p, i),
                                              "must be a string, not null");
                r = pod_json_as_string(e, POD_JSON_IDX(p, i), &s, reterr);
                if (r < 0)
                        return r;
                if (nonempty && s[0] == 0)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_IDX(p, i),
                                              "must not be empty");
                l[i] = strdup(s);
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int pod_json_add(struct json_object *obj, const char *key, struct json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(obj, key, value) < 0) {
                (void)json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

int pod_json_add_string(struct json_object *obj, const char *key, const char *value) {
        if (!value)
                return 0;
        return pod_json_add(obj, key, json_object_new_string(value));
}

int pod_json_add_int(struct json_object *obj, const char *key, int64_t value) {
        return pod_json_add(obj, key, json_object_new_int64(value));
}

int pod_json_add_bool(struct json_object *obj, const char *key, bool value) {
        return pod_json_add(obj, key, json_object_new_boolean(value));
}

int pod_json_strv_new(char *const *l, struct json_object **ret) {
        _cleanup_json_ struct json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        for (char *const *s = l; s && *s; s++) {
                struct json_object *e = json_object_new_string(*s);

                if (!e || json_object_array_add(a, e) < 0) {
                        if (e)
                                (void)json_object_put(e);
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(a);
        return 0;
}

int pod_json_to_string(struct json_object *obj, bool pretty, char **ret) {
        const char *s;
        char *copy;

        s = json_object_to_json_string_ext(
                obj, (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                             : JSON_C_TO_STRING_PLAIN) |
                             JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        copy = pod_json_escape_unsafe(s); /* no DEL, C1 or bidi control raw */
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}
