/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The detached signature a stored image was last verified with, kept in the store index
 * (table `signatures`, one row per image ID) so that a cached image can be verified again,
 * over its stored bytes and with the keys trusted *now*, each time a fetch would hand it out
 * from the cache instead of downloading it.  Images fetched or imported without a verified
 * signature have no row.
 * Owns: the table.  Does not own: the verification (verify.h, fetch.c decides when). */

#include <stddef.h>

#include "error.h"

struct pod_store;

/* Records sig (size bytes) for image id, replacing an older one. */
int pod_store_sig_put(struct pod_store *s, const char *id, const void *sig, size_t size,
                      struct pod_error *reterr);
/* *ret (malloc'ed) and *ret_size get the recorded signature; -ENOENT if there is none. */
int pod_store_sig_get(struct pod_store *s, const char *id, char **ret, size_t *ret_size,
                      struct pod_error *reterr);
