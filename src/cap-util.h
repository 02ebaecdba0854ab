/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Capability sets as 64-bit masks (bit N = capability N), read and written with
 * capget/capset(2) directly: stage1 applies an app's sets, pod enter copies them. */

#include <stdint.h>

/* The highest capability the running kernel knows (may exceed our headers' CAP_LAST_CAP). */
int pod_cap_last(void);

/* Sets effective, permitted and inheritable of the calling thread; -errno on failure. */
int pod_cap_set(uint64_t eff, uint64_t perm, uint64_t inh);

/* The permitted set of the calling thread; -errno on failure. */
int pod_cap_get_permitted(uint64_t *ret);
