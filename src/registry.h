/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Docker registry HTTP API v2 client (distribution's spec), for one repository of one
 * registry: the auth challenge (anonymous or credentialled Bearer tokens from the realm the
 * WWW-Authenticate header names, or Basic), manifests by tag or digest with their digest
 * checked, blobs into memory (verified here) or streamed into an fd (verified by the reader,
 * store-oci.h's import).  https by default; plain http only with allow_http (tried after
 * https fails to connect, as docker does for insecure registries); unverified TLS only with
 * insecure_tls.  Safe to use from several threads once the first request (which settles
 * the scheme and the token) returned: the token is only replaced under a lock.
 * Owns: URLs, the challenge grammar, token requests, Accept headers, digest checks of what
 * it keeps in memory, the error texts for 401/403/404/429.  Does not own: transport policy
 * (http.h), credentials (auth.h), manifest JSON (oci.h), the store. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "macro.h"
#include "oci.h"

struct pod_auth;
struct pod_registry;

/* Bounds on what a registry can make pod hold in memory. */
#define POD_REGISTRY_TOKEN_MAX            (1u << 20)
#define POD_REGISTRY_CHALLENGE_PARAMS_MAX 32

struct pod_registry_options {
        const struct pod_auth *auth;       /* dockerAuth credentials of auth.d (auth.h) */
        const struct pod_auth *auth_extra; /* docker's/podman's files, looked up after auth */
        bool allow_http;                   /* insecure "http" */
        bool insecure_tls;                 /* insecure "tls" */
        long connect_timeout_sec, low_speed_time_sec, low_speed_bytes, timeout_sec; /* 0: http.h */
        uint64_t max_blob_size; /* cap on one streamed blob; 0: none */
};

int pod_registry_new(const char *registry, const char *repository,
                     const struct pod_registry_options *o, struct pod_registry **ret);
struct pod_registry *pod_registry_free(struct pod_registry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_registry *, pod_registry_free)

struct pod_registry_manifest {
        char *body; /* NUL-terminated, size bytes */
        size_t size;
        char *content_type;     /* as the registry sent it, or NULL */
        char *digest;           /* "sha256:..." of body */
        enum pod_oci_kind kind; /* oci.h's classification */
        char *url;              /* where it was fetched from (for provenance) */
};
void pod_registry_manifest_done(struct pod_registry_manifest *m);

/* GETs the manifest for reference (a tag, or a "sha256:" digest) with every Accept type pod
 * knows (Docker schema 2 and lists, OCI manifests and indexes, schema 1 so it can be refused
 * by name).  A digest reference: the body's sha256 must equal it.  A tag: the body's sha256
 * is its digest, and a Docker-Content-Digest header that differs is an error.
 * Errors (reterr names registry, repository and reference):
 *   -EACCES  401 ("authentication required" / "credentials refused") or 403 ("access denied")
 *   -ENOENT  404 "manifest unknown"   -EAGAIN 429 "rate limited" (after http.h's retries)
 *   -EBADMSG digest mismatch          -EFBIG  above POD_OCI_JSON_MAX
 *   -EPROTONOSUPPORT schema 1 and other kinds oci.h refuses; and http.h's transport errors. */
int pod_registry_get_manifest(struct pod_registry *r, const char *reference,
                              struct pod_registry_manifest *ret, struct pod_error *reterr);

/* GETs blob digest into memory (at most max_size bytes) and checks its sha256 and, when
 * size > 0, its size.  For configs.  Errors as above, "blob unknown" for 404. */
int pod_registry_get_blob(struct pod_registry *r, const char *digest, uint64_t size,
                          uint64_t max_size, char **ret, size_t *ret_size,
                          struct pod_error *reterr);

/* Streams blob digest into fd (a pipe is fine; nothing is retried after bytes were written
 * to a pipe).  Not verified here: the reader verifies while it reads.  progress (may be
 * NULL) is called from this thread with the bytes so far and the total (0: unknown).  The
 * registry's credentials and token go to the registry only: a redirect to blob storage on
 * another host gets none. */
int pod_registry_download_blob(struct pod_registry *r, const char *digest, int fd,
                               void (*progress)(void *userdata, uint64_t now, uint64_t total),
                               void *userdata, struct pod_error *reterr);

/* "https://REGISTRY/v2/REPOSITORY/manifests/REFERENCE" as it is (or would be) fetched. */
char *pod_registry_manifest_url(struct pod_registry *r, const char *reference);

/* One parsed WWW-Authenticate challenge (RFC 7235): the scheme and its parameters. */
struct pod_registry_challenge {
        char *scheme;                  /* "bearer" / "basic" ..., lower case */
        char *realm, *service, *scope; /* NULL when absent */
        size_t n_params;               /* all parameters seen, the three above included */
};
void pod_registry_challenge_done(struct pod_registry_challenge *c);

/* Parses the first challenge of a WWW-Authenticate value: `Scheme k=v, k="quoted, \"x\""`.
 * Parameter names are case-insensitive; a repeated parameter, a missing '=' value, an
 * unterminated quote, control bytes or more than POD_REGISTRY_CHALLENGE_PARAMS_MAX
 * parameters are -EBADMSG (reterr says why).  A following challenge ("Basic ..., Bearer
 * ...") ends the first one. */
int pod_registry_parse_challenge(const char *header, struct pod_registry_challenge *ret,
                                 struct pod_error *reterr);
