/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "auth.h"
#include "fd-util.h"
#include "json-util.h"
#include "macro.h"
#include "path-util.h"

struct pod_auth *pod_auth_free(struct pod_auth *a) {
        if (!a)
                return NULL;
        for (size_t i = 0; i < a->n; i++) {
                free(a->items[i].domain);
                if (a->items[i].header) /* credentials: do not leave them in freed memory */
                        explicit_bzero(a->items[i].header, strlen(a->items[i].header));
                free(a->items[i].header);
                free(a->items[i].source);
        }
        free(a->items);
        for (size_t i = 0; i < a->n_docker; i++) {
                free(a->docker[i].registry);
                free(a->docker[i].user);
                if (a->docker[i].password)
                        explicit_bzero(a->docker[i].password, strlen(a->docker[i].password));
                free(a->docker[i].password);
                free(a->docker[i].source);
        }
        free(a->docker);
        free(a);
        return NULL;
}

static char *base64(const char *in, size_t n) {
        static const char tab[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned char)in[i] << 16;

                if (i + 1 < n)
                        v |= (unsigned char)in[i + 1] << 8;
                if (i + 2 < n)
                        v |= (unsigned char)in[i + 2];
                *o++ = tab[(v >> 18) & 63];
                *o++ = tab[(v >> 12) & 63];
                *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
                *o++ = i + 2 < n ? tab[v & 63] : '=';
        }
        *o = 0;
        return out;
}

/* Printable ASCII without spaces: what may follow "Bearer " or go into user:password. */
static bool header_safe(const char *s, bool allow_space) {
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ||
                    (*s == ' ' && !allow_space))
                        return false;
        return true;
}

