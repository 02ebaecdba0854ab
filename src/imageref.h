/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Image reference strings as typed by users (spec section 6.1):
 * NAME[:VERSION][,LABEL=VALUE...], http(s) and file URLs, local paths, sha512- ID prefixes.
 * Owns: classifying a reference, splitting name and labels, host os/arch defaults.
 * Does not own: discovery, fetching, store lookups, or the --insecure policy for http://. */

#include <errno.h>
#include <stddef.h>

#include "error.h"
#include "macro.h"

struct pod_kv;

enum pod_imageref_kind {
        POD_IMAGEREF_NAME,   /* AC name with labels: resolved by store/discovery */
        POD_IMAGEREF_HASH,   /* "sha512-<hex prefix>": store only */
        POD_IMAGEREF_HTTPS,  /* https:// URL of an ACI */
        POD_IMAGEREF_HTTP,   /* http:// URL: only with insecure fetching allowed */
        POD_IMAGEREF_FILE,   /* file:///... URL or a local path */
        POD_IMAGEREF_DOCKER, /* docker://...: url holds it as given (dockerref.h parses it) */
        _POD_IMAGEREF_KIND_MAX,
        _POD_IMAGEREF_KIND_INVALID = -EINVAL,
};

struct pod_imageref {
        enum pod_imageref_kind kind;
        char *input;           /* the string as given */
        char *name;            /* NAME: AC Identifier */
        struct pod_kv *labels; /* NAME: "version" (from ':'), given labels, then os/arch */
        size_t n_labels;
        char *hash; /* HASH: lower-cased "sha512-..." */
        char *url;  /* HTTPS, HTTP: the URL; DOCKER: the reference */
        char *path; /* FILE: local path (file:// decoded, relative kept relative) */
};

const char *pod_imageref_kind_to_string(enum pod_imageref_kind k);

/* Parses and classifies s.  Labels get os/arch defaults from the host when missing
 * (pod_host_os_arch()).  -EPROTONOSUPPORT for unknown schemes,
 * -EINVAL for malformed references; reterr says which part is wrong. */
int pod_imageref_parse(const char *s, struct pod_imageref **ret, struct pod_error *reterr);
struct pod_imageref *pod_imageref_free(struct pod_imageref *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_imageref *, pod_imageref_free)

/* Canonical "NAME,label=value,..." (labels in stored order) for a NAME reference. */
int pod_imageref_to_string(const struct pod_imageref *r, char **ret);

/* uname(2) machine -> appc arch ("x86_64" -> "amd64", "i686" -> "i386", "armv7l" ->
 * "armv7l", "aarch64" -> "aarch64", ...); NULL if unknown. */
const char *pod_appc_arch_from_machine(const char *machine);
/* Go GOARCH spelling -> appc ("arm64" -> "aarch64", "386" -> "i386"); NULL if unknown. */
const char *pod_appc_arch_from_goarch(const char *goarch);
/* Host os ("linux") and appc arch; -ENOTSUP when the machine has no appc spelling. */
int pod_host_os_arch(const char **ret_os, const char **ret_arch);
