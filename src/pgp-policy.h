/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The documented minimum for OpenPGP keys and signature digests (pod-trust(1)):
 * RSA, DSA and ElGamal keys of at least POD_PGP_MIN_BITS bits (ECC keys: any curve GnuPG
 * accepts), and signatures over SHA-224, SHA-256, SHA-384 or SHA-512 only (no MD5, SHA-1,
 * RIPEMD-160).  Forging a SHA-1 signature or factoring a 1024-bit key is within reach of a
 * well-funded attacker, and a signature is only as strong as both.
 * Owns: the policy.  Does not own: the keys or the verification (verify.c asks). */

#include <stdbool.h>

#include "error.h"

#define POD_PGP_MIN_BITS 2048

/* True if a key of this gpgme public-key algorithm and length in bits is below the minimum. */
bool pod_pgp_key_too_weak(int pubkey_algo, unsigned bits);

/* 0 if a signature with this gpgme hash algorithm is acceptable; else -EKEYREJECTED with
 * reterr naming the image, the signer and the digest. */
int pod_pgp_check_digest(int hash_algo, const char *image, const char *signer,
                         struct pod_error *reterr);

/* 0 unless the key is too weak; else -EKEYREJECTED, reterr naming what (e.g. "image
 * 'example.com/app' is signed by key X"), the algorithm, the size and the minimum. */
int pod_pgp_check_key(int pubkey_algo, unsigned bits, const char *what, struct pod_error *reterr);
