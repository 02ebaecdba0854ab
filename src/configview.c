/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "configview.h"
#include "escape.h"
#include "json-util.h"
#include "keystore.h"
#include "macro.h"
#include "path-util.h"

static int b64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* The user of a "Basic" header value (base64 of "user:password"), without ever holding the
 * password: decoding stops at the colon. */
static char *basic_user(const char *b64) {
        size_t n = strlen(b64);
        _cleanup_free_ char *u = malloc(n + 1);
        size_t len = 0;
        unsigned bits = 0, acc = 0;

        if (!u)
                return NULL;
        for (const char *p = b64; *p && *p != '='; p++) {
                int v = b64_value(*p);

                if (v < 0)
                        return NULL;
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        char c = (char)((acc >> (bits - 8)) & 0xff);

                        bits -= 8;
                        if (c == ':') {
                                u[len] = 0;
                                return TAKE_PTR(u);
                        }
                        u[len++] = c;
                }
        }
        return NULL; /* auth.c always writes the colon */
}

static int entry_new(const char *kind, struct json_object *stage0, struct json_object **ret) {
        struct json_object *e = json_object_new_object();
        int r;

        if (!e || json_object_array_add(stage0, e) < 0) {
                json_object_put(e);
                return -ENOMEM;
        }
        r = pod_json_add_string(e, "rktVersion", "v1");
        if (r >= 0)
                r = pod_json_add_string(e, "rktKind", kind);
        if (r < 0)
                return r;
        *ret = e;
        return 0;
}

