/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Streaming SHA-256 (OpenSSL EVP, loaded as sha512.h does) and the OCI digest spelling
 * "sha256:<64 lowercase hex>": blob digests and diff_ids of Docker/OCI images (issue 12).
 * Owns: hashing bytes and formatting the digest.  Does not own: what is hashed (unpack.h
 * hashes a layer's input and its tar in one pass) or digest syntax checks (oci.h). */

#include <stddef.h>

#include "macro.h"

#define POD_SHA256_DIGEST_SIZE 32
#define POD_SHA256_HEX_SIZE    (2 * POD_SHA256_DIGEST_SIZE)
#define POD_SHA256_PREFIX      "sha256:"
/* "sha256:" + 64 hex + NUL */
#define POD_SHA256_STRING_SIZE (sizeof(POD_SHA256_PREFIX) - 1 + POD_SHA256_HEX_SIZE + 1)

struct pod_sha256;

int pod_sha256_new(struct pod_sha256 **ret);
struct pod_sha256 *pod_sha256_free(struct pod_sha256 *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_sha256 *, pod_sha256_free)

int pod_sha256_update(struct pod_sha256 *h, const void *data, size_t size);
/* Finishes the digest; the context cannot be updated afterwards. */
int pod_sha256_final(struct pod_sha256 *h, unsigned char ret_digest[POD_SHA256_DIGEST_SIZE]);
/* Finishes and writes "sha256:<64 hex>" (NUL-terminated). */
int pod_sha256_final_string(struct pod_sha256 *h, char ret[POD_SHA256_STRING_SIZE]);

/* "sha256:<64 hex>" of size bytes at data. */
int pod_sha256_buffer(const void *data, size_t size, char ret[POD_SHA256_STRING_SIZE]);
/* "sha256:<64 hex>" of everything readable from fd (from its current offset); *ret_size (may
 * be NULL) gets the byte count. */
int pod_sha256_fd(int fd, char ret[POD_SHA256_STRING_SIZE], size_t *ret_size);
