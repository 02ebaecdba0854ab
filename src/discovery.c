/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discovery.h"
#include "macro.h"
#include "path-util.h"

struct pod_discovery_result *pod_discovery_result_free(struct pod_discovery_result *d) {
        if (!d)
                return NULL;
        free(d->page_url);
        for (size_t i = 0; i < d->n_endpoints; i++) {
                free(d->endpoints[i].aci_url);
                free(d->endpoints[i].sig_url);
        }
        free(d->endpoints);
        strv_free(d->pubkeys);
        free(d);
        return NULL;
}

int pod_discovery_prefixes(const char *name, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0, len;

        if (!ac_identifier_valid(name))
                return -EINVAL;

        len = strlen(name);
        for (;;) {
                char **t = reallocarray(l, n + 2, sizeof(char *));

                if (!t)
                        return -ENOMEM;
                l = t;
                l[n] = strndup(name, len);
                if (!l[n])
                        return -ENOMEM;
                l[++n] = NULL;

                /* An AC Identifier never has a leading, trailing or doubled '/'. */
                while (len > 0 && name[len - 1] != '/')
                        len--;
                if (len == 0)
                        break;
                len--;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int strv_push(char ***l, size_t *n, char *s) {
        char **t = reallocarray(*l, *n + 2, sizeof(char *));

        if (!t) {
                free(s);
                return -ENOMEM;
        }
        t[(*n)++] = s;
        t[*n] = NULL;
        *l = t;
        return 0;
}

/* A page names network locations only: an https:// URL (http:// for an image only when plain
 * http is allowed; pubkey URLs over http are left to the caller's key policy).  Anything else
 * (a local path, file://, ftp://, ...) would let a remote page make pod read local files. */
static bool location_ok(const char *u, bool allow_http) {
        size_t n;

        if (strncasecmp(u, "https://", 8) == 0)
                n = 8;
        else if (allow_http && strncasecmp(u, "http://", 7) == 0)
                n = 7;
        else
                return false;
        return u[n] != 0 && u[n] != '/';
}

static int check_locations(const struct pod_discovery_result *d, enum pod_discovery_kind kind,
                           bool allow_http, const char *page, struct pod_error *reterr) {
        if (kind == POD_DISCOVERY_PUBKEYS) {
                STRV_FOREACH (u, d->pubkeys)
                        if (!location_ok(*u, true))
                                return pod_error_set(reterr, -EPERM,
                                                     "Discovery page '%s' names the key location "
                                                     "'%s', which is not an https:// or http:// "
                                                     "URL; refusing it",
                                                     page, *u);
                return 0;
        }
        for (size_t i = 0; i < d->n_endpoints; i++) {
                const struct pod_discovery_endpoint *e = &d->endpoints[i];

                if (!location_ok(e->aci_url, allow_http) || !location_ok(e->sig_url, allow_http))
                        return pod_error_set(reterr, -EPERM,
                                             "Discovery page '%s' names the image location '%s', "
                                             "which is not an https:// URL%s; refusing it",
                                             page, e->aci_url,
                                             allow_http ? " or http:// URL"
                                                        : " (http:// needs "
                                                          "--insecure-options=http)");
        }
        return 0;
}

int pod_discovery_collect(const struct pod_discovery_metas *m, enum pod_discovery_kind kind,
                          const char *name, const struct pod_discovery_label *labels,
                          size_t n_labels, struct pod_discovery_result *d) {
        size_t npk = 0;
        int found = 0, r;

        if (d->pubkeys)
                while (d->pubkeys[npk])
                        npk++;

        for (size_t i = 0; i < m->n; i++) {
                const struct pod_discovery_meta *meta = &m->items[i];

                if (meta->kind != kind || !pod_discovery_prefix_matches(meta->prefix, name))
                        continue;

                if (kind == POD_DISCOVERY_PUBKEYS) {
                        char *u = strdup(meta->value);

                        if (!u)
                                return -ENOMEM;
                        r = strv_push(&d->pubkeys, &npk, u);
                        if (r < 0)
                                return r;
                        found++;
                } else {
                        _cleanup_free_ char *aci = NULL, *sig = NULL;
                        struct pod_discovery_endpoint *t;

                        r = pod_discovery_render(meta->value, name, labels, n_labels, "aci", &aci);
                        if (r == -ENOENT)
                                continue; /* a {...} left unfilled: not for these labels */
                        if (r < 0)
                                return r;
                        r = pod_discovery_render(meta->value, name, labels, n_labels, "aci.asc",
                                                 &sig);
                        if (r == -ENOENT)
                                continue;
                        if (r < 0)
                                return r;

                        t = reallocarray(d->endpoints, d->n_endpoints + 1, sizeof(*t));
                        if (!t)
                                return -ENOMEM;
                        d->endpoints = t;
                        t[d->n_endpoints++] = (struct pod_discovery_endpoint){
                                .aci_url = TAKE_PTR(aci),
                                .sig_url = TAKE_PTR(sig),
                        };
                        found++;
                }
        }
        return found;
}

/* Severity for choosing which failure to report when the whole walk fails: a TLS or DNS
 * problem explains more than "404 on a shorter prefix". */
static bool is_soft_failure(int r) {
        return r == -ENOENT || r == -EACCES || r == -EPROTO;
}

static int walk(const char *name, enum pod_discovery_kind kind,
                const struct pod_discovery_label *labels, size_t n_labels,
                const struct pod_http_options *http_in, struct pod_discovery_result **ret,
                struct pod_error *reterr) {
        _cleanup_(pod_discovery_result_freep) struct pod_discovery_result *d = NULL;
        _cleanup_strv_free_ char **prefixes = NULL;
        struct pod_http_options http = http_in ? *http_in : (struct pod_http_options){};
        struct pod_error hard = {};
        char tried[POD_ERROR_MSG_MAX] = "";
        int r, hard_r = 0;

        r = pod_discovery_prefixes(name, &prefixes);
        if (r < 0)
                return pod_error_set(reterr, r, "Invalid image name '%s' for discovery", name);

        http.max_size = POD_DISCOVERY_PAGE_MAX;
        http.progress = false;
        http.etag = NULL;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;

        STRV_FOREACH (p, prefixes) {
                static const char *const schemes[] = { "https", "http" };

                for (size_t s = 0; s < ELEMENTSOF(schemes); s++) {
                        _cleanup_(pod_discovery_metas_freep) struct pod_discovery_metas *m = NULL;
                        _cleanup_free_ char *url = NULL, *body = NULL;
                        struct pod_http_response resp = {};
                        struct pod_error e = {};
                        size_t size = 0;

                        if (s == 1 && !http.allow_http)
                                break;
                        if (asprintf(&url, "%s://%s?ac-discovery=1", schemes[s], *p) < 0)
                                return -ENOMEM;

                        r = pod_http_get(url, &http, &body, &size, &resp, &e);
                        pod_http_response_done(&resp);
                        if (r >= 0 && r != 200)
                                r = pod_error_set(&e, -ENOENT,
                                                  "Failed to fetch '%s': HTTP %d (no page)", url,
                                                  r);
                        if (r < 0) {
                                if (!is_soft_failure(r) && hard_r == 0) {
                                        hard_r = r;
                                        hard = e;
                                }
                                (void)snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried),
                                               "%s%s%s", tried[0] ? ", " : "", url,
                                               r == -EACCES ? " (HTTP 401/403: credentials in "
                                                              "auth.d?)"
                                                            : "");
                                continue; /* http fallback, if allowed; else next prefix */
                        }

                        r = pod_discovery_html_parse(body, size, &m);
                        if (r < 0)
                                return pod_error_set(reterr, r, "Failed to parse '%s'", url);
                        r = pod_discovery_collect(m, kind, name, labels, n_labels, d);
                        if (r < 0)
                                return pod_error_set(reterr, r,
                                                     "Failed to render templates "
                                                     "from '%s'",
                                                     url);
                        if (r > 0) {
                                r = check_locations(d, kind, http.allow_http, url, reterr);
                                if (r < 0)
                                        return r;
                                d->page_url = TAKE_PTR(url);
                                *ret = TAKE_PTR(d);
                                return 0;
                        }
                        (void)snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s",
                                       tried[0] ? ", " : "", url);
                        break; /* the page answered without a match: next prefix */
                }
        }

        if (hard_r < 0) {
                if (reterr && reterr->error == 0)
                        *reterr = hard;
                return pod_error_prefix(reterr, hard_r, "Discovery for '%s' failed", name);
        }
        return pod_error_set(reterr, -ENOENT, "No %s meta tag for '%s' found (tried %s)",
                             kind == POD_DISCOVERY_IMAGE ? "ac-discovery" : "ac-discovery-pubkeys",
                             name, tried);
}

int pod_discovery_resolve(const char *name, const struct pod_discovery_label *labels,
                          size_t n_labels, const struct pod_http_options *http,
                          struct pod_discovery_result **ret, struct pod_error *reterr) {
        return walk(name, POD_DISCOVERY_IMAGE, labels, n_labels, http, ret, reterr);
}

int pod_discovery_pubkeys(const char *name, const struct pod_http_options *http,
                          struct pod_discovery_result **ret, struct pod_error *reterr) {
        return walk(name, POD_DISCOVERY_PUBKEYS, NULL, 0, http, ret, reterr);
}
