/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* --insecure-options=LIST: the only way to switch a security check off, one named check at
 * a time (rkt's spelling).  Owns: parsing and naming the bits. */

enum {
        POD_INSECURE_IMAGE = 1 << 0,        /* skip image signature verification */
        POD_INSECURE_TLS = 1 << 1,          /* accept TLS certificates that do not verify */
        POD_INSECURE_HTTP = 1 << 2,         /* allow plain http for discovery and downloads */
        POD_INSECURE_PUBKEY = 1 << 3,       /* allow keys fetched over http */
        POD_INSECURE_CAPABILITIES = 1 << 4, /* keep all capabilities */
        POD_INSECURE_PATHS = 1 << 5,        /* do not mask sensitive /proc and /sys paths */
        POD_INSECURE_SECCOMP = 1 << 6,      /* no seccomp filter */
        POD_INSECURE_DEVICES = 1 << 7,      /* no device allow-list (nodev mounts stay) */
};
#define POD_INSECURE_ALL_FETCH \
        (POD_INSECURE_IMAGE | POD_INSECURE_TLS | POD_INSECURE_HTTP | POD_INSECURE_PUBKEY)
#define POD_INSECURE_ALL_RUN                                                     \
        (POD_INSECURE_CAPABILITIES | POD_INSECURE_PATHS | POD_INSECURE_SECCOMP | \
         POD_INSECURE_DEVICES)

/* Parses "image,tls" (also "none", "all", "all-fetch", "all-run") into *ret.  Unknown words
 * are -EINVAL with *ret_bad pointing at a static copy of the offending word (may be NULL). */
int pod_insecure_parse(const char *s, unsigned *ret, const char **ret_bad);
