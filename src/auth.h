/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Per-host HTTP credentials (spec section 6.2), rkt's auth.d format:
 *      {vendordir}/auth.d/NAME.json  vendor
 *      {sysconfdir}/auth.d/NAME.json admin (overrides the vendor's entry for the same domain)
 * Each file: {"rktKind":"auth","rktVersion":"v1","domains":["example.com",...],
 *             "type":"basic","credentials":{"user":"..","password":".."}}
 * or "type":"oauth" with "credentials":{"token":".."}; "podKind"/"podVersion" are accepted
 * in place of the rkt spellings.  Keys are matched case-insensitively, unknown keys ignored.
 * A domain is a host name ("example.com", matching any port) or "host:port"; it matches a
 * URL's host exactly (no subdomains).  Files are read in name order; the same domain twice
 * in one directory is an error, as is any invalid file (credentials must not be dropped
 * silently).
 *
 * Docker registries (issue 12) have their own kind, rkt's
 *      {"rktKind":"dockerAuth","rktVersion":"v1","registries":["host[:port]",...],
 *       "credentials":{"user":"..","password":".."}}
 * and the files podman and docker users already have are read too (pod_auth_load_docker_files):
 * $XDG_RUNTIME_DIR/containers/auth.json and ~/.docker/config.json, {"auths":{KEY:{"auth":
 * base64("user:password")}}} with KEY "host", "host:port" or a URL "https://host/v1/".  The
 * first source naming a registry wins: pod's auth.d, then podman's file, then docker's.
 * Docker credentials are never sent by http.c on its own: registry.c uses them for the
 * registry's Basic challenge or its token server.
 * Owns: the format, the lookup and the Authorization header values.  Does not own: sending
 * them (http.h sends a header only to the host it was configured for, per redirect hop). */

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "macro.h"

#define POD_AUTH_FILE_MAX (64 * 1024)

struct pod_auth_entry {
        char *domain; /* lower case */
        char *header; /* "Authorization: Basic ..." / "Authorization: Bearer ..." */
        char *source; /* the file, for messages */
};

struct pod_auth_docker {
        char *registry; /* "host" or "host:port", lower case; Docker Hub's aliases
                         * (docker.io, index.docker.io) as "registry-1.docker.io" */
        char *user, *password;
        char *source; /* the file, for messages */
};

struct pod_auth {
        struct pod_auth_entry *items;
        size_t n;
        struct pod_auth_docker *docker;
        size_t n_docker;
};

struct pod_auth *pod_auth_free(struct pod_auth *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_auth *, pod_auth_free)

/* Parses one file's text (source names it in errors) and adds its domains to a; a domain
 * already in a is replaced when replace, else -EEXIST.  -EBADMSG (reterr: file and field)
 * for anything invalid. */
int pod_auth_parse(struct pod_auth *a, const char *text, size_t size, const char *source,
                   bool replace, struct pod_error *reterr);

/* Reads both auth.d directories (either may be NULL or missing).  *ret is never NULL on
 * success (possibly empty). */
int pod_auth_load(const char *vendordir, const char *sysconfdir, struct pod_auth **ret,
                  struct pod_error *reterr);

/* Adds the user's auth.d (--user-config; NULL or missing: nothing), read after the vendor and
 * admin ones: a user's entry for a domain replaces theirs (as the admin's does the vendor's). */
int pod_auth_load_user(struct pod_auth *a, const char *userdir, struct pod_error *reterr);

/* The header line for url's host, or NULL.  a may be NULL. */
const char *pod_auth_header_for_url(const struct pod_auth *a, const char *url);

/* Parses a docker/podman credentials file ({"auths":{...}}) and adds the registries that a
 * does not have yet (entries without "auth" are skipped: credential helpers and identity
 * tokens are not supported).  -EBADMSG malformed JSON or an "auth" that is not base64 of
 * "user:password". */
int pod_auth_parse_docker_config(struct pod_auth *a, const char *text, size_t size,
                                 const char *source, struct pod_error *reterr);

/* Adds $XDG_RUNTIME_DIR/containers/auth.json and then ~/.docker/config.json ($HOME, else
 * the passwd entry), whichever exist, to a. */
int pod_auth_load_docker_files(struct pod_auth *a, struct pod_error *reterr);

/* The credentials for registry "host[:port]": an entry for "host:port" first, then one for
 * "host".  NULL when none; a may be NULL. */
const struct pod_auth_docker *pod_auth_docker_lookup(const struct pod_auth *a,
                                                     const char *registry);

/* "Authorization: Basic <base64(user:password)>" in a new string, NULL on ENOMEM. */
char *pod_auth_docker_basic_header(const struct pod_auth_docker *d);