static bool has_prefix(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int add_auth(const struct pod_auth_entry *a, struct json_object *stage0) {
        static const char basic[] = "Authorization: Basic ", bearer[] = "Authorization: Bearer ";
        struct json_object *e, *domains = json_object_new_array(),
                               *creds = json_object_new_object();
        int r;

        if (!domains || !creds) {
                json_object_put(domains);
                json_object_put(creds);
                return -ENOMEM;
        }
        if (has_prefix(a->header, basic)) {
                _cleanup_free_ char *user = basic_user(a->header + strlen(basic));

                r = pod_json_add_string(creds, "user", user ?: POD_CONFIG_MASK);
                if (r >= 0)
                        r = pod_json_add_string(creds, "password", POD_CONFIG_MASK);
        } else
                r = pod_json_add_string(creds, "token", POD_CONFIG_MASK);
        if (r >= 0 && json_object_array_add(domains, json_object_new_string(a->domain)) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = entry_new("auth", stage0, &e);
        if (r < 0) {
                json_object_put(domains);
                json_object_put(creds);
                return r;
        }
        r = pod_json_add(e, "domains", domains);
        if (r >= 0)
                r = pod_json_add_string(e, "type",
                                        has_prefix(a->header, bearer) ? "oauth" : "basic");
        if (r < 0) {
                json_object_put(creds);
                return r;
        }
        return pod_json_add(e, "credentials", creds);
}

/* rkt's dockerAuth entry: {"rktKind":"dockerAuth","registries":[...],"credentials":
 * {"user":...,"password":"********"}}; the password masked, as for auth. */
static int add_docker_auth(const struct pod_auth_docker *d, struct json_object *stage0) {
        struct json_object *e, *regs = json_object_new_array(), *creds = json_object_new_object();
        int r;

        if (!regs || !creds) {
                json_object_put(regs);
                json_object_put(creds);
                return -ENOMEM;
        }
        r = pod_json_add_string(creds, "user", d->user ?: "");
        if (r >= 0)
                r = pod_json_add_string(creds, "password", POD_CONFIG_MASK);
        if (r >= 0 && json_object_array_add(regs, json_object_new_string(d->registry)) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = entry_new("dockerAuth", stage0, &e);
        if (r < 0) {
                json_object_put(regs);
                json_object_put(creds);
                return r;
        }
        r = pod_json_add(e, "registries", regs);
        if (r < 0) {
                json_object_put(creds);
                return r;
        }
        return pod_json_add(e, "credentials", creds);
}

static int add_pod_view(const struct pod_config_paths *p, const struct pod_trusted_keys *keys,
                        struct json_object *root) {
        struct json_object *o = json_object_new_object(), *trust;
        _cleanup_free_ char *pods = NULL;
        int r;

        r = pod_json_add(root, "pod", o);
        if (r < 0)
                return r;
        pods = path_join(p->data_dir, "pods");
        if (!pods)
                return -ENOMEM;
        r = pod_json_add_string(o, "dataDir", p->data_dir);
        if (r >= 0)
                r = pod_json_add_string(o, "podsDir", pods);
        if (r >= 0)
                r = pod_json_add_string(o, "localConfig", p->sysconfdir);
        if (r >= 0)
                r = pod_json_add_string(o, "systemConfig", p->vendordir);
        if (r >= 0)
                r = p->userdir ? pod_json_add_string(o, "userConfig", p->userdir)
                               : (json_object_object_add(o, "userConfig", NULL) < 0 ? -ENOMEM : 0);
        if (r >= 0)
                r = pod_json_add_string(o, "stage1", p->stage1);
        if (r >= 0)
                r = pod_json_add(o, "trust", trust = json_object_new_array());
        for (size_t k = 0; r >= 0 && keys && k < keys->n; k++) {
                const struct pod_trusted_key *key = &keys->items[k];
                struct json_object *t = json_object_new_object();

                if (!t || json_object_array_add(trust, t) < 0) {
                        json_object_put(t);
                        return -ENOMEM;
                }
                /* "prefix" null: root.d, trusted for every image */
                r = key->prefix ? pod_json_add_string(t, "prefix", key->prefix)
                                : (json_object_object_add(t, "prefix", NULL) < 0 ? -ENOMEM : 0);
                if (r >= 0)
                        r = pod_json_add_string(t, "fingerprint", key->fingerprint);
                if (r >= 0)
                        r = pod_json_add_string(t, "source",
                                                key->user    ? "user"
                                                : key->admin ? "local"
                                                             : "system");
                if (r >= 0)
                        r = pod_json_add_bool(t, "masked", key->mask);
                if (r >= 0)
                        r = pod_json_add_string(t, "path", key->path);
        }
        return r;
}

int pod_config_view_json(const struct pod_config_paths *p, bool pretty, char **ret,
                         struct pod_error *reterr) {
        _cleanup_(pod_auth_freep) struct pod_auth *auth = NULL;
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *keys = NULL;
        _cleanup_json_ struct json_object *root = json_object_new_object();
        const struct pod_keystore ks = { .vendordir = p->vendordir,
                                         .sysconfdir = p->sysconfdir,
                                         .userdir = p->userdir };
        struct json_object *stage0, *e;
        _cleanup_free_ char *images = NULL, *text = NULL;
        const char *slash;
        int r;

        if (!root)
                return pod_error_set(reterr, -ENOMEM, "Out of memory");
        r = pod_auth_load(p->vendordir, p->sysconfdir, &auth, reterr);
        if (r >= 0)
                r = pod_auth_load_user(auth, p->userdir, reterr);
        if (r < 0)
                return r;
        r = pod_keystore_list(&ks, &keys, reterr);
        if (r < 0)
                return r;

        r = pod_json_add(root, "stage0", stage0 = json_object_new_array());
        for (size_t k = 0; r >= 0 && k < auth->n; k++)
                r = add_auth(&auth->items[k], stage0);
        for (size_t k = 0; r >= 0 && k < auth->n_docker; k++)
                r = add_docker_auth(&auth->docker[k], stage0);

        /* rkt's stage1-images: the directory stage1 images are looked up in; pod's stage1 is
         * a binary, and that is its directory. */
        slash = strrchr(p->stage1, '/');
        images = slash ? strndup(p->stage1, (size_t)(slash - p->stage1)) : strdup(".");
        if (r >= 0 && !images)
                r = -ENOMEM;
        if (r >= 0)
                r = entry_new("paths", stage0, &e);
        if (r >= 0)
                r = pod_json_add_string(e, "data", p->data_dir);
        if (r >= 0)
                r = pod_json_add_string(e, "stage1-images", images);
        if (r >= 0)
                r = entry_new("stage1", stage0, &e);
        if (r >= 0)
                r = pod_json_add_string(e, "name", "pod-stage1");
        if (r >= 0)
                r = pod_json_add_string(e, "version", p->version);
        if (r >= 0)
                r = pod_json_add_string(e, "location", p->stage1);
        if (r >= 0)
                r = add_pod_view(p, keys, root);
        if (r < 0)
                return pod_error_set(reterr, r, "Out of memory");

        /* as rkt: json.MarshalIndent(config, "", "\t") or json.Marshal */
        text = strdup(json_object_to_json_string_ext(
                              root, JSON_C_TO_STRING_NOSLASHESCAPE |
                                            (pretty ? JSON_C_TO_STRING_PRETTY |
                                                              JSON_C_TO_STRING_PRETTY_TAB |
                                                              JSON_C_TO_STRING_SPACED
                                                    : JSON_C_TO_STRING_PLAIN))
                              ?: "");
        if (!text || !text[0])
                return pod_error_set(reterr, -ENOMEM, "Out of memory");
        *ret = pod_json_escape_unsafe(text); /* no DEL, C1 or bidi control raw */
        if (!*ret)
                return pod_error_set(reterr, -ENOMEM, "Out of memory");
        return 0;
}
