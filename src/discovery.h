/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* appc meta discovery, the walk (spec section 6.2): for an image name, ask
 * https://PREFIX?ac-discovery=1 for the full name and then each shorter prefix along '/',
 * retrying over plain http only when the caller allows http, and stop at the first page
 * that yields an image endpoint (resp. a pubkey URL for the pubkeys walk).
 * Owns: the order of prefixes, which page wins, rendering the endpoints.
 * Does not own: HTTP policy (http.h), markup (discovery-html.h), downloading the image or
 * checking it (the fetch verb chains the pieces, see below).
 *
 * How `pod fetch NAME` is meant to chain the modules:
 *
 *      struct pod_http_options http = { .allow_http = insecure & POD_INSECURE_HTTP,
 *                                       .insecure_tls = insecure & POD_INSECURE_TLS };
 *      pod_discovery_resolve(name, labels, n, &http, &d, &e);      d->endpoints[0]
 *      pod_http_download(d->endpoints[0].aci_url, aci_fd, &http+progress, &resp, &e);
 *      pod_http_download(d->endpoints[0].sig_url, sig_fd, &http, NULL, &e);
 *              (-ENOENT here: the image is unsigned; 202: fetch the ACI first, retry once)
 *      pod_verify_detached(name, aci_fd, sig_fd, &keystore, &info, &e);     (verify.h)
 *              (skipped only with --insecure-options=image)
 *      then the store imports aci_fd and records resp.etag / resp.max_age for the URL. */

#include <stddef.h>

#include "discovery-html.h"
#include "error.h"
#include "http.h"

/* Discovery pages larger than this are refused (-EFBIG): a page is a few KiB. */
#define POD_DISCOVERY_PAGE_MAX (1024 * 1024)

struct pod_discovery_endpoint {
        char *aci_url; /* template rendered with {ext} = aci */
        char *sig_url; /* template rendered with {ext} = aci.asc */
};

struct pod_discovery_result {
        char *page_url;                           /* the discovery page that answered */
        struct pod_discovery_endpoint *endpoints; /* image walk; in page order */
        size_t n_endpoints;
        char **pubkeys; /* pubkeys walk; NULL-terminated, in page order */
};

struct pod_discovery_result *pod_discovery_result_free(struct pod_discovery_result *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_discovery_result *, pod_discovery_result_free)

/* Image discovery for name (an AC Identifier) and labels (version, os, arch, ...; the caller
 * fills os/arch from the host).  http->allow_http enables the http retry per prefix.
 * Fails with -ENOENT when no prefix yields an endpoint, or with the first transport error
 * met during the walk (TLS, DNS, ...), reterr naming the URL and the cause. */
int pod_discovery_resolve(const char *name, const struct pod_discovery_label *labels,
                          size_t n_labels, const struct pod_http_options *http,
                          struct pod_discovery_result **ret, struct pod_error *reterr);

/* The ac-discovery-pubkeys walk for name (or a prefix given to `pod trust`).  The URLs are
 * literal (not templates); the caller checks their scheme against its key policy. */
int pod_discovery_pubkeys(const char *name, const struct pod_http_options *http,
                          struct pod_discovery_result **ret, struct pod_error *reterr);

/* The walk order: name, then each shorter prefix along '/' ("a.org/x/y", "a.org/x",
 * "a.org").  -EINVAL unless name is an AC Identifier. */
int pod_discovery_prefixes(const char *name, char ***ret);

/* What one parsed page yields for name: image endpoints (kind IMAGE, prefix matching,
 * templates rendering completely) or pubkey URLs (kind PUBKEYS, prefix matching) into
 * d->endpoints / d->pubkeys.  Returns the number found. */
int pod_discovery_collect(const struct pod_discovery_metas *m, enum pod_discovery_kind kind,
                          const char *name, const struct pod_discovery_label *labels,
                          size_t n_labels, struct pod_discovery_result *d);
