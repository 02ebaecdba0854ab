/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "auth.h"
#include "http.h"
#include "json-util.h"
#include "macro.h"
#include "oci.h"
#include "registry.h"
#include "sha256.h"

#define ACCEPT_MANIFESTS                                                  \
        "Accept: " POD_OCI_MEDIA_MANIFEST ", " POD_OCI_MEDIA_INDEX        \
        ", " POD_OCI_MEDIA_DOCKER_MANIFEST ", " POD_OCI_MEDIA_DOCKER_LIST \
        ", " POD_OCI_MEDIA_DOCKER_SCHEMA1S ", " POD_OCI_MEDIA_DOCKER_SCHEMA1

struct pod_registry {
        char *registry, *repository;
        struct pod_registry_options o;
        pthread_mutex_t lock;
        const char *scheme;    /* "https://" or "http://"; NULL until the first answer */
        char *auth_header;     /* "Authorization: Bearer ..." / "... Basic ..." or NULL */
        bool sent_credentials; /* the registry's own credentials went into auth_header */
};

int pod_registry_new(const char *registry, const char *repository,
                     const struct pod_registry_options *o, struct pod_registry **ret) {
        struct pod_registry *r = calloc(1, sizeof(*r));

        if (!r)
                return -ENOMEM;
        r->registry = strdup(registry);
        r->repository = strdup(repository);
        if (o)
                r->o = *o;
        if (!r->registry || !r->repository || pthread_mutex_init(&r->lock, NULL) != 0) {
                free(r->registry);
                free(r->repository);
                free(r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

struct pod_registry *pod_registry_free(struct pod_registry *r) {
        if (!r)
                return NULL;
        free(r->registry);
        free(r->repository);
        if (r->auth_header)
                explicit_bzero(r->auth_header, strlen(r->auth_header));
        free(r->auth_header);
        (void)pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
}

void pod_registry_manifest_done(struct pod_registry_manifest *m) {
        if (!m)
                return;
        free(m->body);
        free(m->content_type);
        free(m->digest);
        free(m->url);
        *m = (struct pod_registry_manifest){};
}

void pod_registry_challenge_done(struct pod_registry_challenge *c) {
        if (!c)
                return;
        free(c->scheme);
        free(c->realm);
        free(c->service);
        free(c->scope);
        *c = (struct pod_registry_challenge){};
}

/* ---- WWW-Authenticate (RFC 7235 section 4.1, RFC 9110 section 11.6.1) ---- */

static bool tchar(char c) {
        return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

int pod_registry_parse_challenge(const char *header, struct pod_registry_challenge *ret,
                                 struct pod_error *reterr) {
        struct pod_registry_challenge c = {};
        const char *p, *s;
        int r = 0;

        if (!header)
                return pod_error_set(reterr, -EBADMSG, "No WWW-Authenticate challenge");
        for (const char *q = header; *q; q++)
                if ((unsigned char)*q < 0x20 && *q != '\t')
                        return pod_error_set(reterr, -EBADMSG,
                                             "WWW-Authenticate challenge holds a control byte");
        p = skip_ows(header);
        for (s = p; tchar(*p); p++)
                ;
        if (p == s)
                return pod_error_set(reterr, -EBADMSG, "WWW-Authenticate challenge has no scheme");
        c.scheme = strndup(s, (size_t)(p - s));
        if (!c.scheme)
                return -ENOMEM;
        for (char *k = c.scheme; *k; k++)
                *k = (char)tolower((unsigned char)*k);
        if (*p && *p != ' ' && *p != '\t') {
                pod_registry_challenge_done(&c);
                return pod_error_set(reterr, -EBADMSG,
                                     "WWW-Authenticate challenge: unexpected '%c' after the "
                                     "scheme",
                                     *p);
        }

        for (p = skip_ows(p); *p && r >= 0;) {
                _cleanup_free_ char *name = NULL, *value = NULL;
                const char *ns, *after;
                char **slot = NULL;
                size_t n = 0;

                /* A lone comma (empty list element) is allowed by the list grammar. */
                if (*p == ',') {
                        p = skip_ows(p + 1);
                        continue;
                }
                for (ns = p; tchar(*p); p++)
                        ;
                if (p == ns) {
                        r = pod_error_set(reterr, -EBADMSG,
                                          "WWW-Authenticate challenge: unexpected '%c'", *p);
                        break;
                }
                after = skip_ows(p);
                if (*after != '=') {
                        /* A token without '=': the scheme of the next challenge (or the
                         * token68 form, which registries do not use).  Stop here. */
                        if (c.n_params == 0 && (*after == 0 || *after == ','))
                                r = pod_error_set(reterr, -EBADMSG,
                                                  "WWW-Authenticate challenge: token68 "
                                                  "credentials are not supported");
                        break;
                }
                name = strndup(ns, (size_t)(p - ns));
                if (!name) {
                        r = -ENOMEM;
                        break;
                }
                p = skip_ows(after + 1);
                if (*p == '"') {
                        size_t len = strlen(p);

                        value = malloc(len + 1);
                        if (!value) {
                                r = -ENOMEM;
                                break;
                        }
                        for (p++; *p && *p != '"'; p++) {
                                if (*p == '\\' && p[1])
                                        p++;
                                value[n++] = *p;
                        }
                        value[n] = 0;
                        if (*p != '"') {
                                r = pod_error_set(reterr, -EBADMSG,
                                                  "WWW-Authenticate challenge: unterminated "
                                                  "quoted value of '%s'",
                                                  name);
                                break;
                        }
                        p++;
                } else {
                        for (s = p; tchar(*p) || *p == '/' || *p == ':'; p++)
                                ;
                        if (p == s) {
                                r = pod_error_set(reterr, -EBADMSG,
                                                  "WWW-Authenticate challenge: '%s' has no "
                                                  "value",
                                                  name);
                                break;
                        }
                        value = strndup(s, (size_t)(p - s));
                        if (!value) {
                                r = -ENOMEM;
                                break;
                        }
                }
                p = skip_ows(p);
                if (*p && *p != ',') {
                        r = pod_error_set(reterr, -EBADMSG,
                                          "WWW-Authenticate challenge: expected ',' after '%s'",
                                          name);
                        break;
                }
                if (++c.n_params > POD_REGISTRY_CHALLENGE_PARAMS_MAX) {
                        r = pod_error_set(reterr, -EBADMSG,
                                          "WWW-Authenticate challenge: too many parameters");
                        break;
                }
                if (strcasecmp(name, "realm") == 0)
                        slot = &c.realm;
                else if (strcasecmp(name, "service") == 0)
                        slot = &c.service;
                else if (strcasecmp(name, "scope") == 0)
                        slot = &c.scope;
                if (slot) {
                        if (*slot) {
                                r = pod_error_set(reterr, -EBADMSG,
                                                  "WWW-Authenticate challenge: '%s' given twice",
                                                  name);
                                break;
                        }
                        *slot = TAKE_PTR(value);
                }
        }
        if (r < 0) {
                pod_registry_challenge_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

/* ---- requests ---- */

static char *url_escape(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(strlen(s) * 3 + 1), *o = out;

        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                if (isalnum(c) || strchr("-._~", c))
                        *o++ = (char)c;
                else {
                        *o++ = '%';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
        }
        *o = 0;
        return out;
}

static void http_opts(const struct pod_registry *r, struct pod_http_options *h) {
        *h = (struct pod_http_options){
                .allow_http = r->o.allow_http,
                .insecure_tls = r->o.insecure_tls,
                .connect_timeout_sec = r->o.connect_timeout_sec,
                .low_speed_time_sec = r->o.low_speed_time_sec,
                .low_speed_bytes = r->o.low_speed_bytes,
                .timeout_sec = r->o.timeout_sec,
                .keep_error_response = true,
        };
}

static bool header_token_safe(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
                        return false;
        return true;
}

static int get_token(struct pod_registry *r, const struct pod_registry_challenge *c,
                     const struct pod_auth_docker *creds, char **ret_header,
                     struct pod_error *reterr) {
        _cleanup_free_ char *url = NULL, *service = NULL, *scope = NULL, *scope_raw = NULL;
        _cleanup_free_ char *basic = NULL, *body = NULL, *token = NULL;
        _cleanup_json_ struct json_object *root = NULL;
        struct pod_http_response resp = {};
        struct pod_http_options h;
        const char *headers[2] = {};
        size_t size = 0;
        int k;

        if (!c->realm || !pod_http_url_allowed(c->realm, r->o.allow_http))
                return pod_error_set(reterr, -EACCES,
                                     "Registry '%s' names token server '%s', which is not an "
                                     "allowed URL (https, or http with --insecure-options=http)",
                                     r->registry, c->realm ?: "");
        if (asprintf(&scope_raw, "repository:%s:pull", r->repository) < 0)
                return -ENOMEM;
        scope = url_escape(scope_raw);
        service = c->service ? url_escape(c->service) : NULL;
        if (!scope || (c->service && !service))
                return -ENOMEM;
        if (asprintf(&url, "%s%sscope=%s%s%s", c->realm, strchr(c->realm, '?') ? "&" : "?", scope,
                     service ? "&service=" : "", service ?: "") < 0)
                return -ENOMEM;
        if (creds) {
                basic = pod_auth_docker_basic_header(creds);
                if (!basic)
                        return -ENOMEM;
                headers[0] = basic;
        }
        http_opts(r, &h);
        h.headers = headers;
        h.max_size = POD_REGISTRY_TOKEN_MAX;
        k = pod_http_get(url, &h, &body, &size, &resp, reterr);
        if (basic)
                explicit_bzero(basic, strlen(basic));
        if (k < 0) {
                long status = resp.status;

                pod_http_response_done(&resp);
                if (status == 401 || status == 403) {
                        pod_error_clear(reterr);
                        return pod_error_set(reterr, -EACCES,
                                             creds ? "Authentication failed: the token server of "
                                                     "registry '%s' refused the credentials of "
                                                     "'%s' (%s) for repository '%s'"
                                                   : "Authentication required: the token server "
                                                     "of registry '%s' refused an anonymous "
                                                     "token%s%s for repository '%s'; configure "
                                                     "credentials",
                                             r->registry, creds ? creds->user : "",
                                             creds ? creds->source : "", r->repository);
                }
                return pod_error_prefix(reterr, k, "Failed to get a token from registry '%s'",
                                        r->registry);
        }
        pod_http_response_done(&resp);
        k = pod_json_parse(body, size, POD_REGISTRY_TOKEN_MAX, &root, reterr);
        if (k >= 0 && !json_object_is_type(root, json_type_object))
                k = pod_error_set(reterr, -EBADMSG, "not a JSON object");
        if (k >= 0)
                k = pod_json_get_string(root, "token", NULL, false, &token, reterr);
        if (k >= 0 && (!token || !*token)) {
                free(token);
                token = NULL;
                k = pod_json_get_string(root, "access_token", NULL, false, &token, reterr);
        }
        if (k >= 0 && (!token || !header_token_safe(token)))
                k = pod_error_set(reterr, -EBADMSG,
                                  "no usable \"token\" or \"access_token\" in the answer");
        if (k < 0)
                return pod_error_prefix(reterr, -EBADMSG,
                                        "Invalid answer from the token server of registry '%s'",
                                        r->registry);
        if (asprintf(ret_header, "Authorization: Bearer %s", token) < 0)
                return -ENOMEM;
        explicit_bzero(token, strlen(token));
        return 0;
}

/* Answers a 401's challenge: sets r->auth_header. */
static int authenticate(struct pod_registry *r, const char *www, struct pod_error *reterr) {
        _cleanup_(pod_registry_challenge_done) struct pod_registry_challenge c = {};
        const struct pod_auth_docker *creds =
                pod_auth_docker_lookup(r->o.auth, r->registry)
                        ?: pod_auth_docker_lookup(r->o.auth_extra, r->registry);
        _cleanup_free_ char *header = NULL;
        int k;

        k = pod_registry_parse_challenge(www, &c, reterr);
        if (k < 0)
                return pod_error_prefix(reterr, -EACCES,
                                        "Authentication required by registry '%s' for "
                                        "repository '%s', but its challenge is unusable",
                                        r->registry, r->repository);
        if (streq(c.scheme, "bearer")) {
                k = get_token(r, &c, creds, &header, reterr);
                if (k < 0)
                        return k;
        } else if (streq(c.scheme, "basic")) {
                if (!creds)
                        return pod_error_set(reterr, -EACCES,
                                             "Authentication required: registry '%s' asks for "
                                             "credentials for repository '%s' and none are "
                                             "configured (auth.d dockerAuth, "
                                             "containers/auth.json, ~/.docker/config.json)",
                                             r->registry, r->repository);
                header = pod_auth_docker_basic_header(creds);
                if (!header)
                        return -ENOMEM;
        } else
                return pod_error_set(reterr, -EACCES,
                                     "Authentication required by registry '%s' with scheme '%s', "
                                     "which pod does not support (Bearer, Basic)",
                                     r->registry, c.scheme);

        pthread_mutex_lock(&r->lock);
        if (r->auth_header)
                explicit_bzero(r->auth_header, strlen(r->auth_header));
        free(r->auth_header);
        r->auth_header = TAKE_PTR(header);
        r->sent_credentials = creds != NULL;
        pthread_mutex_unlock(&r->lock);
        return 0;
}

static int status_error(struct pod_registry *r, long status, const char *what, int k,
                        struct pod_error *reterr) {
        bool creds;

        pthread_mutex_lock(&r->lock);
        creds = r->sent_credentials;
        pthread_mutex_unlock(&r->lock);

        /* Replace http.h's generic "HTTP 404" with what it means here. */
        switch (status) {
        case 401:
                pod_error_clear(reterr);
                return pod_error_set(reterr, -EACCES,
                                     creds ? "Authentication failed: registry '%s' refused the "
                                             "credentials for repository '%s' (%s)"
                                           : "Authentication required: registry '%s' refused "
                                             "anonymous access to repository '%s' (%s); "
                                             "configure credentials",
                                     r->registry, r->repository, what);
        case 403:
                pod_error_clear(reterr);
                return pod_error_set(reterr, -EACCES,
                                     "Access denied: registry '%s' does not allow pulling "
                                     "repository '%s' (%s)",
                                     r->registry, r->repository, what);
        case 404:
                pod_error_clear(reterr);
                return pod_error_set(reterr, -ENOENT, "%s unknown: registry '%s' has no %s",
                                     strncmp(what, "blob", 4) == 0 ? "Blob" : "Manifest",
                                     r->registry, what);
        case 429:
                pod_error_clear(reterr);
                return pod_error_set(reterr, -EAGAIN,
                                     "Rate limited: registry '%s' answered HTTP 429 Too Many "
                                     "Requests for %s; try again later",
                                     r->registry, what);
        default:
                return k;
        }
}

static char *make_url(const struct pod_registry *r, const char *scheme, const char *kind,
                      const char *ref) {
        char *u = NULL;

        if (asprintf(&u, "%s%s/v2/%s/%s/%s", scheme, r->registry, r->repository, kind, ref) < 0)
                return NULL;
        return u;
}

char *pod_registry_manifest_url(struct pod_registry *r, const char *reference) {
        const char *scheme;

        pthread_mutex_lock(&r->lock);
        scheme = r->scheme ?: "https://";
        pthread_mutex_unlock(&r->lock);
        return make_url(r, scheme, "manifests", reference);
}

struct req {
        const char *kind, *ref, *accept, *what;
        int fd; /* >= 0: download into it, else into memory */
        uint64_t max;
        void (*progress)(void *userdata, uint64_t now, uint64_t total);
        void *userdata;
        /* results */
        char *body;
        size_t size;
        struct pod_http_response resp;
        char *url;
};

static int attempt(struct pod_registry *r, const char *scheme, struct req *q,
                   struct pod_error *reterr) {
        _cleanup_free_ char *auth = NULL;
        struct pod_http_options h;
        const char *headers[3] = {};
        size_t n = 0;
        int k;

        free(q->url);
        q->url = make_url(r, scheme, q->kind, q->ref);
        if (!q->url)
                return -ENOMEM;
        pthread_mutex_lock(&r->lock);
        auth = r->auth_header ? strdup(r->auth_header) : NULL;
        k = r->auth_header && !auth ? -ENOMEM : 0;
        pthread_mutex_unlock(&r->lock);
        if (k < 0)
                return k;
        if (q->accept)
                headers[n++] = q->accept;
        if (auth)
                headers[n++] = auth;
        http_opts(r, &h);
        h.headers = headers;
        h.max_size = q->max;
        h.progress_fn = q->progress;
        h.progress_userdata = q->userdata;
        pod_http_response_done(&q->resp);
        free(q->body);
        q->body = NULL;
        if (q->fd >= 0)
                k = pod_http_download(q->url, q->fd, &h, &q->resp, reterr);
        else
                k = pod_http_get(q->url, &h, &q->body, &q->size, &q->resp, reterr);
        if (auth)
                explicit_bzero(auth, strlen(auth));
        return k;
}

static int request(struct pod_registry *r, struct req *q, struct pod_error *reterr) {
        const char *scheme;
        bool settled;
        int k;

        pthread_mutex_lock(&r->lock);
        scheme = r->scheme ?: "https://";
        settled = r->scheme != NULL;
        pthread_mutex_unlock(&r->lock);

        k = attempt(r, scheme, q, reterr);
        if (k < 0 && !settled && r->o.allow_http && q->resp.status == 0 &&
            (k == -ECONNRESET || k == -EPROTO)) {
                /* An insecure registry speaking plain http (docker's fallback). */
                pod_error_clear(reterr);
                scheme = "http://";
                k = attempt(r, scheme, q, reterr);
        }
        if (k < 0 && q->resp.status == 401) {
                _cleanup_free_ char *www = TAKE_PTR(q->resp.www_authenticate);
                struct pod_error e = {};

                k = authenticate(r, www, &e);
                if (k < 0) {
                        pod_error_clear(reterr);
                        return pod_error_set(reterr, k, "%s", e.msg);
                }
                pod_error_clear(reterr);
                k = attempt(r, scheme, q, reterr);
        }
        if (q->resp.status > 0) {
                pthread_mutex_lock(&r->lock);
                if (!r->scheme)
                        r->scheme = scheme;
                pthread_mutex_unlock(&r->lock);
        }
        if (k < 0)
                return status_error(r, q->resp.status, q->what, k, reterr);
        if (k != 200)
                return pod_error_set(reterr, -EPROTO, "Registry '%s' answered HTTP %d for %s",
                                     r->registry, k, q->what);
        return 0;
}

static void req_done(struct req *q) {
        free(q->body);
        free(q->url);
        pod_http_response_done(&q->resp);
}

static bool is_digest_ref(const char *ref) {
        return strncmp(ref, "sha256:", 7) == 0 || strchr(ref, ':');
}

int pod_registry_get_manifest(struct pod_registry *r, const char *reference,
                              struct pod_registry_manifest *ret, struct pod_error *reterr) {
        _cleanup_free_ char *what = NULL;
        char digest[POD_SHA256_STRING_SIZE];
        struct req q = { .kind = "manifests",
                         .ref = reference,
                         .accept = ACCEPT_MANIFESTS,
                         .fd = -EBADF,
                         .max = POD_OCI_JSON_MAX };
        enum pod_oci_kind kind;
        bool by_digest = is_digest_ref(reference);
        int k;

        if (by_digest && !pod_oci_digest_valid(reference))
                return pod_error_set(reterr, -EINVAL, "Invalid manifest digest '%s'", reference);
        if (asprintf(&what, "manifest '%s/%s%s%s'", r->registry, r->repository,
                     by_digest ? "@" : ":", reference) < 0)
                return -ENOMEM;
        q.what = what;
        k = request(r, &q, reterr);
        if (k < 0) {
                req_done(&q);
                return k == -EFBIG ? pod_error_prefix(reterr, k, "Manifest too large") : k;
        }
        k = pod_sha256_buffer(q.body, q.size, digest);
        if (k < 0) {
                req_done(&q);
                return pod_error_set(reterr, k, "Failed to hash %s", what);
        }
        if (by_digest && !streq(digest, reference)) {
                req_done(&q);
                return pod_error_set(reterr, -EBADMSG, "Digest mismatch: %s has digest %s", what,
                                     digest);
        }
        if (!by_digest && q.resp.docker_content_digest &&
            !streq(q.resp.docker_content_digest, digest)) {
                k = pod_error_set(reterr, -EBADMSG,
                                  "Digest mismatch: registry '%s' says %s has digest %.80s, its "
                                  "bytes have %s",
                                  r->registry, what, q.resp.docker_content_digest, digest);
                req_done(&q);
                return k;
        }
        k = pod_oci_classify(q.resp.content_type, q.body, q.size, &kind, reterr);
        if (k < 0) {
                req_done(&q);
                return pod_error_prefix(reterr, k, "Failed to read %s", what);
        }
        *ret = (struct pod_registry_manifest){
                .body = TAKE_PTR(q.body),
                .size = q.size,
                .content_type = TAKE_PTR(q.resp.content_type),
                .digest = strdup(digest),
                .kind = kind,
                .url = TAKE_PTR(q.url),
        };
        req_done(&q);
        if (!ret->digest) {
                pod_registry_manifest_done(ret);
                return -ENOMEM;
        }
        return 0;
}

int pod_registry_get_blob(struct pod_registry *r, const char *digest, uint64_t size,
                          uint64_t max_size, char **ret, size_t *ret_size,
                          struct pod_error *reterr) {
        _cleanup_free_ char *what = NULL;
        char got[POD_SHA256_STRING_SIZE];
        struct req q = { .kind = "blobs", .ref = digest, .fd = -EBADF, .max = max_size };
        int k;

        if (!pod_oci_digest_valid(digest))
                return pod_error_set(reterr, -EINVAL, "Invalid blob digest '%s'", digest);
        if (size > max_size)
                return pod_error_set(reterr, -EFBIG,
                                     "Blob %s of '%s/%s' is too large (%llu bytes, at most %llu)",
                                     digest, r->registry, r->repository, (unsigned long long)size,
                                     (unsigned long long)max_size);
        if (asprintf(&what, "blob %s in '%s'", digest, r->repository) < 0)
                return -ENOMEM;
        q.what = what;
        k = request(r, &q, reterr);
        if (k >= 0 && size > 0 && q.size != size)
                k = pod_error_set(reterr, -EBADMSG,
                                  "Size mismatch: %s has %zu bytes, the manifest says %llu", what,
                                  q.size, (unsigned long long)size);
        if (k >= 0)
                k = pod_sha256_buffer(q.body, q.size, got);
        if (k >= 0 && !streq(got, digest))
                k = pod_error_set(reterr, -EBADMSG, "Digest mismatch: %s has digest %s", what, got);
        if (k < 0) {
                req_done(&q);
                return k;
        }
        *ret = TAKE_PTR(q.body);
        if (ret_size)
                *ret_size = q.size;
        req_done(&q);
        return 0;
}

int pod_registry_download_blob(struct pod_registry *r, const char *digest, int fd,
                               void (*progress)(void *userdata, uint64_t now, uint64_t total),
                               void *userdata, struct pod_error *reterr) {
        _cleanup_free_ char *what = NULL;
        struct req q = { .kind = "blobs",
                         .ref = digest,
                         .fd = fd,
                         .max = r->o.max_blob_size,
                         .progress = progress,
                         .userdata = userdata };
        int k;

        if (fd < 0)
                return -EBADF;
        if (!pod_oci_digest_valid(digest))
                return pod_error_set(reterr, -EINVAL, "Invalid blob digest '%s'", digest);
        if (asprintf(&what, "blob %s in '%s'", digest, r->repository) < 0)
                return -ENOMEM;
        q.what = what;
        k = request(r, &q, reterr);
        req_done(&q);
        return k;
}
