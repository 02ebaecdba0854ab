/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* OpenSSL's libcrypto (SHA-512 for image IDs, SHA-256 for OCI digests, HMAC-SHA512
 * for the metadata service's pod identity, mds.h), loaded when the first
 * digest is computed (dlopen-util.h): `pod run` of a stored image, list and status never hash, and
 * libcrypto is the largest library pod used (thousands of relocations at every start).  Include
 * this instead of <openssl/evp.h> in the modules that hash (sha512.c, sha256.c). */

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "dlopen-util.h"

#define POD_CRYPTO_SYMBOLS(X) \
        X(EVP_DigestFinal_ex) \
        X(EVP_DigestInit_ex)  \
        X(EVP_DigestUpdate)   \
        X(EVP_MD_CTX_free)    \
        X(EVP_MD_CTX_new)     \
        X(EVP_sha256)         \
        X(EVP_sha512)         \
        X(HMAC)               \
        X(OpenSSL_version)

POD_CRYPTO_SYMBOLS(POD_DLSYM_DECLARE)

/* Loads crypto (once); -EOPNOTSUPP with reterr naming the package if it is missing. */
int pod_dlopen_crypto(struct pod_error *reterr);

#define EVP_DigestFinal_ex sym_EVP_DigestFinal_ex
#define EVP_DigestInit_ex  sym_EVP_DigestInit_ex
#define EVP_DigestUpdate   sym_EVP_DigestUpdate
#define EVP_MD_CTX_free    sym_EVP_MD_CTX_free
#define EVP_MD_CTX_new     sym_EVP_MD_CTX_new
#define EVP_sha256         sym_EVP_sha256
#define EVP_sha512         sym_EVP_sha512
#define HMAC               sym_HMAC
#define OpenSSL_version    sym_OpenSSL_version
