/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SHA-512 and HMAC-SHA-512 without libcrypto, for small messages (the metadata service's
 * signatures, src/mds.c).  Owns: the two digests of whole in-memory buffers.  Does not own:
 * bulk hashing of images (sha512.h, OpenSSL) or what is signed (mds.h). */

#include <stddef.h>
#include <stdint.h>

#define POD_HMAC_SHA512_SIZE 64

/* SHA-512 of size bytes at data. */
void pod_sha512_plain(const void *data, size_t size, uint8_t ret[POD_HMAC_SHA512_SIZE]);

/* HMAC-SHA-512 (RFC 2104, as RFC 4231 tests it) of msg under key. */
void pod_hmac_sha512(const void *key, size_t key_size, const void *msg, size_t size,
                     uint8_t ret[POD_HMAC_SHA512_SIZE]);