/* host name or IPv4 address, optionally ":port"; letters, digits, '-', '.'; or "[v6]". */
static bool domain_valid(const char *d) {
        const char *colon;
        size_t n = strlen(d);

        if (n == 0 || n > 261)
                return false;
        if (d[0] == '[') {
                const char *end = strchr(d, ']');

                if (!end || end == d + 1)
                        return false;
                for (const char *c = d + 1; c < end; c++)
                        if (!strchr("0123456789abcdefABCDEF:.", *c))
                                return false;
                colon = end[1] ? end + 1 : NULL;
                if (colon && *colon != ':')
                        return false;
        } else {
                colon = strchr(d, ':');
                for (const char *c = d; c < (colon ? colon : d + n); c++)
                        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                              (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
                                return false;
                if (colon == d || d[0] == '.' || d[0] == '-')
                        return false;
        }
        if (colon) {
                if (!colon[1] || strlen(colon + 1) > 5)
                        return false;
                for (const char *c = colon + 1; *c; c++)
                        if (*c < '0' || *c > '9')
                                return false;
        }
        return true;
}

static int add(struct pod_auth *a, const char *domain, const char *header, const char *source,
               bool replace, struct pod_error *reterr) {
        struct pod_auth_entry *t, e = {};

        for (size_t i = 0; i < a->n; i++)
                if (strcasecmp(a->items[i].domain, domain) == 0) {
                        if (!replace)
                                return pod_error_set(reterr, -EEXIST,
                                                     "Auth config '%s': domain '%s' is already "
                                                     "configured in '%s'",
                                                     source, domain, a->items[i].source);
                        t = &a->items[i];
                        e.header = strdup(header);
                        e.source = strdup(source);
                        if (!e.header || !e.source) {
                                free(e.header);
                                free(e.source);
                                return -ENOMEM;
                        }
                        explicit_bzero(t->header, strlen(t->header));
                        free(t->header);
                        free(t->source);
                        t->header = e.header;
                        t->source = e.source;
                        return 0;
                }

        t = realloc(a->items, (a->n + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        a->items = t;
        e.domain = strdup(domain);
        e.header = strdup(header);
        e.source = strdup(source);
        if (!e.domain || !e.header || !e.source) {
                free(e.domain);
                free(e.header);
                free(e.source);
                return -ENOMEM;
        }
        for (char *c = e.domain; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char)(*c - 'A' + 'a');
        a->items[a->n++] = e;
        return 0;
}

/* Registry key as docker writes it ("https://index.docker.io/v1/", "host:port", "host")
 * into "host[:port]" lower case, Docker Hub's aliases as its registry host.  NULL when it is
 * not a registry name. */
static char *docker_key(const char *key) {
        const char *p = key;
        char *k;

        /* A URL key's path ("/v1/") is not part of the registry; a bare key has none. */
        if (strncasecmp(p, "https://", 8) == 0)
                p += 8;
        else if (strncasecmp(p, "http://", 7) == 0)
                p += 7;
        k = p == key ? strdup(p) : strndup(p, strcspn(p, "/"));
        if (!k)
                return NULL;
        for (char *c = k; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char)(*c - 'A' + 'a');
        if (!domain_valid(k)) {
                free(k);
                return NULL;
        }
        if (streq(k, "docker.io") || streq(k, "index.docker.io")) {
                free(k);
                k = strdup("registry-1.docker.io");
        }
        return k;
}

/* Adds a registry's credentials.  An existing entry: replaced when replace, kept when
 * keep (a later, lower-priority source), else -EEXIST. */
static int add_docker(struct pod_auth *a, const char *registry, const char *user,
                      const char *password, const char *source, bool replace, bool keep,
                      struct pod_error *reterr) {
        struct pod_auth_docker e = {}, *t;
        _cleanup_free_ char *key = docker_key(registry);
        size_t i;

        if (!key)
                return pod_error_set(reterr, -EBADMSG,
                                     "Auth config '%s': '%s' is not a registry host[:port]", source,
                                     registry);
        for (i = 0; i < a->n_docker; i++)
                if (streq(a->docker[i].registry, key))
                        break;
        if (i < a->n_docker) {
                if (keep)
                        return 0;
                if (!replace)
                        return pod_error_set(reterr, -EEXIST,
                                             "Auth config '%s': registry '%s' is already "
                                             "configured in '%s'",
                                             source, key, a->docker[i].source);
        } else {
                t = realloc(a->docker, (a->n_docker + 1) * sizeof(*t));
                if (!t)
                        return -ENOMEM;
                a->docker = t;
        }
        e.registry = TAKE_PTR(key);
        e.user = strdup(user);
        e.password = strdup(password);
        e.source = strdup(source);
        if (!e.user || !e.password || !e.source) {
                free(e.registry);
                free(e.user);
                if (e.password)
                        explicit_bzero(e.password, strlen(e.password));
                free(e.password);
                free(e.source);
                return -ENOMEM;
        }
        if (i < a->n_docker) {
                free(a->docker[i].registry);
                free(a->docker[i].user);
                explicit_bzero(a->docker[i].password, strlen(a->docker[i].password));
                free(a->docker[i].password);
                free(a->docker[i].source);
                a->docker[i] = e;
        } else
                a->docker[a->n_docker++] = e;
        return 0;
}

static bool docker_user_valid(const char *user, const char *password) {
        /* RFC 7617: the user id must not contain a colon. */
        return user[0] && !strchr(user, ':') && header_safe(user, true) &&
               header_safe(password, true);
}

static int parse_error(struct pod_error *reterr, const char *source) {
        /* reterr holds "<field>: <problem>" from the JSON helpers. */
        return pod_error_prefix(reterr, -EBADMSG, "Auth config '%s'", source);
}

static int parse_docker_auth(struct pod_auth *a, struct json_object *root, const char *source,
                             bool replace, struct pod_error *reterr) {
        _cleanup_strv_free_ char **registries = NULL;
        _cleanup_free_ char *user = NULL, *password = NULL;
        struct json_object *creds = NULL, *rv = NULL;
        int r;

        r = pod_json_get_array(root, "registries", NULL, &rv, reterr);
        if (r == 0)
                r = pod_error_set(reterr, -EBADMSG, "registries: is required");
        if (r >= 0)
                r = pod_json_as_strv(rv, POD_JSON_KEY(NULL, "registries"), true, &registries,
                                     reterr);
        if (r >= 0 && !registries)
                r = pod_error_set(reterr, -EBADMSG, "registries: is empty");
        if (r >= 0)
                r = pod_json_get_object(root, "credentials", NULL, &creds, reterr);
        if (r == 0)
                r = pod_error_set(reterr, -EBADMSG, "credentials: is required");
        if (r >= 0)
                r = pod_json_get_string(creds, "user", POD_JSON_KEY(NULL, "credentials"), true,
                                        &user, reterr);
        if (r >= 0)
                r = pod_json_get_string(creds, "password", POD_JSON_KEY(NULL, "credentials"), true,
                                        &password, reterr);
        if (r < 0)
                return parse_error(reterr, source);
        if (!docker_user_valid(user, password))
                r = pod_error_set(reterr, -EBADMSG,
                                  "Auth config '%s': credentials.user must be non-empty without "
                                  "':' and both must be printable ASCII",
                                  source);
        STRV_FOREACH (reg, registries) {
                if (r < 0)
                        break;
                r = add_docker(a, *reg, user, password, source, replace, false, reterr);
        }
        explicit_bzero(password, strlen(password));
        return r < 0 ? r : 0;
}

int pod_auth_parse(struct pod_auth *a, const char *text, size_t size, const char *source,
                   bool replace, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *root = NULL;
        _cleanup_free_ char *kind = NULL, *version = NULL, *type = NULL, *header = NULL;
        _cleanup_free_ char *user = NULL, *password = NULL, *token = NULL, *pair = NULL;
        _cleanup_strv_free_ char **domains = NULL;
        struct json_object *creds = NULL, *dv = NULL;
        int r;

        r = pod_json_parse(text, size, POD_AUTH_FILE_MAX, &root, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r == -EFBIG ? r : -EBADMSG, "Auth config '%s'",
                                        source);
        if (!json_object_is_type(root, json_type_object))
                return pod_error_set(reterr, -EBADMSG, "Auth config '%s': not a JSON object",
                                     source);

        /* rkt's spelling, or ours. */
        r = pod_json_get_string(root, pod_json_get(root, "podKind") ? "podKind" : "rktKind", NULL,
                                true, &kind, reterr);
        if (r >= 0)
                r = pod_json_get_string(
                        root, pod_json_get(root, "podVersion") ? "podVersion" : "rktVersion", NULL,
                        true, &version, reterr);
        if (r < 0)
                return parse_error(reterr, source);
        if (!streq(kind, "auth") && !streq(kind, "dockerAuth"))
                return pod_error_set(reterr, -EBADMSG,
                                     "Auth config '%s': kind is '%s', expected 'auth' or "
                                     "'dockerAuth'",
                                     source, kind);
        if (!streq(version, "v1"))
                return pod_error_set(reterr, -EBADMSG,
                                     "Auth config '%s': version '%s' is not supported (v1)", source,
                                     version);
        if (streq(kind, "dockerAuth"))
                return parse_docker_auth(a, root, source, replace, reterr);
        r = pod_json_get_string(root, "type", NULL, true, &type, reterr);
        if (r < 0)
                return parse_error(reterr, source);

        r = pod_json_get_array(root, "domains", NULL, &dv, reterr);
        if (r == 0)
                r = pod_error_set(reterr, -EBADMSG, "domains: is required");
        if (r >= 0)
                r = pod_json_as_strv(dv, POD_JSON_KEY(NULL, "domains"), true, &domains, reterr);
        if (r < 0)
                return parse_error(reterr, source);
        if (!domains)
                return pod_error_set(reterr, -EBADMSG, "Auth config '%s': domains: is empty",
                                     source);
        STRV_FOREACH (d, domains)
                if (!domain_valid(*d))
                        return pod_error_set(reterr, -EBADMSG,
                                             "Auth config '%s': '%s' is not a host name or "
                                             "host:port",
                                             source, *d);

        r = pod_json_get_object(root, "credentials", NULL, &creds, reterr);
        if (r == 0)
                r = pod_error_set(reterr, -EBADMSG, "credentials: is required");
        if (r < 0)
                return parse_error(reterr, source);

        if (streq(type, "basic")) {
                r = pod_json_get_string(creds, "user", POD_JSON_KEY(NULL, "credentials"), true,
                                        &user, reterr);
                if (r >= 0)
                        r = pod_json_get_string(creds, "password",
                                                POD_JSON_KEY(NULL, "credentials"), true, &password,
                                                reterr);
                if (r < 0)
                        return parse_error(reterr, source);
                /* RFC 7617: the user id must not contain a colon. */
                if (!user[0] || strchr(user, ':') || !header_safe(user, true) ||
                    !header_safe(password, true))
                        return pod_error_set(reterr, -EBADMSG,
                                             "Auth config '%s': credentials.user must be "
                                             "non-empty without ':' and both must be printable "
                                             "ASCII",
                                             source);
                if (asprintf(&pair, "%s:%s", user, password) < 0)
                        return -ENOMEM;
                _cleanup_free_ char *b = base64(pair, strlen(pair));
                explicit_bzero(pair, strlen(pair));
                if (!b || asprintf(&header, "Authorization: Basic %s", b) < 0)
                        return -ENOMEM;
                explicit_bzero(b, strlen(b));
        } else if (streq(type, "oauth")) {
                r = pod_json_get_string(creds, "token", POD_JSON_KEY(NULL, "credentials"), true,
                                        &token, reterr);
                if (r < 0)
                        return parse_error(reterr, source);
                if (!token[0] || !header_safe(token, false))
                        return pod_error_set(reterr, -EBADMSG,
                                             "Auth config '%s': credentials.token must be "
                                             "non-empty printable ASCII without spaces",
                                             source);
                if (asprintf(&header, "Authorization: Bearer %s", token) < 0)
                        return -ENOMEM;
        } else
                return pod_error_set(reterr, -EBADMSG,
                                     "Auth config '%s': type '%s' is not supported (basic, oauth)",
                                     source, type);

        STRV_FOREACH (d, domains) {
                r = add(a, *d, header, source, replace, reterr);
                if (r < 0)
                        break;
        }
        if (password)
                explicit_bzero(password, strlen(password));
        if (token)
                explicit_bzero(token, strlen(token));
        explicit_bzero(header, strlen(header));
        return r < 0 ? r : 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One auth.d: *.json in name order; duplicates within it are errors, over prev replaced. */
static int load_dir(struct pod_auth *a, const char *base, struct pod_error *reterr) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        int r;

        dir = path_join(base, "auth.d");
        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", dir);
        }
        while ((errno = 0, de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char **t;

                if (de->d_name[0] == '.' || len < 6 || !streq(de->d_name + len - 5, ".json"))
                        continue;
                t = realloc(names, (n + 2) * sizeof(char *));
                if (!t)
                        return -ENOMEM;
                names = t;
                names[n] = strdup(de->d_name);
                names[n + 1] = NULL;
                if (!names[n])
                        return -ENOMEM;
                n++;
        }
        if (errno != 0)
                return pod_error_set(reterr, -errno, "Failed to read '%s': %m", dir);
        if (n == 0)
                return 0;
        qsort(names, n, sizeof(char *), cmp_str);

        /* Entries from an earlier directory may be replaced, ones from this one not: parse
         * into a fresh set first, then merge it over a. */
        _cleanup_(pod_auth_freep) struct pod_auth *mine = calloc(1, sizeof(*mine));
        if (!mine)
                return -ENOMEM;
        STRV_FOREACH (name, names) {
                _cleanup_free_ char *path = path_join(dir, *name), *text = NULL;
                size_t size = 0;

                if (!path)
                        return -ENOMEM;
                r = read_full_file_at(AT_FDCWD, path, POD_AUTH_FILE_MAX, &text, &size);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to read auth config '%s': %s", path,
                                             strerror(-r));
                r = pod_auth_parse(mine, text, size, path, false, reterr);
                explicit_bzero(text, size);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < mine->n; i++) {
                r = add(a, mine->items[i].domain, mine->items[i].header, mine->items[i].source,
                        true, reterr);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < mine->n_docker; i++) {
                r = add_docker(a, mine->docker[i].registry, mine->docker[i].user,
                               mine->docker[i].password, mine->docker[i].source, true, false,
                               reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pod_auth_load(const char *vendordir, const char *sysconfdir, struct pod_auth **ret,
                  struct pod_error *reterr) {
        _cleanup_(pod_auth_freep) struct pod_auth *a = calloc(1, sizeof(*a));
        int r;

        if (!a)
                return -ENOMEM;
        if (vendordir) {
                r = load_dir(a, vendordir, reterr);
                if (r < 0)
                        return r;
        }
        if (sysconfdir) {
                r = load_dir(a, sysconfdir, reterr);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

int pod_auth_load_user(struct pod_auth *a, const char *userdir, struct pod_error *reterr) {
        return userdir ? load_dir(a, userdir, reterr) : 0;
}

const char *pod_auth_header_for_url(const struct pod_auth *a, const char *url) {
        const char *p, *end, *at, *host, *port = NULL;
        size_t hlen, full;

        if (!a || a->n == 0 || !url)
                return NULL;
        p = strstr(url, "://");
        if (!p)
                return NULL;
        p += 3;
        end = p + strcspn(p, "/?#");
        /* userinfo is not part of the host */
        at = memchr(p, '@', (size_t)(end - p));
        host = at ? at + 1 : p;
        if (host[0] == '[') {
                const char *rb = memchr(host, ']', (size_t)(end - host));

                if (!rb)
                        return NULL;
                port = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        } else
                port = memchr(host, ':', (size_t)(end - host));
        full = (size_t)(end - host);
        hlen = port ? (size_t)(port - host) : full;
        if (hlen == 0)
                return NULL;

        for (size_t i = 0; i < a->n; i++) {
                const char *d = a->items[i].domain;
                size_t dl = strlen(d);

                /* "host:port" matches that port only; "host" any port of host. */
                if ((dl == full && strncasecmp(d, host, full) == 0) ||
                    (dl == hlen && strncasecmp(d, host, hlen) == 0))
                        return a->items[i].header;
        }
        return NULL;
}

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

/* Standard base64 with or without padding into a NUL-terminated string; NUL bytes refused. */
static int unbase64(const char *in, char **ret) {
        size_t n = strlen(in), o = 0;
        unsigned acc = 0, bits = 0;
        char *out;

        while (n > 0 && in[n - 1] == '=')
                n--;
        out = malloc(n * 3 / 4 + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int v = b64_value(in[i]);

                if (v < 0) {
                        explicit_bzero(out, o);
                        free(out);
                        return -EBADMSG;
                }
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o] = (char)((acc >> bits) & 0xff);
                        if (!out[o]) {
                                explicit_bzero(out, o);
                                free(out);
                                return -EBADMSG;
                        }
                        o++;
                }
        }
        out[o] = 0;
        *ret = out;
        return 0;
}

int pod_auth_parse_docker_config(struct pod_auth *a, const char *text, size_t size,
                                 const char *source, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *root = NULL;
        struct json_object *auths = NULL;
        int r;

        r = pod_json_parse(text, size, POD_AUTH_FILE_MAX, &root, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r == -EFBIG ? r : -EBADMSG, "Auth file '%s'",
                                        source);
        if (!json_object_is_type(root, json_type_object))
                return pod_error_set(reterr, -EBADMSG, "Auth file '%s': not a JSON object", source);
        r = pod_json_get_object(root, "auths", NULL, &auths, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, -EBADMSG, "Auth file '%s'", source);
        if (r == 0)
                return 0;
        json_object_object_foreach (auths, key, val) {
                _cleanup_free_ char *pair = NULL, *user = NULL;
                const char *b64 = NULL;
                struct json_object *av;
                char *colon;

                if (!json_object_is_type(val, json_type_object))
                        return pod_error_set(reterr, -EBADMSG,
                                             "Auth file '%s': auths.%s: not an object", source,
                                             key);
                av = pod_json_get(val, "auth");
                if (!av)
                        continue; /* identitytoken or a credential helper: not ours */
                if (!json_object_is_type(av, json_type_string))
                        return pod_error_set(reterr, -EBADMSG,
                                             "Auth file '%s': auths.%s.auth: not a string", source,
                                             key);
                b64 = json_object_get_string(av);
                if (!*b64)
                        continue;
                r = unbase64(b64, &pair);
                if (r == -ENOMEM)
                        return r;
                colon = r < 0 ? NULL : strchr(pair, ':');
                if (!colon)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Auth file '%s': auths.%s.auth: not base64 of "
                                             "user:password",
                                             source, key);
                user = strndup(pair, (size_t)(colon - pair));
                if (!user) {
                        explicit_bzero(pair, strlen(pair));
                        return -ENOMEM;
                }
                if (!docker_user_valid(user, colon + 1))
                        r = pod_error_set(reterr, -EBADMSG,
                                          "Auth file '%s': auths.%s.auth: the user must be "
                                          "non-empty and both must be printable ASCII",
                                          source, key);
                else
                        r = add_docker(a, key, user, colon + 1, source, false, true, reterr);
                explicit_bzero(pair, strlen(pair));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_docker_file(struct pod_auth *a, const char *path, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = read_full_file_at(AT_FDCWD, path, POD_AUTH_FILE_MAX, &text, &size);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read auth file '%s': %s", path,
                                     strerror(-r));
        r = pod_auth_parse_docker_config(a, text, size, path, reterr);
        explicit_bzero(text, size);
        return r;
}

int pod_auth_load_docker_files(struct pod_auth *a, struct pod_error *reterr) {
        const char *runtime = secure_getenv("XDG_RUNTIME_DIR"), *home = secure_getenv("HOME");
        int r;

        if (runtime && runtime[0] == '/') {
                _cleanup_free_ char *p = path_join(runtime, "containers/auth.json");

                if (!p)
                        return -ENOMEM;
                r = load_docker_file(a, p, reterr);
                if (r < 0)
                        return r;
        }
        if (!home || home[0] != '/') {
                struct passwd *pw = getpwuid(getuid());

                home = pw ? pw->pw_dir : NULL;
        }
        if (home && home[0] == '/') {
                _cleanup_free_ char *p = path_join(home, ".docker/config.json");

                if (!p)
                        return -ENOMEM;
                r = load_docker_file(a, p, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

const struct pod_auth_docker *pod_auth_docker_lookup(const struct pod_auth *a,
                                                     const char *registry) {
        _cleanup_free_ char *key = NULL;
        const char *colon;
        size_t hlen;

        if (!a || a->n_docker == 0 || !registry)
                return NULL;
        key = docker_key(registry);
        if (!key)
                return NULL;
        for (size_t i = 0; i < a->n_docker; i++)
                if (streq(a->docker[i].registry, key))
                        return &a->docker[i];
        colon = key[0] == '[' ? strstr(key, "]:") : strchr(key, ':');
        if (!colon)
                return NULL;
        hlen = (size_t)(colon - key) + (key[0] == '[');
        for (size_t i = 0; i < a->n_docker; i++)
                if (strlen(a->docker[i].registry) == hlen &&
                    strncmp(a->docker[i].registry, key, hlen) == 0)
                        return &a->docker[i];
        return NULL;
}

char *pod_auth_docker_basic_header(const struct pod_auth_docker *d) {
        _cleanup_free_ char *pair = NULL, *b = NULL;
        char *h = NULL;

        if (asprintf(&pair, "%s:%s", d->user, d->password) < 0)
                return NULL;
        b = base64(pair, strlen(pair));
        explicit_bzero(pair, strlen(pair));
        if (!b)
                return NULL;
        if (asprintf(&h, "Authorization: Basic %s", b) < 0)
                h = NULL;
        explicit_bzero(b, strlen(b));
        return h;
}
