/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* From an image reference to a verified image in the store (issue 3, spec sections 6-8):
 * the chain discovery -> HTTP (with the per-URL cache rules) -> signature -> import, and
 * the same for explicit URLs, local files and store IDs, then the image's dependencies.
 * Owns: which sources a reference may use under a pull policy, the order of the steps, the
 * checks on the fetched image (signature, manifest name and labels, dependency ID/size,
 * dependency cycles) and the cache records it writes.
 * Does not own: the transport (http.h), markup and walk (discovery.h), OpenPGP (verify.h),
 * the store (store.h), the CLI (stage0/verb-fetch.c). */

#include <errno.h>
#include <stdbool.h>

#include "error.h"
#include "keystore.h"

struct pod_auth;
struct pod_limits;
struct pod_store;

enum pod_pull_policy {
        POD_PULL_NEW,    /* a stored image matching name and labels wins (if it passes a
                          * download's checks, its recorded signature included); else UPDATE */
        POD_PULL_UPDATE, /* discover again, then the HTTP cache rules decide */
        POD_PULL_NEVER,  /* the store only */
        _POD_PULL_POLICY_MAX,
        _POD_PULL_POLICY_INVALID = -EINVAL,
};

const char *pod_pull_policy_to_string(enum pod_pull_policy p);
enum pod_pull_policy pod_pull_policy_from_string(const char *s);

struct pod_fetch_options {
        unsigned insecure;                /* POD_INSECURE_* bits (insecure.h) */
        enum pod_pull_policy pull_policy; /* default (0): NEW */
        struct pod_keystore keystore;     /* trusted keys (vendordir, sysconfdir) */
        const char *signature;            /* local signature file for a file or URL reference
                                           * (default: "<file or URL>.asc") */
        bool progress;                    /* progress bar on stderr (only on a TTY) */
        const char *os, *arch;            /* replace the host's os/arch defaults (appc spelling) */
        const struct pod_auth *auth;      /* per-host credentials (auth.h) for every download */
        /* Implicit trust (spec section 7): on a name fetch (dependencies included) that is
         * about to go to the network while signatures are checked and no key is trusted for
         * the name or any ancestor prefix (root keys do not count), this is called first.
         * It may add a key for the name (the CLI discovers keys and asks, or takes https keys
         * with --trust-keys-from-https); returning 0 goes on either way (the signature check
         * decides), < 0 fails the fetch.  NULL: not called. */
        int (*no_trusted_key)(const char *name, void *userdata, struct pod_error *reterr);
        void *userdata;
        /* Import and transfer limits (podlimits.h); NULL: pod_limits_default. */
        const struct pod_limits *limits;
        /* docker:// references (fetch-docker.h): the platform to pick from an index
         * ("os/arch[/variant]", --platform); NULL: the host's. */
        const char *platform;
        /* Credentials from docker's and podman's files (auth.h), looked up after auth. */
        const struct pod_auth *docker_auth;
};

/* Fetches ref (NAME[:VERSION][,LABEL=VALUE...], https:// or http:// ACI URL, file:// URL or
 * local path, sha512- ID prefix; docker:// references go to fetch-docker.h) into store s and its
 * dependencies too; *ret_id gets the full image ID.  Unsigned images, unknown keys and bad
 * signatures are refused unless o->insecure has POD_INSECURE_IMAGE.  Errors (reterr names the image
 * and the cause): -ENOENT   not in the store (pull policy never, ID prefix), no discovery endpoint,
 * 404 -ENOTUNIQ ambiguous ID prefix (the message lists the candidates) -ENODATA / -ENOKEY /
 * -EBADMSG / -EKEYEXPIRED / -EKEYREVOKED / -EKEYREJECTED  signature verdicts (verify.h), also for a
 * cached image handed out instead of a download -EPERM    an http:// image URL without
 * POD_INSECURE_HTTP, or a discovery page naming a location that is not an allowed URL -EFBIG /
 * -ENOSPC / -ETIMEDOUT  a limit of podlimits.h (the message names its key) -EMEDIUMTYPE  the
 * manifest's name or labels are not the requested ones, or a dependency's image ID or size differs
 * from what the depending manifest says -ELOOP    dependency cycle and the transport errors of
 * http.h. */
int pod_fetch_image(struct pod_store *s, const char *ref, const struct pod_fetch_options *o,
                    char **ret_id, struct pod_error *reterr);
