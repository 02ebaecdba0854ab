/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Durations written the way systemd and Go write them: "90s", "30m", "24h", "1h30m",
 * "1.5h", "250ms", "0".  A bare number means seconds (systemd's rule).
 * Owns: parsing into microseconds.  Does not own: clocks or sleeping. */

#include <stdint.h>

#define POD_USEC_PER_SEC  UINT64_C(1000000)
#define POD_USEC_INFINITY UINT64_MAX

/* Units: ns, us (µs), ms, s/sec, m/min, h/hr, d.  Components may repeat and carry a
 * decimal fraction; whitespace between components is allowed.  -EINVAL on syntax,
 * -ERANGE on overflow. */
int pod_duration_parse(const char *s, uint64_t *ret_usec);
