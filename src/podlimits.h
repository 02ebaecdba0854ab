/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Resource limits on what a remote server or an image file can make pod do: how large an
 * image may unpack, its expansion ratio, the free space an import leaves, how large and how
 * long one download may be.  Read from limits.conf in the vendor (--system-config) and then
 * the admin (--local-config) configuration directory, the admin's value winning; a missing
 * file or key keeps the built-in default.  See pod-config(1).
 * Owns: the keys, their defaults and parsing.  Does not own: enforcing them (unpack.c
 * counts bytes, store.c checks free space, http.c bounds transfers). */

#include <stdint.h>

#include "error.h"

struct pod_limits {
        uint64_t image_max_unpacked; /* bytes of uncompressed tar; 0: no limit */
        uint64_t image_max_ratio;    /* uncompressed / compressed bytes; 0: no limit */
        uint64_t image_min_free;     /* bytes an import leaves free on the store's fs */
        uint64_t download_max_size;  /* bytes per image download; 0: no limit */
        uint64_t transfer_timeout;   /* usec per transfer, all of it; 0: no limit */
        uint64_t low_speed_limit;    /* bytes per second ... */
        uint64_t low_speed_time;     /* ... for this many usec aborts a transfer */
};

/* The expansion ratio is only judged once this much was unpacked: tiny images (a manifest and
 * tar padding) compress far better than 100:1 and are harmless. */
#define POD_LIMITS_RATIO_FLOOR (UINT64_C(32) << 20)

extern const struct pod_limits pod_limits_default;

/* The config file name inside each configuration directory. */
#define POD_LIMITS_FILE "limits.conf"

/* Fills *ret with the defaults overridden by vendordir's and then sysconfdir's limits.conf
 * (either may be NULL).  Lines are "key = value", '#' starts a comment.  -EINVAL on an unknown
 * key or a bad value, reterr naming the file, line and key. */
int pod_limits_load(const char *vendordir, const char *sysconfdir, struct pod_limits *ret,
                    struct pod_error *reterr);

/* "1.5 GiB", "300 MiB", "12 B" into buf. */
const char *pod_limits_format_bytes(uint64_t n, char buf[static 32]);
