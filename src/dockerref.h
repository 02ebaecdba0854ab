/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* docker:// image references (issue 12), rkt's and docker's syntax:
 *      docker://[REGISTRY[:PORT]/]NAME[:TAG][@sha256:DIGEST]
 * with docker's normalisation: the first '/'-separated component is a registry when it has
 * a '.' or a ':' or is "localhost"; without one the default registry is used (Docker Hub,
 * "registry-1.docker.io", or `default-registry` of docker.conf); "docker.io" and
 * "index.docker.io" mean Docker Hub; a one-part name on Docker Hub or on the default
 * registry gets "library/"; no tag and no digest means tag "latest"; with both, the digest
 * decides what is fetched and the tag is kept as a name.  Repository components follow the
 * distribution reference grammar (lower-case [a-z0-9] separated by '.', '_', '__' or dashes).
 * Owns: the grammar, the normalisation, docker.conf.  Does not own: what is fetched
 * (registry.h, fetch-docker.h). */

#include <stdbool.h>

#include "error.h"

#define POD_DOCKER_HUB_REGISTRY "registry-1.docker.io"
#define POD_DOCKER_CONF_FILE    "docker.conf"
#define POD_DOCKER_NAME_MAX     255 /* repository path, as distribution's */
#define POD_DOCKER_TAG_MAX      128

struct pod_dockerref {
        char *registry;   /* "registry-1.docker.io", "127.0.0.1:5000", "[::1]:5000" */
        char *repository; /* "library/busybox" */
        char *tag;        /* "latest"; NULL only when a digest was given without a tag */
        char *digest;     /* "sha256:<64 hex>" or NULL */
};

void pod_dockerref_done(struct pod_dockerref *r);

/* True when s starts with "docker://" (case-insensitive scheme). */
bool pod_dockerref_is_docker(const char *s);

/* Parses s (with or without the "docker://" prefix).  default_registry: where names without
 * a registry go (NULL: Docker Hub).  -EINVAL malformed (reterr says which part),
 * -EPROTONOSUPPORT a digest algorithm other than sha256. */
int pod_dockerref_parse(const char *s, const char *default_registry, struct pod_dockerref *ret,
                        struct pod_error *reterr);

/* "docker://REGISTRY/REPOSITORY[:TAG][@DIGEST]" in a new string (NULL: out of memory). */
char *pod_dockerref_to_string(const struct pod_dockerref *r);

/* True for a registry part: host name, IPv4 or [IPv6], optional ":port". */
bool pod_docker_registry_valid(const char *s);

/* Reads `default-registry` from docker.conf in vendordir and then sysconfdir (either may be
 * NULL; the admin's wins; "key = value" lines, '#' comments, as limits.conf).  *ret is a new
 * string, POD_DOCKER_HUB_REGISTRY when neither file sets it.  -EINVAL unknown key or a bad
 * value (reterr: file, line, key). */
int pod_docker_conf_load(const char *vendordir, const char *sysconfdir, char **ret,
                         struct pod_error *reterr);
